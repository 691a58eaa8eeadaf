"""Image fixtures: a conf/ folder at test scale (32-pixel images, tens per class) whose `test` overlay
keeps the lakehouse, MLflow and checkpoints in this session's temporary folder; data generated once.
Epochs and learning rates are conf/images.yml's own."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import write_test_overlay

from lakeforge.config import load_config
from lakeforge.images.config import ImagesConfig
from lakeforge.images.generate import generate_images
from lakeforge.images.ingest import ingest_images
from lakeforge.tables.layout import Lakehouse

CONF = Path(__file__).resolve().parents[2] / "conf" / "images.yml"
SIZE = 32


def test_scale(raw: dict, root: Path) -> dict:
    raw["work_dir"] = str(root / "work")
    # A quarter of each class is test data: about 100 test images keep accuracy comparisons steady.
    raw["data"].update(path=str(root / "landing/target"), max_side=SIZE, split={"train": 0.6, "val": 0.15})
    raw["model"]["image_size"] = SIZE
    raw["generate"].update(size=SIZE, per_class=120, source_per_class=150)
    raw["pretrain"].update(checkpoint=str(root / "work/source_backbone.pt"))
    raw["pretrain"]["data"].update(path=str(root / "landing/source"), max_side=SIZE)
    raw["training"]["patience"] = 3
    return raw


@pytest.fixture(scope="session")
def images_conf(tmp_path_factory, spark) -> Path:
    """conf/images.yml at test scale plus conf/env/test.yml; the spark fixture starts first, so the code
    under test gets that session."""
    root = tmp_path_factory.mktemp("images")
    conf = root / "conf"
    write_test_overlay(conf, root)
    raw = test_scale(yaml.safe_load(CONF.read_text()), root)
    (conf / "images.yml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return conf / "images.yml"


@pytest.fixture(scope="session")
def images_config(images_conf) -> ImagesConfig:
    return load_config(images_conf, ImagesConfig, env="test")


@pytest.fixture(scope="session")
def ingested(spark, images_config) -> ImagesConfig:
    """The generated target and source images, target ingested into bronze/silver."""
    generate_images(images_config.generate, Path(images_config.data.path), Path(images_config.pretrain.data.path))
    ingest_images(spark, images_config.data, Lakehouse(images_config.platform.storage.root))
    return images_config
