"""The command line end to end on digits: train, evaluate, encode, list-models, demo."""

import json

import numpy as np
import pytest

import aelab
from aelab.cli import main
from aelab.report.demo import DEMO_MODELS, run_demo


def test_list_models(capsys):
    assert main(["list-models"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in aelab.list_models())


def test_train_evaluate_encode(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(["train", "--model", "sparse", "--penalty", "kl", "--rho", "0.1", "--data", "digits",
               "--latent-dim", "8", "--hidden", "32", "--epochs", "3", "--out", str(out)])
    assert rc == 0
    for name in ("config.json", "model.safetensors", "history.json", "metrics.json",
                 "figures/loss.png", "figures/reconstructions.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["code_size"] == 8 and metrics["pca"]["n_components"] == 8
    assert len(json.loads((out / "history.json").read_text())["history"]["train/sparsity"]) == 3
    model = aelab.load(out)
    assert model.get_config()["rho"] == 0.1
    capsys.readouterr()

    assert main(["evaluate", str(out), "--data", "digits", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sq_error_per_example"] == pytest.approx(metrics["sq_error_per_example"])
    assert len(report["mse_per_feature"]) == 64

    assert main(["encode", str(out), "--data", "digits", "--split", "test", "--out",
                 str(tmp_path / "codes.npy")]) == 0
    codes = np.load(tmp_path / "codes.npy")
    ds = aelab.data.load("digits")
    np.testing.assert_allclose(codes, model.encode(ds.X_test), rtol=1e-5)


def test_train_on_csv_and_resume(tmp_path):
    X = np.random.default_rng(0).normal(size=(120, 5)) * 4 + 10
    path = tmp_path / "t.csv"
    np.savetxt(path, X, delimiter=",", header="a,b,c,d,e", comments="")
    args = ["train", "--data", str(path), "--latent-dim", "2", "--epochs", "2", "--out",
            str(tmp_path / "r"), "--checkpoint-every", "1"]
    assert main(args) == 0
    assert main(args[:-4] + ["--epochs", "4", "--out", str(tmp_path / "r"), "--resume"]) == 0
    history = json.loads((tmp_path / "r" / "history.json").read_text())
    assert history["epochs_run"] == 4
    assert aelab.load(tmp_path / "r").scaler.fitted_kind == "standard"


def test_errors_exit_2(tmp_path, capsys):
    assert main(["train", "--model", "ae", "--penalty", "kl", "--data", "digits",
                 "--out", str(tmp_path / "x")]) == 2
    assert "--penalty does not apply to model 'ae'" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nothing"), "--data", "digits"]) == 2
    assert "config.json is missing" in capsys.readouterr().err


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "--sparsity-weight" in out and "sparse=0.001" in out and "(default: 50)" in out


def test_demo_writes_summary(tmp_path):
    rows = run_demo(tmp_path, epochs=2)
    assert [r["label"] for r in rows] == [label for label, _, _ in DEMO_MODELS]
    summary = (tmp_path / "summary.md").read_text()
    assert all(label in summary for label, _, _ in DEMO_MODELS)
    assert (tmp_path / "figures" / "reconstructions.png").is_file()
    assert (tmp_path / "figures" / "samples.png").is_file()
    page = (tmp_path / "report.html").read_text()
    assert all(label in page for label, _, _ in DEMO_MODELS)
    assert page.count("<img ") == 2 + len(DEMO_MODELS)  # reconstructions, samples, a loss each


def test_generative_train_evaluate_sample(tmp_path, capsys):
    out = tmp_path / "vae"
    assert main(["train", "--model", "vae", "--likelihood", "bernoulli", "--data", "digits",
                 "--latent-dim", "4", "--hidden", "16", "--epochs", "2", "--dynamic-binarization",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out), "--data", "digits", "--binarize", "--k", "20", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["nll"]["k"] == 20 and report["nll"]["binarized"] and report["nll"]["nats"] > 0
    assert main(["sample", str(out), "--n", "6", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").is_file()
    assert main(["sample", str(out), "--n", "6", "--seed", "3", "--out", str(tmp_path / "s.npy")]) == 0
    samples = np.load(tmp_path / "s.npy")
    np.testing.assert_allclose(samples, aelab.load(out).sample(6, seed=3), rtol=1e-6)

    cond = tmp_path / "cvae"
    assert main(["train", "--model", "vae", "--n-classes", "10", "--backbone", "conv", "--hidden",
                 "4", "--data", "digits", "--latent-dim", "3", "--epochs", "1", "--out", str(cond)]) == 0
    assert aelab.load(cond).input_shape == (1, 8, 8)
    assert main(["sample", str(cond), "--n", "4", "--label", "7", "--out", str(tmp_path / "c.npy")]) == 0
    assert np.load(tmp_path / "c.npy").shape == (4, 1, 8, 8)
    capsys.readouterr()
    assert main(["sample", str(cond), "--n", "4", "--out", str(tmp_path / "c.png")]) == 2
    assert "conditional" in capsys.readouterr().err
    assert main(["sample", str(tmp_path.parent / "nothing"), "--out", str(tmp_path / "x.png")]) == 2


def test_encode_a_conditional_model_reads_the_labels(tmp_path, capsys):
    """A conditional model's encoder reads the label: `aelab encode` passes the data set's
    (or --label-column's, streamed from Parquet) and says what is missing otherwise."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    out = tmp_path / "cvae"
    assert main(["train", "--model", "vae", "--n-classes", "10", "--data", "digits",
                 "--latent-dim", "4", "--hidden", "16", "--epochs", "1", "--out", str(out)]) == 0
    model, ds = aelab.load(out), aelab.data.load("digits")
    assert main(["encode", str(out), "--data", "digits", "--split", "test", "--out",
                 str(tmp_path / "codes.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "codes.npy"), model.encode(ds.X_test, y=ds.y_test),
                               rtol=1e-5, atol=1e-6)
    frame = pd.DataFrame(ds.X_test, columns=[f"p{i}" for i in range(64)]).assign(digit=ds.y_test)
    frame.to_parquet(tmp_path / "d.parquet", row_group_size=100)
    assert main(["encode", str(out), "--data", str(tmp_path / "d.parquet"), "--label-column",
                 "digit", "--chunk-rows", "64", "--out", str(tmp_path / "streamed.npy")]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "streamed.npy"), np.load(tmp_path / "codes.npy"),
                               rtol=1e-5, atol=1e-6)
    np.save(tmp_path / "x.npy", ds.X_test)
    capsys.readouterr()
    assert main(["encode", str(out), "--data", str(tmp_path / "x.npy"), "--out",
                 str(tmp_path / "n.npy")]) == 2
    assert "conditional" in capsys.readouterr().err and not (tmp_path / "n.npy").exists()
