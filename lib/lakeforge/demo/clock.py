"""The demo's calendar: when each day's delivery is extracted and when the changes it carries happened.

Day 1 is the initial load, with history up to a day before its extract; each later day carries the changes
made between 06:00 and 20:00 UTC on the day before its extract. So every change of day d is later than every
change of the days before it, which is what incremental loads (watermarks, `updated_since`) rely on.
"""

from __future__ import annotations

import numpy as np

FIRST_EXTRACT = np.datetime64("2025-12-15T00:00:00", "s")
DAY = np.timedelta64(1, "D").astype("m8[s]")
HOUR = np.timedelta64(1, "h").astype("m8[s]")
Window = tuple[np.datetime64, np.datetime64]  # [start, end) of the changes a delivery carries


def extract_time(day: int) -> np.datetime64:
    """Midnight (UTC) at which day `day`'s delivery is extracted."""
    return FIRST_EXTRACT + (day - 1) * DAY


def change_window(day: int) -> Window:
    """[start, end) of the changes in day `day`'s delivery; day 1's covers the year of history before it."""
    if day == 1:
        return FIRST_EXTRACT - 366 * DAY, FIRST_EXTRACT - DAY
    day_before = extract_time(day) - DAY
    return day_before + 6 * HOUR, day_before + 20 * HOUR


def random_times(
    rng: np.random.Generator, start: np.ndarray | np.datetime64, end: np.datetime64, size: int
) -> np.ndarray:
    """Uniform random instants in [start, end), to the second; `start` may be one value per row."""
    start = np.broadcast_to(np.asarray(start, dtype="M8[s]"), (size,))
    span = np.maximum((end - start).astype(np.int64), 1)
    return start + (rng.random(size) * span).astype(np.int64).astype("m8[s]")
