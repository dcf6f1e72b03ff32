"""Data larger than memory: chunk readers, the incremental .npy writer, training from a
stream, chunk-by-chunk inference, bad input, bounded memory and batch scoring with Dask."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

import aelab
from aelab.cli import main
from aelab.data import NpyChunks, NpyWriter, ParquetChunks, map_to_npy, open_chunked
from aelab.data.streaming import as_chunked, parquet_frames
from aelab.sklearn import AutoencoderOutlierDetector, AutoencoderTransformer, PartitionScorer
from aelab.training.data import RowSplit, Streamed, StreamSource


def structured(n=1003, d=7, seed=0) -> np.ndarray:
    """Rows near a 2-D subspace, offset and scaled (so the fitted scaling matters)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)) @ rng.normal(size=(2, d)) + 0.05 * rng.normal(size=(n, d))
    return (3.0 * x + 5.0).astype(np.float32)


def write_parquet(path, x: np.ndarray, row_group_size: int, **extra) -> Path:
    table = {f"f{j}": x[:, j] for j in range(x.shape[1])}
    pq.write_table(pa.table({**table, **extra}), path, row_group_size=row_group_size)
    return path


def tiny(d=7, **cfg):
    return aelab.create("ae", **{"input_shape": d, "latent_dim": 2, "hidden": (8,), "seed": 0, **cfg})


# ---------------------------------------------------------------------------- readers
@pytest.mark.parametrize("chunk_rows", [1, 97, 1003, 5000])
def test_npy_chunks_equal_np_load(tmp_path, chunk_rows):
    x = structured()
    np.save(tmp_path / "x.npy", x)
    chunks = NpyChunks(tmp_path / "x.npy", chunk_rows=chunk_rows)
    assert chunks.shape == (1003, 7) and chunks.n_chunks == -(-1003 // chunk_rows)
    parts = list(chunks)
    assert all(p.dtype == np.float32 for p in parts)
    assert [len(p) for p in parts[:-1]] == [chunk_rows] * (len(parts) - 1)  # the last is partial
    np.testing.assert_array_equal(np.concatenate(parts), x)
    np.testing.assert_array_equal(chunks.head(150), x[:150])


@pytest.mark.parametrize("dtype", ["<f8", ">f4", "<f2", "<i2", "|u1", "|b1"])
def test_npy_chunks_convert_each_dtype_to_float32(tmp_path, dtype):
    x = (np.random.default_rng(1).random((61, 3, 2)) * 4).astype(dtype)
    np.save(tmp_path / "x.npy", x)
    got = np.concatenate(list(NpyChunks(tmp_path / "x.npy", chunk_rows=8)))
    np.testing.assert_array_equal(got, np.load(tmp_path / "x.npy").astype(np.float32))
    assert got.shape == (61, 3, 2)


def test_a_memmap_and_its_row_slices_are_read_from_the_file(tmp_path):
    x = structured()
    np.save(tmp_path / "x.npy", x)
    m = np.load(tmp_path / "x.npy", mmap_mode="r")
    for view, rows in ((m, x), (m[17:901], x[17:901]), (m[17:901][5:], x[22:901])):
        chunks = open_chunked(view, chunk_rows=100)
        np.testing.assert_array_equal(np.concatenate(list(chunks)), rows)
    # a column slice is not whole rows: used in memory, and refused when asked to stream
    assert as_chunked(m[:, :3]) is None and as_chunked(np.asarray(m)) is None
    with pytest.raises(ValueError, match="not C-contiguous"):
        open_chunked(m[:, :3])


@pytest.mark.parametrize("chunk_rows", [64, 250, 1000])
def test_parquet_chunks_equal_the_table(tmp_path, chunk_rows):
    x = structured(d=37)  # columns are moved into rows 16 at a time: two blocks and a part
    path = write_parquet(tmp_path / "x.parquet", x, 250, label=np.arange(1003) % 3)
    chunks = ParquetChunks(path, drop=["label"], chunk_rows=chunk_rows)
    assert chunks.shape == (1003, 37)
    np.testing.assert_array_equal(np.concatenate(list(chunks)), x)
    # pieces never straddle a row group, and a row group's pieces are read one after the other
    runs = chunks.runs()
    assert len(runs) == 5 and sorted(i for run in runs for i in run) == list(range(chunks.n_chunks))
    assert all(b - a <= min(chunk_rows, 250) for a, b in chunks.chunk_bounds)
    picked = ParquetChunks(path, columns=["f3", "f0"], chunk_rows=chunk_rows)
    np.testing.assert_array_equal(np.concatenate(list(picked)), x[:, [3, 0]])
    frames = pd.concat(list(parquet_frames(path, chunk_rows)), ignore_index=True)
    pd.testing.assert_frame_equal(frames, pd.read_parquet(path))


def test_parquet_integer_and_wide_float_columns(tmp_path):
    path = tmp_path / "t.parquet"
    columns = {f"i{j}": np.arange(10, dtype=np.int64) * j for j in range(9)}  # float64 rows: 8 a block
    pq.write_table(pa.table({**columns, "b": np.linspace(0, 1, 10), "c": np.arange(10) % 2 == 0}),
                   path)
    got = np.concatenate(list(ParquetChunks(path, chunk_rows=3)))
    np.testing.assert_array_equal(got, pd.read_parquet(path).to_numpy(dtype=np.float32))


# ---------------------------------------------------------------------------- writer
def test_npy_writer_round_trip(tmp_path):
    parts = [np.random.default_rng(i).random((n, 3, 2)) for i, n in enumerate((5, 1, 17))]
    with NpyWriter(tmp_path / "o.npy", row_shape=(3, 2)) as out:
        for p in parts:
            out.write(p)
    got = np.load(tmp_path / "o.npy")
    assert got.dtype == np.float32 and got.shape == (23, 3, 2)
    np.testing.assert_array_equal(got, np.concatenate(parts).astype(np.float32))
    with NpyWriter(tmp_path / "s.npy", row_shape=(), dtype=np.float64) as out:
        out.write(np.arange(4.0))
    np.testing.assert_array_equal(np.load(tmp_path / "s.npy"), np.arange(4.0))
    assert np.load(tmp_path / "s.npy", mmap_mode="r").offset % 64 == 0  # aligned like np.save


def test_npy_writer_is_atomic(tmp_path):
    np.save(tmp_path / "o.npy", np.ones((2, 2), np.float32))
    with pytest.raises(ValueError, match="rows of shape"):
        with NpyWriter(tmp_path / "o.npy", row_shape=(2,)) as out:
            out.write(np.zeros((3, 2)))
            out.write(np.zeros((3, 5)))  # wrong width: the writer is abandoned
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), np.ones((2, 2)))  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.npy"]  # no temporary file left


