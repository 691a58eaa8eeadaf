"""Invoices as the billing system's PostgreSQL table holds them: one a customer a month, paid or not.

Records are JSON lines of the table's typed columns; seed_postgres.load_billing upserts them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lakeforge.demo.batch import RawBatch, inject_defects, pick_defect_rows
from lakeforge.demo.clock import DAY, HOUR, Window, random_times
from lakeforge.demo.json_text import json_objects
from lakeforge.demo.population import customer_ids
from lakeforge.demo.spelling import vary_case

FIELDS = ("invoice_id", "customer_id", "billing_month", "amount", "paid", "updated_at")
AMOUNT = FIELDS.index("amount")
QUARANTINE_RATES = {"amount_in_range": 0.002}  # credit notes booked as negative invoices
MONTHS_BILLED = 3  # day 1 carries the last three months of invoices


def draw_invoices(
    rng: np.random.Generator, customers: pd.DataFrame, window: Window, first_invoice: int
) -> pd.DataFrame:
    """Invoices of the last months (up to MONTHS_BILLED, fewer for newer customers) issued within `window`."""
    months_billed = np.minimum(customers["tenure"].to_numpy() + 1, MONTHS_BILLED)
    owner = np.repeat(np.arange(len(customers)), months_billed)
    months_ago = np.arange(len(owner)) - np.repeat(np.cumsum(months_billed) - months_billed, months_billed)
    month = (np.datetime64(window[1], "M") - months_ago.astype("m8[M]")).astype("M8[D]")
    issued = month.astype("M8[s]") + DAY + (rng.random(len(owner)) * (12 * HOUR).astype(np.int64)).astype("m8[s]")
    late = issued < window[0]  # invoices of customers new to this delivery arrive within its window
    issued[late] = random_times(rng, window[0], window[1], int(late.sum()))
    churned = customers["churn"].to_numpy()[owner]
    paid_share = np.where(months_ago > 0, np.where(churned, 0.9, 0.97), np.where(churned, 0.45, 0.6))
    paid = rng.random(len(owner)) < paid_share
    paid_at = random_times(rng, issued, np.datetime64(window[1], "s"), len(owner))
    monthly = customers["monthly_charges"].to_numpy()[owner]
    return pd.DataFrame(
        {
            "number": np.arange(first_invoice, first_invoice + len(owner), dtype=np.int64),
            "customer": customers["number"].to_numpy()[owner],
            "billing_month": month,
            "amount": np.round(monthly * rng.uniform(0.97, 1.03, len(owner)), 2),
            "paid": paid,
            "updated_at": np.where(paid, np.minimum(paid_at, issued + 20 * DAY), issued),
        }
    )


def billing_records(rng: np.random.Generator, invoices: pd.DataFrame, defects: bool = True) -> RawBatch:
    """Table rows for these invoices (customer ids as typed by clerks); with `defects`, a few negative amounts."""
    columns = [
        invoices["number"].tolist(),
        vary_case(rng, customer_ids(invoices["customer"]), 0.02).tolist(),
        np.datetime_as_string(invoices["billing_month"].to_numpy().astype("M8[D]"), unit="D").tolist(),
        invoices["amount"].tolist(),
        invoices["paid"].tolist(),
        [t.replace("T", " ") for t in np.datetime_as_string(invoices["updated_at"].to_numpy(), unit="s").tolist()],
    ]
    rows = RawBatch.clean([list(row) for row in zip(*columns)], invoices["number"].to_numpy())
    if defects:
        picked = pick_defect_rows(rng, len(rows), QUARANTINE_RATES)
        inject_defects(rng, rows, picked, {"amount_in_range": _negative_amount})
    return RawBatch(json_objects(FIELDS, rows.records), rows.keys, rows.reasons, rows.warnings)


def late_updates(rng: np.random.Generator, invoices: pd.DataFrame, window: Window) -> pd.DataFrame:
    """Changes to existing invoices within `window`: a quarter of the unpaid ones paid, 1% credited."""
    unpaid = ~invoices["paid"].to_numpy()
    pay = unpaid & (rng.random(len(invoices)) < 0.25)
    credit = ~pay & (rng.random(len(invoices)) < 0.01)
    changed = invoices[pay | credit].copy()
    credited = credit[pay | credit]
    changed.loc[~credited, "paid"] = True
    amounts = changed["amount"].to_numpy()
    changed["amount"] = np.where(credited, np.round(amounts * rng.uniform(0.8, 0.95, len(changed)), 2), amounts)
    changed["updated_at"] = random_times(rng, window[0], window[1], len(changed))
    return changed


def _negative_amount(rng: np.random.Generator, row: list) -> list:
    row[AMOUNT] = -row[AMOUNT]
    return row
