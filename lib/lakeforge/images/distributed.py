"""Run a function on N ranks with pyspark's TorchDistributor, and check that every rank finished.

TorchDistributor in local mode judges success by an output file that rank 0 writes: a rank that
crashed was seen to pass unnoticed. So every rank writes its own result file and the driver
requires all of them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from lakeforge.images.config import DistributionSpec


class RankFailure(RuntimeError):
    """One or more ranks did not finish their part of a distributed run."""


def use_gpu(spec: DistributionSpec) -> bool:
    return spec.use_gpu == "yes" or (spec.use_gpu == "auto" and torch.cuda.is_available())


def _on_rank(fn: Callable[..., dict], results_dir: str, threads: int, *args: Any) -> dict:
    import torch.distributed as dist

    torch.set_num_threads(threads)
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    try:
        result = fn(dist.get_rank(), dist.get_world_size(), *args)
        Path(results_dir, f"rank-{dist.get_rank()}.json").write_text(json.dumps(result))
        return result
    finally:
        dist.destroy_process_group()


def run_on_ranks(fn: Callable[..., dict], spec: DistributionSpec, results_dir: str | Path, *args: Any) -> list[dict]:
    """fn(rank, world_size, *args) -> JSON-able dict on every rank; returns the results by rank."""
    from pyspark.ml.torch.distributor import TorchDistributor

    results_dir = Path(results_dir)
    shutil.rmtree(results_dir, ignore_errors=True)
    results_dir.mkdir(parents=True)
    distributor = TorchDistributor(num_processes=spec.num_processes, local_mode=spec.local_mode, use_gpu=use_gpu(spec))
    os.environ.setdefault("OMP_NUM_THREADS", str(spec.threads_per_process))
    distributor.run(_on_rank, fn, str(results_dir), spec.threads_per_process, *args)
    files = [results_dir / f"rank-{rank}.json" for rank in range(spec.num_processes)]
    missing = [file.stem for file in files if not file.is_file()]
    if missing:
        raise RankFailure(f"{len(missing)} of {spec.num_processes} ranks did not finish ({', '.join(missing)}); see their logs above")
    return [json.loads(file.read_text()) for file in files]