def test_map_to_npy(tmp_path):
    x = structured()
    np.save(tmp_path / "x.npy", x)
    out = map_to_npy(lambda c: c * 2, tmp_path / "x.npy", tmp_path / "y.npy", chunk_rows=100)
    np.testing.assert_array_equal(np.load(out), 2 * x)
    with pytest.raises(ValueError, match="one output row per input row"):
        map_to_npy(lambda c: c[:3], tmp_path / "x.npy", tmp_path / "z.npy", chunk_rows=100)
    assert not (tmp_path / "z.npy").exists()


# ---------------------------------------------------------------------------- training
@pytest.fixture
def npy_file(tmp_path):
    np.save(tmp_path / "x.npy", structured(n=10_000))
    return tmp_path / "x.npy"


def fit(data, **options):
    model = tiny()
    result = aelab.train(model, data, **{"epochs": 2, "batch_size": 64, "seed": 3, **options})
    return model, result


def test_training_from_a_stream_learns_and_fits_the_in_memory_scaling(npy_file):
    x = np.load(npy_file)
    streamed, result = fit(open_chunked(npy_file, chunk_rows=777), epochs=4)
    losses = result.history["train/loss"]
    assert losses[-1] < 0.5 * losses[0]
    in_memory, _ = fit(x, epochs=1)
    # the scaling is fitted in one streamed pass over blocks at the in-memory row offsets
    assert streamed.scaler.fitted_kind == in_memory.scaler.fitted_kind == "standard"
    assert torch.equal(streamed.scaler.shift, in_memory.scaler.shift)
    assert torch.equal(streamed.scaler.scale, in_memory.scaler.scale)
    # and a memmap of the file is streamed the same way
    mm, _ = fit(np.load(npy_file, mmap_mode="r"), epochs=4)
    assert all(torch.equal(a, b) for a, b in zip(mm.state_dict().values(),
                                                 fit(NpyChunks(npy_file), epochs=4)[0]
                                                 .state_dict().values()))


