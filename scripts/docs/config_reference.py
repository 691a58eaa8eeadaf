"""The configuration reference page, written from the pydantic models each conf/ file is loaded into.

A field's description is the comment on its line or the comment lines just above it in the model's
source, so the reference says what the code says. A conf/ file without a model here fails the build.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib
import inspect
import io
import json
import textwrap
import tokenize
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

# conf/ file (a glob relative to conf/) -> the model it is loaded into; the first match wins.
CONF_MODELS = {
    "customer360.yml": "lakeforge.config.models:PipelineConfig",
    "churn.yml": "lakeforge.training.config:TrainingConfig",
    "housing.yml": "lakeforge.training.config:TrainingConfig",
    "iot.yml": "lakeforge.streaming.config:IotConfig",
    "images.yml": "lakeforge.images.config:ImagesConfig",
    "recommendations.yml": "lakeforge.recommendations.config:RecsConfig",
    "deployment.yml": "lakeforge.deployment.config:DeploymentConfig",
    "monitoring.yml": "lakeforge.monitoring.config:MonitoringConfig",
    "workflows/*.yml": "lakeforge.workflows.config:WorkflowConfig",
    "examples/*.yml": "lakeforge.config.models:PipelineConfig",
}
OVERLAY_MODEL = "lakeforge.config.models:PlatformConfig"  # conf/env/*.yml set `platform:` of any file


def import_model(spec: str) -> type[BaseModel]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def field_comments(model: type[BaseModel]) -> dict[str, str]:
    """Field name -> the comment on its line, else the comment lines right above it."""
    try:
        source = textwrap.dedent(inspect.getsource(model))
    except (OSError, TypeError):
        return {}
    comments = {token.start[0]: token.string.lstrip("# ").strip()
                for token in tokenize.generate_tokens(io.StringIO(source).readline) if token.type == tokenize.COMMENT}
    lines = source.splitlines()
    found = {}
    for node in ast.parse(source).body[0].body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            above, line = [], node.lineno - 1
            while line in comments and lines[line - 1].lstrip().startswith("#"):
                above.insert(0, comments[line])
                line -= 1
            found[node.target.id] = comments.get(node.lineno) or " ".join(above)
    return found


def heading(model: type[BaseModel], labels: dict[type[BaseModel], str]) -> str:
    return labels.get(model, model.__name__)


def anchor(label: str) -> str:
    """The id MkDocs gives a heading: lower case, punctuation dropped, spaces as dashes."""
    return "-".join("".join(c for c in label.lower() if c.isalnum() or c in " -_").split())


def type_name(annotation: object, labels: dict[type[BaseModel], str]) -> str:
    """A YAML reader's view of a type: `str`, `list[str]`, `"csv" or "json"`, a link to a model."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0], labels)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(arg, labels) for arg in args)
    if origin is typing.Literal:
        return " or ".join(f"`{arg!r}`".replace("'", '"') for arg in args)
    if origin in (list, dict, tuple, set):
        return f"{origin.__name__}[{', '.join(type_name(arg, labels) for arg in args)}]"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        label = heading(annotation, labels)
        return f"[{label}](#{anchor(label)})"
    return getattr(annotation, "__name__", str(annotation))


def nested_models(annotation: object) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in typing.get_args(annotation):
        yield from nested_models(arg)


def default_text(field) -> str:
    """The default as YAML would spell it (null, true, "text"), or whether the key is required."""
    if field.default_factory is not None:
        value = field.default_factory()
        return "its defaults" if isinstance(value, BaseModel) else f"`{json.dumps(value, default=str)}`"
    if field.default is PydanticUndefined:
        return "**required**"
    return f"`{json.dumps(field.default, default=str)}`"


def model_section(model: type[BaseModel], labels: dict[type[BaseModel], str]) -> str:
    comments = field_comments(model)
    rows = [
        f"| `{field.alias or name}` | {type_name(field.annotation, labels)} | {default_text(field)} | "
        f"{(field.description or comments.get(name, '')).replace('|', '/')} |"
        for name, field in model.model_fields.items()
    ]
    doc = inspect.cleandoc(model.__doc__) if model.__doc__ and model.__doc__ != BaseModel.__doc__ else ""
    return "\n".join([f"### {heading(model, labels)}", "", doc, "", "| key | type | default | what |", "|---|---|---|---|", *rows, ""])


def models_of(roots: list[type[BaseModel]]) -> list[type[BaseModel]]:
    """Every model reachable from the roots, each once, in the order a reader meets them."""
    seen: list[type[BaseModel]] = []
    queue = list(roots)
    while queue:
        model = queue.pop(0)
        if model in seen:
            continue
        seen.append(model)
        for field in model.model_fields.values():
            queue.extend(nested_models(field.annotation))
    return seen


def labels_of(models: list[type[BaseModel]]) -> dict[type[BaseModel], str]:
    """A model's heading: its name, with its area when two areas use the same name."""
    names = [model.__name__ for model in models]
    return {model: model.__name__ if names.count(model.__name__) == 1 else f"{model.__name__} ({model.__module__.split('.')[1]})"
            for model in models}


def first_comment(path: Path) -> str:
    """The comment block a conf/ file starts with, as one line."""
    block = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        block.append(line.lstrip("# ").strip())
    return " ".join(block).replace("|", "/")


def check_keys(path: Path, model: type[BaseModel]) -> None:
    """A file's top-level keys must be fields of its model: a wrong entry in CONF_MODELS fails here."""
    data = yaml.safe_load(path.read_text()) or {}
    known = {field.alias or name for name, field in model.model_fields.items()}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{path}: keys {unknown} are not fields of {model.__name__}; fix CONF_MODELS in {__file__}")


def model_of(name: str) -> str | None:
    return next((spec for pattern, spec in CONF_MODELS.items() if fnmatch.fnmatch(name, pattern)), None)


def config_reference(conf_dir: Path) -> str:
    files = {path.relative_to(conf_dir).as_posix(): path for path in sorted(conf_dir.rglob("*.yml")) if path.parent.name != "env"}
    missing = [name for name in files if model_of(name) is None]
    if missing:
        raise ValueError(f"conf/ files without a model in {__file__} CONF_MODELS: {missing}; add `pattern: module:Model` there")
    roots = {}
    for name, path in files.items():
        roots[name] = import_model(model_of(name))
        check_keys(path, roots[name])
    overlay = import_model(OVERLAY_MODEL)
    models = models_of([*dict.fromkeys(roots.values()), overlay])
    labels = labels_of(models)
    table = ["| file | model | what |", "|---|---|---|"]
    table += [f"| `conf/{name}` | {type_name(model, labels)} | {first_comment(files[name])} |" for name, model in roots.items()]
    table += [f"| `conf/env/{path.name}` | `platform:` {type_name(overlay, labels)} | {first_comment(path)} |"
              for path in sorted((conf_dir / "env").glob("*.yml"))]
    sections = [model_section(model, labels) for model in models]
    return "\n".join(["## Files", "", *table, "", "## Models", "", *sections])
