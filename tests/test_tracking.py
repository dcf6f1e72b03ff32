"""Experiment tracking: what MLflow's store and TensorBoard's event files hold after a run,
read back with their own readers, against the trainer's history and the saved files."""

import json
from pathlib import Path

import pytest

import aelab
from aelab.cli import main
from aelab.training.tracking import TRACKERS, MLflowTracker, TensorBoardTracker, run_params

mlflow = pytest.importorskip("mlflow", reason="needs the track extra")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator",
                                        reason="needs the track extra")
hparams_metadata = pytest.importorskip("tensorboard.plugins.hparams.metadata")

# the digits CLI runs: one quick epoch of a small model
CLI = ["train", "--data", "digits", "--latent-dim", "4", "--hidden", "16", "--epochs", "1"]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """One MLflow store for the module: creating its database takes seconds."""
    return tmp_path_factory.mktemp("mlflow")


def client(store: Path):
    return mlflow.MlflowClient(f"sqlite:///{(store / 'mlflow.db').as_posix()}")


def trained_with(tracker, x, tmp_path):
    """Train a tiny model for 3 epochs under ``tracker``, save it, log a final metric and the
    saved model; the model and the result."""
    model = aelab.create("ae", input_shape=12, latent_dim=2, hidden=(8,), seed=0)
    with tracker:
        result = aelab.train(model, x, epochs=3, batch_size=50, validation_split=0.25,
                             callback=tracker)
        model.save(tmp_path / "model")
        tracker.log_metrics({"test": {"sq_error": 1.5}, "epochs_run": result.epochs_run})
        tracker.log_artifacts(tmp_path / "model")
    return model, result


