"""Greedy layer-wise pretraining: widths, exact unrolling, fine-tuning, tied storage."""

import logging

import numpy as np
import pytest
import torch

import aelab
from aelab.nn.layers import TiedLinear


def sq_error(x, x_hat):
    return float(np.square(x - x_hat).sum(1).mean())


@pytest.fixture(scope="module")
def stack(digits):
    return aelab.greedy_pretrain(digits.X_train, (32, 16, 6), layer="ae", likelihood="bernoulli",
                                 epochs=10, lr=3e-3, batch_size=64, device="cpu")


def test_widths_and_chain(stack, digits):
    assert stack.widths == (32, 16, 6)
    assert [layer.n_features for layer in stack.layers] == [64, 32, 16]
    assert all(layer.hidden == () for layer in stack.layers)
    assert [layer.likelihood for layer in stack.layers] == ["bernoulli"] * 3
    assert stack.encode(digits.X_test).shape == (360, 6)
    assert stack.encode(digits.X_test, depth=1).shape == (360, 32)
    assert len(stack.histories) == 3 and all(len(h["train/recon"]) == 10 for h in stack.histories)
    # every layer learned something
    assert all(h["train/recon"][-1] < h["train/recon"][0] for h in stack.histories)


def test_unroll_reconstructs_as_the_stack(stack, digits):
    deep = stack.unroll()
    assert deep.name == "ae" and deep.hidden == (32, 16) and deep.latent_dim == 6
    assert deep.activation == "sigmoid" and deep.code_activation == "linear"
    assert stack.unroll_is_exact()
    x = digits.X_test
    np.testing.assert_allclose(deep.reconstruct(x), stack.reconstruct(x), atol=1e-5)
    np.testing.assert_allclose(deep.encode(x), stack.encode(x), atol=1e-5)
    # and a stack is not an identity map: its error is well above zero
    assert sq_error(x, stack.reconstruct(x)) > 0.5


def test_fine_tuning_improves_on_the_stack(stack, digits):
    deep = stack.unroll()
    before = sq_error(digits.X_test, stack.reconstruct(digits.X_test))
    aelab.train(deep, digits.X_train, epochs=10, lr=3e-3, batch_size=64, device="cpu")
    after = sq_error(digits.X_test, deep.reconstruct(digits.X_test))
    assert after < 0.95 * before
    # the stack itself is untouched by fine-tuning the unrolled copy
    assert sq_error(digits.X_test, stack.reconstruct(digits.X_test)) == pytest.approx(before)


def test_tied_unroll_shares_storage(stack, digits):
    deep = stack.unroll(tied=True)
    enc = [m for m in deep.encoder.modules() if isinstance(m, torch.nn.Linear)]
    dec = [m for m in deep.decoder.modules() if isinstance(m, TiedLinear)]
    assert len(dec) == len(enc) == 3
    for e, d in zip(enc, reversed(dec)):
        assert d.weight.data_ptr() == e.weight.data_ptr()
    n_untied = sum(p.numel() for p in stack.unroll().parameters())
    n_tied = sum(p.numel() for p in deep.parameters())
    assert n_untied - n_tied == sum(e.weight.numel() for e in enc)
    with torch.no_grad():
        enc[0].weight.add_(1.0)
    assert torch.equal(dec[-1].weight, enc[0].weight)


def test_tied_layers_unroll_exactly_both_ways(digits):
    st = aelab.greedy_pretrain(digits.X_train, (20, 5), layer_options={"tied": True},
                               likelihood="bernoulli", epochs=3, device="cpu")
    x = digits.X_test
    for tied in (False, True):
        np.testing.assert_allclose(st.unroll(tied=tied).reconstruct(x), st.reconstruct(x), atol=1e-5)


def test_unrolled_saves_and_loads(stack, digits, tmp_path):
    deep = stack.unroll()
    deep.save(tmp_path / "deep")
    loaded = aelab.load(tmp_path / "deep")
    np.testing.assert_array_equal(loaded.reconstruct(digits.X_test), deep.reconstruct(digits.X_test))


def test_scaled_input_unrolls_exactly(digits):
    x = digits.X_train * 16.0 - 3.0  # outside [0, 1]: the first layer fits standard scaling
    st = aelab.greedy_pretrain(x, (12, 4), epochs=2, device="cpu")
    deep = st.unroll()
    assert deep.scaler.fitted_kind == "standard"
    np.testing.assert_allclose(deep.reconstruct(x[:50]), st.reconstruct(x[:50]), atol=1e-4)
    before = deep.scaler.shift.clone()
    aelab.train(deep, x[:100], epochs=1, device="cpu")  # fine-tuning keeps the copied scaling
    assert torch.equal(deep.scaler.shift, before)


