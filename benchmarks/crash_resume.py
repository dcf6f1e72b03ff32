"""Crash and resume: `aelab train --checkpoint-every 1 --resume` killed with SIGKILL at
random moments, resumed each time, then compared bit for bit with an uninterrupted run.

Each kill is followed by a check that the checkpoint directory can be read; every
``--corrupt-every``-th kill (or the next one with two checkpoints on disk) the newest
checkpoint is also truncated, so that resuming must detect it by its checksum and fall
back to the previous one. The final weights file
must equal the uninterrupted run's byte for byte (CPU, one thread).

    python benchmarks/crash_resume.py                 # 24 kills (the recorded run)
    python benchmarks/crash_resume.py --quick         # 3 kills, writes nothing
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from aelab.core.io import TEMP_SUFFIX
from aelab.models.persistence import WEIGHTS_FILE
from aelab.training.checkpoint import CHECKPOINT_FILE, PREVIOUS_FILE, read_checkpoint
from common import machine, parse_args, write

CHECKPOINTS = "checkpoints"
# A 64-512-512-16 MLP on digits: 7 MB checkpoints (weights + Adam state), written every
# epoch, so that a good share of the kills land while one is being written.
TRAIN = ["--threads", "1", "train", "--data", "digits", "--hidden", "512", "512",
         "--latent-dim", "16", "--batch-size", "64", "--early-stopping", "0",
         "--checkpoint-every", "1", "--seed", "0"]


def writing(folder: Path) -> bool:
    """Whether a checkpoint's temporary file is in ``folder`` (one is being written)."""
    return folder.is_dir() and any(folder.glob(f".{CHECKPOINT_FILE}.*{TEMP_SUFFIX}"))


def command(out: Path, epochs: int, resume: bool) -> list[str]:
    cli = "import sys; from aelab.cli import main; sys.exit(main())"
    return [sys.executable, "-c", cli, *TRAIN, "--epochs", str(epochs), "--out", str(out),
            *(["--resume"] if resume else [])]


