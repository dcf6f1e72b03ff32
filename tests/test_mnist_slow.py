"""Convergence on real data (slow: `make test-slow` or `pytest -m slow`)."""

import numpy as np
import pytest

import aelab
from aelab.applications.evaluation import pca_reconstruction
from conftest import shared_data_dir

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shared_data_dir() is None, reason="needs MNIST in $AELAB_DATA_DIR"),
]


def test_mnist_autoencoder_beats_pca30():
    ds = aelab.data.load("mnist", data_dir=shared_data_dir())
    model = aelab.create("ae", input_shape=784, hidden=(512, 128), latent_dim=30, seed=0)
    aelab.train(model, ds.X_train, epochs=5, batch_size=256, lr=1e-3, device="cpu")
    ae = np.square(ds.X_test - model.reconstruct(ds.X_test)).sum(1).mean()
    pca = np.square(ds.X_test - pca_reconstruction(ds.X_train, ds.X_test, 30)).sum(1).mean()
    assert pca == pytest.approx(13.87, abs=0.6)  # Hinton & Salakhutdinov's PCA-30 figure
    assert ae < 0.8 * pca
