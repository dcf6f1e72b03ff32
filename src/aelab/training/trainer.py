"""The one trainer: every aelab model is fitted by :func:`train`.

A model tells the trainer what is special about it through the small contract
:class:`aelab.models.Trainable`: its optimisation phases (:class:`aelab.models.Phase`),
each with named loss terms, and what to fit before the first epoch. The trainer never
asks a model its name.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from functools import partial

import torch
from torch import Tensor

from aelab.core.io import directory_lock
from aelab.core.optional import require
from aelab.core.seeding import seeded
from aelab.core.validation import check_choice, check_number
from aelab.models.contract import Trainable
from aelab.training.callbacks import Callback, as_callbacks
from aelab.training.checkpoint import (
    CHECKPOINT_FILE,
    optimizer_from_flat,
    optimizer_to_flat,
    read_checkpoint,
    write_checkpoint,
)
from aelab.training.data import batch_source, resolve_device, split_validation
from aelab.training.distributed import Group, launched, local_device

logger = logging.getLogger("aelab")

def _fused(cls: type[torch.optim.Optimizer]) -> Callable[..., torch.optim.Optimizer]:
    """``cls`` with torch's fused kernel where the parameters' device has one (CPU, CUDA):
    one kernel per tensor instead of a dozen small ones per step. Same update rule."""

    def make(params, **kwargs):
        params = list(params)
        fused = bool(params) and all(p.device.type in ("cpu", "cuda") for p in params)
        return cls(params, fused=fused or None, **kwargs)

    return make


OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "adam": _fused(torch.optim.Adam),
    "adamw": _fused(torch.optim.AdamW),
    "sgd": partial(torch.optim.SGD, momentum=0.9),
    "rmsprop": torch.optim.RMSprop,
}


# How each optimizer takes a phase's ``momentum`` (see :class:`aelab.models.Phase`): the
# first-moment decay, Adam's β1 (an adversarial phase's 0.5, after Radford et al. 2016).
MOMENTUM: dict[str, Callable[[float], dict]] = {
    "adam": lambda m: {"betas": (m, 0.999)},
    "adamw": lambda m: {"betas": (m, 0.999)},
    "sgd": lambda m: {"momentum": m},
    "rmsprop": lambda m: {"momentum": m},
}


def _constant(epoch: int, epochs: int) -> float:
    return 1.0


def _cosine(epoch: int, epochs: int) -> float:
    return 0.5 * (1.0 + math.cos(math.pi * epoch / max(epochs, 1)))


def _step(epoch: int, epochs: int) -> float:
    """Divide by 10 at 50% and 75% of the epochs."""
    return 0.1 ** ((epoch >= epochs // 2) + (epoch >= (3 * epochs) // 4))


# Learning-rate multiplier for an epoch, a pure function of (epoch, epochs) so that
# resuming needs no scheduler state.
LR_SCHEDULES: dict[str, Callable[[int, int], float]] = {
    "constant": _constant,
    "cosine": _cosine,
    "step": _step,
}

# Numeric precision of the forward pass: the autocast dtype (None: plain float32).
PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16}


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes
    ----------
    model : Trainable
        The trained model (the best epoch's weights when early stopping restored them).
    history : dict of str to list of float
        One value per epoch for each key: ``train/<term>``, ``train/loss``,
        ``val/<term>``, ``val/loss`` (with validation data), ``lr``, ``epoch_time_s``;
        no ``train/loss`` or ``val/loss`` for a model whose phases are all adversarial.
    epochs_run : int
        Epochs completed, counting those before a resume.
    best_epoch : int or None
        1-based epoch of the lowest ``val/loss`` (None without validation data).
    stopped_early : bool
    train_time_s : float
        Wall time of this call's epochs (validation included).
    samples_per_s : float
        Training examples processed per second in this call (validation excluded).
    """

    model: torch.nn.Module
    history: dict[str, list[float]] = field(default_factory=dict)
    epochs_run: int = 0
    best_epoch: int | None = None
    stopped_early: bool = False
    train_time_s: float = 0.0
    samples_per_s: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready summary (everything but the model)."""
        return {
            "history": self.history,
            "epochs_run": self.epochs_run,
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "train_time_s": self.train_time_s,
            "samples_per_s": self.samples_per_s,
        }


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite."""


