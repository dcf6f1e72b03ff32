"""Conditional models (``n_classes > 0``): the encoder and the AAE's discriminator read the label."""

import numpy as np
import pytest
import torch

import aelab


@pytest.mark.parametrize("name", ["ae", "vae", "aae"])
def test_encoder_reads_the_label(name, tiny_data):
    x, y = tiny_data
    model = aelab.create(name, input_shape=12, latent_dim=3, hidden=(16,), n_classes=3, seed=0)
    h0, h1 = model.encode(x[:5], y=np.zeros(5, int)), model.encode(x[:5], y=np.ones(5, int))
    assert h0.shape == (5, 3) and not np.allclose(h0, h1)
    with pytest.raises(ValueError, match="conditional"):
        model.encode(x[:5])
    # reconstruct = decode(encode(x, y), y), with the same label on both sides
    np.testing.assert_allclose(model.reconstruct(x[:5], y=y[:5]),
                               model.decode(model.encode(x[:5], y=y[:5]), y=y[:5]), atol=1e-6)


def test_label_in_the_first_layer_equals_reading_it_beside_the_input():
    """f(x, y) of an MLP encoder = the same network whose first layer reads [x, one-hot(y)]."""
    model = aelab.create("ae", input_shape=6, latent_dim=2, hidden=(5,), n_classes=4, seed=0)
    first = model.encoder.affine_maps()[0]
    joint = torch.nn.Linear(6 + 4, 5)
    with torch.no_grad():
        joint.weight.copy_(torch.cat([first.weight, model.encoder.label_weight.T], dim=1))
        joint.bias.copy_(first.bias)
    x, y = torch.rand(7, 6), torch.tensor([0, 1, 2, 3, 0, 1, 2])
    onehot = torch.nn.functional.one_hot(y, 4).float()
    rest = torch.nn.Sequential(*list(model.encoder)[2:])  # after Flatten and the first Linear
    with torch.no_grad():
        torch.testing.assert_close(model.encoder_output(x, y), rest(joint(torch.cat([x, onehot], 1))))


def test_conv_encoder_label_is_a_bias_per_channel():
    model = aelab.create("vae", input_shape=(1, 9, 7), backbone="conv", hidden=(4, 8), latent_dim=3,
                         n_classes=5, seed=0)
    assert model.encoder.label_weight.shape == (5, 4)  # one bias per class and first-layer channel
    x = torch.rand(4, 1, 9, 7)
    conv = model.encoder.affine_maps()[0]
    y = torch.tensor([0, 1, 4, 2])
    with torch.no_grad():
        maps = model.encoder[0](x) + model.encoder.label_weight[y][:, :, None, None]
        expected = torch.nn.Sequential(*list(model.encoder)[1:])(maps)
        torch.testing.assert_close(model.encoder_output(x, y), expected)
    assert conv is model.encoder[0]
    assert model.sample(3, seed=0, y=2).shape == (3, 1, 9, 7)


def test_conditional_aae_discriminator_reads_the_class():
    model = aelab.create("aae", input_shape=12, latent_dim=3, hidden=(16,), n_classes=4,
                         disc_hidden=(8,), seed=0)
    assert model.discriminator.n_slots == 4
    z = torch.randn(6, 3)
    with torch.no_grad():
        a = model.discriminate(z, torch.zeros(6, dtype=torch.long))
        b = model.discriminate(z, torch.full((6,), 3))
    assert a.shape == (6,) and not torch.allclose(a, b)
    plain = aelab.create("aae", input_shape=12, latent_dim=3, hidden=(16,), disc_hidden=(8,), seed=0)
    assert plain.discriminator.n_slots == 0


def test_label_matching_measures_how_much_the_codes_know_the_class():
    model = aelab.create("vae", input_shape=12, latent_dim=2, hidden=(16,), n_classes=4, seed=0)
    torch.manual_seed(0)
    y = torch.arange(4).repeat(100)
    follows_prior = torch.randn(400, 2)
    knows_class = torch.randn(400, 2) + 3.0 * torch.stack([torch.cos(y * 1.57), torch.sin(y * 1.57)], 1)
    assert model.label_matching(knows_class, y) > 20 * model.label_matching(follows_prior, y).abs()


def test_conditional_vae_declares_the_label_term(tiny_data):
    x, y = tiny_data
    xt, yt = torch.from_numpy(x[:50]), torch.from_numpy(y[:50])
    for weight, expected in ((100.0, {"recon", "kl", "label_mmd"}), (0.0, {"recon", "kl"})):
        model = aelab.create("vae", input_shape=12, latent_dim=2, hidden=(16,), n_classes=3,
                             label_mmd_weight=weight, seed=0)
        model.fit_preprocessing(lambda: iter([xt]))
        assert set(model.loss_terms(xt, yt)) == expected
    plain = aelab.create("vae", input_shape=12, latent_dim=2, hidden=(16,), seed=0)
    plain.fit_preprocessing(lambda: iter([xt]))
    assert set(plain.loss_terms(xt)) == {"recon", "kl"}
