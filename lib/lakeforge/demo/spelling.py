"""How source systems spell values: the variety silver cleansing must absorb, never a defect.

Every spelling here survives the default ColumnRule (trim; yes/y/true/t/1 and no/n/false/f/0 as booleans,
case-insensitive; "", null, none, n/a, na as null) and the formats listed in conf/customer360.yml.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TRUE_SPELLINGS = ("Yes", "yes", "1", "True", "Y", "true")
FALSE_SPELLINGS = ("No", "no", "0", "False", "N", "false")
BOOLEAN_WEIGHTS = (0.6, 0.15, 0.1, 0.07, 0.04, 0.04)

# signup_date's formats in conf/customer360.yml, written by different front ends.
DATE_FORMATS = ("iso", "us", "european", "slashed")
DATE_WEIGHTS = (0.55, 0.2, 0.15, 0.1)


def choose(rng: np.random.Generator, options: Sequence[str], weights: Sequence[float], size: int) -> np.ndarray:
    """`size` values drawn from `options` with `weights`, as an object array (cheap to edit per row)."""
    p = np.asarray(weights, dtype=float)
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=size, p=p / p.sum())]


def spell_booleans(
    rng: np.random.Generator, values: np.ndarray, weights: Sequence[float] = BOOLEAN_WEIGHTS
) -> np.ndarray:
    trues = choose(rng, TRUE_SPELLINGS, weights, len(values))
    falses = choose(rng, FALSE_SPELLINGS, weights, len(values))
    return np.where(values, trues, falses)


def vary_case(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """A `share` of the values lower-, upper- or title-cased, the rest as given."""
    values = np.asarray(values, dtype=object).copy()
    picked = np.flatnonzero(rng.random(len(values)) < share)
    styles = rng.integers(0, 3, len(picked))
    for row, style in zip(picked, styles):
        text = values[row]
        values[row] = text.lower() if style == 0 else text.upper() if style == 1 else text.title()
    return values


def pad_some(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """A `share` of the values with surrounding spaces, as hand-edited exports have. Spaces only: Spark's
    trim() leaves tabs in place."""
    values = np.asarray(values, dtype=object).copy()
    picked = np.flatnonzero(rng.random(len(values)) < share)
    for row, width in zip(picked, rng.integers(1, 3, len(picked))):
        values[row] = f"{' ' * width}{values[row]} "
    return values


def format_dates(rng: np.random.Generator, dates: np.ndarray) -> list[str]:
    """Dates as yyyy-MM-dd, MM/dd/yyyy, dd.MM.yyyy or yyyy/MM/dd (zero-padded, so each format is unambiguous)."""
    iso = np.datetime_as_string(np.asarray(dates, dtype="M8[D]"), unit="D").astype(object)
    styles = rng.choice(len(DATE_FORMATS), size=len(iso), p=DATE_WEIGHTS)
    out = iso.copy()
    out[styles == 1] = [f"{d[5:7]}/{d[8:10]}/{d[:4]}" for d in iso[styles == 1]]
    out[styles == 2] = [f"{d[8:10]}.{d[5:7]}.{d[:4]}" for d in iso[styles == 2]]
    out[styles == 3] = [d.replace("-", "/") for d in iso[styles == 3]]
    return out.tolist()


def format_timestamps(rng: np.random.Generator, times: np.ndarray, weights: Sequence[float]) -> list[str]:
    """UTC instants as "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ss", "...Z" or "...+00:00", by `weights`."""
    iso = np.datetime_as_string(np.asarray(times, dtype="M8[s]"), unit="s").astype(object)
    p = np.asarray(weights, dtype=float)
    styles = rng.choice(4, size=len(iso), p=p / p.sum())
    out = iso.copy()
    out[styles == 0] = [t.replace("T", " ") for t in iso[styles == 0]]
    out[styles == 2] = iso[styles == 2] + "Z"
    out[styles == 3] = iso[styles == 3] + "+00:00"
    return out.tolist()


def iso_utc(times: np.ndarray) -> list[str]:
    """UTC instants as "yyyy-MM-ddTHH:mm:ssZ": one format, so they also sort correctly as strings."""
    return [t + "Z" for t in np.datetime_as_string(np.asarray(times, dtype="M8[s]"), unit="s").tolist()]
