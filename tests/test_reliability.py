"""Crashes, damaged files, full disks and two writers: what happens, measured (issue 21).

The crash harness itself lives in ``benchmarks/crash_resume.py``; a short run of it is in
this suite and the recorded one (≥ 20 kills) behind the ``slow`` marker.
"""

import errno
import hashlib
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import aelab
from aelab.core import io
from aelab.core.io import LOCK_FILE, directory_lock
from aelab.models.persistence import CONFIG_FILE, WEIGHTS_FILE
from aelab.training.checkpoint import CHECKPOINT_FILE, DAMAGED_FILE, PREVIOUS_FILE, read_checkpoint
from benchmark_scripts import import_benchmark


def tiny(seed=0):
    return aelab.create("ae", input_shape=12, latent_dim=3, hidden=(8,), seed=seed)


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
            if p.is_file()}


# --------------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("damage", ["truncate", "flip a byte", "flip a header byte", "empty"])
def test_a_damaged_checkpoint_is_detected_and_the_previous_used(tiny_data, tmp_path, damage):
    x, _ = tiny_data
    aelab.train(tiny(), x, epochs=3, checkpoint_dir=tmp_path)
    newest = tmp_path / CHECKPOINT_FILE
    blob = bytearray(newest.read_bytes())
    if damage == "truncate":
        blob = blob[: len(blob) - 100]
    elif damage == "flip a byte":
        blob[-5] ^= 0x01
    elif damage == "flip a header byte":
        at = blob.index(b'"epoch\\":') + 9  # the epoch number inside the metadata
        blob[at] = ord("7") if blob[at] != ord("7") else ord("6")
    else:
        blob = bytearray()
    newest.write_bytes(bytes(blob))
    # resuming from the previous one continues to the same weights as a straight run
    resumed = tiny()
    with pytest.warns(UserWarning, match=f"{newest}.*damaged.*using the previous one"):
        result = aelab.train(resumed, x, epochs=4, checkpoint_dir=tmp_path, resume=True)
    assert len(result.history["lr"]) == 4 and (tmp_path / DAMAGED_FILE).is_file()
    assert read_checkpoint(tmp_path)[1]["epoch"] == 4
    straight = tiny()
    aelab.train(straight, x, epochs=4)
    for a, b in zip(resumed.state_dict().values(), straight.state_dict().values()):
        assert torch.equal(a, b)


def test_no_readable_checkpoint_is_a_clear_error(tiny_data, tmp_path):
    x, _ = tiny_data
    aelab.train(tiny(), x, epochs=2, checkpoint_dir=tmp_path)
    for name in (CHECKPOINT_FILE, PREVIOUS_FILE):
        (tmp_path / name).write_bytes(b"not a checkpoint")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="No readable checkpoint.*Delete the files"):
            aelab.train(tiny(), x, epochs=3, checkpoint_dir=tmp_path, resume=True)


def test_a_killed_writer_s_temporary_files_are_removed(tiny_data, tmp_path):
    x, _ = tiny_data
    aelab.train(tiny(), x, epochs=2, checkpoint_dir=tmp_path)
    stale = tmp_path / f".{CHECKPOINT_FILE}.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    aelab.train(tiny(), x, epochs=3, checkpoint_dir=tmp_path, resume=True)
    assert not stale.exists()


def test_crash_harness_short(tmp_path):
    crash_and_resume = import_benchmark("crash_resume").crash_and_resume
    r = crash_and_resume(tmp_path, kills=3, epochs=60, seed=1, corrupt_every=1,
                         epochs_per_attempt=4, min_truncated=1, max_kills=12)
    assert r["kills"] >= 3 and r["truncated_checkpoints"] >= 1, r
    assert r["unreadable_directories"] == 0
    assert r["identical"], r


@pytest.mark.slow
def test_crash_harness_twenty_kills(tmp_path):
    crash_and_resume = import_benchmark("crash_resume").crash_and_resume
    r = crash_and_resume(tmp_path, kills=20, epochs=100, seed=0)
    assert r["kills"] == 20 and r["unreadable_directories"] == 0 and r["identical"], r