@pytest.mark.parametrize("layer, options", [
    ("denoising", {"corruption": "masking", "noise": 0.25}),
    ("denoising", [{"corruption": "salt_pepper", "noise": 0.1}, {"corruption": "gaussian", "noise": 0.1}]),
    ("contractive", {"contraction_weight": 0.1}),
    ("sparse", {"penalty": "l1", "sparsity_weight": 0.01}),
])
def test_every_layer_kind(layer, options, digits):
    st = aelab.greedy_pretrain(digits.X_train[:300], (16, 4), layer=layer, layer_options=options,
                               likelihood="bernoulli", epochs=2, device="cpu")
    assert all(m.name == layer for m in st.layers)
    if isinstance(options, list):
        assert [m.corruption for m in st.layers] == ["salt_pepper", "gaussian"]
    x = digits.X_test[:50]
    np.testing.assert_allclose(st.unroll().reconstruct(x), st.reconstruct(x), atol=1e-5)


def test_relu_stack_is_not_exact_but_unrolls(digits):
    st = aelab.greedy_pretrain(digits.X_train[:300], (16, 4), activation="relu", epochs=2, device="cpu")
    assert [m.likelihood for m in st.layers] == ["gaussian", "gaussian"]
    assert not st.unroll_is_exact()
    assert st.unroll().activation == "relu"


def test_progress_per_layer(digits, caplog):
    seen = []
    with caplog.at_level(logging.INFO, logger="aelab"):
        aelab.greedy_pretrain(digits.X_train[:200], (8, 4, 2), epochs=2, device="cpu",
                              callback=lambda epoch, logs: seen.append((logs["layer"], epoch)))
    assert seen == [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)]
    assert sum("layer 2/3" in r.getMessage() for r in caplog.records) == 1


def test_validation_data_is_encoded_per_layer(digits):
    st = aelab.greedy_pretrain(digits.X_train[:300], (16, 4), epochs=2, device="cpu",
                               validation_data=digits.X_test[:100])
    assert all(len(h["val/recon"]) == 2 for h in st.histories)


def test_same_seed_same_stack(digits):
    runs = [aelab.greedy_pretrain(digits.X_train[:200], (8, 4), epochs=2, seed=5, device="cpu")
            for _ in range(2)]
    assert [h["train/loss"] for h in runs[0].histories] == [h["train/loss"] for h in runs[1].histories]


def test_bad_options(digits):
    x = digits.X_train[:50]
    with pytest.raises(ValueError, match="hidden"):
        aelab.greedy_pretrain(x, (8,), layer_options={"hidden": (4,)}, epochs=1)
    with pytest.raises(ValueError, match="one dict per layer"):
        aelab.greedy_pretrain(x, (8, 4), layer_options=[{}], epochs=1)
    with pytest.raises(TypeError, match="noise"):
        aelab.greedy_pretrain(x, (8,), layer="ae", layer_options={"noise": 0.1}, epochs=1)
    with pytest.raises(ValueError, match="widths"):
        aelab.greedy_pretrain(x, (), epochs=1)
    with pytest.raises(ValueError, match="Unknown model"):
        aelab.greedy_pretrain(x, (8,), layer="nope", epochs=1)


def test_topk_stack_refuses_to_unroll(digits):
    st = aelab.greedy_pretrain(digits.X_train[:100], (16,), layer="sparse", activation="relu",
                               code_activation="relu", layer_options={"penalty": "topk", "k": 4},
                               epochs=1, device="cpu")
    with pytest.raises(ValueError, match="topk"):
        st.unroll()


def test_cli_pretrain(tmp_path, capsys):
    from aelab.cli import main

    out = tmp_path / "deep"
    rc = main(["pretrain", "--data", "digits", "--widths", "16", "4", "--layer", "denoising",
               "--layer-option", "noise=0.2", "--layer-option", "corruption=masking",
               "--likelihood", "bernoulli", "--pretrain-epochs", "2", "--epochs", "2",
               "--out", str(out)])
    assert rc == 0
    assert "pretrained 2 denoising layers" in capsys.readouterr().out
    deep = aelab.load(out)
    assert deep.hidden == (16,) and deep.latent_dim == 4 and deep.likelihood == "bernoulli"
    assert main(["pretrain", "--data", "digits", "--widths", "8", "--layer-option", "noise",
                 "--out", str(tmp_path / "x")]) == 2
