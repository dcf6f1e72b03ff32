"""Linear and k-NN probes on frozen codes."""

import numpy as np
import pytest
import torch

import aelab
from aelab.applications.probes import knn_probe, linear_probe


@pytest.fixture(scope="module")
def trained_ae(digits):
    ae = aelab.create("ae", input_shape=64, latent_dim=12, hidden=(32,), seed=0)
    aelab.train(ae, digits.X_train, epochs=20, lr=3e-3, device="cpu")
    return ae


@pytest.mark.parametrize("probe", [linear_probe, knn_probe])
def test_probes_beat_chance_on_digits(probe, trained_ae, digits):
    res = probe(trained_ae, digits.X_train, digits.y_train, digits.X_test, digits.y_test)
    assert 0.0 <= res.accuracy <= 1.0 and 0.0 <= res.train_accuracy <= 1.0
    assert res.accuracy > 0.7  # chance is 0.1
    assert res.n_features == 12
    # the fitted probe takes codes, and agrees with the reported accuracy
    pred = res.probe.predict(trained_ae.encode(digits.X_test))
    assert np.mean(pred == digits.y_test) == pytest.approx(res.accuracy)


def test_probe_sees_only_the_codes(digits):
    """A model whose code carries no information probes at chance, whatever the input."""
    blind = aelab.create("ae", input_shape=64, latent_dim=4, hidden=(), seed=0)
    with torch.no_grad():
        for p in blind.encoder.parameters():
            p.zero_()
    for probe in (linear_probe, knn_probe):
        assert probe(blind, digits.X_train, digits.y_train, digits.X_test, digits.y_test).accuracy < 0.2


def test_raw_input_baseline(digits):
    res = linear_probe(None, digits.X_train, digits.y_train, digits.X_test, digits.y_test)
    assert res.n_features == 64 and res.accuracy > 0.9


def test_bad_input(trained_ae, digits):
    with pytest.raises(ValueError, match="y_train"):
        linear_probe(trained_ae, digits.X_train, digits.y_train[:5], digits.X_test, digits.y_test)
    with pytest.raises(TypeError, match="encode"):
        knn_probe("pca", digits.X_train, digits.y_train, digits.X_test, digits.y_test)
    with pytest.raises(ValueError, match="'k'"):
        knn_probe(trained_ae, digits.X_train, digits.y_train, digits.X_test, digits.y_test, k=0)
