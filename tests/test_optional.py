"""The core works without the extras (plot, tables, progress, track); using an extra that
is missing fails with a message naming it."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import aelab
from aelab.core.optional import MissingExtra, available, require

EXTRAS = ("matplotlib", "mpl_toolkits", "pandas", "pyarrow", "tqdm", "mlflow", "tensorboard", "dask",
          "distributed")


def run_without_extras(code: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that sees this environment's packages but the extras,
    as on a machine where they are not installed."""
    site = Path(np.__file__).resolve().parents[1]
    view = tmp_path / "site-packages"
    view.mkdir()
    for entry in site.iterdir():
        if entry.name.split("-")[0].split(".")[0].lower() not in EXTRAS:
            (view / entry.name).symlink_to(entry)
    src = Path(aelab.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{view}"}
    return subprocess.run([sys.executable, "-S", "-c", textwrap.dedent(code)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)


def test_core_library_and_cli_without_extras(tmp_path):
    # 4×4 "images", so that samples can be drawn as a grid
    np.save(tmp_path / "x.npy", np.random.default_rng(0).random((60, 4, 4)).astype(np.float32))
    done = run_without_extras("""
        import importlib.util
        import numpy as np
        assert importlib.util.find_spec("pandas") is None  # the extras are out of sight
        import aelab, aelab.sklearn
        from aelab.cli import main
        from aelab.training.tracking import TensorBoardTracker
        x = np.load("x.npy")
        model = aelab.create("vae", input_shape=(4, 4), latent_dim=2, hidden=(4,), seed=0)
        aelab.train(model, x, epochs=2)
        aelab.train(model, aelab.data.open_chunked("x.npy", chunk_rows=7), epochs=1)  # streams too
        rows = x.reshape(60, 16)
        aelab.sklearn.AutoencoderOutlierDetector(n_members=1, refits=0, epochs=2,
                                                 random_state=0).fit(rows).predict(rows)
        assert main(["train", "--model", "vae", "--data", "x.npy", "--epochs", "1", "--out", "run"]) == 0
        assert aelab.load("run").encode(x).shape == (60, 32)
        assert main(["sample", "run", "--out", "s.npy"]) == 0
        assert main(["sample", "run", "--out", "s.png"]) == 2  # a figure needs the plot extra
        try:
            aelab.train(model, x, epochs=1, progress=True)
        except ImportError as err:
            print("progress:", err)
        assert main(["train", "--data", "x.npy", "--epochs", "1", "--out", "tracked", "--log", "mlflow"]) == 2
        try:
            TensorBoardTracker("tb")
        except ImportError as err:
            print("tensorboard:", err)
    """, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "figures skipped" in done.stderr and "aelab[plot]" in done.stderr
    assert "aelab sample: error: Drawing figures needs the package 'matplotlib'" in done.stderr
    assert "progress: " in done.stdout and "aelab[progress]" in done.stdout
    assert ("aelab train: error: MLflowTracker (aelab train --log mlflow) needs the package 'mlflow', "
            "which is not installed: pip install 'aelab[track]'") in done.stderr
    assert ("tensorboard: TensorBoardTracker (aelab train --log tensorboard) needs the package "
            "'tensorboard', which is not installed: pip install 'aelab[track]'") in done.stdout
    assert not (tmp_path / "tracked" / "metrics.json").exists()  # it failed before training
    assert not (tmp_path / "run" / "figures").exists() and (tmp_path / "run" / "metrics.json").is_file()


def test_tables_need_the_tables_extra(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2\n3,4\n")
    done = run_without_extras("""
        import aelab
        aelab.data.load("t.csv")
    """, tmp_path)
    assert done.returncode != 0 and "pip install 'aelab[tables]'" in done.stderr


def test_require():
    assert require("json", "none", "x").dumps([1]) == "[1]"
    assert available("json") and not available("no_such_module_here")
    with pytest.raises(MissingExtra, match=r"Drawing needs the package 'no_such_module_here'.*aelab\[plot\]"):
        require("no_such_module_here.sub", "plot", "Drawing")
