"""Data-parallel training under torchrun: 2 CPU ranks (gloo) take the same steps as one
process with the same global batch, resume identically, and agree with each other."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import aelab
from aelab.training.distributed import Group

HERE = Path(__file__).resolve().parent


def torchrun(*args, cwd=None, timeout=240):
    """Run ``torchrun --standalone --nproc-per-node 2`` with ``args``; fail with its output.
    On a timeout (ranks waiting for each other) the launcher and its workers are killed."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           *map(str, args)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=cwd, env={**os.environ, "OMP_NUM_THREADS": "1"},
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"torchrun did not finish in {timeout}s (ranks out of step?):\n{err[-3000:]}")
    assert proc.returncode == 0, out[-3000:] + err[-3000:]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory, tiny_data_module):
    tmp = tmp_path_factory.mktemp("ddp")
    np.save(tmp / "x.npy", tiny_data_module)
    torchrun(HERE / "ddp_job.py", tmp / "x.npy", tmp)
    return tmp


@pytest.fixture(scope="module")
def tiny_data_module():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(230, 3))  # 230: the last batches do not split evenly
    return (1 / (1 + np.exp(-(z @ rng.normal(size=(3, 12)))))).astype(np.float32)


def weights(directory, name, rank):
    return load_file(directory / f"{name}.rank{rank}.safetensors")


def assert_same(a, b, **tol):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], msg=k, **tol)


def test_two_ranks_take_the_steps_of_one_process(two_ranks, tiny_data_module):
    one = aelab.create("ae", input_shape=12, latent_dim=3, hidden=(16,), seed=0)
    result = aelab.train(one, tiny_data_module, epochs=3, batch_size=50, seed=0)
    for rank in (0, 1):
        assert_same(weights(two_ranks, "ae", rank), one.state_dict(), rtol=1e-4, atol=1e-5)
    logged = json.loads((two_ranks / "ae.rank0.json").read_text())["history"]
    # The logged loss is the mean over all 230 examples, not over one rank's half.
    np.testing.assert_allclose(logged["train/loss"], result.history["train/loss"], rtol=1e-4)
    # And the weights did move: a test that would pass on untrained models proves nothing.
    fresh = aelab.create("ae", input_shape=12, latent_dim=3, hidden=(16,), seed=0)
    before = fresh.state_dict()
    assert any(not torch.allclose(v, before[k]) for k, v in one.state_dict().items())


def test_a_resume_under_two_ranks_continues_identically(two_ranks):
    for rank in (0, 1):
        assert_same(weights(two_ranks, "dae_resumed", rank), weights(two_ranks, "dae_full", rank),
                    rtol=0, atol=0)
    ckpt = two_ranks / "ckpt_full"
    assert (ckpt / "checkpoint.safetensors").is_file()  # written once, by rank 0
    # Each rank draws its own corruption noise, and the checkpoint keeps both streams.
    keys = load_file(ckpt / "checkpoint.safetensors").keys()
    assert {"rng/torch", "rng/torch/rank1"} <= set(keys)


def test_a_multi_phase_model_stays_in_sync_and_stops_together(two_ranks):
    assert_same(weights(two_ranks, "aae", 0), weights(two_ranks, "aae", 1), rtol=0, atol=0)
    h0, h1 = (json.loads((two_ranks / f"aae.rank{r}.json").read_text()) for r in (0, 1))
    assert h0["epochs_run"] == h1["epochs_run"] and h0["best_epoch"] == h1["best_epoch"]
    assert h0["history"]["val/loss"] == h1["history"]["val/loss"]


def test_the_command_line_trains_under_torchrun(tmp_path):
    torchrun("-m", "aelab", "train", "--data", "digits", "--model", "ae", "--latent-dim", "4",
             "--hidden", "16", "--epochs", "1", "--out", tmp_path / "run", cwd=tmp_path)
    model = aelab.load(tmp_path / "run")
    assert model.latent_dim == 4 and (tmp_path / "run" / "metrics.json").is_file()


def test_shards_cover_a_batch_once_with_weights_for_the_global_mean():
    class Fake(Group):
        def __init__(self, rank, size):
            self.rank, self.size = rank, size

    losses = np.random.default_rng(0).normal(size=50)  # per-example losses
    for n, size in [(50, 2), (7, 3), (5, 4)]:
        parts = [Fake(r, size).shard(n) for r in range(size)]
        # contiguous, disjoint, covering [0, n)
        assert [lo for lo, _, _ in parts] == [0] + [hi for _, hi, _ in parts[:-1]]
        assert parts[-1][1] == n
        # DDP averages the ranks' weighted gradients: sum_r w_r * mean_r / size must be
        # the mean over the whole batch, also when n does not split evenly.
        ddp_mean = sum(w * losses[lo:hi].mean() for lo, hi, w in parts) / size
        assert ddp_mean == pytest.approx(losses[:n].mean())
    assert Fake(0, 4).shard(3) is None  # fewer rows than ranks
