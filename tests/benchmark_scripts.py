"""Import a script of ``benchmarks/`` from a test."""

import importlib
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def import_benchmark(name: str):
    """The module ``benchmarks/<name>.py``."""
    # benchmarks/ on the path only while importing: its scripts' names (distributed.py, ...)
    # would otherwise shadow installed packages for every later test
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))
