"""The two-stage protocol of the benchmarks (choose on validation, read the test set once):
``benchmarks/common.SavedRuns``."""

import numpy as np
import pytest

import aelab
from benchmark_scripts import import_benchmark

common = import_benchmark("common")


def _trainer(calls, val_error):
    def train():
        calls.append(val_error)
        return aelab.create("ae", input_shape=4, latent_dim=2, hidden=(), seed=0), {"val_error": val_error}
    return train


def test_a_saved_run_is_loaded_not_trained_again(tmp_path):
    runs, calls = common.SavedRuns(tmp_path), []
    model, record = runs.fitted("a", 0, {"lr": 1.0}, _trainer(calls, 0.3))
    again, record2 = runs.fitted("a", 0, {"lr": 1.0}, _trainer(calls, 0.9))
    assert calls == [0.3] and record2["val_error"] == 0.3 and record2["seed"] == 0
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_array_equal(model.encode(x), again.encode(x))
    with pytest.raises(SystemExit, match="other settings"):
        runs.fitted("a", 0, {"lr": 2.0}, _trainer(calls, 0.1))


def test_choose_takes_the_lowest_seed0_validation_error_of_a_complete_grid(tmp_path):
    runs, calls = common.SavedRuns(tmp_path), []
    runs.fitted("a", 0, {}, _trainer(calls, 0.3))
    with pytest.raises(SystemExit, match="--candidates b"):
        runs.choose(["a", "b"], "val_error")
    runs.fitted("b", 0, {}, _trainer(calls, 0.2))
    runs.fitted("a", 1, {}, _trainer(calls, 0.0))  # other seeds do not choose
    assert runs.choose(["a", "b"], "val_error") == "b"
    assert sorted(runs.records(["a", "b"])["a"]) == [0, 1]


def test_mean_std_uses_the_sample_deviation():
    assert common.mean_std([1.0, 3.0]) == "2.00 ± 1.41"
    assert common.mean_std([2.5]) == "2.50"
