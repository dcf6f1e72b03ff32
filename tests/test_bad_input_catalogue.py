"""The bad-input catalogue: every class of bad input a user can hand aelab, where it is
caught and the exact message they see. This test writes ``docs/bad-input.md`` from the
catalogue and fails if the committed page differs: run it with AELAB_WRITE_DOCS=1 to
refresh the page after changing a message.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import traceback
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

import aelab
from aelab.core import io
from aelab.core.io import directory_lock
from aelab.sklearn import (
    AutoencoderClusterer,
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    AutoRecRecommender,
    SemanticHasher,
)
from aelab.training.checkpoint import CHECKPOINT_FILE, PREVIOUS_FILE
from aelab.training.tracking import TensorBoardTracker

PAGE = Path(__file__).resolve().parents[1] / "docs" / "bad-input.md"
SRC = Path(aelab.__file__).resolve().parent


def tiny(**cfg):
    return aelab.create("ae", **{"input_shape": 4, "latent_dim": 2, "hidden": (3,), "seed": 0, **cfg})


def X(n=20, d=4):
    return np.random.default_rng(0).random((n, d)).astype(np.float32)


def trained():
    model = tiny()
    aelab.train(model, X(), epochs=1)
    return model


def saved(d: Path) -> Path:
    trained().save(d / "m")
    return d / "m"


def edit_config(d: Path, **changes) -> Path:
    import json

    path = saved(d)
    cfg = json.loads((path / "config.json").read_text())
    for key, value in changes.items():
        target = cfg["config"] if key in ("latent_dim", "unknown_option") else cfg
        target[key] = value
    (path / "config.json").write_text(json.dumps(cfg))
    return path


def write(d: Path, name: str, data: bytes) -> Path:
    (d / name).write_bytes(data)
    return d / name


def frame():
    return pd.DataFrame({"size": [1.0, 2.0, 3.0, 4.0] * 5, "color": ["red", "blue"] * 10})


def damaged_checkpoints(d: Path):
    aelab.train(tiny(), X(), epochs=2, checkpoint_dir=d)
    for name in (CHECKPOINT_FILE, PREVIOUS_FILE):
        (d / name).write_bytes(b"damaged")
    with mock.patch("warnings.warn"):
        aelab.train(tiny(), X(), epochs=3, checkpoint_dir=d, resume=True)


def second_writer(d: Path):
    with directory_lock(d, "training"):  # as if another process held it
        aelab.train(tiny(), X(), epochs=1, checkpoint_dir=d)


def changed_parameter(d: Path):
    with TensorBoardTracker(d) as tracker:
        tracker.log_params({"lr": 0.1})
        tracker.log_params({"lr": 0.2})


def disk_full(d: Path):
    model = trained()
    with mock.patch.object(io.tempfile, "mkstemp",
                           side_effect=OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))):
        model.save(d / "m")


# (input class, how to provoke it); the message and the place are read off the exception.
CATALOGUE = [
    ("Data: NaN", lambda d: aelab.train(tiny(), np.full((5, 4), np.nan), epochs=1)),
    ("Data: infinity", lambda d: tiny().encode(np.full((5, 4), np.inf))),
    ("Data: beyond float32", lambda d: tiny().encode(np.full((5, 4), 1e300))),
    ("Data: one-dimensional", lambda d: tiny().encode(np.zeros(4))),
    ("Data: no rows", lambda d: aelab.train(tiny(), np.zeros((0, 4)), epochs=1)),
    ("Data: text", lambda d: tiny().encode(np.array([["a"] * 4]))),
    ("Data: complex numbers", lambda d: tiny().encode(np.ones((2, 4), dtype=complex))),
    ("Data: wrong number of features", lambda d: trained().encode(np.zeros((3, 5)))),
    ("Data: DataFrame with a text column, to a model", lambda d: tiny().encode(frame())),
    ("Labels: fewer than rows", lambda d: aelab.train(tiny(), X(), np.zeros(3, int), epochs=1)),
    ("Labels: missing for a conditional model",
     lambda d: aelab.create("vae", input_shape=4, n_classes=3).reconstruct(X())),
    ("Labels: outside [0, n_classes)",
     lambda d: aelab.create("vae", input_shape=4, n_classes=3).reconstruct(X(), y=np.full(20, 7))),
    ("Bernoulli likelihood, data outside [0, 1]",
     lambda d: aelab.train(tiny(likelihood="bernoulli", preprocess="none"), 3 * X(), epochs=1)),
    ("Option: unknown model", lambda d: aelab.create("denoisng", input_shape=4)),
    ("Option: unknown keyword", lambda d: aelab.create("ae", input_shape=4, latent=3)),
    ("Option: wrong type", lambda d: aelab.create("ae", input_shape=4, latent_dim="8")),
    ("Option: out of range", lambda d: aelab.create("denoising", input_shape=4, noise=1.5)),
    ("Option: unknown choice", lambda d: aelab.create("ae", input_shape=4, activation="relu6")),
    ("Option: absurd size", lambda d: aelab.create("ae", input_shape=784, latent_dim=10**9)),
    ("Training: early stopping without validation data",
     lambda d: aelab.train(tiny(), X(), epochs=1, early_stopping=3)),
    ("Training: unknown device", lambda d: aelab.train(tiny(), X(), epochs=1, device="tpu")),
    ("Tracking: a parameter changed within a run", changed_parameter),
    ("Tracking: a metric that is not a number",
     lambda d: TensorBoardTracker(d).log_metrics({"split": "test"})),
    ("Sampling a model without a prior", lambda d: tiny().sample(4)),
    ("Likelihood of a model without one", lambda d: aelab.log_likelihood(tiny(), X())),
    ("File: unknown type", lambda d: aelab.data.load(str(write(d, "x.xlsx", b"")))),
    ("File: missing", lambda d: aelab.data.load(str(d / "none.csv"))),
    ("File: text column in a CSV", lambda d: aelab.data.load(str(write(d, "t.csv", b"a,b\n1,x\n")))),
    ("File: .npy shorter than its header says", lambda d: aelab.data.load(str(write(
        d, "t.npy", _npy(np.zeros((2, 3), np.float32))[:-8])))),
    ("File: .npy declaring an enormous array", lambda d: aelab.data.load(str(write(
        d, "t.npy", _npy_header((10**12,)))))),
    ("File: .npz not a zip archive", lambda d: aelab.data.load(str(write(d, "t.npz", b"PK junk")))),
    ("File: object array (pickle)", lambda d: aelab.data.load(str(write(
        d, "o.npy", _npy(np.array([[object()]], dtype=object)))))),
    ("Stream: NaN in a chunk", lambda d: aelab.train(tiny(), aelab.data.open_chunked(
        _npy_file(d, np.where(np.arange(20)[:, None] == 13, np.nan, X())), chunk_rows=5),
        epochs=1)),
    ("Stream: wrong number of features",
     lambda d: trained().encode(aelab.data.open_chunked(_npy_file(d, X(d=5))))),
    ("Stream: .npy shorter than its header says", lambda d: aelab.data.open_chunked(write(
        d, "t.npy", _npy(np.zeros((2, 3), np.float32))[:-8]))),
    ("Stream: .npy in Fortran order",
     lambda d: aelab.data.open_chunked(_npy_file(d, np.asfortranarray(X())))),
    ("Stream: text column in a Parquet file", lambda d: aelab.data.open_chunked(_parquet_file(d))),
    ("Stream: a CSV file", lambda d: aelab.data.open_chunked(write(d, "t.csv", b"a\n1\n"))),
    ("Stream: robust scaling", lambda d: aelab.train(
        tiny(preprocess="robust"), aelab.data.open_chunked(_npy_file(d, X())), epochs=1)),
    ("Saved model: not a saved model", lambda d: aelab.load(d)),
    ("Saved model: weights altered", lambda d: _alter_weights(saved(d))),
    ("Saved model: from a newer aelab", lambda d: aelab.load(edit_config(d, format_version=99))),
    ("Saved model: unknown option in config.json",
     lambda d: aelab.load(edit_config(d, unknown_option=1))),
    ("Saved model: absurd size in config.json",
     lambda d: aelab.load(edit_config(d, latent_dim=10**9))),
    ("Saved model: weights file outside its directory",
     lambda d: aelab.load(edit_config(d, weights={"file": "../x", "sha256": "0"}))),
    ("Checkpoint: none readable", damaged_checkpoints),
    ("Checkpoint directory: a second writer", second_writer),
    ("Disk full (or read-only) while saving", disk_full),
    ("Table: NaN in a numeric column",
     lambda d: AutoencoderOutlierDetector(epochs=1).fit(frame().assign(size=np.nan))),
    ("Table: missing value in a text column",
     lambda d: AutoencoderOutlierDetector(epochs=1).fit(frame().assign(color=None))),
    ("Table: unseen category", lambda d: _fitted_detector().score_samples(
        frame().assign(color="green"))),
    ("Table: missing column", lambda d: _fitted_detector().score_samples(frame()[["size"]])),
    ("Table: column too large to scale",
     lambda d: AutoencoderTransformer(epochs=1).fit(frame().assign(size=1e308))),
    ("Estimator: model option that the estimator sets",
     lambda d: AutoencoderTransformer(model_params={"latent_dim": 3}).fit(X())),
    ("Estimator: contamination out of range",
     lambda d: AutoencoderOutlierDetector(contamination=0.9).fit(X())),
    ("Clustering: more clusters than rows",
     lambda d: AutoencoderClusterer(n_clusters=30, hidden=(3,)).fit(X())),
    ("Clustering: unknown method", lambda d: AutoencoderClusterer(method="spectral").fit(X())),
    ("Ratings: empty table",
     lambda d: AutoRecRecommender().fit(pd.DataFrame({"user": [], "item": [], "rating": []}))),
    ("Ratings: missing column",
     lambda d: AutoRecRecommender().fit(pd.DataFrame({"userId": [1], "item": [2], "rating": [3]}))),
    ("Ratings: rating outside the range", lambda d: AutoRecRecommender(rating_range=(1, 5)).fit(
        pd.DataFrame({"user": [1, 2], "item": [1, 1], "rating": [4.0, 7.0]}))),
    ("Ratings: user id of another type than in fit", lambda d: _fitted_recommender().predict(
        ["1"], [1])),
    ("Imputation: a column with no observed value",
     lambda d: AutoencoderImputer(epochs=1).fit(np.column_stack([np.full(20, np.nan), X(d=3)]))),
    ("Imputation: an array for an imputer fitted on a table with string columns",
     lambda d: AutoencoderImputer(epochs=1, n_members=1).fit(pd.DataFrame(
         {"a": [1.0, np.nan, 3.0, 4.0], "kind": ["x", "y", None, "x"]})).transform(X(d=2))),
    ("Imputation model: masked modelling with nothing hidden",
     lambda d: aelab.create("autorec", input_shape=4, visible_weight=0.0)),
    ("Hashing: a document with no word of the vocabulary",
     lambda d: _fitted_hasher().transform(["zzzz qqqq"])),
    ("Hashing: radius larger than the code", lambda d: _fitted_hasher().index(
        ["red green blue", "blue sky"]).query("red", radius=64)),
]


def _npy_file(d: Path, x: np.ndarray) -> Path:
    np.save(d / "x.npy", x)
    return d / "x.npy"


def _parquet_file(d: Path) -> Path:
    frame().to_parquet(d / "t.parquet")
    return d / "t.parquet"


def _fitted_recommender():
    ratings = pd.DataFrame({"user": [1, 1, 2, 2], "item": [1, 2, 1, 3], "rating": [4.0, 3, 5, 2]})
    return AutoRecRecommender(latent_dim=4, epochs=1, validation_split=0.0,
                              early_stopping=None).fit(ratings)


def _fitted_hasher():
    docs = ["red green blue", "blue sky", "green grass", "red sun"] * 5
    return SemanticHasher(n_bits=8, hidden=(4,), epochs=1, vocabulary_size=10).fit(docs)


def _npy(array) -> bytes:
    import io as stdio

    buf = stdio.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def _npy_header(shape) -> bytes:
    """An .npy header for float32 ``shape`` with a few bytes of data after it."""
    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}".encode()
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\x00" * 16


def _alter_weights(path: Path):
    blob = bytearray((path / "model.safetensors").read_bytes())
    blob[-1] ^= 1
    (path / "model.safetensors").write_bytes(bytes(blob))
    aelab.load(path)


def _fitted_detector():
    return AutoencoderOutlierDetector(n_members=1, refits=0, epochs=1, random_state=0).fit(frame())


def render() -> str:
    lines = ["# Bad input: what aelab says", "",
             "Generated by `tests/test_bad_input_catalogue.py` from the inputs it lists (run it with",
             "`AELAB_WRITE_DOCS=1` to refresh). Each entry: the input, the exception and the exact",
             "message the user sees, and the function that raises it. Paths are shown as `<dir>`.",
             "The command line prints the same message as `aelab <command>: error: ...` and exits",
             "with status 2.", ""]
    for title, provoke in CATALOGUE:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                provoke(Path(tmp))
            except Exception as err:  # noqa: BLE001 - recording whatever is raised
                frame_ = next(f for f in reversed(traceback.extract_tb(err.__traceback__))
                              if f.filename.startswith(str(SRC)))
                where = (f"{Path(frame_.filename).relative_to(SRC.parent).with_suffix('')}"
                         .replace("/", ".") + f".{frame_.name}")
                message = str(err).replace(str(Path(tmp).resolve()), "<dir>").replace(tmp, "<dir>")
                message = re.sub(r"process \d+", "process <pid>", message)
                # lists of registered models change with every new model: not part of the page
                message = re.sub(r"(Available models|the models that do|can sample): \[[^\]]*\]",
                                 r"\1: [<registered models>]", message)
                lines += [f"- **{title}** — `{type(err).__name__}` from `{where}`:",
                          f"  {message}", ""]
            else:
                raise AssertionError(f"{title!r}: nothing was raised")
    return "\n".join(lines)


def test_every_bad_input_raises_a_documented_exception_and_the_page_is_current():
    text = render()
    for title, _ in CATALOGUE:
        entry = text.split(f"**{title}** — `")[1].split("`")[0]
        assert entry in ("ValueError", "TypeError", "OSError"), (title, entry)
    if os.environ.get("AELAB_WRITE_DOCS"):
        PAGE.write_text(text)
    assert PAGE.is_file() and PAGE.read_text() == text, (
        "docs/bad-input.md is out of date: run AELAB_WRITE_DOCS=1 pytest "
        "tests/test_bad_input_catalogue.py and commit the page")
