"""Load YAML config files into typed objects, with environment overlays and ${VAR} expansion."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from lakeforge.config.models import PipelineConfig
from lakeforge.errors import LakeforgeError

T = TypeVar("T", bound=BaseModel)

DEFAULT_ENV = "local"

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(LakeforgeError, ValueError):
    """A config file is missing, malformed, or does not match its schema."""


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}; check the path (relative paths start at {Path.cwd()})")
    with path.open() as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def expand_vars(value: Any) -> Any:
    """Expand ${VAR} and ${VAR:-default} in strings (paths, ports); secrets use *_env keys instead."""
    if isinstance(value, dict):
        return {key: expand_vars(item) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_vars(item) for item in value]
    if isinstance(value, str):
        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in os.environ:
                return os.environ[name]
            if default is not None:
                return default
            raise ConfigError(f"environment variable {name} is not set and has no default (${{{name}:-...}})")

        return _VAR.sub(substitute, value)
    return value


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


PROJECT_CONF = Path("conf")  # the checkout's conf/, relative to where `lakeforge` runs


def conf_dir_of(path: Path) -> Path:
    """The conf/ folder a config file belongs to (where env/ overlays live): the nearest folder above it
    with an env/ folder, else the checkout's conf/, so a config kept anywhere gets the same platform settings."""
    for parent in [path.parent, *path.parents]:
        if (parent / "env").is_dir():
            return parent
    return PROJECT_CONF


def load_model(model: type[T], data: dict[str, Any], origin: str) -> T:
    try:
        return model.model_validate(expand_vars(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"{origin}: {problems} (the keys each file takes: docs/reference/configuration.md)") from None


def load_config(path: str | Path, model: type[T], env: str | None = None) -> T:
    """Read a config file, overlay conf/env/<env>.yml (env from LAKEFORGE_ENV, default local) and
    validate it as `model`; the overlay wins, since it holds what differs per environment. Without
    the default overlay the file is used as it is."""
    data, origin = merged_config_data(path, env)
    return load_model(model, data, origin=origin)


def merged_config_data(path: str | Path, env: str | None = None) -> tuple[dict[str, Any], str]:
    """The file's data with its environment overlay merged in (not yet validated), and where it came from."""
    path = Path(path)
    chosen = env or os.environ.get("LAKEFORGE_ENV")
    env = chosen or DEFAULT_ENV
    data = load_yaml(path)
    overlay_path = conf_dir_of(path) / "env" / f"{env}.yml"
    if not overlay_path.is_file():
        if chosen:  # asked for by name: running without it would silently use other settings
            raise ConfigError(f"environment overlay not found: {overlay_path} (--env / LAKEFORGE_ENV={env}); "
                              f"create it or pick one of the files in {overlay_path.parent}")
        return data, str(path)
    return deep_merge(data, load_yaml(overlay_path)), f"{path} + {overlay_path.name}"


def load_pipeline_config(path: str | Path, env: str | None = None) -> PipelineConfig:
    return load_config(path, PipelineConfig, env)
