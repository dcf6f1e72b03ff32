"""The one trainer: resume, early stopping, non-finite losses, inputs, options."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import aelab
from aelab.core.io import LOCK_FILE
from aelab.models.ae import AE
from aelab.training.checkpoint import (
    CHECKPOINT_FILE,
    PREVIOUS_FILE,
    read_checkpoint,
    write_checkpoint,
)


def _model(seed=0, **kw):
    return aelab.create("denoising", input_shape=12, latent_dim=4, hidden=(8,), seed=seed, **kw)


def _weights(model):
    return [t.clone() for t in model.state_dict().values()]


def test_resume_equals_straight_run(tiny_data, tmp_path):
    x, _ = tiny_data
    opts = dict(validation_split=0.2, early_stopping=50, batch_size=32, seed=3)
    straight = _model()
    r4 = aelab.train(straight, x, epochs=4, **opts)
    first = _model()
    aelab.train(first, x, epochs=2, checkpoint_dir=tmp_path, **opts)
    second = _model(seed=99)  # a fresh process would build the model anew: weights come from disk
    r = aelab.train(second, x, epochs=4, checkpoint_dir=tmp_path, resume=True, **opts)
    for a, b in zip(_weights(straight), _weights(second)):
        assert torch.equal(a, b)
    timing = "epoch_time_s"
    assert {k: v for k, v in r.history.items() if k != timing} == {
        k: v for k, v in r4.history.items() if k != timing}
    assert r.epochs_run == 4


def test_resume_without_checkpoint_starts_fresh(tiny_data, tmp_path):
    x, _ = tiny_data
    a = aelab.train(_model(), x, epochs=2, checkpoint_dir=tmp_path, resume=True)
    b = aelab.train(_model(), x, epochs=2)
    assert a.history["train/loss"] == b.history["train/loss"]


def test_resume_rejects_other_model(tiny_data, tmp_path):
    x, _ = tiny_data
    aelab.train(_model(), x, epochs=1, checkpoint_dir=tmp_path)
    other = aelab.create("ae", input_shape=12, latent_dim=3)
    with pytest.raises(ValueError, match="checkpoint"):
        aelab.train(other, x, epochs=2, checkpoint_dir=tmp_path, resume=True)


def test_resume_reads_a_checkpoint_written_before_an_option_existed(tiny_data, tmp_path):
    """A checkpoint of an older version lacks the options added since: they read as their
    defaults. A value that differs, or a keyword this version does not know, is refused."""
    x, _ = tiny_data
    straight = _model()
    aelab.train(straight, x, epochs=3, batch_size=32, seed=3)
    aelab.train(_model(), x, epochs=1, batch_size=32, seed=3, checkpoint_dir=tmp_path)
    tensors, meta = read_checkpoint(tmp_path)
    assert meta["config"].pop("perceptual") is None  # as written before `perceptual` existed
    write_checkpoint(tmp_path, tensors, meta)
    resumed = _model(seed=99)
    aelab.train(resumed, x, epochs=3, batch_size=32, seed=3, checkpoint_dir=tmp_path, resume=True)
    for a, b in zip(_weights(straight), _weights(resumed)):
        assert torch.equal(a, b)
    for changed in ({"noise": 0.123}, {"an_option_from_the_future": 1}):
        tensors, meta = read_checkpoint(tmp_path)
        write_checkpoint(tmp_path, tensors, {**meta, "config": {**meta["config"], **changed}})
        with pytest.raises(ValueError, match="Build the same model"):
            aelab.train(_model(), x, epochs=4, batch_size=32, checkpoint_dir=tmp_path, resume=True)


def test_checkpoint_every_and_no_temp_files(tiny_data, tmp_path):
    x, _ = tiny_data
    aelab.train(_model(), x, epochs=3, checkpoint_dir=tmp_path, checkpoint_every=2)
    # epoch 2, then the end (epoch 3): the newest, the one before it, and the writers' lock
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_FILE, PREVIOUS_FILE, CHECKPOINT_FILE]


class _ExplodesAtStep(AE):
    """Returns a NaN loss from the 5th training step on (for the non-finite test)."""

    calls = 0

    def loss_terms(self, x, y=None):
        terms = super().loss_terms(x, y)
        if self.training:
            type(self).calls += 1
            if type(self).calls >= 5:
                terms["recon"] = terms["recon"] * float("nan")
        return terms


def test_non_finite_loss_stops_with_epoch_and_step_and_keeps_checkpoint(tiny_data, tmp_path):
    x, _ = tiny_data
    model = _ExplodesAtStep(input_shape=12, latent_dim=4, hidden=(8,))
    _ExplodesAtStep.calls = 0
    with pytest.raises(aelab.NonFiniteLossError, match=r"epoch 2, step 1.*last good checkpoint"):
        aelab.train(model, x, epochs=3, batch_size=50, checkpoint_dir=tmp_path)  # 4 steps/epoch
    from aelab.training.checkpoint import read_checkpoint

    tensors, meta = read_checkpoint(tmp_path)
    assert meta["epoch"] == 1
    assert all(torch.isfinite(t).all() for k, t in tensors.items() if k.startswith("model/"))
    assert all(torch.isfinite(p).all() for p in model.parameters()), "no step taken on a NaN loss"


def test_early_stopping_restores_best(tiny_data):
    x, _ = tiny_data
    model = _model()
    # Overfitting 30% held-out data with a large step: validation loss turns up early.
    result = aelab.train(model, x, epochs=200, lr=0.05, validation_split=0.3, early_stopping=2,
                         seed=0)
    val = result.history["val/loss"]
    assert result.stopped_early and len(val) < 200
    assert result.best_epoch == int(np.argmin(val)) + 1
    assert len(val) == result.best_epoch + 2
    # The model now holds the best epoch's weights: recompute its loss on the same split.
    n_val = round(0.3 * len(x))
    held_out = torch.from_numpy(x)[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:n_val]]
    with torch.no_grad():
        loss = sum(model.loss_terms(held_out).values())
    assert float(loss) == pytest.approx(min(val), rel=1e-5)


def test_dataloader_input_and_validation_data(tiny_data):
    x, _ = tiny_data
    loader = DataLoader(TensorDataset(torch.from_numpy(x)), batch_size=32, shuffle=True)
    result = aelab.train(_model(), loader, epochs=2, validation_data=x[:50])
    assert len(result.history["val/loss"]) == 2 and result.samples_per_s > 0


def test_train_leaves_global_rng_alone(tiny_data):
    x, _ = tiny_data
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    aelab.train(_model(), x, epochs=1)
    assert torch.equal(torch.rand(3), expected)


def test_labels_reach_the_model(tiny_data):
    x, y = tiny_data
    seen = []

    class _Spy(AE):
        def loss_terms(self, x, y=None):
            seen.append(y)
            return super().loss_terms(x, y)

    aelab.train(_Spy(input_shape=12, latent_dim=2), x, y, epochs=1, batch_size=50)
    assert all(s is not None and s.dtype == torch.int64 for s in seen)


@pytest.mark.parametrize("schedule", ["constant", "cosine", "step"])
def test_lr_schedules_recorded(tiny_data, schedule):
    x, _ = tiny_data
    lrs = aelab.train(_model(), x, epochs=4, lr=0.01, lr_schedule=schedule).history["lr"]
    assert lrs[0] == pytest.approx(0.01)
    assert (lrs[-1] < lrs[0]) == (schedule != "constant")


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"epochs": 0}, "epochs"),
        ({"optimizer": "adma"}, "Did you mean 'adam'"),
        ({"early_stopping": 3}, "validation"),
        ({"validation_split": 1.0}, "validation_split"),
        ({"device": "tpu"}, "device"),
        ({"resume": True}, "checkpoint_dir"),
        ({"lr_schedule": "linear"}, "lr_schedule"),
        ({"precision": "fp16"}, "precision"),
    ],
)
def test_bad_training_options(tiny_data, option, match):
    x, _ = tiny_data
    with pytest.raises(ValueError, match=match):
        aelab.train(_model(), x, **option)


def test_epochs_must_be_int(tiny_data):
    with pytest.raises(TypeError, match="epochs"):
        aelab.train(_model(), tiny_data[0], epochs=2.5)


def test_compile_must_be_a_bool(tiny_data):
    with pytest.raises(TypeError, match="compile"):
        aelab.train(_model(), tiny_data[0], epochs=1, compile="yes")


def test_bf16_autocast_trains_and_keeps_float32_weights(tiny_data):
    x, _ = tiny_data
    fp32 = aelab.train(_model(), x, epochs=3, lr=1e-2, seed=0)
    model = _model()
    bf16 = aelab.train(model, x, epochs=3, lr=1e-2, seed=0, precision="bf16")
    losses = bf16.history["train/loss"]
    assert losses[-1] < losses[0]
    assert all(p.dtype == torch.float32 for p in model.parameters())
    # bfloat16 keeps 8 bits of mantissa: the first epoch's loss differs from float32's in
    # the third digit, not the first (a wrong cast would be far off or NaN).
    assert losses[0] == pytest.approx(fp32.history["train/loss"][0], rel=2e-2)
    assert losses[0] != fp32.history["train/loss"][0]


def test_compiled_training_takes_the_same_steps(tiny_data):
    x, _ = tiny_data
    # A noise-free model: compiled code draws random numbers differently from eager code.
    eager, compiled = (aelab.create("ae", input_shape=12, latent_dim=4, hidden=(8,), seed=0)
                       for _ in range(2))
    aelab.train(eager, x, epochs=2, seed=0)
    aelab.train(compiled, x, epochs=2, seed=0, compile=True)
    for k, v in eager.state_dict().items():
        torch.testing.assert_close(compiled.state_dict()[k], v, rtol=1e-4, atol=1e-5)
