"""Which backend and device each rank uses: GPUs only where Spark assigns them, gloo on CPU; the
selection runs on CPU here, the same code picks nccl and the rank's own CUDA device on GPU nodes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lakeforge.images.config import DistributionSpec
from lakeforge.images.distributed import RankDevice, current_device, gpus_assigned, rank_device, ranks_on_driver, run_on_ranks
from lakeforge.images.fit import autocast

TASK_GPU, DRIVER_GPU = "spark.task.resource.gpu.amount", "spark.driver.resource.gpu.amount"


@pytest.mark.parametrize(
    ("use_gpu", "local_mode", "conf", "expected"),
    [
        ("auto", False, {}, False),  # no GPU scheduled to tasks: CPU, even if the node has one
        ("auto", False, {TASK_GPU: "1"}, True),
        ("auto", True, {TASK_GPU: "1"}, False),  # local mode's ranks get the driver's GPUs, not the tasks'
        ("auto", True, {DRIVER_GPU: "2"}, True),
        ("no", False, {TASK_GPU: "1"}, False),
        ("yes", False, {TASK_GPU: "0.5"}, True),
    ],
)
def test_gpus_are_used_only_where_spark_assigns_them(use_gpu, local_mode, conf, expected):
    spec = DistributionSpec(num_processes=2, local_mode=local_mode, use_gpu=use_gpu)
    assert gpus_assigned(spec, conf) is expected


@pytest.mark.parametrize(
    ("local_mode", "master", "expected"),
    [("auto", "local[2]", True), ("auto", "spark://127.0.0.1:7077", False), ("auto", "yarn", False),
     (True, "spark://127.0.0.1:7077", True), (False, "local[*]", False)],
)
def test_ranks_run_on_the_driver_under_a_local_master_unless_configured(local_mode, master, expected):
    assert ranks_on_driver(DistributionSpec(local_mode=local_mode), {"spark.master": master}) is expected


def test_auto_takes_the_gpus_spark_assigns_where_the_ranks_run():
    cluster = {"spark.master": "spark://127.0.0.1:7077", TASK_GPU: "1"}
    assert gpus_assigned(DistributionSpec(), cluster) is True
    assert gpus_assigned(DistributionSpec(), {**cluster, "spark.master": "local[2]"}) is False


def test_use_gpu_yes_without_gpus_assigned_names_the_setting():
    with pytest.raises(ValueError, match="spark.task.resource.gpu.amount is not set"):
        gpus_assigned(DistributionSpec(local_mode=False, use_gpu="yes"), {})


def test_each_rank_takes_its_own_cuda_device_under_nccl():
    assert [rank_device(True, 2, local_rank) for local_rank in (0, 1)] == [RankDevice("nccl", "cuda:0"), RankDevice("nccl", "cuda:1")]
    # One GPU per task (CUDA_VISIBLE_DEVICES holds just the task's): every rank's device 0 is its own GPU.
    assert rank_device(True, 1, 0).device == "cuda:0"
    assert (rank_device(False, 4, 1).backend, rank_device(False, 4, 1).device) == ("gloo", "cpu")


def test_assigned_gpus_that_cuda_cannot_see_are_an_error():
    with pytest.raises(RuntimeError, match="CUDA sees none"):
        rank_device(True, 0, 0)


def test_mixed_precision_autocasts_to_bfloat16_on_cpu():
    layer, batch = nn.Linear(4, 2), torch.ones(3, 4)
    with autocast(torch.device("cpu"), enabled=True):
        assert layer(batch).dtype == torch.bfloat16
    with autocast(torch.device("cpu"), enabled=False):
        assert layer(batch).dtype == torch.float32


def test_ranks_without_assigned_gpus_train_on_cpu_under_gloo(spark, tmp_path):
    def report_device(rank: int, world: int) -> dict:  # nested: shipped to the ranks by value
        import torch.distributed as dist

        return {"device": str(current_device()), "backend": dist.get_backend()}

    ranks = run_on_ranks(report_device, DistributionSpec(num_processes=2, use_gpu="auto"), tmp_path / "ranks")
    assert ranks == [{"device": "cpu", "backend": "gloo"}] * 2
