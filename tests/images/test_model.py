"""Weights transfer into the backbone only, freezing follows the phase, and ImageNet weights are
found in the torch hub cache without any download."""

from __future__ import annotations

import pytest
import torch

from lakeforge.images.model import blocks, build_model, head, imagenet_checkpoint, param_groups, set_trainable, transfer_backbone
from lakeforge.images.train import resolve_weights


@pytest.mark.parametrize("backbone", ["resnet18", "mobilenet_v3_small"])
def test_transfer_loads_the_backbone_but_not_the_head(tmp_path, backbone):
    torch.manual_seed(0)
    source = build_model(backbone, num_classes=7)
    torch.save({"state_dict": source.state_dict()}, tmp_path / "source.pt")
    target = build_model(backbone, num_classes=4)
    head_before = head(target).weight.detach().clone()
    assert transfer_backbone(target, tmp_path / "source.pt") > 10
    for name, value in source.state_dict().items():
        if value.shape == target.state_dict()[name].shape and not name.startswith(("fc.", "classifier.3.")):
            assert torch.equal(target.state_dict()[name], value), name
    assert torch.equal(head(target).weight, head_before)


def test_transfer_refuses_weights_of_another_network(tmp_path):
    torch.save({"weight": torch.zeros(3, 3)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="no tensor matches"):
        transfer_backbone(build_model("resnet18", 4), tmp_path / "other.pt")


def test_phases_freeze_and_unfreeze_the_right_layers():
    model = build_model("resnet18", 4)
    set_trainable(model, 0)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"fc.weight", "fc.bias"}
    set_trainable(model, 2)
    trainable = {name.split(".")[0] for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"layer3", "layer4", "fc"}
    groups = param_groups(model, head_lr=0.01, backbone_lr=0.001)
    assert [g["lr"] for g in groups] == [0.01, 0.001]
    assert sum(p.numel() for p in groups[1]["params"]) == sum(p.numel() for b in blocks(model)[-2:] for p in b.parameters())
    set_trainable(model, None)
    assert all(p.requires_grad for p in model.parameters())


def test_imagenet_weights_come_from_the_torch_hub_cache(monkeypatch, tmp_path, images_config, spark):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert imagenet_checkpoint("resnet18") is None
    cached = tmp_path / "hub/checkpoints/resnet18-f37072fd.pth"
    cached.parent.mkdir(parents=True)
    torch.save(build_model("resnet18", 1000).state_dict(), cached)
    assert imagenet_checkpoint("resnet18") == cached
    weights = resolve_weights(spark, images_config)
    assert (weights.origin, weights.path) == ("imagenet", str(cached))
    with pytest.raises(FileNotFoundError):
        resolve_weights(spark, images_config, given=str(tmp_path / "absent.pt"))
