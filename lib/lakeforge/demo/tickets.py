"""Support tickets as the helpdesk's REST API returns them: every value a string or null.

updated_at is always "yyyy-MM-ddTHH:mm:ssZ", because the demo API (api_server.py) compares it as a string
for `updated_since`; created_at mixes "Z" and "+00:00", as clients that created the tickets did.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lakeforge.demo.batch import RawBatch, inject_defects, pick_defect_rows, replace_with
from lakeforge.demo.clock import DAY, HOUR, Window, random_times
from lakeforge.demo.json_text import json_objects
from lakeforge.demo.population import customer_ids
from lakeforge.demo.spelling import choose, format_timestamps, iso_utc, vary_case

FIELDS = ("ticket_id", "customer_id", "created_at", "updated_at", "category", "priority", "status", "satisfaction")
FIELD = {name: index for index, name in enumerate(FIELDS)}
PRIORITIES = ("low", "medium", "high", "urgent")
QUARANTINE_RATES = {"priority_known": 0.005, "customer_id_present": 0.005, "satisfaction_in_range": 0.005}
CREATED_AT_WEIGHTS = (0.0, 0.0, 0.7, 0.3)  # "...Z" or "...+00:00"
TICKET_HISTORY_DAYS = 90


def draw_tickets(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    counts: np.ndarray,
    window: Window,
    first_ticket: int,
) -> pd.DataFrame:
    """counts[i] tickets of customers.iloc[i], opened within `window` (at most TICKET_HISTORY_DAYS of it)."""
    owner = np.repeat(np.arange(len(customers)), counts)
    size = len(owner)
    unhappy = customers["dissatisfaction"].to_numpy()[owner]
    start = max(window[0], window[1] - TICKET_HISTORY_DAYS * DAY)
    created = random_times(rng, start, window[1], size)
    age_days = (window[1] - created) / DAY
    done = rng.random(size) < np.clip(age_days / 10, 0.3, 0.95)  # older tickets are mostly dealt with
    closed = np.where(rng.random(size) < 0.6, "resolved", "closed")
    status = np.where(done, closed, np.where(rng.random(size) < 0.6, "open", "pending"))
    handled = created + (rng.random(size) * (96 * HOUR).astype(np.int64)).astype("m8[s]")  # within four days
    updated = np.where(done, np.minimum(handled, window[1] - 1), created)
    other_categories = choose(rng, ("billing", "technical", "account", "other"), (0.35, 0.4, 0.15, 0.1), size)
    category = np.where(rng.random(size) < np.where(unhappy > 1, 0.25, 0.04), "cancellation", other_categories)
    return pd.DataFrame(
        {
            "number": np.arange(first_ticket, first_ticket + size, dtype=np.int64),
            "customer": customers["number"].to_numpy()[owner],
            "created_at": created,
            "updated_at": updated,
            "category": category,
            "priority": np.asarray(PRIORITIES)[rng.choice(4, size=size, p=[0.35, 0.4, 0.2, 0.05])],
            "status": status,
            "satisfaction": _satisfaction(rng, unhappy, done),
            "dissatisfaction": unhappy,
        }
    )


def resolved_versions(rng: np.random.Generator, tickets: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Three in ten of the open or pending tickets, resolved within `window` (some rated)."""
    picked = tickets["status"].isin(["open", "pending"]).to_numpy() & (rng.random(len(tickets)) < 0.3)
    pending = tickets[picked].copy()
    pending["status"] = "resolved"
    pending["satisfaction"] = _satisfaction(rng, pending["dissatisfaction"].to_numpy(), np.ones(len(pending), bool))
    pending["updated_at"] = random_times(rng, window[0], window[1], len(pending))
    return pending


def ticket_records(rng: np.random.Generator, tickets: pd.DataFrame, defects: bool = True) -> RawBatch:
    """API records (JSON objects) for these tickets; with `defects`, a few with unknown priority, no
    customer or a rating out of range."""
    columns = [
        [f"T{number:07d}" for number in tickets["number"].tolist()],
        vary_case(rng, customer_ids(tickets["customer"]), 0.03).tolist(),
        format_timestamps(rng, tickets["created_at"].to_numpy(), CREATED_AT_WEIGHTS),
        iso_utc(tickets["updated_at"].to_numpy()),
        vary_case(rng, tickets["category"].to_numpy(), 0.1).tolist(),
        vary_case(rng, tickets["priority"].to_numpy(), 0.2).tolist(),
        vary_case(rng, tickets["status"].to_numpy(), 0.1).tolist(),
        [None if rating == 0 else str(rating) for rating in tickets["satisfaction"].tolist()],
    ]
    rows = RawBatch.clean([list(row) for row in zip(*columns)], tickets["number"].to_numpy())
    if defects:
        inject_defects(rng, rows, pick_defect_rows(rng, len(rows), QUARANTINE_RATES), DEFECTS)
    return RawBatch(json_objects(FIELDS, rows.records), rows.keys, rows.reasons, rows.warnings)


def _satisfaction(rng: np.random.Generator, unhappy: np.ndarray, done: np.ndarray) -> np.ndarray:
    """A 1-5 rating for three in four closed tickets, lower for unhappier customers; 0 for none."""
    rating = np.clip(np.round(3.8 - 0.9 * unhappy + rng.normal(0, 0.8, len(unhappy))), 1, 5).astype(np.int64)
    return np.where(done & (rng.random(len(unhappy)) < 0.75), rating, 0)


DEFECTS = {
    "priority_known": replace_with(FIELD["priority"], ("critical", "P1", "asap", "blocker")),
    "customer_id_present": replace_with(FIELD["customer_id"], (None, None, "")),
    "satisfaction_in_range": replace_with(FIELD["satisfaction"], ("9", "0", "10")),
}
