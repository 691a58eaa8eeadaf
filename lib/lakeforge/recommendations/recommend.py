"""Top-K for one user from a FactorModel, folding in interactions newer than the model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lakeforge.recommendations.artifact import FactorModel
from lakeforge.recommendations.scoring import fold_in, top_k


@dataclass(frozen=True)
class Recommendation:
    item_ids: list[int]
    scores: list[float]
    categories: list[str]
    source: str  # model (trained vector), fold_in (vector refitted with new interactions) or popular


@dataclass(frozen=True)
class NewInteraction:
    item_id: int
    event_type: str
    value: float


def strength(event_type: str, value: float, weights: Mapping[str, float]) -> float:
    """Implicit strength of one event: its type's weight, times its value for a rating."""
    weight = weights.get(event_type, 0.0)
    return weight * value if event_type == "rating" else weight


def merged_history(model: FactorModel, user_row: int | None, new: Sequence[NewInteraction]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(items, values, seen): the training history with the new interactions added (implicit: strengths
    summed; explicit: the latest rating wins). seen also holds items of new events that carry no value."""
    values: dict[int, float] = {}
    if user_row is not None:
        items, history = model.history(user_row)
        values = dict(zip(items.tolist(), history.tolist()))
    seen = set(values)
    weights = model.metadata["event_weights"]
    for event in new:
        row = model.item_rows.get(event.item_id)
        if row is None:
            continue  # an item the model has no factor for cannot move the vector
        seen.add(row)
        if model.implicit:
            gained = strength(event.event_type, event.value, weights)
            if gained > 0:
                values[row] = values.get(row, 0.0) + gained
        elif event.event_type == "rating":
            values[row] = event.value
    items = np.fromiter(values.keys(), dtype=np.int64, count=len(values))
    return items, np.fromiter(values.values(), dtype=np.float64, count=len(values)), np.fromiter(seen, dtype=np.int64, count=len(seen))


def recommend(model: FactorModel, user_id: int, k: int, new: Sequence[NewInteraction] = ()) -> Recommendation:
    user_row = model.user_rows.get(user_id)
    if user_row is not None and not new:
        scores = model.item_factors @ model.user_factors[user_row]
        return _ranked(model, scores, model.history(user_row)[0], k, "model")
    items, values, seen = merged_history(model, user_row, new)
    if len(items) == 0:
        return _ranked(model, model.popularity, seen, k, "popular")
    meta = model.metadata
    vector = fold_in(model.item_factors, items, values, implicit=model.implicit, reg_param=meta["reg_param"], alpha=meta["alpha"], gram=model.gram)
    return _ranked(model, model.item_factors @ vector, seen, k, "fold_in")


def _ranked(model: FactorModel, scores: np.ndarray, exclude: np.ndarray, k: int, source: str) -> Recommendation:
    rows, best = top_k(scores, exclude, k)
    return Recommendation(
        item_ids=model.item_ids[rows].tolist(),
        scores=[round(float(s), 6) for s in best],
        categories=model.item_categories[rows].tolist(),
        source=source,
    )
