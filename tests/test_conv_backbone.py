"""The convolutional backbone at image sizes that matter: 28×28 MNIST, odd and tiny sizes."""

import itertools

import numpy as np
import pytest
import torch

import aelab
from aelab.nn.layers import TiedConvTranspose2d

SIZES = [(1, 28, 28), (1, 27, 29), (3, 7, 7), (1, 1, 1), (3, 5, 8), (1, 2, 3), (3, 32, 32)]
DEPTHS = [(4,), (4, 8), (4, 8, 16), (4, 8, 16, 16)]


@pytest.mark.parametrize(("shape", "hidden"), list(itertools.product(SIZES, DEPTHS)),
                         ids=lambda v: "x".join(map(str, v)))
def test_output_shape_equals_input_shape(shape, hidden):
    x = torch.rand(3, *shape)
    for tied in (False, True):
        model = aelab.create("ae", input_shape=shape, backbone="conv", hidden=hidden, latent_dim=5,
                             tied=tied, seed=0)
        h = model.encode(x)
        assert h.shape == (3, 5)
        assert model.decoder(h).shape == (3, *shape)  # the raw output, before any scaling
        assert model.reconstruct(x).shape == (3, *shape)
    vae = aelab.create("vae", input_shape=shape, backbone="conv", hidden=hidden, latent_dim=5, seed=0)
    assert vae.sample(2, seed=0).shape == (2, *shape)


def test_mnist_sizes_halve_with_ceiling():
    """Three stride-2 convolutions take 28 → 14 → 7 → 4 (and 27 → 14 → 7 → 4, 29 → 15 → 8 → 4)."""
    for (h, w), last in (((28, 28), (4, 4)), ((27, 29), (4, 4)), ((7, 7), (1, 1))):
        model = aelab.create("ae", input_shape=(1, h, w), backbone="conv", hidden=(8, 16, 32),
                             latent_dim=5, seed=0)
        assert model.encoder.affine_maps()[-1].in_features == 32 * last[0] * last[1]
        feature_map = torch.nn.Sequential(*list(model.encoder)[:6])(torch.zeros(2, 1, h, w))
        assert feature_map.shape == (2, 32, *last)


def test_tied_transposed_convolution_is_the_adjoint_at_28x28():
    """<conv(x), y> = <conv_transpose(y), x> with the shared kernel (biases aside)."""
    model = aelab.create("ae", input_shape=(1, 28, 28), backbone="conv", hidden=(8, 16, 32),
                         latent_dim=5, tied=True, seed=0)
    convs = model.encoder.affine_maps()[:-1]
    tied = [m for m in model.decoder.affine_maps() if isinstance(m, TiedConvTranspose2d)]
    assert len(tied) == len(convs) == 3
    torch.manual_seed(0)
    x = torch.randn(2, 1, 28, 28)
    for conv, transpose in zip(convs, reversed(tied)):
        assert transpose.weight.data_ptr() == conv.weight.data_ptr()  # shared storage
        y = torch.nn.functional.conv2d(x, conv.weight, None, stride=2, padding=1)
        u = torch.randn_like(y)
        back = transpose(u) - transpose.bias[None, :, None, None]
        assert back.shape == x.shape  # lands on the encoder's input size, 28, 14 or 7
        torch.testing.assert_close((y * u).sum(), (back * x).sum(), rtol=1e-4, atol=1e-3)
        x = torch.relu(y)


@pytest.mark.parametrize("name", ["ae", "denoising", "vae"])
def test_every_parameter_gets_a_gradient_at_28x28(name):
    model = aelab.create(name, input_shape=(1, 28, 28), backbone="conv", hidden=(8, 16, 32),
                         latent_dim=8, likelihood="bernoulli", seed=0)
    x = torch.rand(16, 1, 28, 28)
    model.fit_preprocessing(lambda: iter([x]))
    model.train()
    sum(model.loss_terms(x).values()).backward()
    for name_p, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name_p
        assert p.grad.abs().sum() > 0, name_p


def test_conv_autoencoder_overfits_a_batch_of_28x28_digits(digits):
    """16 digits (8×8, upscaled to 24×24 and padded to 28×28) are memorised: the squared
    error falls to under a tenth of a constant-mean predictor's."""
    x8 = digits.X_train[:16].reshape(16, 8, 8)
    x = np.pad(np.kron(x8, np.ones((3, 3))), ((0, 0), (2, 2), (2, 2)))[:, None].astype(np.float32)
    model = aelab.create("ae", input_shape=(1, 28, 28), backbone="conv", hidden=(8, 16, 32),
                         latent_dim=16, seed=0)
    aelab.train(model, x, epochs=600, batch_size=16, lr=3e-3, seed=0, device="cpu")
    error = np.square(model.reconstruct(x) - x).sum((1, 2, 3)).mean()
    baseline = np.square(x - x.mean(0)).sum((1, 2, 3)).mean()
    assert error < 0.1 * baseline
