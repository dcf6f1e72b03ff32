"""Training throughput at large batch, float32 vs bfloat16 autocast, as a fraction of the
device's measured matmul rate. Written for the lent GPU; runs on any device.

The MNIST deep autoencoder (784-1000-500-250-30) and a VAE (784-512-512-32) are trained by
``aelab.train`` on ``--rows`` random MNIST-shaped rows held on the device, batch
``--batch-size``, for ``--epochs`` epochs (rate: median of the epochs after the first).
A training step costs about 6 FLOPs per weight per example (2 forward, 4 backward), so
achieved FLOP/s = 6 · weights · samples/s; the peak it is divided by is the rate of a
large square matmul in the same dtype, measured in the same process (a baseline of the
machine as it is now, not a datasheet number).

    python benchmarks/gpu.py [--device cuda] [--batch-size 4096]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import aelab
from common import machine, parse_args, write

MODELS = {
    "deep AE 784-1000-500-250-30": ("ae", {"hidden": (1000, 500, 250), "latent_dim": 30}),
    "VAE 784-512-512-32": ("vae", {"hidden": (512, 512), "latent_dim": 32}),
}
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_rate(device: torch.device, dtype: torch.dtype, n: int, reps: int = 10) -> float:
    """FLOP/s of an n×n @ n×n matmul in ``dtype`` on ``device``: the best of ``reps``."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    synchronize(device)
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        synchronize(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def weights(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.dim() >= 2)


def main() -> None:
    parser = argparse.ArgumentParser(prog="gpu.py")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--matmul-size", type=int, default=None,
                        help="side of the peak-rate matmul (default 8192 on GPU, 2048 on CPU)")
    args = parse_args(parser, threads=2)
    if args.quick:
        args.rows, args.epochs = 8_192, 2
    device = torch.device(args.device)
    n = args.matmul_size or (8192 if device.type == "cuda" else 2048)
    peaks = {name: matmul_rate(device, dtype, n) for name, dtype in DTYPES.items()}
    x = torch.rand(args.rows, 784, generator=torch.Generator().manual_seed(0))
    rows = []
    for label, (kind, config) in MODELS.items():
        for precision in DTYPES:
            model = aelab.create(kind, input_shape=784, seed=0, **config)
            result = aelab.train(model, x, epochs=args.epochs, batch_size=args.batch_size,
                                 seed=0, device=args.device, precision=precision)
            rate = args.rows / statistics.median(result.history["epoch_time_s"][1:])
            achieved = 6 * weights(model) * rate
            rows.append({"model": label, "precision": precision, "samples_per_s": rate,
                         "achieved_tflops": achieved / 1e12,
                         "fraction_of_matmul_peak": achieved / peaks[precision],
                         "final_train_loss": result.history["train/loss"][-1]})
            print(rows[-1], flush=True)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    lines = [
        f"# Training throughput on {name}: float32 vs bfloat16 autocast",
        "",
        f"Command: `{args.command}`",
        "",
        f"Device {args.device} ({name}); torch {torch.__version__}. {args.rows:,} random rows "
        f"on the device, batch {args.batch_size}, {args.epochs} epochs (median of the epochs "
        f"after the first). Peak = {n}×{n} matmul measured now: fp32 "
        f"{peaks['fp32'] / 1e12:.2f} TFLOP/s, bf16 {peaks['bf16'] / 1e12:.2f} TFLOP/s.",
        "",
        "| model | precision | samples/s | achieved TFLOP/s | fraction of matmul peak "
        "| final train loss |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {r['model']} | {r['precision']} | {r['samples_per_s']:,.0f} | "
              f"{r['achieved_tflops']:.3f} | {r['fraction_of_matmul_peak']:.1%} | "
              f"{r['final_train_loss']:.2f} |" for r in rows]
    stem = f"gpu_{device.type}" + ("_quick" if args.quick else "")
    write(stem, "\n".join(lines) + "\n",
          {"command": args.command, "machine": machine(), "device": name,
           "matmul_peak_flops": peaks, "rows": rows})


if __name__ == "__main__":
    main()
