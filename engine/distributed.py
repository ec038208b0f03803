"""Training on several processes (``torchrun --nproc_per_node N -m engine.train …``): the
process group, the model wrapped in DistributedDataParallel, and the few collectives the trainer
needs. In a single process every helper is a no-op, so ``Trainer`` reads the same either way.

gloo on CPU, NCCL on CUDA; rank 0 alone writes files and reports (``Dist.main``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist


@dataclass
class Dist:
    """Where this process stands: its rank among ``world`` processes, its GPU (local rank)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """The module to train: DistributedDataParallel over ``model`` when there are several
        processes (gradients averaged across them), else ``model`` itself."""
        if not self.enabled:
            return model
        ids = [device.index] if device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def gather(self, value: Any) -> list[Any]:
        """Every process's ``value``, in rank order (one process: ``[value]``)."""
        if not self.enabled:
            return [value]
        found: list[Any] = [None] * self.world
        dist.all_gather_object(found, value)
        return found

    def largest(self, value: int) -> int:
        """The largest ``value`` of all processes: every rank stops when one of them must."""
        if not self.enabled:
            return value
        flag = torch.tensor([value], dtype=torch.int64)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return int(flag.item())

    def wait_for_all(self) -> None:
        """Leave together: a rank that tears its process group down while rank 0 is still
        writing samples was seen to abort ("terminate called without an active exception")."""
        if self.enabled:
            dist.barrier()


def start(device_name: str) -> Dist:
    """Join the process group torchrun set up (WORLD_SIZE, RANK, LOCAL_RANK in the
    environment); a plain ``python -m engine.train`` is one process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    use_cuda = device_name in ("auto", "cuda") and torch.cuda.is_available()
    dist.init_process_group("nccl" if use_cuda else "gloo")
    info = Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    if use_cuda:
        torch.cuda.set_device(info.local_rank)
    return info


def stop(info: Dist) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
