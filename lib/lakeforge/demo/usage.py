"""Usage events as a network probe writes them, one JSON object a line: calls, data, SMS and logins."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lakeforge.demo.batch import MALFORMED, RawBatch, inject_defects, pick_defect_rows, replace_with
from lakeforge.demo.clock import Window, random_times
from lakeforge.demo.json_text import MISSING, json_objects
from lakeforge.demo.population import customer_ids
from lakeforge.demo.spelling import choose, format_timestamps, vary_case

FIELDS = ("event_id", "customer_id", "event_time", "event_type", "quantity", "device")
FIELD = {name: index for index, name in enumerate(FIELDS)}
EVENT_TYPES = ("call", "data", "sms", "login")
DEVICES = ("android", "ios", "web")
QUARANTINE_RATES = {
    MALFORMED: 0.003,
    "customer_id_present": 0.003,
    "event_type_known": 0.003,
    "quantity_non_negative": 0.003,
}
RESEND_RATE = 0.01  # events the probe sends twice, byte for byte
EVENT_TIME_WEIGHTS = (0.25, 0.6, 0.15, 0.0)  # "yyyy-MM-dd HH:mm:ss", "...T...", "...Z", "...+00:00"


def draw_events(
    rng: np.random.Generator,
    customer_numbers: np.ndarray,
    counts: np.ndarray,
    window: Window,
    first_event: int,
) -> pd.DataFrame:
    """counts[i] events of customer_numbers[i] within `window`, numbered from `first_event`."""
    customers = np.repeat(np.asarray(customer_numbers, dtype=np.int64), counts)
    size = len(customers)
    kind = rng.choice(len(EVENT_TYPES), size=size, p=[0.3, 0.4, 0.2, 0.1])
    quantity = np.select(
        [kind == 0, kind == 1, kind == 2],
        [np.round(rng.gamma(1.5, 4.0, size), 1), np.round(rng.gamma(1.2, 150.0, size), 2), rng.integers(1, 6, size)],
        default=1,  # a login
    )
    return pd.DataFrame(
        {
            "number": np.arange(first_event, first_event + size, dtype=np.int64),
            "customer": customers,
            "event_time": random_times(rng, window[0], window[1], size),
            "event_type": np.asarray(EVENT_TYPES)[kind],
            "quantity": quantity.astype(float),
            "device": np.asarray(DEVICES)[rng.choice(len(DEVICES), size=size, p=[0.5, 0.35, 0.15])],
        }
    )


def render_events(rng: np.random.Generator, events: pd.DataFrame) -> list[list]:
    """Rows of FIELDS as the probe fills them in; no defects."""
    size = len(events)
    quantities = [int(q) if q.is_integer() else q for q in events["quantity"].tolist()]
    quoted = np.flatnonzero(rng.random(size) < 0.1)  # some probes write numbers as strings
    for row in quoted.tolist():
        quantities[row] = str(quantities[row])
    devices = vary_case(rng, events["device"].to_numpy(), 0.2)
    devices[rng.random(size) < 0.05] = MISSING  # missing or null: silver imputes "unknown"
    devices[rng.random(size) < 0.03] = None
    columns = [
        [f"E{number:010d}" for number in events["number"].tolist()],
        vary_case(rng, customer_ids(events["customer"]), 0.02).tolist(),
        format_timestamps(rng, events["event_time"].to_numpy(), EVENT_TIME_WEIGHTS),
        vary_case(rng, events["event_type"].to_numpy(), 0.1).tolist(),
        quantities,
        devices.tolist(),
    ]
    return [list(row) for row in zip(*columns)]


def usage_records(rng: np.random.Generator, events: pd.DataFrame) -> RawBatch:
    """JSON lines for these events: some broken (one defect each), some sent twice; shuffled."""
    rows = RawBatch.clean(render_events(rng, events), events["number"].to_numpy())
    picked = pick_defect_rows(rng, len(rows), {**QUARANTINE_RATES, "resend": RESEND_RATE})
    inject_defects(rng, rows, picked, DEFECTS)
    lines = RawBatch(json_objects(FIELDS, rows.records), rows.keys, rows.reasons, rows.warnings)
    inject_defects(rng, lines, picked, {MALFORMED: _truncate})
    return (lines + lines.take(picked["resend"])).shuffled(rng)


def _truncate(rng: np.random.Generator, line: str) -> str:
    """A line cut off mid-object (the probe crashed while writing): not JSON at all."""
    return line[: rng.integers(10, len(line) - 1)]


def _negative_quantity(rng: np.random.Generator, row: list) -> list:
    row[FIELD["quantity"]] = -abs(float(row[FIELD["quantity"]])) - 1.0
    return row


DEFECTS = {
    "customer_id_present": replace_with(FIELD["customer_id"], (None, None, "", "null")),
    "event_type_known": replace_with(FIELD["event_type"], ("video", "roaming", "mms", "Streaming")),
    "quantity_non_negative": _negative_quantity,
}
