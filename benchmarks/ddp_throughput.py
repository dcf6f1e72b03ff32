"""Data-parallel training throughput: one process vs ``torchrun`` with 1 and 2 ranks.

The deep autoencoder 784-1000-500-250-30 on ``--rows`` random MNIST-shaped rows (speed
only), global batch ``--batch-size``, ``--epochs`` epochs; the rate is training examples
per second over the epochs after the first (rank 0's clock; every rank takes part in
every step). The cores are shared fairly: the single process gets all ``--cores`` torch
threads, each of N ranks gets cores/N. On the 2-core CI machine expect little or no gain:
DDP splits the same arithmetic over the same two cores and adds an all-reduce per step.

    python benchmarks/ddp_throughput.py [--cores 2] [--ranks 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

import aelab
from common import machine, parse_args, write

HERE = Path(__file__).resolve().parent


def train_once(rows: int, epochs: int, batch: int, device: str) -> dict:
    x = torch.rand(rows, 784, generator=torch.Generator().manual_seed(0))
    model = aelab.create("ae", input_shape=784, hidden=(1000, 500, 250), latent_dim=30, seed=0)
    result = aelab.train(model, x, epochs=epochs, batch_size=batch, seed=0, device=device)
    steady = statistics.median(result.history["epoch_time_s"][1:])
    return {"samples_per_s": rows / steady, "final_train_loss": result.history["train/loss"][-1]}


def worker(args) -> None:
    torch.set_num_threads(args.threads)
    out = train_once(args.rows, args.epochs, args.batch_size, args.device)
    if aelab.training.is_main_process():
        Path(args.worker).write_text(json.dumps(out))


def launch(ranks: int, threads: int, args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node", str(ranks), str(HERE / "ddp_throughput.py"), "--worker",
               str(result), "--threads", str(threads), "--rows", str(args.rows), "--epochs",
               str(args.epochs), "--batch-size", str(args.batch_size), "--device", args.device]
        subprocess.run(cmd, check=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
        return json.loads(result.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(prog="ddp_throughput.py")
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--cores", type=int, default=2, help="cores shared among the ranks")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    if "--worker" in sys.argv:  # one rank, started by launch()
        parser.add_argument("--threads", type=int, default=1)
        worker(parser.parse_args())
        return
    args = parse_args(parser, threads=2)
    if args.quick:
        args.rows, args.epochs, args.rounds = 3_000, 2, 1
    runs: dict[str, list[dict]] = {}
    for _ in range(args.rounds):  # interleaved, so a busy spell hits every setting
        torch.set_num_threads(args.cores)
        runs.setdefault("one process", []).append(
            train_once(args.rows, args.epochs, args.batch_size, args.device))
        for n in args.ranks:
            runs.setdefault(f"torchrun, {n} rank(s)", []).append(
                launch(n, max(1, args.cores // n), args))
    base = statistics.median(r["samples_per_s"] for r in runs["one process"])
    rows = [{"setting": k, "samples_per_s": statistics.median(r["samples_per_s"] for r in v),
             "ratio_to_one_process": statistics.median(r["samples_per_s"] for r in v) / base,
             "final_train_loss": v[0]["final_train_loss"]} for k, v in runs.items()]
    for row in rows:
        print(row, flush=True)
    lines = [
        "# Data-parallel training throughput (torchrun)",
        "",
        f"Command: `{args.command}`",
        "",
        f"Machine: {machine()['cpu_cores']} CPU cores, device {args.device}, torch "
        f"{torch.__version__}. Deep AE 784-1000-500-250-30, {args.rows:,} random rows, global "
        f"batch {args.batch_size}, {args.epochs} epochs, median over {args.rounds} interleaved "
        f"rounds of the epochs after the first. {args.cores} cores shared among the ranks "
        "(threads per rank = cores / ranks). Same global batch and seed, so every setting "
        "takes the same steps (the final loss shows it).",
        "",
        "| setting | samples/s | ratio to one process | final train loss |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r['setting']} | {r['samples_per_s']:,.0f} | {r['ratio_to_one_process']:.2f} | "
              f"{r['final_train_loss']:.4f} |" for r in rows]
    write("ddp_throughput" if not args.quick else "ddp_throughput_quick", "\n".join(lines) + "\n",
          {"command": args.command, "machine": machine(), "rows": rows})


if __name__ == "__main__":
    main()