def test_mlflow_run_holds_params_every_epoch_final_metrics_and_the_model(tiny_data, tmp_path, store,
                                                                        monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root would be ./mlruns
    tracker = MLflowTracker(store, experiment="tests", run_name="tiny")
    model, result = trained_with(tracker, tiny_data[0], tmp_path)
    assert list(tmp_path.iterdir()) == [tmp_path / "model"]

    run = client(store).get_run(tracker.run_id)
    assert run.info.run_name == "tiny" and run.info.status == "FINISHED"
    params = run.data.params
    assert params["model"] == "ae" and params["model.latent_dim"] == "2"
    assert params["model.hidden"] == "[8]" and params["model.input_shape"] == "[12]"
    assert params["train.epochs"] == "3" and params["train.validation_split"] == "0.25"
    assert {f"model.{key}" for key in model.get_config()} <= set(params)
    assert {"train/recon", "train/loss", "val/recon", "val/loss", "lr"} <= set(result.history)
    for key, values in result.history.items():
        logged = client(store).get_metric_history(tracker.run_id, key)
        assert [m.step for m in logged] == [1, 2, 3], key
        assert [m.value for m in logged] == pytest.approx(values, rel=1e-12), key
    final = client(store).get_metric_history(tracker.run_id, "test/sq_error")
    assert [(m.step, m.value) for m in final] == [(3, 1.5)]
    assert run.data.metrics["epochs_run"] == 3

    artifacts = client(store).list_artifacts(tracker.run_id, "model")
    assert {a.path for a in artifacts} == {"model/config.json", "model/model.safetensors"}
    copy = client(store).download_artifacts(tracker.run_id, "model", str(tmp_path / "copy"))
    assert aelab.load(copy).get_config() == model.get_config()
    assert (store / "artifacts").is_dir()  # beside the database, not in the working directory


def test_mlflow_run_failing_parameters_and_names(store):
    with pytest.raises(RuntimeError, match="boom"), MLflowTracker(store, run_name="f") as tracker:
        tracker.log_params({"lr": 0.1, "sizes": (3, 2)})
        tracker.log_params({"lr": 0.1})  # the same value again: nothing to do
        with pytest.raises(ValueError, match="parameter 'lr' = 0.1; a run's parameters cannot change"):
            tracker.log_params({"lr": 0.2})
        raise RuntimeError("boom")
    run = client(store).get_run(tracker.run_id)
    assert run.info.status == "FAILED" and run.data.params == {"lr": "0.1", "sizes": "[3, 2]"}
    with pytest.raises(ValueError, match="MLflow metric names may hold"):
        MLflowTracker(store).log_metrics({"loss;1": 1.0})
    with pytest.raises(ValueError, match="directory .* or a tracking_uri, not both"):
        MLflowTracker(store, tracking_uri="sqlite:///x.db")


def test_tensorboard_events_hold_params_every_epoch_final_metrics_and_the_model_path(tiny_data,
                                                                                   tmp_path):
    tracker = TensorBoardTracker(tmp_path / "tb", run_name="tiny")
    model, result = trained_with(tracker, tiny_data[0], tmp_path)
    events = event_accumulator.EventAccumulator(str(tmp_path / "tb" / "tiny"))
    events.Reload()

    assert {"train/recon", "train/loss", "val/recon", "val/loss", "lr"} <= set(result.history)
    for key, values in result.history.items():
        logged = events.Scalars(key)
        assert [e.step for e in logged] == [1, 2, 3], key
        assert [e.value for e in logged] == pytest.approx(values, rel=1e-6), key  # float32
    assert [(e.step, e.value) for e in events.Scalars("test/sq_error")] == [(3, 1.5)]

    start = events.PluginTagToContent("hparams")[hparams_metadata.SESSION_START_INFO_TAG]
    hparams = hparams_metadata.parse_session_start_info_plugin_data(start).hparams
    settings = {"epochs": 3, "validation_split": 0.25}
    assert {k for k in run_params(model, settings) if k.startswith("model")} <= set(hparams)
    assert hparams["model"].string_value == "ae" and hparams["model.latent_dim"].number_value == 2
    assert hparams["model.hidden"].string_value == "[8]"
    assert hparams["train.epochs"].number_value == 3 and hparams["train.batch_size"].number_value == 50

    text = events.Tensors("artifacts/model/text_summary")[0].tensor_proto.string_val[0].decode()
    assert text == f"`{(tmp_path / 'model').resolve()}`: `config.json`, `model.safetensors`"
    with pytest.raises(TypeError, match="metric 'split' must be a real number; got str"):
        tracker.log_metrics({"split": "test"})


def test_cli_train_logs_to_tensorboard_in_out(tmp_path):
    out = tmp_path / "run"
    assert main(CLI + ["--out", str(out), "--log", "tensorboard"]) == 0
    events = event_accumulator.EventAccumulator(str(out / "tensorboard" / "run"))
    events.Reload()
    history = json.loads((out / "history.json").read_text())["history"]
    for key, values in history.items():
        assert [e.value for e in events.Scalars(key)] == pytest.approx(values, rel=1e-6), key
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("sq_error_per_example", "pca/sq_error_per_example", "epochs_run"):
        scalar = metrics["pca"][key[4:]] if key.startswith("pca/") else metrics[key]
        assert events.Scalars(key)[0].value == pytest.approx(scalar, rel=1e-6), key
    text = events.Tensors("artifacts/model/text_summary")[0].tensor_proto.string_val[0].decode()
    saved = text.split(": ", 1)[1]  # the files logged: not the checkpoints, lock or events
    assert saved == "`config.json`, `figures/`, `history.json`, `metrics.json`, `model.safetensors`"


def test_cli_train_logs_to_an_mlflow_store(tmp_path, store):
    out = tmp_path / "digits-ae"
    assert main(CLI + ["--out", str(out), "--log", "mlflow", "--log-dir", str(store)]) == 0
    experiment = client(store).get_experiment_by_name("aelab")
    (run,) = client(store).search_runs([experiment.experiment_id],
                                       filter_string="attributes.run_name = 'digits-ae'")
    assert run.data.params["model.hidden"] == "[16]" and run.data.params["train.epochs"] == "1"
    metrics = json.loads((out / "metrics.json").read_text())
    assert run.data.metrics["sq_error_per_example"] == metrics["sq_error_per_example"]
    assert run.data.metrics["pca/sq_error_per_example"] == metrics["pca"]["sq_error_per_example"]
    assert "mse_per_feature" not in run.data.metrics and "split" not in run.data.metrics
    artifacts = {a.path for a in client(store).list_artifacts(run.info.run_id, "model")}
    assert {"model/config.json", "model/model.safetensors", "model/metrics.json"} <= artifacts
    assert "model/checkpoints" not in artifacts


def test_cli_tracking_options_need_their_tracker(tmp_path, capsys):
    assert main(CLI + ["--out", str(tmp_path / "a"), "--log-dir", str(tmp_path / "l")]) == 2
    assert "Tracking options (--log-dir) need --log (mlflow or tensorboard)" in capsys.readouterr().err
    assert main(CLI + ["--out", str(tmp_path / "b"), "--log", "tensorboard", "--tracking-uri",
                       "http://localhost:5000"]) == 2
    assert "--tracking-uri does not apply to --log tensorboard" in capsys.readouterr().err
    assert main(CLI + ["--out", str(tmp_path / "c"), "--log", "tensorboard", "--log-dir",
                       str(tmp_path / "c")]) == 2
    assert "--log-dir must be a folder of its own" in capsys.readouterr().err
    assert sorted(TRACKERS) == ["mlflow", "tensorboard"]
