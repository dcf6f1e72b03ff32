"""Sparse penalties do what they say, measured on the codes (Goodfellow et al. §14.2.1)."""

import numpy as np
import pytest

import aelab
from aelab.applications.evaluation import code_statistics, principal_angles


def one_layer(name, digits, **options):
    model = aelab.create(name, input_shape=64, latent_dim=64, hidden=(), seed=0, **options)
    aelab.train(model, digits.X_train, epochs=100, batch_size=64, lr=2e-3, device="cpu")
    return code_statistics(model, digits.X_test)


@pytest.mark.parametrize("rho", [0.05, 0.1])
def test_kl_penalty_drives_the_mean_activation_to_rho(digits, rho):
    free = one_layer("ae", digits, code_activation="sigmoid")
    sparse = one_layer("sparse", digits, penalty="kl", rho=rho, sparsity_weight=1.0)
    assert abs(sparse["mean_activation"].mean() - rho) < 0.02
    assert abs(free["mean_activation"].mean() - rho) > 0.1  # the penalty, not the data, sets it


def test_l1_raises_the_fraction_of_zeros(digits):
    free = one_layer("ae", digits, code_activation="relu")
    sparse = one_layer("sparse", digits, penalty="l1", sparsity_weight=1e-2)
    assert sparse["fraction_zero"] > free["fraction_zero"] + 0.02
    assert sparse["mean_activation"].mean() < 0.6 * free["mean_activation"].mean()


def test_principal_angles():
    basis = np.linalg.qr(np.random.default_rng(0).standard_normal((6, 3)))[0]
    np.testing.assert_allclose(principal_angles(basis @ np.diag([2.0, -1.0, 3.0]), basis), 0,
                               atol=1e-6)
    np.testing.assert_allclose(principal_angles(np.eye(4)[:, :2], np.eye(4)[:, 2:]), [90, 90])
