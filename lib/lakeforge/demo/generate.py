"""Demo data for the customer-360 pipeline: each day's raw deliveries of the four sources, with known
defects, a learnable churn signal, and a manifest of what the pipeline must make of them.

    landing/customers/customers_0001.csv, landing/usage/usage_0001.jsonl   files the pipeline ingests
    seed_dir/billing.jsonl          rows for PostgreSQL (seed_postgres.load_billing)
    seed_dir/tickets.json           records for the ticket API (api_server.py)
    seed_dir/manifest.json          the DemoManifest
Later days (generate_increment) add customers_000<N>.csv, usage_000<N>.jsonl and seed_dir/*_day<N>.*.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lakeforge.demo.batch import RawBatch
from lakeforge.demo.billing import billing_records, draw_invoices, late_updates
from lakeforge.demo.clock import DAY, FIRST_EXTRACT, change_window, extract_time
from lakeforge.demo.customers import HEADER, customer_records, updated_versions
from lakeforge.demo.files import csv_lines, gc_paused, write_json_list, write_lines
from lakeforge.demo.manifest import DemoManifest, SourceCounts, Tally
from lakeforge.demo.population import draw_customers
from lakeforge.demo.state import DemoState, upsert
from lakeforge.demo.tickets import TICKET_HISTORY_DAYS, draw_tickets, resolved_versions, ticket_records
from lakeforge.demo.usage import draw_events, usage_records

MAX_CUSTOMERS = 999_999  # customer ids are C and six digits
UPDATED_CUSTOMER_SHARE = 0.05  # customers an increment sends a newer version of
CSV_CHUNK = 100_000  # customers per chunk when streaming a large CSV


@dataclass(frozen=True)
class Delivery:
    """One day's records of the four sources, and the true rows behind them (every version they carry)."""

    batches: dict[str, RawBatch]  # customers, usage, billing, tickets
    customers: pd.DataFrame
    invoices: pd.DataFrame
    tickets: pd.DataFrame
    next_numbers: dict[str, int]


@gc_paused()
def generate_demo(landing: Path, seed_dir: Path, customers: int = 2000, seed: int = 7) -> DemoManifest:
    """Day 1, the initial load: `customers` customers with their history. Replaces any earlier demo files."""
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers={customers}: expected 1 to {MAX_CUSTOMERS} (ids are C + six digits)")
    landing, seed_dir = Path(landing), Path(seed_dir)
    _remove_earlier_demo(landing, seed_dir)
    start = DemoState(day=0)
    delivery = _first_day(np.random.default_rng([seed, 1]), start.next_numbers, customers)
    return _deliver(landing, seed_dir, 1, seed, delivery, start)


@gc_paused()
def generate_increment(landing: Path, seed_dir: Path, day: int, new_customers: int, seed: int) -> DemoManifest:
    """Day `day` (2, 3, ...): new customers, newer versions of existing ones, the day's usage, new invoices
    and late changes to old ones, new and resolved tickets. Needs day - 1 generated into the same seed_dir."""
    if day < 2:
        raise ValueError(f"day={day}: increments start at day 2 (day 1 is generate_demo)")
    landing, seed_dir = Path(landing), Path(seed_dir)
    before = DemoState.load(seed_dir, day - 1)
    if before.next_numbers["customer"] + new_customers - 1 > MAX_CUSTOMERS:
        raise ValueError(f"new_customers={new_customers}: ids would pass C{MAX_CUSTOMERS} (ids are C + six digits)")
    delivery = _next_day(np.random.default_rng([seed, day]), before, day, new_customers)
    return _deliver(landing, seed_dir, day, seed, delivery, before)


def _first_day(rng: np.random.Generator, first: dict[str, int], customers: int) -> Delivery:
    window = change_window(1)
    people = draw_customers(rng, np.arange(first["customer"], first["customer"] + customers), FIRST_EXTRACT, window)
    last_month = (window[1] - 30 * DAY, window[1])  # usage_events counts the month before the extract
    numbers, counts = people["number"].to_numpy(), people["usage_events"].to_numpy()
    events = draw_events(rng, numbers, counts, last_month, first["event"])
    invoices = draw_invoices(rng, people, window, first["invoice"])
    tickets = draw_tickets(rng, people, people["tickets"].to_numpy(), window, first["ticket"])
    return Delivery(
        batches={
            "customers": customer_records(rng, people),
            "usage": usage_records(rng, events),
            "billing": billing_records(rng, invoices),
            "tickets": ticket_records(rng, tickets),
        },
        customers=people,
        invoices=invoices,
        tickets=tickets,
        next_numbers=_after(first, customer=customers, event=len(events), invoice=len(invoices), ticket=len(tickets)),
    )


def _next_day(rng: np.random.Generator, before: DemoState, day: int, new_customers: int) -> Delivery:
    window, first = change_window(day), before.next_numbers
    numbers = np.arange(first["customer"], first["customer"] + new_customers)
    newcomers = draw_customers(rng, numbers, extract_time(day), window)
    picked = rng.random(len(before.customers)) < UPDATED_CUSTOMER_SHARE
    changed = updated_versions(rng, before.customers[picked], window)
    active = pd.concat([before.customers, newcomers], ignore_index=True)
    active = active[~active["churn"].to_numpy()]  # customers who left no longer use the service
    daily_usage = rng.poisson(active["usage_rate"].to_numpy() / 30)
    events = draw_events(rng, active["number"].to_numpy(), daily_usage, window, first["event"])
    new_invoices = draw_invoices(rng, newcomers, window, first["invoice"])
    changed_invoices = late_updates(rng, before.invoices, window)
    daily_tickets = rng.poisson(active["ticket_rate"].to_numpy() / TICKET_HISTORY_DAYS)
    new_tickets = draw_tickets(rng, active, daily_tickets, window, first["ticket"])
    changed_tickets = resolved_versions(rng, before.tickets, window)
    batches = {
        "customers": customer_records(rng, newcomers) + customer_records(rng, changed, defects=False),
        "usage": usage_records(rng, events),
        "billing": billing_records(rng, new_invoices) + billing_records(rng, changed_invoices, defects=False),
        "tickets": ticket_records(rng, new_tickets) + ticket_records(rng, changed_tickets, defects=False),
    }
    return Delivery(
        batches={name: batch.shuffled(rng) for name, batch in batches.items()},  # new and changed rows mixed
        customers=pd.concat([changed, newcomers], ignore_index=True),
        invoices=pd.concat([changed_invoices, new_invoices], ignore_index=True),
        tickets=pd.concat([changed_tickets, new_tickets], ignore_index=True),
        next_numbers=_after(
            first, customer=new_customers, event=len(events), invoice=len(new_invoices), ticket=len(new_tickets)
        ),
    )


