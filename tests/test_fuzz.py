"""Property-based fuzzing of everything that reads what a user hands over (issue 21).

For every target the only outcomes allowed are a result, or a ValueError / TypeError (the
documented exceptions; an ``OSError`` where the operating system refuses) whose message
names the problem. Any other exception, a hang (each example has a deadline) or a partial
file fails the test. ``EXAMPLES`` is the number of examples tried per target; the
reliability page (docs/reliability.md) quotes it.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aelab
from aelab.cli import main
from aelab.models.persistence import CONFIG_FILE, WEIGHTS_FILE
from aelab.sklearn import AutoencoderOutlierDetector, AutoencoderTransformer

EXAMPLES = {
    "data files (.npy, .npz, .csv, .parquet)": 400,
    "config.json": 300,
    "model.safetensors header": 200,
    "CLI arguments": 30,
    "estimators on pandas frames": 60,
}
DOCUMENTED = (ValueError, TypeError)


def fuzz(target: str, **extra):
    return settings(max_examples=EXAMPLES[target], deadline=10_000, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow], **extra)


def outcome(fn):
    """Call ``fn``; return its result or the documented exception (anything else raises)."""
    try:
        return fn()
    except DOCUMENTED as err:
        assert str(err).strip(), f"{type(err).__name__} without a message"
        return err


# --------------------------------------------------------------------------- data files
def npy_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


VALID = {
    ".npy": npy_bytes(np.arange(12, dtype=np.float32).reshape(4, 3)),
    ".csv": b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n",
}


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def parquet_bytes() -> bytes:
    buf = io.BytesIO()
    pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]}).to_parquet(buf)
    return buf.getvalue()


VALID[".npz"] = npz_bytes({"X": np.ones((3, 2)), "y": np.arange(3)})
VALID[".parquet"] = parquet_bytes()

odd_arrays = st.sampled_from([
    np.zeros((0, 3)), np.zeros((3, 0)), np.zeros(5), np.zeros(()), np.array([["a", "b"]]),
    np.array([[1 + 2j]]), np.array([[object()]], dtype=object), np.array([[True, False]]),
    np.array([[np.nan, 1.0]]), np.array([[np.inf]]), np.zeros((2, 2), dtype="datetime64[s]"),
    np.full((2, 3), 1e300), np.zeros((2, 1, 1, 1, 1)),
])


@st.composite
def damaged(draw, suffix: str) -> bytes:
    blob = bytearray(VALID[suffix])
    how = draw(st.sampled_from(["random", "truncate", "flip", "insert", "huge header"]))
    if how == "random":
        return draw(st.binary(max_size=600))
    if how == "truncate":
        return bytes(blob[: draw(st.integers(0, len(blob)))])
    if how == "flip":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(blob) - 1))
            blob[i] = draw(st.integers(0, 255))
        return bytes(blob)
    if how == "insert":
        i = draw(st.integers(0, len(blob)))
        return bytes(blob[:i] + draw(st.binary(min_size=1, max_size=40)) + blob[i:])
    if suffix in (".npy", ".npz"):  # a header that declares an enormous array
        shape = draw(st.sampled_from([(10**12,), (10**6, 10**6), (2**40, 3)]))
        header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}".encode()
        header += b" " * (-(len(header) + 11) % 64) + b"\n"
        npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\x00" * 64
        if suffix == ".npy":
            return npy
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("X.npy", npy)
        return buf.getvalue()
    return bytes(blob) * draw(st.integers(2, 5))


@pytest.mark.parametrize("suffix", sorted(VALID))
@fuzz("data files (.npy, .npz, .csv, .parquet)")
@given(data=st.data())
def test_data_files(tmp_path, suffix, data):
    path = tmp_path / f"f{suffix}"
    if suffix in (".npy", ".npz") and data.draw(st.booleans()):
        array = data.draw(odd_arrays)
        path.write_bytes(npy_bytes(array) if suffix == ".npy" else npz_bytes({"X": array}))
    else:
        path.write_bytes(data.draw(damaged(suffix)))
    result = outcome(lambda: aelab.data.load(str(path)))
    if isinstance(result, Exception):
        assert str(path.name) in str(result) or "X" in str(result)
    else:
        assert np.isfinite(result.X_train).all() and result.X_train.dtype == np.float32


# --------------------------------------------------------------------------- saved models
@pytest.fixture(scope="module")
def saved_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "m"
    aelab.create("vae", input_shape=6, latent_dim=2, hidden=(4,), seed=0).save(path)
    return path


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False)
    | st.text(max_size=8) | st.sampled_from([10**9, 0, -1, 1e9, "bernoulli", "mlp", [10**9]]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@fuzz("config.json")
@given(edits=st.lists(st.tuples(st.sampled_from(
    ["input_shape", "latent_dim", "hidden", "activation", "likelihood", "tied", "backbone",
     "preprocess", "n_classes", "beta", "k", "objective", "intermediate_dims", "latent_hidden",
     "unknown_key", "<top>model", "<top>config", "<top>weights", "<top>format_version",
     "<top>metadata"]), json_values), min_size=1, max_size=3))
def test_config_json(tmp_path, saved_dir, edits):
    target = Path(tempfile.mkdtemp(dir=tmp_path)) / "m"
    target.mkdir()
    (target / WEIGHTS_FILE).write_bytes((saved_dir / WEIGHTS_FILE).read_bytes())
    cfg = json.loads((saved_dir / CONFIG_FILE).read_text())
    for key, value in edits:
        if key.startswith("<top>"):
            cfg[key[5:]] = value
        elif isinstance(cfg["config"], dict):  # an earlier edit may have replaced it
            cfg["config"][key] = value
    (target / CONFIG_FILE).write_text(json.dumps(cfg))
    result = outcome(lambda: aelab.load(target))
    if not isinstance(result, Exception):
        assert isinstance(result, aelab.Autoencoder)


@fuzz("model.safetensors header")
@given(header=st.one_of(
    st.binary(max_size=200),
    st.dictionaries(st.sampled_from(["decoder.0.weight", "encoder.1.weight", "scaler.shift",
                                     "__metadata__", "x"]),
                    st.fixed_dictionaries({"dtype": st.sampled_from(["F32", "F64", "I64", "BOOL",
                                                                     "??"]),
                                           "shape": st.lists(st.integers(0, 10**6), max_size=3),
                                           "data_offsets": st.lists(st.integers(0, 10**9),
                                                                    min_size=2, max_size=2)}),
                    max_size=4).map(lambda d: json.dumps(d).encode())),
    length=st.one_of(st.none(), st.sampled_from([0, 7, 2**63, 2**40, 10**6])),
    payload=st.binary(max_size=64))
def test_safetensors_header(tmp_path, saved_dir, header, length, payload):
    target = Path(tempfile.mkdtemp(dir=tmp_path)) / "m"
    target.mkdir()
    blob = struct.pack("<Q", len(header) if length is None else length) + header + payload
    (target / WEIGHTS_FILE).write_bytes(blob)
    cfg = json.loads((saved_dir / CONFIG_FILE).read_text())
    cfg["weights"]["sha256"] = hashlib.sha256(blob).hexdigest()
    (target / CONFIG_FILE).write_text(json.dumps(cfg))
    assert isinstance(outcome(lambda: aelab.load(target)), Exception)


def test_mismatched_shapes_in_a_valid_file(tmp_path, saved_dir):
    from safetensors.torch import load_file, save_file

    tensors = load_file(saved_dir / WEIGHTS_FILE)
    name = next(k for k in tensors if k.endswith("weight"))
    tensors[name] = torch.zeros(tensors[name].shape[0] + 1, 3)
    target = tmp_path / "m"
    target.mkdir()
    save_file(tensors, target / WEIGHTS_FILE)
    cfg = json.loads((saved_dir / CONFIG_FILE).read_text())
    cfg["weights"]["sha256"] = hashlib.sha256((target / WEIGHTS_FILE).read_bytes()).hexdigest()
    (target / CONFIG_FILE).write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=f"{name}.*size mismatch|size mismatch.*{name}"):
        aelab.load(target)


# --------------------------------------------------------------------------- the CLI
TOKENS = ["--model", "ae", "vae", "sparse", "nope", "--latent-dim", "--hidden", "--epochs",
          "--batch-size", "--lr", "--noise", "--corruption", "masking", "--likelihood",
          "bernoulli", "--validation-split", "--early-stopping", "--device", "cuda", "cpu",
          "--backbone", "conv", "--input-shape", "--preprocess", "robust", "--resume",
          "--seed", "--label-column", "--tied", "--linear", "0", "1", "2", "-1", "0.5", "nan",
          "inf", "abc", "", "1e9", "--data", "digits", "missing.csv", "--grad-clip", "--k"]


@fuzz("CLI arguments")
@given(command=st.sampled_from(["train", "evaluate", "encode", "sample", "detect", "pretrain",
                                "list-models", "demo", "bogus"]),
       tokens=st.lists(st.sampled_from(TOKENS), max_size=8))
def test_cli_arguments(tmp_path, command, tokens):
    threads = torch.get_num_threads()
    base = {"train": ["--data", "digits", "--epochs", "1", "--out", str(tmp_path / "o")],
            "pretrain": ["--data", "digits", "--widths", "4", "--pretrain-epochs", "1",
                         "--epochs", "1", "--out", str(tmp_path / "p")],
            "demo": ["--epochs", "nope"]}.get(command, [str(tmp_path / "none")])
    try:
        code = main([command, *base, *tokens])
    except SystemExit as stop:  # argparse: usage errors exit with 2, --help with 0
        code = stop.code
    finally:
        torch.set_num_threads(threads)
    assert code in (0, 2)
    assert not list(tmp_path.rglob("*.tmp")), "a partial file was left behind"


# --------------------------------------------------------------------------- estimators
column = st.sampled_from(["float", "int", "str", "bool", "category", "extreme", "constant"])


@st.composite
def frames(draw) -> pd.DataFrame:
    kinds = draw(st.lists(column, min_size=1, max_size=4))
    rows = draw(st.integers(0, 25))
    cols = {}
    for j, kind in enumerate(kinds):
        if kind == "float":
            el = st.floats(allow_nan=True, allow_infinity=True, width=64)
        elif kind == "int":
            el = st.integers(-(2**40), 2**40)
        elif kind == "str":
            el = st.text(alphabet="abc", max_size=2)
        elif kind == "bool":
            el = st.booleans()
        elif kind == "category":
            el = st.sampled_from(["x", "y", None])
        elif kind == "extreme":
            el = st.sampled_from([1e308, -1e308, 1e-308, 3.4e38, 0.0])
        else:
            el = st.just(7.0)
        cols[f"c{j}"] = draw(st.lists(el, min_size=rows, max_size=rows))
    return pd.DataFrame(cols)


@fuzz("estimators on pandas frames")
@given(frame=frames(), which=st.sampled_from(["detector", "transformer"]))
def test_estimators_on_frames(frame, which):
    if which == "detector":
        est = AutoencoderOutlierDetector(n_members=1, refits=1, epochs=1, batch_size=8,
                                         validation_split=0.0, early_stopping=None, random_state=0)
    else:
        est = AutoencoderTransformer(latent_dim=2, hidden=(4,), epochs=1, validation_split=0.0,
                                     early_stopping=None, random_state=0)
    fitted = outcome(lambda: est.fit(frame))
    if isinstance(fitted, Exception):
        return
    out = outcome(lambda: est.score_samples(frame) if which == "detector" else est.transform(frame))
    if not isinstance(out, Exception):
        assert out.shape[0] == len(frame) and np.isfinite(out).all()