def train(
    model: Trainable,
    data,
    y=None,
    *,
    epochs: int = 20,
    batch_size: int = 128,
    lr: float = 1e-3,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    lr_schedule: str = "constant",
    validation_data=None,
    validation_split: float = 0.0,
    early_stopping: int | None = None,
    grad_clip: float | None = None,
    seed: int = 0,
    device: str = "auto",
    checkpoint_dir=None,
    checkpoint_every: int = 1,
    resume: bool = False,
    progress: bool = False,
    callback: Callable[[int, dict], None] | Callback | list | None = None,
    batch_transform: Callable[[Tensor], Tensor] | None = None,
    precision: str = "fp32",
    compile: bool = False,
) -> TrainResult:
    """Fit ``model`` on ``data`` with mini-batch gradient descent.

    Parameters
    ----------
    model : Trainable
        Any registered model (see :func:`aelab.list_models`) or a classifier: anything
        that satisfies :class:`aelab.models.Trainable`.
    data : array-like, torch.Tensor, torch.utils.data.DataLoader or chunked array
        Training examples ``(n, *input_shape)`` or ``(n, n_features)``. A DataLoader
        yields tensors or ``(x, y)`` pairs and is used as is (its own batching). Data
        larger than memory, a chunked array (``aelab.data.open_chunked("x.npy")`` or a
        ``.parquet`` file) or an ``np.memmap``, is streamed: read chunk by chunk in a
        seeded random order, rows shuffled within windows of a few chunks, the next
        chunk read while these train (see :class:`aelab.training.data.StreamSource`);
        the input scaling is fitted in one pass over it.
    y : array-like, optional
        Labels, passed to models that use them (conditional models, classifiers).
    epochs : int, default=20
        Total epochs; with ``resume=True``, training continues up to this many.
    batch_size : int, default=128
    lr : float, default=1e-3
    optimizer : {"adam", "adamw", "sgd", "rmsprop"}, default="adam"
        One optimizer per phase of the model.
    weight_decay : float, default=0.0
    lr_schedule : {"constant", "cosine", "step"}, default="constant"
        Per-epoch multiplier of ``lr``.
    validation_data : array-like, DataLoader or chunked array, optional
        Held-out data; overrides ``validation_split``.
    validation_split : float in [0, 1), default=0.0
        Fraction of array ``data`` held out (seeded) for validation. Of streamed data,
        each row is held out with this probability (a seeded hash of its index, so
        nothing per row is kept in memory), and validation reads the file again each
        epoch: a separate ``validation_data`` file reads less.
    early_stopping : int, optional
        Stop after this many epochs without a lower ``val/loss`` and restore the best
        weights. Needs validation data.
    grad_clip : float, optional
        Clip each phase's gradient norm to this value.
    seed : int, default=0
        Seeds shuffling, the validation split and the model's noise (corruption,
        sampling). The caller's global RNG state is left as it was.
    device : {"auto", "cpu", "cuda", "mps"} or "cuda:N", default="auto"
    checkpoint_dir : path, optional
        Write ``checkpoint.safetensors`` here every ``checkpoint_every`` epochs and at
        the end (atomically).
    checkpoint_every : int, default=1
    resume : bool, default=False
        Continue from the checkpoint in ``checkpoint_dir`` (weights, optimizer, RNG,
        history), if there is one.
    progress : bool, default=False
        Show a progress bar on stderr (needs tqdm: ``pip install 'aelab[progress]'``).
    callback : callable(epoch, logs), Callback or list of them, optional
        A function is called after each epoch with the epoch (1-based) and that epoch's
        values; an :class:`aelab.training.Callback` (e.g. the experiment trackers of
        :mod:`aelab.training.tracking`) also sees the start and the end of training.
    batch_transform : callable(Tensor) -> Tensor, optional
        Applied to every training batch, on the device, before the model sees it: a
        fresh draw each time (e.g. :func:`aelab.data.dynamic_binarize`). It draws from
        the trainer's seeded RNG, so runs stay reproducible. Validation data is not
        transformed.

    precision : {"fp32", "bf16"}, default="fp32"
        ``"bf16"`` runs each phase's forward pass under ``torch.autocast`` with bfloat16
        (mixed precision: weights, optimizer state and the backward's accumulation stay
        float32). Its speed depends on the hardware's bfloat16 support: GPUs with bf16
        tensor cores, and CPUs with AVX-512 BF16/AMX (``benchmarks/gpu.py`` measures it).
    compile : bool, default=False
        Run each phase's loss through ``torch.compile`` (the first epoch pays the
        compilation; see ``benchmarks/compile.py`` for what it buys).

    Under ``torchrun`` the training is data-parallel over the ranks
    (:mod:`aelab.training.distributed`): ``batch_size`` is the global batch, and only
    rank 0 writes checkpoints and calls ``callback``.

    Returns
    -------
    TrainResult

    Raises
    ------
    NonFiniteLossError
        If a loss becomes NaN or infinite; the message names the epoch and step and
        the last good checkpoint is kept.

    Examples
    --------
    >>> import aelab
    >>> ds = aelab.data.load("digits")
    >>> model = aelab.create("ae", input_shape=64, latent_dim=8, seed=0)
    >>> result = aelab.train(model, ds.X_train, epochs=2)
    >>> sorted(result.history)[:2]
    ['epoch_time_s', 'lr']
    """
    owner = "train"
    epochs = check_number(epochs, "epochs", owner, kind=int, low=1)
    batch_size = check_number(batch_size, "batch_size", owner, kind=int, low=1)
    lr = check_number(lr, "lr", owner, low=0.0, low_inclusive=False)
    weight_decay = check_number(weight_decay, "weight_decay", owner, low=0.0)
    validation_split = check_number(validation_split, "validation_split", owner, low=0.0,
                                    high=1.0, high_inclusive=False)
    early_stopping = check_number(early_stopping, "early_stopping", owner, kind=int, low=1,
                                  allow_none=True)
    grad_clip = check_number(grad_clip, "grad_clip", owner, low=0.0, low_inclusive=False,
                             allow_none=True)
    seed = check_number(seed, "seed", owner, kind=int, low=0)
    checkpoint_every = check_number(checkpoint_every, "checkpoint_every", owner, kind=int, low=1)
    make_optimizer = OPTIMIZERS[check_choice(optimizer, OPTIMIZERS, "optimizer", owner)]
    autocast_dtype = PRECISIONS[check_choice(precision, PRECISIONS, "precision", owner)]
    if not isinstance(compile, bool):
        raise TypeError(f"The 'compile' parameter of train must be a bool; got {compile!r}.")
    schedule = LR_SCHEDULES[check_choice(lr_schedule, LR_SCHEDULES, "lr_schedule", owner)]
    if batch_transform is not None and not callable(batch_transform):
        raise TypeError(f"batch_transform must be a callable Tensor -> Tensor; got {batch_transform!r}.")
    callbacks = as_callbacks(callback)
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs checkpoint_dir: the directory to resume from.")
    if not isinstance(model, Trainable):
        raise TypeError(f"train needs an aelab model (see aelab.list_models()); got "
                        f"{type(model).__name__}, which lacks the methods of aelab.models.Trainable.")
    dev = resolve_device(device)
    group = None
    if launched():  # started by torchrun: data-parallel over the ranks
        dev = local_device(dev)
        group = Group(dev)
    main = group is None or group.rank == 0

    model.to(dev)
    train_data, val_data = split_validation(model, data, y, validation_data, validation_split,
                                            seed, dev)
    if early_stopping is not None and val_data is None:
        raise ValueError(
            "early_stopping needs validation data: pass validation_data=... or "
            "validation_split=0.1 (for example)."
        )
    source = batch_source(train_data, batch_size, dev, seed, model)
    val_source = None if val_data is None else batch_source(val_data, 4 * batch_size, dev, None, model)

    # One writer per checkpoint directory: a second process fails at once, with a clear error.
    lock = (directory_lock(checkpoint_dir, "training") if checkpoint_dir is not None and main
            else nullcontext())
    settings = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "optimizer": optimizer,
                "weight_decay": weight_decay, "lr_schedule": lr_schedule,
                "validation_split": validation_split, "early_stopping": early_stopping,
                "grad_clip": grad_clip, "seed": seed, "device": str(dev), "resume": resume,
                "precision": precision, "compile": compile,
                "world_size": 1 if group is None else group.size}
    callbacks = callbacks if main else []  # under torchrun, rank 0 reports
    with lock, seeded(seed, dev):
        make_optimizer = partial(_phase_optimizer, make_optimizer, MOMENTUM[optimizer])
        fit = _Fit(model, source, val_source, epochs, lr, weight_decay, make_optimizer,
                   schedule, early_stopping, grad_clip, checkpoint_dir, checkpoint_every,
                   resume, progress and main, callbacks, dev, batch_transform, group, seed,
                   autocast_dtype, compile)
        for cb in callbacks:
            cb.on_train_begin(model, settings)
        result = fit.run()
        for cb in callbacks:
            cb.on_train_end(result)
        return result