# --------------------------------------------------------------------------- full and read-only
def _fail_writes(monkeypatch, code: int):
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(io.tempfile, "mkstemp", refuse)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_saving_into_a_full_or_read_only_place_changes_nothing(tiny_data, tmp_path, monkeypatch,
                                                                code):
    x, _ = tiny_data
    model = tiny()
    aelab.train(model, x, epochs=2, checkpoint_dir=tmp_path / "ck")
    model.save(tmp_path / "m")
    before = digest(tmp_path / "m"), digest(tmp_path / "ck")
    _fail_writes(monkeypatch, code)
    with pytest.raises(OSError, match=f"Could not write .*{WEIGHTS_FILE}.*Nothing was changed"):
        tiny(seed=1).save(tmp_path / "m")
    with pytest.raises(OSError, match=f"Could not write .*{CHECKPOINT_FILE}"):
        aelab.train(tiny(), x, epochs=4, checkpoint_dir=tmp_path / "ck", resume=True)
    assert (digest(tmp_path / "m"), digest(tmp_path / "ck")) == before
    monkeypatch.undo()
    np.testing.assert_array_equal(aelab.load(tmp_path / "m").encode(x), model.encode(x))


def test_a_disk_that_fills_mid_write(tiny_data, tmp_path, monkeypatch):
    """The second of the two files fails after the first was written: neither is replaced."""
    x, _ = tiny_data
    model = tiny()
    aelab.train(model, x, epochs=1)
    model.save(tmp_path / "m")
    before = digest(tmp_path / "m")
    real = io._write_temp

    def second_fails(path, data):
        if path.name == CONFIG_FILE:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, data)

    monkeypatch.setattr(io, "_write_temp", second_fails)
    with pytest.raises(OSError, match="No space left"):
        tiny(seed=1).save(tmp_path / "m")
    assert digest(tmp_path / "m") == before and not list((tmp_path / "m").glob(".*.tmp"))


def test_a_real_full_filesystem(tiny_data, tmp_path):
    """A 1 MB tmpfs (where this machine lets us mount one): the save that does not fit fails
    with the system's own ENOSPC, and the model saved there before is still readable."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()}); the simulated "
                    "ENOSPC tests cover the same code")
    try:
        x, _ = tiny_data
        small = tiny()
        aelab.train(small, x, epochs=1)
        small.save(mount / "m")
        before = digest(mount / "m")
        big = aelab.create("ae", input_shape=12, latent_dim=3, hidden=(20_000,), seed=0)  # ~2 MB
        with pytest.raises(OSError, match="No space left on device"):
            big.save(mount / "m")
        assert digest(mount / "m") == before
        np.testing.assert_array_equal(aelab.load(mount / "m").encode(x), small.encode(x))
    finally:
        subprocess.run(["umount", str(mount)], check=False)


# --------------------------------------------------------------------------- two writers
HOLD = """
import sys, time
from aelab.core.io import directory_lock
with directory_lock(sys.argv[1], "training"):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_second_writer_fails_fast(tiny_data, tmp_path):
    x, _ = tiny_data
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "ck")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ValueError, match=rf"in use: process {holder.pid} is training there"):
            aelab.train(tiny(), x, epochs=1, checkpoint_dir=tmp_path / "ck")
        assert not (tmp_path / "ck" / CHECKPOINT_FILE).exists()  # nothing written
    finally:
        holder.kill()
        holder.wait()
    aelab.train(tiny(), x, epochs=1, checkpoint_dir=tmp_path / "ck")  # the lock died with it


def test_two_cli_runs_into_one_out(tmp_path):
    from aelab.cli import main

    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "run")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["train", "--data", "digits", "--epochs", "1", "--out",
                     str(tmp_path / "run")]) == 2
        assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [LOCK_FILE]
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_is_reentrant_per_directory_only(tmp_path):
    with directory_lock(tmp_path / "a"), directory_lock(tmp_path / "b"):
        pass
    with directory_lock(tmp_path / "a"):
        pass  # released on exit


# --------------------------------------------------------------------------- determinism
RUN = """
import sys, torch, numpy as np, aelab
torch.set_num_threads(int(sys.argv[2]))
ds = aelab.data.load("digits")
model = aelab.create("vae", input_shape=64, latent_dim=8, hidden=(64,), seed=0)
aelab.train(model, ds.X_train, epochs=3, seed=0, device="cpu", validation_split=0.1)
model.save(sys.argv[1])
"""


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(folder / WEIGHTS_FILE)


def test_same_seed_same_threads_same_weights_across_processes(tmp_path):
    for name in ("a", "b"):
        subprocess.run([sys.executable, "-c", RUN, str(tmp_path / name), "1"], check=True)
    a, b = weights(tmp_path / "a"), weights(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "a" / WEIGHTS_FILE).read_bytes() == (tmp_path / "b" / WEIGHTS_FILE).read_bytes()


def test_lock_file_is_left_alone_by_saves(tmp_path):
    with tempfile.TemporaryDirectory() as d, directory_lock(d):
        tiny().save(Path(d) / "m")
        assert (Path(d) / LOCK_FILE).read_text() == str(os.getpid())