def _after(first: dict[str, int], **used: int) -> dict[str, int]:
    """The first unused number of each kind once `used` of them have been given out."""
    return {kind: number + used[kind] for kind, number in first.items()}


@gc_paused()
def write_customers_csv(path: Path, rows: int, seed: int) -> SourceCounts:
    """A customers CSV of exactly `rows` data rows for benchmarks, streamed in chunks, with the demo's
    spellings and defects. Past 999,999 customers ids repeat: later rows are further versions of earlier
    customers, in no particular updated_at order. Counts are for loading the file into an empty table."""
    path = Path(path)
    tally = Tally()
    written = chunk = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write(",".join(HEADER) + "\n")
        while written < rows:
            rng = np.random.default_rng([seed, chunk])
            numbers = (chunk * CSV_CHUNK + np.arange(CSV_CHUNK)) % MAX_CUSTOMERS + 1
            people = draw_customers(rng, numbers[: rows - written], FIRST_EXTRACT, change_window(1))
            batch = customer_records(rng, people)
            batch = batch.take(np.arange(min(len(batch), rows - written)))  # older versions add rows
            handle.write("".join(f"{line}\n" for line in csv_lines(batch.records)))
            tally.add(batch)
            written += len(batch)
            chunk += 1
    return tally.counts([path.name], silver_keys=np.empty(0, np.int64))


def _deliver(landing: Path, seed_dir: Path, day: int, seed: int, delivery: Delivery, before: DemoState) -> DemoManifest:
    """Writes the day's files, its manifest and the state silver is in afterwards."""
    files = _write_files(landing, seed_dir, day, delivery.batches)
    batches = delivery.batches
    silver = {"customers": before.customers, "billing": before.invoices, "tickets": before.tickets}
    counts = {}
    for name, table in silver.items():
        counts[name] = Tally().add(batches[name]).counts([files[name]], table["number"].to_numpy())
    # Usage events are never re-sent across days, so silver's row count is all there is to know.
    counts["usage"] = Tally().add(batches["usage"]).counts([files["usage"]], np.empty(0, np.int64), before.usage_rows)
    after = DemoState(
        day=day,
        next_numbers=delivery.next_numbers,
        usage_rows=counts["usage"].expected_silver_rows,
        customers=upsert(before.customers, _valid(delivery.customers, batches["customers"])),
        invoices=upsert(before.invoices, _valid(delivery.invoices, batches["billing"])),
        tickets=upsert(before.tickets, _valid(delivery.tickets, batches["tickets"])),
    )
    after.save(seed_dir)
    manifest = DemoManifest(
        day=day,
        seed=seed,
        extract_time=f"{extract_time(day)}Z",
        sources={name: counts[name] for name in ("customers", "usage", "billing", "tickets")},
        expected_gold_rows=len(after.customers),
        churn_rate=round(float(after.customers["churn"].mean()), 4),
    )
    manifest.write(seed_dir / ("manifest.json" if day == 1 else f"manifest_day{day}.json"))
    return manifest


def _write_files(landing: Path, seed_dir: Path, day: int, batches: dict[str, RawBatch]) -> dict[str, str]:
    """Writes each source's records; returns their paths, relative to `landing` (files) or `seed_dir`."""
    files = {
        "customers": f"customers/customers_{day:04d}.csv",
        "usage": f"usage/usage_{day:04d}.jsonl",
        "billing": "billing.jsonl" if day == 1 else f"billing_day{day}.jsonl",
        "tickets": "tickets.json" if day == 1 else f"tickets_day{day}.json",
    }
    write_lines(landing / files["customers"], [",".join(HEADER), *csv_lines(batches["customers"].records)])
    write_lines(landing / files["usage"], batches["usage"].records)
    write_lines(seed_dir / files["billing"], batches["billing"].records)
    write_json_list(seed_dir / files["tickets"], batches["tickets"].records)
    return files


def _valid(rows: pd.DataFrame, batch: RawBatch) -> pd.DataFrame:
    """The true rows whose key reached silver in `batch`: the latest version of each (older ones lose)."""
    return rows[rows["number"].isin(batch.valid_keys())]


def _remove_earlier_demo(landing: Path, seed_dir: Path) -> None:
    """Deletes the files earlier runs wrote (only those), so a re-run cannot leave a stale day 2 behind."""
    patterns = (
        (landing / "customers", "customers_*.csv"),
        (landing / "usage", "usage_*.jsonl"),
        (seed_dir, "billing*.jsonl"),
        (seed_dir, "tickets*.json"),
        (seed_dir, "manifest*.json"),
    )
    for folder, pattern in patterns:
        for path in folder.glob(pattern):
            path.unlink()
    shutil.rmtree(seed_dir / "state", ignore_errors=True)
