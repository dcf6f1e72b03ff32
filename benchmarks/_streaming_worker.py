"""One measured run of benchmarks/streaming.py, in its own process: train one epoch or
encode a whole file, from an .npy stream, a Parquet stream or an array loaded in memory;
or only read a stream's chunks (what reading costs without a model).

    python benchmarks/_streaming_worker.py train npy /tmp/x.npy --model-dir DIR
    python benchmarks/_streaming_worker.py encode memory /tmp/x.npy --model-dir DIR

Prints one JSON line: the peak resident set size of this process (VmHWM: everything,
imports included; not ru_maxrss, which a child inherits from its parent over fork and
exec), its RSS once the libraries are imported, and the timings.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time

import numpy as np
import torch

import aelab


def status(key: str) -> int:
    """A /proc/self/status figure, in bytes."""
    text = open("/proc/self/status").read()
    return int(re.search(key + r":\s+(\d+) kB", text).group(1)) * 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=["train", "encode", "read"])
    parser.add_argument("source", choices=["npy", "parquet", "memory"])
    parser.add_argument("path", help="the .npy file (memory, npy) or the .parquet file")
    parser.add_argument("--model-dir", required=True, help="train: where to save; encode: what to load")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--latent-dim", type=int, default=32)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--chunk-rows", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    baseline = status("VmRSS")  # torch, NumPy and aelab imported
    out = {"task": args.task, "source": args.source, "baseline_rss": baseline,
           "load_average_before": os.getloadavg()}
    t0 = time.perf_counter()
    if args.source == "memory":
        data = np.load(args.path)  # the whole array in RAM, as in-memory data is
        out["load_s"] = time.perf_counter() - t0
    else:
        data = aelab.data.open_chunked(args.path, args.chunk_rows)
        out["chunk_rows"] = data.max_chunk_rows
    n, d = data.shape
    if args.task == "read":
        t1 = time.perf_counter()
        for _ in data:  # read and validated, one ahead in the reading thread
            pass
        out["total_s"] = time.perf_counter() - t1
        out["samples_per_s"] = n / out["total_s"]
        out["peak_rss"] = status("VmHWM")
    elif args.task == "train":
        model = aelab.create("ae", input_shape=d, latent_dim=args.latent_dim,
                             hidden=(args.hidden,), seed=0)
        t1 = time.perf_counter()
        result = aelab.train(model, data, epochs=1, batch_size=args.batch_size, seed=0,
                             device="cpu")
        out["total_s"] = time.perf_counter() - t1
        out["epoch_s"] = result.train_time_s
        out["prepare_s"] = out["total_s"] - result.train_time_s  # the scaling's pass (+ checks)
        out["samples_per_s"] = result.samples_per_s  # the epoch alone
        out["loss"] = result.history["train/loss"][-1]
        out["peak_rss"] = status("VmHWM")
        model.save(args.model_dir)
    else:
        model = aelab.load(args.model_dir)
        t1 = time.perf_counter()
        codes = model.encode(data)
        out["total_s"] = time.perf_counter() - t1
        out["samples_per_s"] = n / out["total_s"]
        out["peak_rss"] = status("VmHWM")  # before the checksum below
        out["codes_shape"] = list(codes.shape)
        out["codes_checksum"] = float(codes.sum(dtype=np.float64))
    out["rows"] = n
    out["load_average_after"] = os.getloadavg()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
