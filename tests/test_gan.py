"""The GAN baseline: two players trained by the one trainer through its phases."""

import numpy as np
import pytest
import torch

import aelab
from aelab.core.losses import mmd_gaussian
from aelab.core.seeding import seeded
from aelab.models import MODELS
from aelab.models.gan import GAN
from aelab.nn.adversarial import LatentCritic
from aelab.training.checkpoint import read_checkpoint


def build(seed=0, **config):
    with seeded(seed):
        return GAN(**config)


IMAGE = {"input_shape": (1, 28, 28), "latent_dim": 8, "hidden": (4, 8)}
VECTOR = {"input_shape": 12, "latent_dim": 4, "hidden": (16, 8)}


def test_not_an_autoencoder_in_the_registry():
    assert "gan" not in MODELS and "gan" not in aelab.list_models()


@pytest.mark.parametrize("config", [IMAGE, VECTOR, {**IMAGE, "input_shape": (3, 5, 7)}])
def test_shapes(config):
    gan = build(**config)
    n_in = int(np.prod(gan.input_shape))
    gan.prepare_training(lambda: iter([torch.rand(8, n_in).reshape(8, *gan.input_shape)]))
    assert gan.generate(6).shape == (6, *gan.input_shape)
    assert gan.discriminator(torch.rand(6, *gan.input_shape)).shape == (6,)
    x = gan.sample(5, seed=0)
    assert isinstance(x, np.ndarray) and x.shape == (5, *gan.input_shape)


@pytest.mark.parametrize("config", [IMAGE, VECTOR])
def test_each_phase_reaches_every_parameter_of_its_player(config, tiny_data):
    gan = build(**config)
    x = torch.rand(16, *gan.input_shape)
    gan.prepare_training(lambda: iter([x]))
    gan.train()
    phases = gan.training_phases()
    assert [ph.name for ph in phases] == ["discriminator", "generator"]
    assert not any(ph.monitor for ph in phases)
    players = {"discriminator": gan.discriminator, "generator": gan.generator}
    for ph in phases:
        assert {id(p) for p in ph.parameters} == {id(p) for p in players[ph.name].parameters()}
        terms = ph.loss_terms(x)
        assert all(v.dim() == 0 and torch.isfinite(v) for v in terms.values())
        gan.zero_grad()
        sum(terms.values()).backward()
        for p in ph.parameters:
            assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0


def test_discriminator_loss_is_cross_entropy_at_chance():
    # A discriminator that always outputs logit 0 (D = 1/2) has loss 2·log 2; the
    # generator's non-saturating loss is log 2.
    gan = build(**VECTOR)
    gan.prepare_training(lambda: iter([torch.rand(8, 12)]))
    for p in gan.discriminator.head.parameters():
        torch.nn.init.zeros_(p)
    x = torch.rand(8, 12)
    assert float(gan.discriminator_terms(x)["disc"].detach()) == pytest.approx(2 * np.log(2), rel=1e-6)
    assert float(gan.generator_terms(x)["gen"].detach()) == pytest.approx(np.log(2), rel=1e-6)


def test_trainer_reports_no_loss_and_refuses_early_stopping(tiny_data):
    x, _ = tiny_data
    result = aelab.train(build(**VECTOR), x, epochs=2, device="cpu", validation_split=0.2)
    assert "train/loss" not in result.history and "val/loss" not in result.history
    assert {"train/disc", "train/gen", "val/disc", "val/gen"} <= set(result.history)
    assert all(np.isfinite(result.history["train/disc"]))
    with pytest.raises(ValueError, match="early_stopping"):
        aelab.train(build(**VECTOR), x, epochs=2, device="cpu", validation_split=0.2,
                    early_stopping=1)


def test_same_seed_same_training_and_samples(tiny_data):
    x, _ = tiny_data
    runs = [aelab.train(build(3, **VECTOR), x, epochs=2, seed=7, device="cpu") for _ in range(2)]
    assert runs[0].history["train/gen"] == runs[1].history["train/gen"]
    np.testing.assert_array_equal(runs[0].model.sample(10, seed=1), runs[1].model.sample(10, seed=1))
    assert not np.array_equal(runs[0].model.sample(10, seed=1), runs[0].model.sample(10, seed=2))
    other = aelab.train(build(4, **VECTOR), x, epochs=2, seed=8, device="cpu")
    assert other.history["train/gen"] != runs[0].history["train/gen"]


def test_save_load_identical(tmp_path):
    x = np.random.default_rng(0).random((64, 784), dtype=np.float32)
    gan = build(**IMAGE)
    aelab.train(gan, x, epochs=1, batch_size=32, device="cpu")
    gan.save(tmp_path / "g")
    loaded = aelab.load(tmp_path / "g")
    assert type(loaded) is GAN and loaded.get_config() == gan.get_config()
    np.testing.assert_array_equal(loaded.sample(8, seed=0), gan.sample(8, seed=0))
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == ["config.json", "model.safetensors"]


def test_samples_move_toward_a_2d_blob():
    rng = np.random.default_rng(0)
    data = (rng.normal(size=(1024, 2)) * [0.3, 0.6] + [2.0, -1.0]).astype(np.float32)
    gan = build(0, input_shape=2, latent_dim=2, hidden=(32, 32), output_activation="linear",
                preprocess="standard")
    gan.prepare_training(lambda: iter([torch.from_numpy(data)]))
    target = torch.from_numpy(data[:500])

    def mmd() -> float:
        return float(mmd_gaussian(torch.from_numpy(gan.sample(500, seed=1)), target))

    before = mmd()
    aelab.train(gan, data, epochs=30, batch_size=64, lr=1e-3, device="cpu")
    after = mmd()
    assert after < 0.25 * before  # about 0.36 → 0.045 for seeds 0-2


@pytest.mark.parametrize("optimizer, key, want", [("adam", "betas", [0.5, 0.999]),
                                                  ("sgd", "momentum", 0.5)])
def test_each_phase_gets_its_own_momentum(optimizer, key, want, tiny_data, tmp_path):
    x, _ = tiny_data
    aelab.train(build(**VECTOR), x, epochs=1, device="cpu", optimizer=optimizer,
                checkpoint_dir=tmp_path / "gan")
    aelab.train(aelab.create("ae", input_shape=12, latent_dim=2, hidden=(4,)), x, epochs=1,
                device="cpu", optimizer=optimizer, checkpoint_dir=tmp_path / "ae")
    gan_groups = read_checkpoint(tmp_path / "gan")[1]["optimizers"]
    assert {name: g["param_groups"][0][key] for name, g in gan_groups.items()} == {
        "discriminator": want, "generator": want}
    default = read_checkpoint(tmp_path / "ae")[1]["optimizers"]["main"]["param_groups"][0][key]
    assert default != want  # a phase without momentum keeps the optimizer's default


def test_aae_and_wae_gan_share_one_latent_critic():
    aae = aelab.create("aae", input_shape=12, latent_dim=3, disc_hidden=(8,))
    wae = aelab.create("wae", input_shape=12, latent_dim=3, penalty="gan", disc_hidden=(8,))
    assert type(aae.discriminator) is LatentCritic and type(wae.discriminator) is LatentCritic
    # the AAE's saved weights keep their names (models saved before the refactor still load)
    assert [k for k in aae.state_dict() if k.startswith("discriminator.")] == [
        "discriminator.0.weight", "discriminator.0.bias", "discriminator.2.weight",
        "discriminator.2.bias"]
    assert aelab.create("wae", input_shape=12, latent_dim=3).discriminator is None  # WAE-MMD
