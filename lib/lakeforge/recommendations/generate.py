"""A realistic interaction log: users with category tastes, long-tail item popularity, implicit events
and explicit ratings, written as MovieLens-format files plus an events file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lakeforge.recommendations.config import GeneratorSpec

# Funnel of implicit events: most interactions are views, few are purchases.
IMPLICIT_TYPES = ("view", "click", "add_to_cart", "purchase")
IMPLICIT_SHARES = (0.6, 0.25, 0.1, 0.05)
START = pd.Timestamp("2026-01-01", tz="UTC")


@dataclass(frozen=True)
class Catalogue:
    movies: pd.DataFrame  # movieId, title, genres (MovieLens movies.csv)
    category: np.ndarray  # item index -> category index
    popularity: np.ndarray  # item index -> probability within its category


def build_catalogue(spec: GeneratorSpec, rng: np.random.Generator) -> Catalogue:
    category = rng.integers(0, len(spec.categories), size=spec.items)
    weights = np.empty(spec.items)
    for c in range(len(spec.categories)):
        members = np.flatnonzero(category == c)
        ranks = rng.permutation(len(members)) + 1
        weights[members] = ranks.astype(float) ** -spec.popularity_exponent
        weights[members] /= weights[members].sum()
    second = rng.integers(0, len(spec.categories), size=spec.items)
    genres = [
        spec.categories[c] if s == c or rng.random() < 0.5 else f"{spec.categories[c]}|{spec.categories[s]}"
        for c, s in zip(category, second)
    ]
    movies = pd.DataFrame({"movieId": np.arange(1, spec.items + 1), "title": [f"Item {i}" for i in range(1, spec.items + 1)], "genres": genres})
    return Catalogue(movies=movies, category=category, popularity=weights)


def draw_interactions(spec: GeneratorSpec, catalogue: Catalogue, rng: np.random.Generator) -> pd.DataFrame:
    """One row per interaction: user, item, whether it is a rating, the rating, the time."""
    tastes = rng.dirichlet(np.full(len(spec.categories), spec.taste_concentration), size=spec.users)
    activity = rng.lognormal(0.0, 1.0, size=spec.users)
    users = rng.choice(spec.users, size=spec.interactions, p=activity / activity.sum())
    cumulative = tastes.cumsum(axis=1)
    categories = np.minimum((cumulative[users] < rng.random(spec.interactions)[:, None]).sum(axis=1), len(spec.categories) - 1)
    items = np.empty(spec.interactions, dtype=np.int64)
    for c in range(len(spec.categories)):
        rows = np.flatnonzero(categories == c)
        members = np.flatnonzero(catalogue.category == c)
        if len(rows) and len(members):
            items[rows] = rng.choice(members, size=len(rows), p=catalogue.popularity[members])
        elif len(rows):  # a category without items: any item
            items[rows] = rng.integers(0, spec.items, size=len(rows))
    # A rating reflects the user's taste for the item's category, plus noise, in half stars.
    taste_of_item = tastes[users, catalogue.category[items]] * len(spec.categories)
    stars = np.clip(np.round((2.5 + 1.2 * np.log1p(taste_of_item) + rng.normal(0, 0.7, spec.interactions)) * 2) / 2, 0.5, 5.0)
    seconds = np.sort(rng.uniform(0, spec.days * 86_400, size=spec.interactions))
    return pd.DataFrame(
        {
            "user": users + 1,
            "item": items + 1,
            "is_rating": rng.random(spec.interactions) < spec.rating_share,
            "stars": stars,
            "time": START + pd.to_timedelta(seconds, unit="s"),
            "implicit_type": rng.choice(IMPLICIT_TYPES, size=spec.interactions, p=IMPLICIT_SHARES),
        }
    )


def as_movielens_ratings(drawn: pd.DataFrame) -> pd.DataFrame:
    ratings = drawn[drawn["is_rating"]]
    return pd.DataFrame(
        {"userId": ratings["user"], "movieId": ratings["item"], "rating": ratings["stars"], "timestamp": ratings["time"].astype("int64") // 10**9}
    )


def as_events(drawn: pd.DataFrame) -> pd.DataFrame:
    events = drawn[~drawn["is_rating"]]
    return pd.DataFrame(
        {
            "event_id": [f"gen-{i}" for i in events.index],
            "user_id": events["user"],
            "item_id": events["item"],
            "event_type": events["implicit_type"],
            "value": 1.0,
            "event_time": events["time"].dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z").str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True),
        }
    )


def generate_interactions(spec: GeneratorSpec, folder: str | Path) -> dict[str, int]:
    """Write movies.csv, ratings.csv (MovieLens format) and events.csv to `folder`; returns row counts."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(spec.seed)
    catalogue = build_catalogue(spec, rng)
    drawn = draw_interactions(spec, catalogue, rng)
    ratings, events = as_movielens_ratings(drawn), as_events(drawn)
    catalogue.movies.to_csv(folder / "movies.csv", index=False)
    ratings.to_csv(folder / "ratings.csv", index=False)
    events.to_csv(folder / "events.csv", index=False)
    return {"movies": len(catalogue.movies), "ratings": len(ratings), "events": len(events)}
