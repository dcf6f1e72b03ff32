"""Experiment tracking: trainer callbacks that record a run in MLflow or TensorBoard.

A tracker records one run. When training begins: the model's registered name and config
and the trainer's settings, as parameters (``model``, ``model.<key>``, ``train.<key>``).
After every epoch: each value the trainer logs (``train/<term>``, ``val/<term>``, ``lr``,
``epoch_time_s``), with the epoch as the step. When asked: final metrics
(:meth:`Tracker.log_metrics`) and a directory of files such as the saved model
(:meth:`Tracker.log_artifacts`). Both trackers need the ``track`` extra
(``pip install 'aelab[track]'``); ``aelab train --log mlflow|tensorboard`` uses them.

MLflow 3 refuses its old file store (``./mlruns``) unless an environment variable opts
back in, so a local MLflow run is kept in a SQLite database, MLflow's own default store.
"""

from __future__ import annotations

import json
import numbers
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path

from aelab.core.optional import require
from aelab.core.validation import check_number
from aelab.core.version import __version__
from aelab.training.callbacks import Callback

# The characters MLflow accepts in parameter and metric names ('train/recon' is one).
_MLFLOW_NAME = re.compile(r"[\w./\- :]+")
# MLflow's limits per call of log_batch.
_MLFLOW_PARAMS_PER_CALL, _MLFLOW_METRICS_PER_CALL = 100, 1000


def flatten(mapping: Mapping, prefix: str = "", sep: str = ".") -> dict:
    """Nested mappings as one level, keys joined by ``sep``.

    >>> flatten({"lr": 0.1, "pca": {"n_components": 2}}, prefix="run.")
    {'run.lr': 0.1, 'run.pca.n_components': 2}
    """
    flat = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, name + sep, sep))
        else:
            flat[name] = value
    return flat


def run_params(model, settings: Mapping) -> dict:
    """The parameters of a training run: ``model`` (the registered name), ``model.<key>``
    (its config, :meth:`get_config`) and ``train.<key>`` (the trainer's settings).

    >>> import aelab
    >>> params = run_params(aelab.create("ae", input_shape=12, latent_dim=2), {"lr": 0.01})
    >>> params["model"], params["model.latent_dim"], params["train.lr"]
    ('ae', 2, 0.01)
    """
    return {"model": getattr(model, "name", type(model).__name__),
            **flatten(model.get_config(), "model."), **flatten(settings, "train.")}


def _param_value(value) -> bool | int | float | str:
    """Numbers and strings as they are; anything else (tuples, lists, None) as JSON, as in
    the saved ``config.json``."""
    if isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, default=str)


def _metric_value(key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"The metric {key!r} must be a real number; got {type(value).__name__} "
                        f"{value!r}. Log strings and other settings with log_params instead.")
    return float(value)


