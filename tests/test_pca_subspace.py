"""A linear autoencoder trained with squared error spans the PCA subspace (Baldi & Hornik 1989)."""

import numpy as np
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA

import aelab


def test_linear_ae_spans_principal_subspace(digits):
    k = 5
    model = aelab.create("ae", input_shape=64, latent_dim=k, hidden=(), linear=True, seed=0)
    # Plain momentum SGD follows the gradient flow, which escapes the linear AE's saddles
    # (non-top principal subspaces); Adam's per-coordinate scaling lingers near them.
    aelab.train(model, digits.X_train, epochs=80, batch_size=64, lr=0.02, optimizer="sgd",
                device="cpu")
    decoder_weight = model.decoder[0].weight.detach().numpy()  # (64, k): spans the code's image
    components = PCA(n_components=k).fit(digits.X_train).components_.T
    largest = np.degrees(subspace_angles(decoder_weight, components).max())
    assert largest < 5.0, f"largest principal angle {largest:.2f} degrees"
    # and therefore reconstructs as well as PCA (within 1%)
    pca = PCA(n_components=k).fit(digits.X_train)
    pca_err = np.square(digits.X_test - pca.inverse_transform(pca.transform(digits.X_test))).sum(1).mean()
    ae_err = np.square(digits.X_test - model.reconstruct(digits.X_test)).sum(1).mean()
    assert ae_err < 1.01 * pca_err