def test_a_stream_gives_every_row_once_per_epoch_in_full_batches(tmp_path):
    ids = np.arange(1000, dtype=np.float32)[:, None].repeat(2, 1)  # each row holds its index
    np.save(tmp_path / "ids.npy", ids)
    source = StreamSource(Streamed(NpyChunks(tmp_path / "ids.npy", chunk_rows=90),
                                   torch.arange(1000)), 64, 7, tiny(2), torch.device("cpu"))
    orders = []
    for epoch in range(2):
        batches = list(source.batches(epoch))
        assert [len(x) for x, _ in batches] == [64] * 15 + [1000 - 15 * 64]
        rows = torch.cat([x[:, 0] for x, _ in batches]).long()
        assert sorted(rows.tolist()) == list(range(1000))
        assert all(torch.equal(x[:, 0].long(), y) for x, y in batches)  # labels stay with rows
        orders.append(rows)
    assert not torch.equal(orders[0], orders[1])  # a new order each epoch
    assert not torch.equal(orders[0], torch.arange(1000))
    # rows of a chunk are mixed with rows of other chunks within a batch
    assert len({int(r) // 90 for r in orders[0][:64]}) > 1


def test_same_seed_same_weights_and_resume_is_exact(npy_file, tmp_path):
    chunks = open_chunked(npy_file, chunk_rows=1234)
    a, _ = fit(chunks, epochs=4)
    b, _ = fit(chunks, epochs=4)
    c, _ = fit(chunks, epochs=4, seed=4)
    same = lambda m, n: all(torch.equal(p, q) for p, q in zip(m.state_dict().values(),  # noqa: E731
                                                              n.state_dict().values()))
    assert same(a, b) and not same(a, c)
    interrupted, _ = fit(chunks, epochs=2, checkpoint_dir=tmp_path / "ck")
    resumed = tiny()
    aelab.train(resumed, chunks, epochs=4, batch_size=64, seed=3, checkpoint_dir=tmp_path / "ck",
                resume=True)
    assert same(resumed, a)


def test_validation_split_of_a_stream(npy_file):
    split = RowSplit(0.2, seed=5, held_out=True)
    held = np.concatenate([split.mask(a, min(a + 700, 10_000)) for a in range(0, 10_000, 700)])
    np.testing.assert_array_equal(held, split.mask(0, 10_000))  # whatever the chunking
    np.testing.assert_array_equal(~held, RowSplit(0.2, 5, held_out=False).mask(0, 10_000))
    assert 1800 < held.sum() < 2200
    assert not np.array_equal(held, RowSplit(0.2, 6, True).mask(0, 10_000))
    _, result = fit(open_chunked(npy_file, chunk_rows=999), validation_split=0.2, early_stopping=2)
    assert len(result.history["val/loss"]) == 2
    val = open_chunked(npy_file, chunk_rows=3000)
    _, result = fit(np.load(npy_file)[:500], validation_data=val)
    assert np.isfinite(result.history["val/loss"]).all()


def test_robust_scaling_refuses_a_stream(npy_file):
    with pytest.raises(ValueError, match="preprocess='robust'.*streamed"):
        aelab.train(tiny(preprocess="robust"), open_chunked(npy_file), epochs=1)


# ---------------------------------------------------------------------------- inference
def test_inference_on_a_stream_equals_in_memory(npy_file, tmp_path):
    x = np.load(npy_file)
    model, _ = fit(x, epochs=1)
    for data in (open_chunked(npy_file, chunk_rows=333), np.load(npy_file, mmap_mode="r")):
        np.testing.assert_allclose(model.encode(data), model.encode(x), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(model.reconstruct(data), model.reconstruct(x), rtol=1e-5,
                                   atol=1e-5)
    out = map_to_npy(model.reconstruct, npy_file, tmp_path / "x_hat.npy", chunk_rows=4000)
    np.testing.assert_allclose(np.load(out), model.reconstruct(x), rtol=1e-5, atol=1e-5)
    conditional = aelab.create("vae", input_shape=7, latent_dim=2, hidden=(8,), n_classes=3, seed=0)
    y = np.arange(10_000) % 3
    np.testing.assert_allclose(conditional.reconstruct(open_chunked(npy_file, chunk_rows=999), y=y),
                               conditional.reconstruct(x, y=y), rtol=1e-5, atol=1e-5)


def test_estimators_score_a_stream_as_in_memory(npy_file):
    x = np.load(npy_file)[:600]
    np.save(npy_file.parent / "rows.npy", x)
    chunks = open_chunked(npy_file.parent / "rows.npy", chunk_rows=128)
    det = AutoencoderOutlierDetector(n_members=1, refits=0, epochs=2, random_state=0).fit(x)
    np.testing.assert_allclose(det.score_samples(chunks), det.score_samples(x), rtol=1e-5)
    np.testing.assert_array_equal(det.predict(chunks), det.predict(x))
    np.testing.assert_allclose(det.explain(chunks), det.explain(x), rtol=1e-4, atol=1e-7)
    tr = AutoencoderTransformer(latent_dim=2, epochs=2, random_state=0).fit(x)
    np.testing.assert_allclose(tr.transform(chunks), tr.transform(x), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- bad input
def test_bad_streams_raise_clear_errors(tmp_path):
    x = structured(n=300)
    np.save(tmp_path / "five.npy", x[:, :5])
    with pytest.raises(ValueError, match=r"X has 5 features.*expects \(7,\)"):
        tiny().encode(open_chunked(tmp_path / "five.npy"))
    bad = x.copy()
    bad[213, 4] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(ValueError, match=r"nan\.npy \(rows 200 to 299\) contains NaN"):
        aelab.train(tiny(), open_chunked(tmp_path / "nan.npy", chunk_rows=100), epochs=1)
    write_parquet(tmp_path / "t.parquet", x, 100, name=np.array(["a", "b", "c"] * 100))
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) \['name'\]"):
        open_chunked(tmp_path / "t.parquet")
    with pytest.raises(ValueError, match=r"no column\(s\) \['nope'\]"):
        open_chunked(tmp_path / "t.parquet", drop=["nope"])
    raw = (tmp_path / "five.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(raw[:-40])
    with pytest.raises(ValueError, match="truncated or damaged"):
        open_chunked(tmp_path / "cut.npy")
    chunks = NpyChunks(tmp_path / "five.npy", chunk_rows=100)
    (tmp_path / "five.npy").write_bytes(raw[:-40])  # truncated after it was opened
    with pytest.raises(ValueError, match="ends inside rows 200 to 299"):
        list(chunks)
    np.save(tmp_path / "f.npy", np.asfortranarray(x))
    with pytest.raises(ValueError, match="Fortran"):
        open_chunked(tmp_path / "f.npy")
    np.save(tmp_path / "o.npy", np.array([[object()]]), allow_pickle=True)
    with pytest.raises(ValueError, match="never unpickles"):
        open_chunked(tmp_path / "o.npy")
    (tmp_path / "t.csv").write_text("a\n1\n")
    with pytest.raises(ValueError, match="only .npy and .parquet"):
        open_chunked(tmp_path / "t.csv")
    with pytest.raises(TypeError, match="Data that fits in memory"):
        open_chunked([[1.0]])
    with pytest.raises(ValueError, match="chunk_rows"):
        NpyChunks(tmp_path / "nan.npy", chunk_rows=0)
    with pytest.raises(ValueError, match="holds out none"):
        fit(open_chunked(tmp_path / "nan.npy"), validation_split=1e-6)


# ---------------------------------------------------------------------------- memory
def peak_rss_growth(code: str, cwd: Path) -> dict:
    """Run ``code`` in a fresh interpreter: ``before()`` resets the peak RSS (VmHWM) to the
    current one and ``report()`` prints how far the peak rose since, in bytes. (Not
    ru_maxrss: a child's starts at its parent's RSS, carried over fork and exec.)"""
    prelude = textwrap.dedent("""
        import json, re
        marks = {}
        def status(key):
            text = open("/proc/self/status").read()
            return int(re.search(key + r":\\s+(\\d+) kB", text).group(1)) * 1024
        def before():
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM
            marks["start"] = status("VmRSS")
        def report(**extra):
            print(json.dumps({"growth": status("VmHWM") - marks["start"], **extra}))
    """)
    done = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc")
def test_memory_stays_bounded_by_the_chunks(tmp_path):
    """Encoding a 200 MB file in 2 MB chunks raises the peak RSS by a small fraction of the
    file, while one pass over a memory map of the same file raises it by the whole file (the
    pages it touches): why chunks are read with file reads."""
    n, d = 800_000, 64  # 200 MB of float32
    rng = np.random.default_rng(0)
    with open(tmp_path / "big.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False,
                                                 "shape": (n, d)})
        for _ in range(0, n, 100_000):
            f.write(rng.random((100_000, d), dtype=np.float32).tobytes())
    streamed = peak_rss_growth("""
        import numpy as np, torch, aelab
        torch.set_num_threads(1)
        model = aelab.create("ae", input_shape=64, latent_dim=2, hidden=(4,), seed=0)
        model.encode(np.zeros((8192, 64), np.float32))  # torch's kernels warmed up
        before()
        codes = model.encode(aelab.data.open_chunked("big.npy", chunk_rows=8192))
        report(rows=len(codes))
    """, tmp_path)
    mapped = peak_rss_growth("""
        import numpy as np
        before()
        np.load("big.npy", mmap_mode="r").sum(dtype=np.float64)
        report()
    """, tmp_path)
    assert streamed["rows"] == n
    assert streamed["growth"] < 0.15 * n * d * 4, streamed  # codes (6 MB) + a few 2 MB chunks
    assert mapped["growth"] > 0.8 * n * d * 4, mapped  # the control: a memmap pass costs the file


# ---------------------------------------------------------------------------- command line
def test_cli_streams_npy_and_parquet(tmp_path, capsys, monkeypatch):
    x = structured(n=2000)
    np.save(tmp_path / "x.npy", x)
    write_parquet(tmp_path / "x.parquet", x, 300, label=np.arange(2000) % 2)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--data", "x.npy", "--stream", "--chunk-rows", "333", "--epochs", "2",
                 "--latent-dim", "2", "--hidden", "8", "--out", "run"]) == 0
    metrics = json.loads(Path("run/metrics.json").read_text())
    assert metrics["split"] == "train (first 2,000 rows)" and metrics["n_examples"] == 2000
    model = aelab.load("run")
    for data, labels in (("x.npy", []), ("x.parquet", ["--label-column", "label"])):
        assert main(["encode", "run", "--data", data, *labels, "--chunk-rows",
                     "128", "--out", f"{data}.codes.npy"]) == 0
        np.testing.assert_allclose(np.load(f"{data}.codes.npy"), model.encode(x), rtol=1e-5,
                                   atol=1e-6)
    # an .npy file has no columns: --label-column is refused as `train --stream` refuses it
    assert main(["encode", "run", "--data", "x.npy", "--label-column", "label",
                 "--out", "none.npy"]) == 2
    assert not Path("none.npy").exists() and "names a column of a Parquet file" in \
        capsys.readouterr().err
    assert main(["detect", "fit", "--data", "x.parquet", "--drop", "label", "--out", "det",
                 "--epochs", "2", "--n-members", "1", "--refits", "0"]) == 0
    assert main(["detect", "score", "det", "--data", "x.parquet", "--drop", "label",
                 "--chunk-rows", "128", "--out", "scores.csv"]) == 0
    scores = pd.read_csv("scores.csv")
    det = AutoencoderOutlierDetector.load("det")
    table = pd.read_parquet("x.parquet").drop(columns=["label"])
    assert list(scores["row"]) == list(range(2000))
    np.testing.assert_allclose(scores["anomaly_score"], -det.score_samples(table), rtol=1e-6)
    assert scores["is_outlier"].sum() == (det.predict(table) == -1).sum()
    # a failure half-way (a column missing) leaves no scores file behind
    assert main(["detect", "score", "det", "--data", "x.parquet", "--drop", "nope",
                 "--out", "none.csv"]) == 2
    assert not Path("none.csv").exists() and "no column(s) ['nope']" in capsys.readouterr().err


# ---------------------------------------------------------------------------- Dask
def test_dask_scores_partitions_as_one_process(tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("dask.distributed")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(structured(n=400), columns=[f"f{j}" for j in range(7)])
    frame["color"] = rng.choice(["red", "green", "blue"], size=400)
    AutoencoderOutlierDetector(n_members=1, refits=0, epochs=2, random_state=0).fit(frame).save(
        tmp_path / "det")
    AutoencoderTransformer(latent_dim=2, epochs=2, random_state=0).fit(frame).save(tmp_path / "tr")
    score = PartitionScorer(tmp_path / "det")
    codes = PartitionScorer(tmp_path / "tr", method="transform")
    rows = dd.from_pandas(frame, npartitions=4)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        scores, features = client.compute([rows.map_partitions(score, meta=score.meta),
                                           rows.map_partitions(codes, meta=codes.meta)], sync=True)
        workers = client.run(os.getpid)
    assert len(workers) == 2 and os.getpid() not in workers.values()
    det = AutoencoderOutlierDetector.load(tmp_path / "det")
    pd.testing.assert_series_equal(scores, pd.Series(det.score_samples(frame), name="score_samples"))
    tr = AutoencoderTransformer.load(tmp_path / "tr")
    np.testing.assert_array_equal(features.to_numpy(), tr.transform(frame))
    assert list(features.columns) == list(tr.get_feature_names_out())
    with pytest.raises(ValueError, match="must name a method"):
        PartitionScorer(tmp_path / "tr", method="fit")
