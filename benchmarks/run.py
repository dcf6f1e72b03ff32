"""`make bench`: run every benchmark script (or those named) and refresh benchmarks/results/.

    python benchmarks/run.py            # all
    python benchmarks/run.py mnist_ae   # one
    python benchmarks/run.py adbench    # anomaly detection (pip install -e ".[bench]")
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# In the order they should run; each writes benchmarks/results/<name>.md and .json.
BENCHMARKS = ["mnist_ae", "vae_speed", "generative_figures", "iwae_mnist", "hinton_mnist",
              "mnist_classification", "semisupervised", "semisupervised_vae", "filters", "adbench", "crash_resume",
              "manifold_score", "rcae_score", "sparsity_linear", "tangents_mnist",
              "theory_page", "clustering_mnist", "autorec_ml100k", "imputation", "hashing_20ng",
              "hashing_debian", "psd_patches", "recirculation", "streaming", "adbench_loo",
              "adbench_constructed",
              "ddp_throughput", "compile", "gpu", "sample_quality_floor", "generative_mnist",
              "adversarial_mnist", "conv_mnist", "conditional_mnist", "pixelvae_mnist",
              "dsprites_beta"]


def main() -> int:
    names = sys.argv[1:] or BENCHMARKS
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {BENCHMARKS}", file=sys.stderr)
        return 2
    for name in names:
        print(f"== {name}", flush=True)
        rc = subprocess.call([sys.executable, str(HERE / f"{name}.py")], cwd=HERE.parent)
        if rc:
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
