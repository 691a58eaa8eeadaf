"""Run a function on N ranks with pyspark's TorchDistributor, and check that every rank finished.

TorchDistributor in local mode judges success by an output file that rank 0 writes: a rank that
crashed was seen to pass unnoticed. So every rank writes its own result file and the driver
requires all of them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lakeforge.images.config import DistributionSpec


class RankFailure(RuntimeError):
    """One or more ranks did not finish their part of a distributed run."""


@dataclass(frozen=True)
class RankDevice:
    """Where one rank computes: its own CUDA device under nccl, or the CPU under gloo."""

    backend: str  # "nccl" | "gloo"
    device: str  # "cuda:<index>" | "cpu"

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")


def ranks_on_driver(spec: DistributionSpec, spark_conf: Mapping[str, str]) -> bool:
    """TorchDistributor's local_mode: as configured, or (auto) on the driver only under a local master,
    so the same config trains on the workers when submitted to a cluster."""
    if spec.local_mode == "auto":
        return spark_conf.get("spark.master", "local").startswith("local")
    return spec.local_mode


def gpu_amount_key(local_mode: bool) -> str:
    """The Spark setting through which GPUs reach TorchDistributor's ranks (what it checks itself)."""
    return "spark.driver.resource.gpu.amount" if local_mode else "spark.task.resource.gpu.amount"


def gpus_assigned(spec: DistributionSpec, spark_conf: Mapping[str, str]) -> bool:
    """Whether the ranks get GPUs. Only Spark assigns them (a GPU merely present on the driver is not
    the ranks'): auto follows the resource amount, yes requires it, no ignores it."""
    key = gpu_amount_key(ranks_on_driver(spec, spark_conf))
    configured = float(spark_conf.get(key, "0")) > 0
    if spec.use_gpu == "yes" and not configured:
        raise ValueError(f"use_gpu: yes, but {key} is {spark_conf.get(key, 'not set')}: set it (and the GPU discovery "
                         "script) on the cluster, or use use_gpu: auto to train on CPU where no GPU is assigned")
    return configured and spec.use_gpu != "no"


def rank_device(gpus: bool, visible_cuda_devices: int, local_rank: int) -> RankDevice:
    """The rank's device: with GPUs assigned, the local_rank-th of those CUDA shows this process
    (TorchDistributor sets CUDA_VISIBLE_DEVICES to the task's own), else the CPU."""
    if not gpus:
        return RankDevice("gloo", "cpu")
    if visible_cuda_devices == 0:
        raise RuntimeError("GPUs were assigned to this rank but CUDA sees none (CUDA_VISIBLE_DEVICES="
                           f"{os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}): check the nodes' drivers and torch's CUDA build")
    return RankDevice("nccl", f"cuda:{local_rank % visible_cuda_devices}")


def this_rank_device(gpus: bool) -> RankDevice:
    return rank_device(gpus, torch.cuda.device_count() if gpus else 0, int(os.environ.get("LOCAL_RANK", "0")))


def current_device() -> torch.device:
    """The device _on_rank chose for the calling rank: its CUDA device under nccl, else the CPU."""
    import torch.distributed as dist

    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def _on_rank(fn: Callable[..., dict], results_dir: str, threads: int, gpus: bool, *args: Any) -> dict:
    import torch.distributed as dist

    torch.set_num_threads(threads)
    placement = this_rank_device(gpus)
    if placement.is_cuda:
        torch.cuda.set_device(placement.device)  # before the process group, so nccl binds this rank's GPU
    dist.init_process_group(placement.backend)
    try:
        result = fn(dist.get_rank(), dist.get_world_size(), *args)
        Path(results_dir, f"rank-{dist.get_rank()}.json").write_text(json.dumps(result))
        return result
    finally:
        dist.destroy_process_group()


def run_on_ranks(fn: Callable[..., dict], spec: DistributionSpec, results_dir: str | Path, *args: Any) -> list[dict]:
    """fn(rank, world_size, *args) -> JSON-able dict on every rank; returns the results by rank. Each rank
    computes on this_rank_device(gpus_assigned(...)), which fn looks up the same way."""
    from pyspark.ml.torch.distributor import TorchDistributor
    from pyspark.sql import SparkSession

    results_dir = Path(results_dir)
    shutil.rmtree(results_dir, ignore_errors=True)
    results_dir.mkdir(parents=True)
    spark_conf = dict(SparkSession.active().sparkContext.getConf().getAll())
    gpus = gpus_assigned(spec, spark_conf)
    distributor = TorchDistributor(num_processes=spec.num_processes, local_mode=ranks_on_driver(spec, spark_conf), use_gpu=gpus)
    os.environ.setdefault("OMP_NUM_THREADS", str(spec.threads_per_process))
    distributor.run(_on_rank, fn, str(results_dir), spec.threads_per_process, gpus, *args)
    files = [results_dir / f"rank-{rank}.json" for rank in range(spec.num_processes)]
    missing = [file.stem for file in files if not file.is_file()]
    if missing:
        raise RankFailure(f"{len(missing)} of {spec.num_processes} ranks did not finish ({', '.join(missing)}); see their logs above")
    return [json.loads(file.read_text()) for file in files]