class Tracker(Callback, ABC):
    """What the trackers share: the three trainer hooks, parameters, metrics, artifacts.

    A tracker is one run: it starts with the first thing it logs (with a trainer, when
    training begins: only rank 0 calls callbacks under ``torchrun``, so only it starts a
    run) and ends with :meth:`close` or the end of a ``with`` block, which marks the run
    failed if the block raised. Parameters cannot change within a run: a second value for
    a logged parameter raises ValueError. Subclasses write parameters, scalars and
    artifacts to their backend (``_write_params``, ``_write_scalars``,
    ``_write_artifacts``, ``_flush``, ``_finish``).
    """

    def __init__(self):
        self._params: dict = {}  # everything logged so far, as written
        self._step = 0  # the last epoch logged: the step of final metrics
        self._closed = False

    # ------------------------------------------------------------------ trainer hooks
    def on_train_begin(self, model, settings: dict) -> None:
        self.log_params(run_params(model, settings))

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self._step = epoch
        self._write_scalars({k: _metric_value(k, v) for k, v in logs.items()}, epoch)

    def on_train_end(self, result) -> None:
        self._flush()

    # ------------------------------------------------------------------ public
    def log_params(self, params: Mapping) -> None:
        """Log parameters (nested mappings flattened with ``.``); a value that is not a number
        or a string is logged as JSON. Logging a parameter again with the same value is a
        no-op; with another value, a ValueError."""
        if not isinstance(params, Mapping):
            raise TypeError(f"log_params takes a dict of parameters; got {type(params).__name__}.")
        params = {k: _param_value(v) for k, v in flatten(params).items()}
        for key, value in params.items():
            if key in self._params and self._params[key] != value:
                raise ValueError(
                    f"This run already has the parameter {key!r} = {self._params[key]!r}; a run's "
                    f"parameters cannot change (got {value!r}). Use a new tracker for a new run."
                )
        new = {k: v for k, v in params.items() if k not in self._params}
        if new:
            self._write_params(new)
            self._params.update(new)

    def log_metrics(self, metrics: Mapping, step: int | None = None) -> None:
        """Log metrics, e.g. final evaluation results (nested mappings flattened with ``/``).

        Parameters
        ----------
        metrics : dict of str to real number
        step : int, optional
            Default: the last epoch logged (0 before any).
        """
        if not isinstance(metrics, Mapping):
            raise TypeError(f"log_metrics takes a dict of metrics; got {type(metrics).__name__}.")
        values = {k: _metric_value(k, v) for k, v in flatten(metrics, sep="/").items()}
        step = self._step if step is None else check_number(step, "step", "log_metrics", kind=int,
                                                                low=0)
        self._write_scalars(values, step)

    def log_artifacts(self, directory, name: str = "model", exclude=()) -> None:
        """Log the files of ``directory`` (with its subdirectories) under ``name``.

        Parameters
        ----------
        directory : path
            E.g. the directory written by ``model.save()``.
        name : str, default="model"
            Where the files go in the run.
        exclude : iterable of str, default=()
            Names of entries directly in ``directory`` to leave out.
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise ValueError(f"log_artifacts needs a directory; {str(directory)!r} is not one. Pass "
                             "the directory written by model.save() or `aelab train --out`.")
        exclude = set(exclude)
        entries = [p for p in sorted(directory.iterdir()) if p.name not in exclude]
        self._write_artifacts(directory, entries, name)

    def close(self) -> None:
        """End the run (later calls do nothing)."""
        self._end(failed=False)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._end(failed=exc_type is not None)

    def _end(self, failed: bool) -> None:
        if not self._closed:
            self._closed = True
            self._finish(failed)

    # ------------------------------------------------------------------ backends
    @abstractmethod
    def _write_params(self, new: dict) -> None:
        """Write the parameters ``new``, none of them logged before in this run (those are
        in ``self._params``)."""

    @abstractmethod
    def _write_scalars(self, values: dict[str, float], step: int) -> None:
        """Write ``values`` at ``step``."""

    @abstractmethod
    def _write_artifacts(self, directory: Path, entries: list[Path], name: str) -> None:
        """Record ``entries`` (files and folders of ``directory``) under ``name``."""

    def _flush(self) -> None:
        """Make what was logged readable by others (nothing to do where writes are immediate)."""

    @abstractmethod
    def _finish(self, failed: bool) -> None:
        """End the run; ``failed`` when the ``with`` block raised."""


class MLflowTracker(Tracker):
    """Record a training run in MLflow: parameters, per-epoch metrics, final metrics and
    the saved model as artifacts.

    Parameters
    ----------
    directory : path, optional
        A local store: the SQLite database ``directory/mlflow.db`` and the artifacts under
        ``directory/artifacts`` (browse it with full MLflow:
        ``mlflow ui --backend-store-uri sqlite:///DIRECTORY/mlflow.db``).
    tracking_uri : str, optional
        Instead of ``directory``: any MLflow tracking URI (a server ``http://...``, a
        database); the artifacts go where that store puts them. With neither, MLflow's
        default (``$MLFLOW_TRACKING_URI``, else ``./mlflow.db``).
    experiment : str, default="aelab"
        The experiment the run belongs to (created if missing).
    run_name : str, optional
        Default: a name MLflow makes up.

    Attributes
    ----------
    run_id : str or None
        The MLflow run, once something was logged.

    Examples
    --------
    >>> import aelab, numpy as np, tempfile
    >>> from aelab.training.tracking import MLflowTracker
    >>> x = np.random.default_rng(0).random((64, 12)).astype(np.float32)
    >>> model = aelab.create("ae", input_shape=12, latent_dim=2, seed=0)
    >>> with tempfile.TemporaryDirectory() as d, MLflowTracker(d, run_name="demo") as tracker:
    ...     result = aelab.train(model, x, epochs=2, callback=tracker)
    ...     model.save(f"{d}/model")
    ...     tracker.log_metrics({"final_loss": result.history["train/loss"][-1]})
    ...     tracker.log_artifacts(f"{d}/model")
    """

    def __init__(self, directory=None, *, tracking_uri: str | None = None,
                 experiment: str = "aelab", run_name: str | None = None):
        super().__init__()
        what = "MLflowTracker (aelab train --log mlflow)"
        self._mlflow = require("mlflow", "track", what)
        if directory is not None and tracking_uri is not None:
            raise ValueError(f"MLflowTracker takes a directory (a local store) or a tracking_uri, "
                             f"not both; got directory={str(directory)!r} and "
                             f"tracking_uri={tracking_uri!r}.")
        if directory is not None:  # the SQLite store's own dependencies, named by the extra
            require("sqlalchemy", "track", what)
            require("alembic", "track", what)
        if not isinstance(experiment, str) or not experiment:
            raise TypeError(f"MLflowTracker's experiment must be a non-empty string; got {experiment!r}.")
        self.directory = None if directory is None else Path(directory)
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.run_name = run_name
        self.run_id: str | None = None
        self._client = None

    def _run(self) -> str:
        """The run's id, starting the run on first use."""
        if self.run_id is not None:
            return self.run_id
        uri, artifacts = self.tracking_uri, None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            root = self.directory.resolve()
            uri = f"sqlite:///{(root / 'mlflow.db').as_posix()}"
            artifacts = (root / "artifacts").as_uri()  # else MLflow puts them in ./mlruns
        self._client = self._mlflow.MlflowClient(tracking_uri=uri)
        found = self._client.get_experiment_by_name(self.experiment)
        if found is None:
            experiment_id = self._client.create_experiment(self.experiment, artifact_location=artifacts)
        elif found.lifecycle_stage == "deleted":
            raise ValueError(f"The MLflow experiment {self.experiment!r} is deleted; restore it "
                             "(mlflow experiments restore) or pass another experiment name.")
        else:
            experiment_id = found.experiment_id
        run = self._client.create_run(experiment_id, run_name=self.run_name,
                                      tags={"aelab.version": __version__})
        self.run_id = run.info.run_id
        return self.run_id

    def _check_names(self, names, what: str) -> None:
        for name in names:
            if not _MLFLOW_NAME.fullmatch(name):
                raise ValueError(f"MLflow {what} names may hold letters, digits and '_-. :/' only; "
                                 f"got {name!r}. Rename it.")

    def _write_params(self, new: dict) -> None:
        self._check_names(new, "parameter")
        run, items = self._run(), list(new.items())
        Param = self._mlflow.entities.Param
        for i in range(0, len(items), _MLFLOW_PARAMS_PER_CALL):
            self._client.log_batch(run, params=[Param(k, str(v)) for k, v in
                                                items[i:i + _MLFLOW_PARAMS_PER_CALL]])

    def _write_scalars(self, values: dict[str, float], step: int) -> None:
        self._check_names(values, "metric")
        run, items = self._run(), list(values.items())
        Metric, now = self._mlflow.entities.Metric, int(time.time() * 1000)
        for i in range(0, len(items), _MLFLOW_METRICS_PER_CALL):
            self._client.log_batch(run, metrics=[Metric(k, v, now, step) for k, v in
                                                 items[i:i + _MLFLOW_METRICS_PER_CALL]])

    def _write_artifacts(self, directory: Path, entries: list[Path], name: str) -> None:
        run = self._run()
        for path in entries:
            if path.is_dir():
                self._client.log_artifacts(run, str(path), f"{name}/{path.name}")
            else:
                self._client.log_artifact(run, str(path), name)

    def _finish(self, failed: bool) -> None:
        if self.run_id is not None:
            self._client.set_terminated(self.run_id, "FAILED" if failed else "FINISHED")


class TensorBoardTracker(Tracker):
    """Record a training run as TensorBoard event files: parameters in the HParams
    dashboard, per-epoch values and final metrics as scalars.

    TensorBoard has no artifact store: :meth:`log_artifacts` records the directory's
    absolute path and its file names as text (the Text dashboard); the files stay where
    they are.

    Parameters
    ----------
    directory : path
        Where the event files go (``tensorboard --logdir DIRECTORY`` shows them).
    run_name : str, optional
        A subdirectory of ``directory`` for this run, so that runs logged to one
        directory appear side by side. Default: ``directory`` itself.

    Attributes
    ----------
    log_dir : Path
        The directory of this run's event files.

    Examples
    --------
    >>> import aelab, numpy as np, tempfile
    >>> from aelab.training.tracking import TensorBoardTracker
    >>> x = np.random.default_rng(0).random((64, 12)).astype(np.float32)
    >>> model = aelab.create("ae", input_shape=12, latent_dim=2, seed=0)
    >>> with tempfile.TemporaryDirectory() as d, TensorBoardTracker(d, run_name="ae") as tracker:
    ...     result = aelab.train(model, x, epochs=2, callback=tracker)
    """

    def __init__(self, directory, *, run_name: str | None = None):
        super().__init__()
        what = "TensorBoardTracker (aelab train --log tensorboard)"
        require("tensorboard", "track", what)  # torch.utils.tensorboard's own dependency
        self._summary_writer = require("torch.utils.tensorboard", "track", what).SummaryWriter
        self._hparams = require("tensorboard.plugins.hparams.summary_v2", "track", what)
        self.directory = Path(directory)
        self.run_name = run_name
        self.log_dir = self.directory if run_name is None else self.directory / run_name
        self._writer = None

    def _open(self):
        """The event writer, created on first use (so that an unused tracker writes nothing)."""
        if self._writer is None:
            self._writer = self._summary_writer(log_dir=str(self.log_dir))
        return self._writer

    def _write_params(self, new: dict) -> None:
        # The HParams dashboard reads one session start per run, so it holds every parameter
        # so far; the metrics it shows are the run's scalars.
        self._open().file_writer.add_summary(self._hparams.hparams_pb({**self._params, **new}))

    def _write_scalars(self, values: dict[str, float], step: int) -> None:
        writer = self._open()
        for key, value in values.items():
            writer.add_scalar(key, value, step)

    def _write_artifacts(self, directory: Path, entries: list[Path], name: str) -> None:
        files = ", ".join(f"`{p.name}/`" if p.is_dir() else f"`{p.name}`" for p in entries)
        self._open().add_text(f"artifacts/{name}", f"`{directory.resolve()}`: {files}", self._step)

    def _flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def _finish(self, failed: bool) -> None:
        if self._writer is not None:
            self._writer.close()


# The trackers by the name `aelab train --log` takes.
TRACKERS: dict[str, type[Tracker]] = {
    "mlflow": MLflowTracker,
    "tensorboard": TensorBoardTracker,
}
