"""The training loop each rank runs: phases of DDP training with early stopping on validation loss."""

from __future__ import annotations

import copy
import hashlib
import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from lakeforge.images.distributed import current_device
from lakeforge.images.loader import BatchSource
from lakeforge.images.model import build_model, freeze_norm_stats, param_groups, save_checkpoint, set_trainable, transfer_backbone


@dataclass(frozen=True)
class Phase:
    """Epochs with one set of trainable layers: top_blocks None trains all, 0 only the head.
    patience None: no early stopping (training from scratch has noisy early validation losses)."""

    name: str
    epochs: int
    head_lr: float
    backbone_lr: float
    top_blocks: int | None
    patience: int | None = None


@dataclass(frozen=True)
class FitJob:
    source: BatchSource
    classes: list[str]
    backbone: str
    image_size: int
    phases: list[Phase]
    batch_size: int
    class_weights: list[float] | None
    init_weights: str | None  # checkpoint to transfer the backbone from; None: random init
    checkpoint: str  # where rank 0 saves the best model
    seed: int
    mixed_precision: bool = False  # autocast forward passes (float16 on CUDA with loss scaling, bfloat16 on CPU)


def parameters_digest(model: nn.Module) -> str:
    """sha256 of every parameter's bytes: equal on all ranks after DDP training."""
    digest = hashlib.sha256()
    for _, parameter in sorted(model.named_parameters()):
        digest.update(parameter.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def sync_buffers(model: nn.Module) -> None:
    """Rank 0's BatchNorm statistics on every rank: DDP syncs them before a forward pass, but each rank's
    last training step updates its own copy."""
    for buffer in model.buffers():
        dist.broadcast(buffer, src=0)


def autocast(device: torch.device, enabled: bool) -> torch.autocast:
    return torch.autocast(device.type, dtype=torch.float16 if device.type == "cuda" else torch.bfloat16, enabled=enabled)


def agreed(values: list[float], device: torch.device) -> list[float]:
    """Rank 0's numbers on every rank, so early stopping takes one decision everywhere (on the
    rank's device: nccl only moves CUDA tensors)."""
    shared = torch.tensor(values, dtype=torch.float64, device=device)
    dist.broadcast(shared, src=0)
    return shared.tolist()


def evaluate(model: nn.Module, job: FitJob, loss_fn: nn.Module, device: torch.device) -> tuple[float, float]:
    """(mean loss, accuracy) over the whole validation split."""
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad(), job.source.batches("val", rank=0, world=1, batch_size=job.batch_size, train=False, endless=False) as batches:
        for images, labels in batches:
            images, labels = images.to(device), labels.to(device)
            with autocast(device, job.mixed_precision):
                logits = model(images).float()
            total_loss += float(loss_fn(logits, labels)) * len(labels)
            correct += int((logits.argmax(1) == labels).sum())
            seen += len(labels)
    return total_loss / max(seen, 1), correct / max(seen, 1)


def train_phase(model: nn.Module, job: FitJob, phase: Phase, rank: int, world: int, history: list[dict]) -> None:
    set_trainable(model, phase.top_blocks)
    device = current_device()
    # A new DDP wrapper per phase: DDP registers gradient hooks for the parameters trainable when it is built.
    ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    # float16 gradients underflow without loss scaling; bfloat16 (CPU) keeps float32's range and needs none.
    scaler = torch.amp.GradScaler(device.type, enabled=job.mixed_precision and device.type == "cuda")
    optimizer = torch.optim.AdamW(param_groups(model, phase.head_lr, phase.backbone_lr), weight_decay=1e-4)
    # Every rank takes the same number of steps (gloo fails on unequal batch counts); shards repeat.
    steps = max(1, math.ceil(job.source.rows("train") / (job.batch_size * world)))
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, phase.epochs * steps))
    weight = torch.tensor(job.class_weights, dtype=torch.float32, device=device) if job.class_weights else None
    train_loss, val_loss_fn = nn.CrossEntropyLoss(weight=weight), nn.CrossEntropyLoss()
    best, best_state, stale = math.inf, None, 0
    with job.source.batches("train", rank=rank, world=world, batch_size=job.batch_size, train=True, endless=True) as batches:
        for epoch in range(phase.epochs):
            started, seen, total = time.perf_counter(), 0, 0.0
            model.train()
            freeze_norm_stats(model)
            for _ in range(steps):
                images, labels = next(batches)
                images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
                with autocast(device, job.mixed_precision):
                    loss = train_loss(ddp(images).float(), labels)
                optimizer.zero_grad()
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                schedule.step()
                total += float(loss) * len(labels)
                seen += len(labels)
            sync_buffers(model)
            val_loss, val_accuracy = agreed(list(evaluate(model, job, val_loss_fn, device)), device)
            record = {"phase": phase.name, "epoch": len(history), "train_loss": total / seen, "val_loss": val_loss,
                      "val_accuracy": val_accuracy, "images_per_s": seen * world / (time.perf_counter() - started)}
            history.append(record)
            if rank == 0:
                print(f"[{phase.name} {epoch + 1}/{phase.epochs}] train_loss {record['train_loss']:.4f} val_loss {val_loss:.4f} "
                      f"val_acc {val_accuracy:.3f} ({record['images_per_s']:.0f} images/s)", flush=True)
            if val_loss < best:
                best, best_state, stale = val_loss, copy.deepcopy(model.state_dict()), 0
            else:
                stale += 1
                if phase.patience is not None and stale >= phase.patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)  # the best epoch's weights go on to the next phase


def fit(rank: int, world: int, job: FitJob) -> dict:
    """Runs on every rank under TorchDistributor; rank 0 saves the checkpoint."""
    from lakeforge.images.loader import quiet_petastorm

    quiet_petastorm()
    torch.manual_seed(job.seed)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
    model = build_model(job.backbone, len(job.classes))
    transferred = transfer_backbone(model, job.init_weights) if job.init_weights else 0
    model.to(current_device())
    # Different augmentations per rank; numpy drives Petastorm's shuffling queue.
    torch.manual_seed(job.seed + rank)
    np.random.seed(job.seed + rank)
    history: list[dict] = []
    for phase in job.phases:
        if phase.epochs:
            train_phase(model, job, phase, rank, world, history)
    if rank == 0:
        save_checkpoint(model, job.backbone, job.classes, job.image_size, job.checkpoint)
    return {"rank": rank, "world": world, "transferred_tensors": transferred, "parameters_sha256": parameters_digest(model),
            "history": history}