def crash_and_resume(workdir: Path, kills: int, epochs: int, seed: int = 0,
                     corrupt_every: int = 4, epochs_per_attempt: float = 8.0,
                     write_kill_every: int = 3, min_truncated: int = 0,
                     max_kills: int | None = None) -> dict:
    """Run the harness in ``workdir``; return what it saw (see the module docstring).

    Each attempt is killed after a delay drawn uniformly from [0.8·s, s + e·t]: s the
    start-up time and t the epoch time of the uninterrupted run, e ``epochs_per_attempt``;
    so some kills land during start-up, most during training. Every ``write_kill_every``-th
    attempt is instead killed as soon as a checkpoint's temporary file appears: while a
    checkpoint is being written. An attempt whose kill is due to truncate the newest
    checkpoint while no previous one exists is killed as soon as one does. With
    ``min_truncated``, kills continue past ``kills`` (up to ``max_kills``) until that many
    newest checkpoints have been truncated.
    """
    rng = random.Random(seed)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    t0 = time.perf_counter()
    reference, resumed = workdir / "reference", workdir / "resumed"
    proc = subprocess.Popen(command(reference, epochs, False), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = None
    while proc.poll() is None:
        if first is None and (reference / CHECKPOINTS / CHECKPOINT_FILE).is_file():
            first = time.perf_counter() - t0
        time.sleep(0.01)
    if proc.returncode:
        raise RuntimeError(f"the uninterrupted run failed ({proc.returncode})")
    reference_s = time.perf_counter() - t0
    epoch_s = (reference_s - (first or 0.0)) / max(epochs - 1, 1)
    startup_s = max((first or reference_s) - epoch_s, 0.1)
    kill_window = (0.8 * startup_s, startup_s + epochs_per_attempt * epoch_s)

    log: list[dict] = []
    truncate_due = False  # every corrupt_every-th kill; at the next kill with a checkpoint
    def more() -> bool:
        truncated = sum(e["truncated_newest"] for e in log)
        return len(log) < kills or (truncated < min_truncated and len(log) < (max_kills or kills))

    while more():
        proc = subprocess.Popen(command(resumed, epochs, True), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        folder = resumed / CHECKPOINTS
        due = truncate_due or bool(corrupt_every and (len(log) + 1) % corrupt_every == 0)
        if write_kill_every and (len(log) + 1) % write_kill_every == 0:
            deadline = time.perf_counter() + kill_window[1] + 4 * epoch_s
            while proc.poll() is None and time.perf_counter() < deadline:
                if writing(folder):
                    break
                time.sleep(0.0005)
        elif due and not (folder / PREVIOUS_FILE).is_file():
            # A truncation is due but there is no previous checkpoint to fall back to: a
            # random kill may never find one (start-up can eat the whole window on a busy
            # machine), so kill as soon as two complete checkpoints are on disk.
            deadline = time.perf_counter() + 2 * kill_window[1] + 8 * epoch_s
            while proc.poll() is None and time.perf_counter() < deadline:
                if (folder / PREVIOUS_FILE).is_file() and not writing(folder):
                    break
                time.sleep(0.0005)
        else:
            time.sleep(rng.uniform(*kill_window))
        if proc.poll() is not None:  # finished before the kill: nothing left to interrupt
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        in_write = writing(folder)
        found, unreadable = None, False
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                found = read_checkpoint(folder) if folder.is_dir() else None
            except ValueError:  # no readable checkpoint although some were written
                unreadable = True
        event = {"epoch": None if found is None else found[1]["epoch"], "unreadable": unreadable,
                 "during_checkpoint_write": in_write, "damaged_files_seen": len(caught),
                 "truncated_newest": False}
        truncate_due = due
        # Damage the newest only when a previous one exists to fall back to (with the only
        # checkpoint damaged there is rightly nothing to resume from).
        if truncate_due and (folder / CHECKPOINT_FILE).is_file() and (folder / PREVIOUS_FILE).is_file():
            newest = folder / CHECKPOINT_FILE
            newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
            event["truncated_newest"], truncate_due = True, False
        log.append(event)
    final = subprocess.run(command(resumed, epochs, True), env=env, capture_output=True, text=True)
    a = (reference / WEIGHTS_FILE).read_bytes()
    b = (resumed / WEIGHTS_FILE).read_bytes() if (resumed / WEIGHTS_FILE).is_file() else b""
    differing = sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))
    return {
        "kills": len(log),
        "kills_during_checkpoint_write": sum(e["during_checkpoint_write"] for e in log),
        "truncated_checkpoints": sum(e["truncated_newest"] for e in log),
        "damaged_files_seen": sum(e["damaged_files_seen"] for e in log),
        "unreadable_directories": sum(e["unreadable"] for e in log),
        "epochs_at_kills": [e["epoch"] for e in log],
        "final_returncode": final.returncode,
        "weights_bytes": len(a),
        "bytes_differing_from_uninterrupted": differing,
        "identical": differing == 0 and final.returncode == 0,
        "epochs": epochs,
        "kill_window_s": kill_window,
        "reference_run_s": reference_s,
        "wall_s": time.perf_counter() - t0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--corrupt-every", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parse_args(parser)
    kills, epochs = (3, 25) if args.quick else (args.kills, args.epochs)
    with tempfile.TemporaryDirectory() as tmp:
        r = crash_and_resume(Path(tmp), kills, epochs, args.seed, args.corrupt_every)
    print(f"{r['kills']} kills ({r['kills_during_checkpoint_write']} during a checkpoint write, "
          f"{r['truncated_checkpoints']} newest checkpoints truncated): final weights "
          f"{'identical' if r['identical'] else 'DIFFERENT'}, {r['bytes_differing_from_uninterrupted']} "
          f"bytes differ of {r['weights_bytes']}")
    if args.quick:
        return
    md = f"""# Crash and resume

`aelab train` ({' '.join(TRAIN)} --epochs {epochs} --resume) killed with SIGKILL at
uniformly random moments {r['kill_window_s'][0]:.1f}–{r['kill_window_s'][1]:.1f} s after each
start (from start-up to about eight epochs in), every third one instead as soon as a
checkpoint's temporary file appeared (during a checkpoint write), resumed each time; every
{args.corrupt_every}th kill (or the next one with two checkpoints on disk) the newest checkpoint
was then truncated to half its length, so that the resume had to detect it by its checksum
and fall back to the previous one.

| | |
|---|---|
| kills survived | {r['kills']} |
| kills while a checkpoint was being written (its temporary file left behind) | {r['kills_during_checkpoint_write']} |
| newest checkpoints truncated on purpose, detected, previous one used | {r['truncated_checkpoints']} |
| checkpoint directories left unreadable | {r['unreadable_directories']} |
| epochs completed at each kill | {', '.join(str(e) for e in r['epochs_at_kills'])} |
| final weights vs the uninterrupted run | {r['bytes_differing_from_uninterrupted']} of {r['weights_bytes']} bytes differ ({'identical' if r['identical'] else 'different'}) |
| bytes lost | {r['bytes_differing_from_uninterrupted']} |
| wall time | {r['wall_s']:.0f} s (uninterrupted run alone: {r['reference_run_s']:.0f} s) |

A kill costs at most the epoch in progress (and the one before it when the newest
checkpoint is damaged): training resumes from the last checkpoint with its optimizer and
RNG state, so the result is the same bits as a run that was never interrupted (CPU, one
thread; see `docs/reliability.md` for what determinism needs).

Command: `{args.command}`. Machine: {machine()}.
"""
    write("crash_resume", md, {"result": r, "command": args.command, "machine": machine()})


if __name__ == "__main__":
    main()
