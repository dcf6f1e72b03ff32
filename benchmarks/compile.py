"""What ``train(compile=True)`` buys on this machine: eager vs ``torch.compile``.

Three MNIST-shaped models (784 inputs): the deep autoencoder of Hinton & Salakhutdinov
(784-1000-500-250-30), a VAE (784-512-512-32) and a small AE (784-128-32). Each is
trained by ``aelab.train`` for ``--epochs`` epochs on ``--rows`` random rows (speed only:
the values do not matter), eager and compiled, the two interleaved over ``--rounds``
rounds. The first compiled epoch of the first round pays the compilation (a fresh
inductor cache: what a user's first run pays; later rounds reuse its kernels); the
steady rate is the median epoch after the first. Ratio > 1 means compiled is faster.

    python benchmarks/compile.py [--rounds 2] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

# A fresh compilation cache, so the first compiled run pays what a user's first run pays
# (inductor otherwise reuses kernels compiled by earlier processes).
os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="aelab-inductor-")

import torch  # noqa: E402

import aelab  # noqa: E402
from common import machine, parse_args, write  # noqa: E402

MODELS = {
    "deep AE 784-1000-500-250-30": ("ae", {"hidden": (1000, 500, 250), "latent_dim": 30}),
    "VAE 784-512-512-32": ("vae", {"hidden": (512, 512), "latent_dim": 32}),
    "small AE 784-128-32": ("ae", {"hidden": (128,), "latent_dim": 32}),
}


def run(kind: str, config: dict, x: torch.Tensor, epochs: int, batch: int, compiled: bool):
    model = aelab.create(kind, input_shape=784, seed=0, **config)
    result = aelab.train(model, x, epochs=epochs, batch_size=batch, seed=0, compile=compiled)
    times = result.history["epoch_time_s"]
    return {"first_epoch_s": times[0], "steady_epoch_s": statistics.median(times[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(prog="compile.py")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2)
    args = parse_args(parser, threads=2)
    if args.quick:
        args.rows, args.epochs, args.rounds = 2_000, 2, 1
    x = torch.rand(args.rows, 784, generator=torch.Generator().manual_seed(0))
    rows = []
    for label, (kind, config) in MODELS.items():
        runs = {False: [], True: []}
        for r in range(args.rounds):  # alternate which goes first
            for compiled in ((False, True) if r % 2 == 0 else (True, False)):
                runs[compiled].append(run(kind, config, x, args.epochs, args.batch_size, compiled))
        eager = statistics.median(t["steady_epoch_s"] for t in runs[False])
        comp = statistics.median(t["steady_epoch_s"] for t in runs[True])
        cold = runs[True][0]
        compile_s = cold["first_epoch_s"] - cold["steady_epoch_s"]
        rows.append({"model": label, "eager_samples_per_s": args.rows / eager,
                     "compiled_samples_per_s": args.rows / comp, "speedup": eager / comp,
                     "compile_overhead_s": compile_s,
                     "break_even_epochs": compile_s / (eager - comp) if eager > comp else None})
        print(rows[-1], flush=True)
    lines = [
        "# torch.compile vs eager on this machine",
        "",
        f"Command: `{args.command}`",
        "",
        f"Machine: {machine()['cpu_cores']} CPU cores, {args.threads} torch threads, torch "
        f"{torch.__version__}. {args.rows:,} random MNIST-shaped rows, batch {args.batch_size}, "
        f"{args.epochs} epochs per run, eager and compiled interleaved over {args.rounds} rounds; "
        "steady rate = median epoch after the first.",
        "",
        "| model | eager samples/s | compiled samples/s | speedup | cold compile overhead (s) "
        "| epochs to break even |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        even = "never" if row["break_even_epochs"] is None else f"{row['break_even_epochs']:.0f}"
        lines.append(f"| {row['model']} | {row['eager_samples_per_s']:,.0f} | "
                     f"{row['compiled_samples_per_s']:,.0f} | {row['speedup']:.2f} | "
                     f"{row['compile_overhead_s']:.1f} | {even} |")
    write("compile" if not args.quick else "compile_quick", "\n".join(lines) + "\n",
          {"command": args.command, "machine": machine(), "rows": rows})


if __name__ == "__main__":
    main()
