"""Shared helpers for aelab benchmarks: machine facts, matmul rate, result files."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).resolve().parent / "results"


def data_dir() -> Path:
    """$AELAB_DATA_DIR, else ../shared/data beside the repository."""
    env = os.environ.get("AELAB_DATA_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        sys.exit(f"benchmark data not found at {path}: set AELAB_DATA_DIR")
    return path


def machine() -> dict:
    return {
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": os.getloadavg(),
    }


def matmul_flops(n: int = 2048, reps: int = 20) -> float:
    """Float32 FLOP/s of an n×n @ n×n matmul on this machine now: the best of ``reps``.

    The best, not the median: other jobs can only slow a repetition down, so the fastest
    one is the closest to what the machine can do (a shared machine otherwise reports
    fractions of the rate above 100%).
    """
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / min(times)


def json_text(value, indent: int = 0) -> str:
    """``json.dumps(value, indent=2)``, except that a dict holding no list or dict (a
    result row) stands on one line: a file of thousands of runs stays small and readable."""
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    if not any(isinstance(v, (dict, list)) for v in children):
        return json.dumps(value)
    if isinstance(value, dict):
        items, brackets = [f"{json.dumps(str(k))}: {json_text(v, indent + 2)}"
                           for k, v in value.items()], "{}"
    else:
        items, brackets = [json_text(v, indent + 2) for v in value], "[]"
    pad = " " * (indent + 2)
    return (brackets[0] + "\n" + ",\n".join(pad + item for item in items) + "\n"
            + " " * indent + brackets[1])


def write(name: str, markdown: str, payload: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.md").write_text(markdown)
    (RESULTS / f"{name}.json").write_text(json_text(payload) + "\n")


def balanced_draw(y: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Indices of ``n`` labelled examples, n/10 per class, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    per = n // 10
    return np.concatenate([rng.choice(np.flatnonzero(y == c), per, replace=False) for c in range(10)])


class SavedRuns:
    """Runs of a benchmark that chooses its setting on validation, saved under ``work``.

    A benchmark under the project's rule has two stages: (1) every candidate setting of a
    grid fixed in the script trains on the training part and reports only its validation
    error; (2) the candidate with the lowest seed-0 validation error runs on every seed and
    the test set is read once per model. Each run is saved as ``work/<name>/seed<k>/`` (the
    model in aelab's format and ``record.json``, written last, so a run cut short is trained
    again), so stages can run in parallel processes or later sessions and stage 2 reuses
    stage 1's seed-0 model instead of training it again.
    """

    def __init__(self, work: Path):
        self.work = Path(work)

    def fitted(self, name: str, seed: int, settings: dict, train):
        """``(model, record)`` of candidate ``name`` at ``seed``: loaded when saved with the same
        ``settings``, else ``train()`` (returning ``(model, record)``) is called and saved."""
        import aelab

        folder = self.work / name / f"seed{seed}"
        if (folder / "record.json").exists():
            record = json.loads((folder / "record.json").read_text())
            if record["settings"] != settings:
                raise SystemExit(f"{folder} holds a run of other settings ({record['settings']}); "
                                 "remove it or pass another --work")
            return aelab.load(folder / "model"), record
        t0 = time.perf_counter()
        model, record = train()
        record.update(settings=settings, seed=seed, wall_time_s=time.perf_counter() - t0,
                      machine=machine())
        folder.mkdir(parents=True, exist_ok=True)
        model.save(folder / "model")
        (folder / "record.json").write_text(json.dumps(record, indent=1))
        return model, record

    def records(self, names) -> dict[str, dict[int, dict]]:
        """Every saved record of the candidates ``names``: name -> seed -> record."""
        runs: dict[str, dict[int, dict]] = {}
        for name in names:
            for path in sorted((self.work / name).glob("seed*/record.json")):
                record = json.loads(path.read_text())
                runs.setdefault(name, {})[record["seed"]] = record
        return runs

    def choose(self, grid, key: str) -> str:
        """The candidate of ``grid`` with the lowest seed-0 ``record[key]`` (a validation
        error); every candidate must have run on seed 0."""
        runs = self.records(grid)
        missing = [n for n in grid if 0 not in runs.get(n, {})]
        if missing:
            raise SystemExit(f"stage 1 is incomplete: run --candidates {' '.join(missing)} "
                             "--seeds 0 first")
        return min(grid, key=lambda n: runs[n][0][key])


def mean_std(values, digits: int = 2) -> str:
    """``"m ± s"`` (sample standard deviation) of ``values``; the value alone for one."""
    v = [float(x) for x in values]
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    m = sum(v) / len(v)
    s = (sum((x - m) ** 2 for x in v) / (len(v) - 1)) ** 0.5
    return f"{m:.{digits}f} ± {s:.{digits}f}"


def command_line(script: str, options: dict) -> str:
    """``python benchmarks/<script> --name value ...`` for parsed ``options`` (dests spelled as
    their flags, ``--pretrain-epochs`` for ``pretrain_epochs``); a true flag is written bare,
    a false flag or ``None`` left out, a list written as its items."""
    parts = [f"python benchmarks/{script}"]
    for dest, value in options.items():
        flag = "--" + dest.replace("_", "-")
        if isinstance(value, bool):
            parts += [flag] if value else []
        elif value is not None:
            items = value if isinstance(value, (list, tuple)) else [value]
            parts += [flag, *(f"{v:g}" if isinstance(v, float) else str(v) for v in items)]
    return " ".join(parts)


def parse_args(parser: argparse.ArgumentParser, *, threads: int = 1,
               quick: bool = True) -> argparse.Namespace:
    """Add the options the benchmarks share (``--threads``, default ``threads``; ``--quick``
    where the script has a quick mode), parse, and set up logging and torch's thread count.

    ``args.command`` is the command line that reproduces the run: the script and every
    option with its value, defaults included (flags only when set), as results record it.
    """
    import logging

    parser.add_argument("--threads", type=int, default=threads, help="torch threads")
    if quick:
        parser.add_argument("--quick", action="store_true", help="tiny run that only checks the script")
    args = parser.parse_args()
    args.command = command_line(parser.prog, vars(args))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("aelab").setLevel(logging.WARNING)
    torch.set_num_threads(args.threads)
    return args