def _phase_optimizer(make, momentum, phase, **kwargs) -> torch.optim.Optimizer:
    """The optimizer of one phase: ``make`` on its parameters, with its own momentum if set."""
    extra = {} if phase.momentum is None else momentum(phase.momentum)
    return make(phase.parameters, **kwargs, **extra)


def _rank_seed(seed: int, rank: int) -> int:
    """Seed of a rank's own RNG stream (noise draws) under data-parallel training."""
    return (seed * 1_000_003 + rank) % (2**63)


def _epoch_logs(split: str, sums: dict[str, float], total: int, monitored: set[str]) -> dict:
    """Per-example means of every term, and ``<split>/loss``: the sum of the monitored ones
    (absent when no phase is monitored, e.g. a GAN's: there is no loss to report)."""
    logs = {f"{split}/{k}": v / total for k, v in sums.items()}
    if monitored:
        logs[f"{split}/loss"] = sum(sums[k] for k in monitored) / total
    return logs


class _Fit:
    """State of one call to :func:`train` (kept out of the public signature)."""

    def __init__(self, model, source, val_source, epochs, lr, weight_decay, make_optimizer,
                 schedule, early_stopping, grad_clip, checkpoint_dir, checkpoint_every, resume,
                 progress, callbacks, dev, batch_transform=None, group: Group | None = None,
                 seed: int = 0, autocast_dtype: torch.dtype | None = None, compile: bool = False):
        self.model, self.source, self.val_source = model, source, val_source
        self.epochs, self.lr, self.schedule = epochs, lr, schedule
        self.early_stopping, self.grad_clip = early_stopping, grad_clip
        self.checkpoint_dir, self.checkpoint_every = checkpoint_dir, checkpoint_every
        self.progress, self.callbacks, self.dev = progress, callbacks, dev
        self.batch_transform = batch_transform
        self.group, self.seed, self.autocast_dtype = group, seed, autocast_dtype
        self.main = group is None or group.rank == 0
        self.phases = model.training_phases()
        if early_stopping is not None and not any(ph.monitor for ph in self.phases):
            raise ValueError(
                f"early_stopping watches val/loss, but every training phase of this "
                f"{type(model).__name__} is adversarial (monitor=False), so it has none. Train "
                "for a fixed number of epochs (early_stopping=None) and judge the samples."
            )
        self.optimizers = [
            make_optimizer(ph, lr=lr * ph.lr_scale, weight_decay=weight_decay)
            for ph in self.phases
        ]
        self.history: dict[str, list[float]] = {}
        self.start_epoch = 0
        self.best_loss, self.best_epoch, self.bad_epochs = math.inf, None, 0
        self.best_state: dict[str, Tensor] | None = None
        restored = resume and self._restore()
        if not restored:
            model.prepare_training(source.inputs)
        # What each phase runs per batch: its loss terms, compiled if asked, through DDP
        # when distributed.
        phases = self.phases
        if compile:
            phases = [replace(ph, loss_terms=torch.compile(ph.loss_terms, dynamic=False)) for ph in phases]
        self.steps = [ph.loss_terms for ph in phases]
        if group is not None:
            group.broadcast_state(model)  # every rank starts from rank 0's weights
            if not restored:  # each rank draws its own noise (corruption, sampling)
                torch.manual_seed(_rank_seed(seed, group.rank))
            self.steps = [group.wrap(ph) for ph in phases]
        # A user's DataLoader shards itself (DistributedSampler); arrays and streams are
        # walked in the same order on every rank, each taking its slice of every batch.
        self.shard = group is not None and not getattr(source, "shards_itself", False)

    # ------------------------------------------------------------------ loop
    def run(self) -> TrainResult:
        model = self.model
        t0, step_time, seen = time.perf_counter(), 0.0, 0
        stopped = False
        bar = None
        if self.progress:
            tqdm = require("tqdm.auto", "progress", "progress=True").tqdm
            bar = tqdm(total=self.epochs, initial=self.start_epoch, unit="epoch", leave=False)
        epoch = self.start_epoch
        try:
            for epoch in range(self.start_epoch, self.epochs):
                e0 = time.perf_counter()
                factor = self.schedule(epoch, self.epochs)
                for ph, opt in zip(self.phases, self.optimizers):
                    for group in opt.param_groups:
                        group["lr"] = self.lr * ph.lr_scale * factor
                model.train()
                model.on_epoch_start(epoch)
                logs = self._train_epoch(epoch)
                seen += self.source.n_examples
                step_time += time.perf_counter() - e0
                if self.val_source is not None:
                    logs.update(self._evaluate())
                logs["lr"] = self.lr * factor
                logs["epoch_time_s"] = time.perf_counter() - e0
                for key, value in logs.items():
                    self.history.setdefault(key, []).append(value)
                stop = self._early_stopping(epoch, logs)
                done = epoch + 1
                if self.checkpoint_dir is not None and (
                    done % self.checkpoint_every == 0 or done == self.epochs or stop
                ):
                    self._save(done)
                if self.main:
                    logger.info("epoch %d/%d %s", done, self.epochs,
                                " ".join(f"{k}={v:.4g}" for k, v in logs.items()))
                for cb in self.callbacks:
                    cb.on_epoch_end(done, logs)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if "loss" in k})
                if stop:
                    stopped = True
                    break
        finally:
            if bar is not None:
                bar.close()
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
        model.eval()
        wall = time.perf_counter() - t0
        return TrainResult(
            model=model,
            history=self.history,
            epochs_run=len(self.history.get("lr", [])),
            best_epoch=self.best_epoch,
            stopped_early=stopped,
            train_time_s=wall,
            samples_per_s=seen / step_time if step_time > 0 else 0.0,
        )

    def _train_epoch(self, epoch: int) -> dict[str, float]:
        sums: dict[str, Tensor] = {}
        monitored: set[str] = set()
        total = 0
        for step, (x, y) in enumerate(self.source.batches(epoch)):
            weight = 1.0
            if self.shard:
                part = self.group.shard(x.shape[0])
                if part is None:  # fewer rows than ranks: every rank skips it
                    continue
                lo, hi, weight = part
                x, y = x[lo:hi], (None if y is None else y[lo:hi])
            n = x.shape[0]
            if self.batch_transform is not None:
                x = self.batch_transform(x)
            for ph, run, opt in zip(self.phases, self.steps, self.optimizers):
                with self._autocast():
                    terms = run(x, y)
                loss = sum(terms.values())
                finite = bool(torch.isfinite(loss))
                if self.group is not None:  # one rank's NaN stops every rank
                    finite = self.group.all_true(finite)
                if not finite:
                    self._non_finite(epoch, step, ph.name, terms)
                opt.zero_grad(set_to_none=True)
                # The weight makes DDP's mean of the ranks' gradients the global batch's.
                (loss * weight if weight != 1.0 else loss).backward()
                if self.grad_clip is not None:
                    torch.nn.utils.clip_grad_norm_(ph.parameters, self.grad_clip)
                opt.step()
                for key, value in terms.items():
                    sums[key] = sums.get(key, 0.0) + value.detach() * n
                if ph.monitor:
                    monitored.update(terms)
            total += n
        return _epoch_logs("train", *self._summed({k: float(v) for k, v in sums.items()}, total,
                                                  monitored))

    def _autocast(self):
        if self.autocast_dtype is None:
            return nullcontext()
        return torch.autocast(self.dev.type, dtype=self.autocast_dtype)

    def _evaluate(self) -> dict[str, float]:
        self.model.eval()
        sums: dict[str, float] = {}
        monitored: set[str] = set()
        total = 0
        sharded = self.group is not None and not getattr(self.val_source, "shards_itself", False)
        with torch.no_grad():
            for i, (x, y) in enumerate(self.val_source.batches(None)):
                if sharded and i % self.group.size != self.group.rank:
                    continue  # another rank's batch
                n = x.shape[0]
                for ph in self.phases:
                    with self._autocast():
                        terms = ph.loss_terms(x, y)
                    for key, value in terms.items():
                        sums[key] = sums.get(key, 0.0) + float(value) * n
                    if ph.monitor:
                        monitored.update(terms)
                total += n
        return _epoch_logs("val", *self._summed(sums, total, monitored))

    def _summed(self, sums: dict[str, float], total: int, monitored: set[str]):
        """The sums, the example count and the monitored terms over all ranks (as they
        are, in one process)."""
        if self.group is None:
            return sums, total, monitored
        return self.group.sum(sums, total, monitored)

    def _early_stopping(self, epoch: int, logs: dict) -> bool:
        if "val/loss" not in logs:
            return False
        if logs["val/loss"] < self.best_loss:
            self.best_loss, self.best_epoch, self.bad_epochs = logs["val/loss"], epoch + 1, 0
            if self.early_stopping is not None:
                self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            return False
        self.bad_epochs += 1
        return self.early_stopping is not None and self.bad_epochs >= self.early_stopping

    def _non_finite(self, epoch, step, phase, terms):
        bad = {k: float(v.detach()) for k, v in terms.items()}
        where = ""
        if self.checkpoint_dir is not None:
            where = f" The last good checkpoint is kept in {self.checkpoint_dir}."
        raise NonFiniteLossError(
            f"The loss became non-finite at epoch {epoch + 1}, step {step + 1} "
            f"(phase {phase!r}; terms {bad}).{where} Lower the learning rate, set grad_clip, "
            "or check the data scaling."
        )

    # ------------------------------------------------------------------ checkpoints
    def _save(self, done: int) -> None:
        rng = {"rng/torch": torch.get_rng_state()}
        if self.dev.type == "cuda":
            rng["rng/cuda"] = torch.cuda.get_rng_state(self.dev)
        if self.group is not None:  # every rank's noise stream, written by rank 0
            for key, state in list(rng.items()):
                for r, t in enumerate(self.group.gather(state)):
                    rng[_rank_key(key, r)] = t
            if self.group.rank != 0:
                return
        tensors = {f"model/{k}": v for k, v in self.model.state_dict().items()}
        optim_meta = {}
        for ph, opt in zip(self.phases, self.optimizers):
            t, m = optimizer_to_flat(opt, f"optim/{ph.name}")
            tensors.update(t)
            optim_meta[ph.name] = m
        if self.best_state is not None:
            tensors.update({f"best/{k}": v for k, v in self.best_state.items()})
        tensors.update(rng)
        tensors["rng/shuffle"] = self.source.rng_state()
        meta = {
            "epoch": done,
            "model": self.model.name,
            "config": self.model.get_config(),
            "history": self.history,
            "best_loss": None if math.isinf(self.best_loss) else self.best_loss,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "optimizers": optim_meta,
            "world_size": 1 if self.group is None else self.group.size,
        }
        write_checkpoint(self.checkpoint_dir, tensors, meta)

    def _restore(self) -> bool:
        # Rank 0 reads first (it may set a damaged file aside); the others then read.
        if self.group is not None and self.group.rank != 0:
            self.group.barrier()
        found = read_checkpoint(self.checkpoint_dir)
        if self.group is not None and self.group.rank == 0:
            self.group.barrier()
        if found is None:
            logger.info("no %s in %s: starting from scratch", CHECKPOINT_FILE, self.checkpoint_dir)
            return False
        tensors, meta = found
        if (meta["model"] != self.model.name
                or type(self.model).completed_config(meta["config"]) != self.model.get_config()):
            raise ValueError(
                f"The checkpoint in {self.checkpoint_dir} is for model {meta['model']!r} with "
                f"config {meta['config']}, not this {self.model.name!r} model "
                f"({self.model.get_config()}). Build the same model or use another checkpoint_dir."
            )
        model_state = {k[6:]: v for k, v in tensors.items() if k.startswith("model/")}
        try:
            self.model.load_state_dict(model_state)
        except RuntimeError as err:
            raise ValueError(
                f"The checkpoint in {self.checkpoint_dir} does not fit this model ({err}); it was "
                "written by another aelab version. Delete it to start afresh."
            ) from None
        for ph, opt in zip(self.phases, self.optimizers):
            optimizer_from_flat(opt, tensors, meta["optimizers"][ph.name], f"optim/{ph.name}")
        best = {k[5:]: v.to(self.dev) for k, v in tensors.items() if k.startswith("best/")}
        self.best_state = best or None
        r = 0 if self.group is None else self.group.rank
        if _rank_key("rng/torch", r) in tensors:
            torch.set_rng_state(tensors[_rank_key("rng/torch", r)])
        else:  # written by fewer ranks than now run: this rank starts a fresh noise stream
            logger.warning("the checkpoint in %s holds no RNG state for rank %d (written by %d "
                           "rank(s)): its noise draws start afresh", self.checkpoint_dir, r,
                           meta.get("world_size", 1))
            torch.manual_seed(_rank_seed(self.seed, r))
        self.source.set_rng_state(tensors["rng/shuffle"])
        if _rank_key("rng/cuda", r) in tensors and self.dev.type == "cuda":
            torch.cuda.set_rng_state(tensors[_rank_key("rng/cuda", r)], self.dev)
        self.history = meta["history"]
        self.start_epoch = meta["epoch"]
        self.best_loss = math.inf if meta["best_loss"] is None else meta["best_loss"]
        self.best_epoch, self.bad_epochs = meta["best_epoch"], meta["bad_epochs"]
        logger.info("resumed from %s at epoch %d", self.checkpoint_dir, self.start_epoch)
        return True


def _rank_key(key: str, rank: int) -> str:
    """Checkpoint key of a rank's RNG state (rank 0 keeps the single-process key)."""
    return key if rank == 0 else f"{key}/rank{rank}"
