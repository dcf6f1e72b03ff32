"""Properties every registered model must have (STYLE.md, 'Tests that mean something')."""

import numpy as np
import pytest
import torch

import aelab
from cases import MODEL_CASES, build, case_id

CASES = pytest.mark.parametrize("case", MODEL_CASES, ids=[case_id(c) for c in MODEL_CASES])


def test_registry_covered():
    covered = {name for name, _ in MODEL_CASES}
    assert covered == set(aelab.list_models())


@CASES
def test_shapes(case, tiny_data):
    x, y = tiny_data
    model = build(*case)
    labels = y if model.n_classes else None
    h = model.encode(x, y=labels)
    assert isinstance(h, np.ndarray) and h.shape == (200, model.latent_dim)
    assert model.decode(h, y=labels).shape == (200, *model.input_shape)
    assert model.reconstruct(x, y=labels).shape == x.shape
    t = torch.from_numpy(x)
    assert isinstance(model.reconstruct(t, y=labels), torch.Tensor)


@CASES
def test_loss_terms_finite_scalars_and_gradients(case, tiny_data):
    x, y = tiny_data
    model = build(*case)
    xt = model.as_input(x)
    model.fit_preprocessing(lambda: iter([xt]))
    model.train()
    for phase in model.training_phases():
        terms = phase.loss_terms(xt[:64], torch.from_numpy(y[:64]))
        assert terms, "a model must declare at least one loss term"
        for name, value in terms.items():
            assert value.dim() == 0, name
            assert torch.isfinite(value), name
        model.zero_grad()
        sum(terms.values()).backward()
        for p in phase.parameters:
            assert p.grad is not None, "a trainable parameter received no gradient"
            assert torch.isfinite(p.grad).all()
            assert p.grad.abs().sum() > 0, "a trainable parameter received a zero gradient"


@CASES
def test_overfits_one_batch(case, tiny_data):
    x, y = tiny_data
    model = build(*case)
    result = aelab.train(model, x[:32], y[:32], epochs=150, batch_size=32, lr=1e-2, device="cpu")
    # The data term at a perfect reconstruction (the data's entropy for a Bernoulli decoder;
    # the Gaussian's normalising constant for a likelihood model's -log p(x|z)).
    target = model.scaler(torch.from_numpy(x[:32]))
    perfect = torch.logit(target, eps=1e-6) if model.likelihood == "bernoulli" else target
    term = "recon" if "train/recon" in result.history else "iwae"
    proper_nll = isinstance(model, aelab.MODELS["vae"])
    floor_fn = model.lik.nll if proper_nll else model.lik.reconstruction_loss
    floor = float(floor_fn(perfect, target).mean())
    excess = np.array(result.history[f"train/{term}"]) - floor
    assert excess[-1] < 0.5 * excess[0]


@CASES
def test_save_load_identical(case, tiny_data, tmp_path):
    x, y = tiny_data
    model = build(*case)
    labels = y if model.n_classes else None
    aelab.train(model, x, y, epochs=2, device="cpu")
    model.save(tmp_path / "m")
    loaded = aelab.load(tmp_path / "m")
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(model.encode(x, y=labels), loaded.encode(x, y=labels))
    np.testing.assert_array_equal(model.reconstruct(x, y=labels), loaded.reconstruct(x, y=labels))
    assert loaded.get_config() == model.get_config()


@CASES
def test_same_seed_same_loss(case, tiny_data):
    x, y = tiny_data
    runs = [aelab.train(build(*case, seed=3), x, y, epochs=2, seed=7, device="cpu") for _ in range(2)]
    assert runs[0].history["train/loss"] == runs[1].history["train/loss"]
    other = aelab.train(build(*case, seed=4), x, y, epochs=2, seed=8, device="cpu")
    assert other.history["train/loss"] != runs[0].history["train/loss"]


@pytest.mark.parametrize("decorator", ["register", "register_saved_kind"])
@pytest.mark.parametrize("taken", ["ae", "classifier"])
def test_a_name_is_registered_once_across_both_registries(decorator, taken):
    from aelab.models import registry

    before = (dict(registry.MODELS), dict(registry.SAVED_KINDS))
    with pytest.raises(ValueError, match=f"{taken!r} is already registered"):
        getattr(registry, decorator)(taken)(type("Impostor", (), {}))
    assert (registry.MODELS, registry.SAVED_KINDS) == before
