"""Data-parallel training across processes, with PyTorch's own engine.

Launched by ``torchrun`` (which sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and the
rendezvous), :func:`aelab.train` joins the process group — gloo on CPU, nccl on CUDA —
and trains with :class:`torch.nn.parallel.DistributedDataParallel`:

- ``batch_size`` is the *global* batch. Every rank walks the same seeded permutation of
  the data and takes its contiguous slice of each global batch, so N processes take the
  same steps as one process with the same ``batch_size`` (up to float rounding, and the
  model's own noise, which each rank draws from its own seed).
- Each rank's loss is weighted by its share of the batch (``n_rank * N / n``), so the
  gradient DDP averages is exactly the gradient of the global batch's mean loss, also
  for a last batch that does not split evenly.
- Logged values and the validation loss are summed over ranks, so early stopping takes
  the same decision everywhere. Only rank 0 writes checkpoints, logs and calls
  callbacks; a checkpoint keeps every rank's RNG, so resuming with the same number of
  ranks continues identically.
"""

from __future__ import annotations

import atexit
import os
import time
from collections.abc import Callable

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from aelab.models.contract import Phase


def launched() -> bool:
    """Whether this process is one of several started by ``torchrun`` (or already in a group)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size() > 1
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def rank() -> int:
    """This process's rank (0 when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0"))


def is_main_process() -> bool:
    """True on rank 0 and in an ordinary single process: the one that should write files.

    Examples
    --------
    >>> from aelab.training import is_main_process
    >>> is_main_process()
    True
    """
    return rank() == 0


def local_device(device: torch.device) -> torch.device:
    """Under torchrun, a CUDA device means this rank's GPU (``cuda:LOCAL_RANK``)."""
    if device.type == "cuda" and launched():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if local >= torch.cuda.device_count():
            raise ValueError(f"LOCAL_RANK={local} but this node has {torch.cuda.device_count()} "
                             "GPU(s): start at most one process per GPU (torchrun --nproc-per-node).")
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return device


class Group:
    """This process's place in the data-parallel group, and the collectives the trainer uses."""

    def __init__(self, device: torch.device):
        if not dist.is_initialized():
            missing = [k for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
                       if k not in os.environ]
            if missing:
                raise ValueError(f"WORLD_SIZE > 1 but {missing} are not set: start the job with "
                                 "torchrun (e.g. torchrun --nproc-per-node 2 -m aelab train ...).")
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                    device_id=device if device.type == "cuda" else None)
            atexit.register(_destroy)
        self.rank, self.size = dist.get_rank(), dist.get_world_size()
        self.device = device
        # gloo reduces CPU tensors, nccl CUDA tensors.
        self.comm_device = device if dist.get_backend() == "nccl" else torch.device("cpu")

    # ---------------------------------------------------------------- batches
    def shard(self, n: int) -> tuple[int, int, float] | None:
        """This rank's rows ``[lo, hi)`` of a global batch of ``n`` and its loss weight, or
        None for a batch too small to give every rank a row (skipped by all ranks alike)."""
        if n < self.size:
            return None
        lo, hi = self.rank * n // self.size, (self.rank + 1) * n // self.size
        return lo, hi, (hi - lo) * self.size / n

    # ---------------------------------------------------------------- collectives
    def sum(self, sums: dict[str, float], total: int,
            monitored: set[str]) -> tuple[dict[str, float], int, set[str]]:
        """Per-term sums, the example count and the monitored terms, over all ranks.

        A rank may have seen fewer terms than another (no validation batch fell to it), so
        the names are gathered first and a term a rank lacks counts 0 there.
        """
        names: list = [None] * self.size
        dist.all_gather_object(names, (sorted(sums), sorted(monitored)))
        keys = sorted(set().union(*(k for k, _ in names)))
        t = torch.tensor([sums.get(k, 0.0) for k in keys] + [total], dtype=torch.float64,
                         device=self.comm_device)
        dist.all_reduce(t)
        values = t.tolist()
        return (dict(zip(keys, values[:-1])), int(values[-1]),
                set().union(*(set(m) for _, m in names)))

    def all_true(self, flag: bool) -> bool:
        """Whether ``flag`` holds on every rank (e.g. every rank's loss is finite)."""
        t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=self.comm_device)
        dist.all_reduce(t, op=dist.ReduceOp.MIN)
        return bool(t.item())

    def broadcast_state(self, module: nn.Module) -> None:
        """Make every rank's parameters and buffers equal rank 0's (e.g. after each rank
        fitted the input scaling, or a k-means initialisation that used its own RNG)."""
        for t in module.state_dict().values():
            buf = t.detach().to(self.comm_device)
            dist.broadcast(buf, src=0)
            t.detach().copy_(buf)

    def gather(self, t: Tensor) -> list[Tensor]:
        """Every rank's copy of ``t`` (same shape and dtype on every rank), on the CPU."""
        local = t.to(self.comm_device)
        out = [torch.empty_like(local) for _ in range(self.size)]
        dist.all_gather(out, local)
        return [o.cpu() for o in out]

    def barrier(self) -> None:
        dist.barrier()

    # ---------------------------------------------------------------- DDP
    def wrap(self, phase: Phase) -> Callable[..., dict[str, Tensor]]:
        """The phase's ``loss_terms`` run through DistributedDataParallel over the phase's
        parameters, so its backward pass averages their gradients across ranks.

        One DDP per phase: a multi-player model (an adversarial autoencoder) steps each
        player on its own terms, and a DDP reducer only reduces in the backward pass of
        its own forward call.
        """
        module = _PhaseModule(phase)
        ids = [self.device.index] if self.device.type == "cuda" else None
        # Every parameter of a phase gets a gradient from its terms (the model contract,
        # tested for every registered model), so DDP need not search for unused ones.
        return DistributedDataParallel(module, device_ids=ids)


class _PhaseModule(nn.Module):
    """A phase as a module: its parameters registered, its loss terms as forward."""

    def __init__(self, phase: Phase):
        super().__init__()
        self.params = nn.ParameterList(phase.parameters)
        self.loss_terms = phase.loss_terms

    def forward(self, x: Tensor, y: Tensor | None) -> dict[str, Tensor]:
        return self.loss_terms(x, y)


_DRAIN_S = 0.25


def _destroy() -> None:
    """Leave the group at exit, together, and let gloo's worker threads finish first.

    A gloo worker thread frees each finished collective (and the tensors it holds, which
    Python created, so freeing them takes the GIL) a moment *after* the waiting thread was
    told it completed. If the interpreter is already finalizing then, the worker cannot take
    the GIL and the process aborts in C++ ("terminate called without an active exception",
    SIGABRT) after a run that succeeded. ``destroy_process_group`` does not join the workers
    (DistributedDataParallel keeps the group alive), and PyTorch offers no call that does, so
    every rank meets at a barrier (no rank tears down while rank 0 still writes), leaves the
    group, then sleeps briefly with the GIL released so the workers can drop what they hold.
    """
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
        time.sleep(_DRAIN_S)
