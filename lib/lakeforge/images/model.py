"""torchvision backbones with a new head: building, transferring weights, freezing and unfreezing."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

BACKBONES = ("resnet18", "mobilenet_v3_small")


def build_model(backbone: str, num_classes: int) -> nn.Module:
    from torchvision import models

    if backbone == "resnet18":
        return models.resnet18(weights=None, num_classes=num_classes)
    if backbone == "mobilenet_v3_small":
        return models.mobilenet_v3_small(weights=None, num_classes=num_classes)
    raise ValueError(f"unknown backbone {backbone!r}; expected one of {BACKBONES}")


def head(model: nn.Module) -> nn.Module:
    return model.fc if hasattr(model, "fc") else model.classifier[-1]


def blocks(model: nn.Module) -> list[nn.Module]:
    """The backbone's stages, from the input upwards (what `unfreeze_blocks` counts from the top)."""
    if hasattr(model, "layer4"):
        return [nn.ModuleList([model.conv1, model.bn1]), model.layer1, model.layer2, model.layer3, model.layer4]
    return [*model.features, *list(model.classifier)[:-1]]


def imagenet_checkpoint(backbone: str) -> Path | None:
    """torchvision's ImageNet weights if already in the torch hub cache (TORCH_HOME); never downloads."""
    from torchvision import models

    weights = {"resnet18": models.ResNet18_Weights.IMAGENET1K_V1, "mobilenet_v3_small": models.MobileNet_V3_Small_Weights.IMAGENET1K_V1}
    path = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights[backbone].url).name
    return path if path.is_file() else None


def transfer_backbone(model: nn.Module, weights: str | Path) -> int:
    """Load every tensor of `weights` whose name and shape match, except the head; returns how many.

    Accepts a plain state_dict (torchvision's files) or a Lakeforge checkpoint ({"state_dict": ...}).
    """
    state = torch.load(weights, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state)
    head_names = {f"{name}" for name, module in model.named_modules() if module is head(model)}
    own = model.state_dict()
    usable = {
        key: value for key, value in state.items()
        if key in own and own[key].shape == value.shape and not any(key.startswith(f"{h}.") for h in head_names)
    }
    if not usable:
        raise ValueError(f"{weights}: no tensor matches the {type(model).__name__} backbone")
    model.load_state_dict(usable, strict=False)
    return len(usable)


def set_trainable(model: nn.Module, top_blocks: int | None) -> None:
    """Train the head plus the top `top_blocks` stages; None trains everything, 0 only the head."""
    for parameter in model.parameters():
        parameter.requires_grad = top_blocks is None
    if top_blocks:
        for block in blocks(model)[-top_blocks:]:
            for parameter in block.parameters():
                parameter.requires_grad = True
    for parameter in head(model).parameters():
        parameter.requires_grad = True


def param_groups(model: nn.Module, head_lr: float, backbone_lr: float) -> list[dict]:
    """Per-group learning rates: the new head learns faster than the transferred layers."""
    head_ids = {id(p) for p in head(model).parameters()}
    backbone = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    groups = [{"params": list(head(model).parameters()), "lr": head_lr}]
    if backbone:
        groups.append({"params": backbone, "lr": backbone_lr})
    return groups


def freeze_norm_stats(model: nn.Module) -> None:
    """Frozen stages keep their BatchNorm statistics (eval mode) while the rest trains."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and not any(p.requires_grad for p in module.parameters()):
            module.eval()


def load_checkpoint(path: str) -> tuple[torch.nn.Module, list[str], int]:
    """(model in eval mode, class names, input side) from a Lakeforge checkpoint."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(saved["backbone"], len(saved["classes"]))
    model.load_state_dict(saved["state_dict"])
    return model.eval(), list(saved["classes"]), int(saved["image_size"])


def save_checkpoint(model: torch.nn.Module, backbone: str, classes: list[str], image_size: int, path: str | Path) -> str:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"backbone": backbone, "classes": classes, "image_size": image_size, "state_dict": model.state_dict()}, path)
    return str(path)
