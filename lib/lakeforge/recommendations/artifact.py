"""The serving artifact: user and item factors, item popularity and categories, each user's training
history, as numpy files plus metadata.json. Loading it needs numpy only (no JVM)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ARRAYS = ("user_ids", "user_factors", "item_ids", "item_factors", "popularity", "item_categories", "history_indptr", "history_items", "history_values")
METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class FactorModel:
    """history_*: CSR rows aligned with user_ids; history_items are item row indices, history_values
    implicit strengths or ratings (what the user's factor was fitted to)."""

    user_ids: np.ndarray
    user_factors: np.ndarray
    item_ids: np.ndarray
    item_factors: np.ndarray
    popularity: np.ndarray
    item_categories: np.ndarray
    history_indptr: np.ndarray
    history_items: np.ndarray
    history_values: np.ndarray
    metadata: dict[str, Any]  # mode, rank, reg_param, alpha, event_weights, trained_at, ...
    user_rows: dict[int, int] = field(init=False, repr=False, compare=False)
    item_rows: dict[int, int] = field(init=False, repr=False, compare=False)
    gram: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_rows", {int(u): row for row, u in enumerate(self.user_ids)})
        object.__setattr__(self, "item_rows", {int(i): row for row, i in enumerate(self.item_ids)})
        factors = self.item_factors.astype(np.float64)
        object.__setattr__(self, "gram", factors.T @ factors)

    @property
    def implicit(self) -> bool:
        return self.metadata["mode"] == "implicit"

    def history(self, user_row: int) -> tuple[np.ndarray, np.ndarray]:
        start, end = self.history_indptr[user_row], self.history_indptr[user_row + 1]
        return self.history_items[start:end], self.history_values[start:end]

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ARRAYS:
            np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)
        (folder / METADATA_FILE).write_text(json.dumps(self.metadata, indent=2, sort_keys=True))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> FactorModel:
        folder = Path(folder)
        missing = [name for name in (*[f"{a}.npy" for a in ARRAYS], METADATA_FILE) if not (folder / name).exists()]
        if missing:
            raise FileNotFoundError(f"{folder} is not a serving artifact: missing {', '.join(missing)}")
        arrays = {name: np.load(folder / f"{name}.npy", allow_pickle=False) for name in ARRAYS}
        return cls(**arrays, metadata=json.loads((folder / METADATA_FILE).read_text()))


def find_artifact(folder: str | Path) -> Path:
    """The artifact folder inside a downloaded MLflow model (or `folder` itself)."""
    folder = Path(folder)
    for candidate in [folder, *sorted(path.parent for path in folder.rglob(METADATA_FILE))]:
        if (candidate / METADATA_FILE).exists() and (candidate / "item_factors.npy").exists():
            return candidate
    raise FileNotFoundError(f"no serving artifact ({METADATA_FILE} with factors) under {folder}")
