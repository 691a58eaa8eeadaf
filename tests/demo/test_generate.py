"""The demo generator's manifest, checked against counts made independently from the written files.

The checks parse the files with the csv and json modules and apply conf/customer360.yml's rules in plain
Python (cleansing as ColumnRule's defaults: trim, null-like strings, case-insensitive booleans), so a
manifest that miscounts, or a "messy but valid" value that cleansing would reject, fails here.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from lakeforge.demo.generate import generate_demo, generate_increment, write_customers_csv
from lakeforge.demo.manifest import DemoManifest

ROOT = Path(__file__).resolve().parents[2]
CONF = yaml.safe_load((ROOT / "conf" / "customer360.yml").read_text())
NULLS = {"", "null", "none", "n/a", "na"}
TRUE, FALSE = {"yes", "y", "true", "t", "1"}, {"no", "n", "false", "f", "0"}
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d")  # the conf's yyyy-MM-dd, MM/dd/yyyy, ...
TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z")
INTEGER = re.compile(r"[+-]?[0-9]+")
CUSTOMERS = 2000


def rules(table: str) -> dict[str, dict]:
    return {rule["name"]: rule["kwargs"] for rule in CONF["silver"][table]["expectations"]}


def clean(value: object) -> str | None:
    """A raw value after the default ColumnRule: text, trimmed, null-like strings as None."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text.lower() in NULLS else text


def parse_timestamp(text: str) -> datetime | None:
    for layout in TIMESTAMP_FORMATS:
        try:
            parsed = datetime.strptime(text, layout)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)  # the session time zone is UTC
    return None


def parse_date(text: str) -> bool:
    for layout in DATE_FORMATS:
        try:
            datetime.strptime(text, layout)
            return True
        except ValueError:
            pass
    return False


def is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def in_range(value: float, kwargs: dict) -> bool:
    return kwargs.get("min_value", float("-inf")) <= value <= kwargs.get("max_value", float("inf"))


def lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def in_set(value: str | None, kwargs: dict) -> bool:
    """expect_column_values_to_be_in_set on one (case-ruled) value: nulls pass, as in Great Expectations."""
    return value is None or value in kwargs["value_set"]


def customer_failures(fields: list[str]) -> list[str]:
    """Every reason this CSV row fails (quarantine reasons and the warn-only email_format)."""
    columns = list(CONF["sources"]["customers"]["schema"])
    if len(fields) != len(columns):
        return ["malformed_record"]
    row = {name: clean(value) for name, value in zip(columns, fields)}
    check = rules("customers")
    failures = []
    if row["customer_id"] is None:
        failures.append("customer_id_present")
    elif not re.search(check["customer_id_format"]["regex"], row["customer_id"].upper()):
        failures.append("customer_id_format")
    if row["tenure"] is None:
        failures.append("null:tenure")  # no rule catches it: the generator must never write one
    elif not INTEGER.fullmatch(row["tenure"]):
        failures.append("cast:tenure")
    elif not in_range(int(row["tenure"]), check["tenure_in_range"]):
        failures.append("tenure_in_range")
    if row["monthly_charges"] is None:
        failures.append("null:monthly_charges")
    elif not is_number(row["monthly_charges"]):
        failures.append("cast:monthly_charges")
    elif not in_range(float(row["monthly_charges"]), check["monthly_charges_in_range"]):
        failures.append("monthly_charges_in_range")
    if not in_set(row["contract"] and row["contract"].title(), check["contract_known"]):
        failures.append("contract_known")
    if row["churn"] is None:
        failures.append("churn_label_present")
    if row["email"] is not None and not re.search(check["email_format"]["regex"], row["email"].lower()):
        failures.append("email_format")
    return failures + untyped_values(row)


def untyped_values(row: dict[str, str | None]) -> list[str]:
    """cast:<column> for typed columns whose value would not parse: messiness must never cause these."""
    failures = [f"cast:{c}" for c in ("senior_citizen", "partner", "dependents", "paperless_billing", "churn")
                if row[c] is not None and row[c].lower() not in TRUE | FALSE]
    if row["signup_date"] is not None and not parse_date(row["signup_date"]):
        failures.append("cast:signup_date")
    if row["total_charges"] is not None and not is_number(row["total_charges"]):
        failures.append("cast:total_charges")
    if row["updated_at"] is None or parse_timestamp(row["updated_at"]) is None:
        failures.append("cast:updated_at")
    return failures


def read_customers(path: Path) -> tuple[list[str], list[tuple[list[str], list[str]]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return header, [(fields, customer_failures(fields)) for fields in rows]


def latest_valid_customers(rows: list[tuple[list[str], list[str]]]) -> dict[str, tuple[datetime, bool]]:
    """customer_id -> (updated_at, churn) of the newest version among rows that reach silver."""
    columns = list(CONF["sources"]["customers"]["schema"])
    latest: dict[str, tuple[datetime, bool]] = {}
    for fields, failures in rows:
        if set(failures) - {"email_format"}:
            continue
        row = {name: clean(value) for name, value in zip(columns, fields)}
        key, updated = row["customer_id"].upper(), parse_timestamp(row["updated_at"])
        assert key not in latest or latest[key][0] != updated, f"{key}: two versions with one updated_at"
        if key not in latest or updated > latest[key][0]:
            latest[key] = (updated, row["churn"].lower() in TRUE)
    return latest


def quarantine_counts(failures: list[list[str]]) -> dict[str, int]:
    return dict(Counter(reason for reasons in failures for reason in reasons if reason != "email_format"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, DemoManifest, DemoManifest]:
    root = tmp_path_factory.mktemp("demo")
    landing, seeds = root / "landing", root / "seeds"
    day1 = generate_demo(landing, seeds, customers=CUSTOMERS, seed=7)
    day2 = generate_increment(landing, seeds, day=2, new_customers=300, seed=7)
    return landing, seeds, day1, day2


def test_same_seed_writes_identical_files_and_another_seed_does_not(demo, tmp_path: Path):
    landing, seeds, _, _ = demo
    generate_demo(tmp_path / "landing", tmp_path / "seeds", customers=CUSTOMERS, seed=7)
    generate_increment(tmp_path / "landing", tmp_path / "seeds", day=2, new_customers=300, seed=7)
    for original in (landing, seeds):
        copy = tmp_path / original.name
        files = sorted(p.relative_to(original) for p in original.rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(copy) for p in copy.rglob("*") if p.is_file())
        for name in files:
            assert (original / name).read_bytes() == (copy / name).read_bytes(), name

    other = tmp_path / "other"
    generate_demo(other / "landing", other / "seeds", customers=CUSTOMERS, seed=8)
    for name in ("customers/customers_0001.csv", "usage/usage_0001.jsonl"):
        assert (landing / name).read_bytes() != (other / "landing" / name).read_bytes(), name
    for name in ("billing.jsonl", "tickets.json"):
        assert (seeds / name).read_bytes() != (other / "seeds" / name).read_bytes(), name


def test_manifest_file_is_the_returned_manifest(demo):
    _, seeds, day1, day2 = demo
    assert DemoManifest.read(seeds / "manifest.json") == day1
    assert DemoManifest.read(seeds / "manifest_day2.json") == day2


def test_customers_counts_match_the_csv(demo):
    landing, _, day1, _ = demo
    header, rows = read_customers(landing / "customers" / "customers_0001.csv")
    counts = day1.sources["customers"]
    assert header == list(CONF["sources"]["customers"]["schema"])
    assert counts.raw_rows == len(rows)
    assert all(len(failures) <= 1 for _, failures in rows), "a row carries two defects"
    assert quarantine_counts([f for _, f in rows]) == counts.expected_quarantined
    kinds = {"malformed_record", "cast:tenure", "cast:monthly_charges", "tenure_in_range", "contract_known"}
    assert kinds <= set(counts.expected_quarantined)
    assert sum("email_format" in f for _, f in rows) == counts.expected_warnings["email_format"] > 0

    latest = latest_valid_customers(rows)
    valid_rows = sum(not set(f) - {"email_format"} for _, f in rows)
    assert counts.expected_duplicates == valid_rows - len(latest) > 0
    assert counts.expected_silver_rows == day1.expected_gold_rows == len(latest)
    assert day1.churn_rate == pytest.approx(sum(churn for _, churn in latest.values()) / len(latest), abs=1e-4)
    assert 0.2 <= day1.churn_rate <= 0.3


def test_messy_values_are_present_and_clean_up(demo):
    """The variety cleansing must absorb is really there (and, per the test above, never quarantined)."""
    landing, _, _, _ = demo
    columns = list(CONF["sources"]["customers"]["schema"])
    with (landing / "customers" / "customers_0001.csv").open(newline="", encoding="utf-8") as handle:
        rows = [dict(zip(columns, fields)) for fields in list(csv.reader(handle))[1:] if len(fields) == len(columns)]
    values = {name: {row[name] for row in rows} for name in columns}
    assert any(v != v.strip() for v in values["customer_id"])
    assert {"Month-to-month", "month-to-month", "MONTH-TO-MONTH"} <= {v.strip() for v in values["contract"]}
    assert {"Yes", "No", "yes", "1", "0", "True"} <= values["partner"] | values["dependents"] | values["churn"]
    assert " " in values["total_charges"] and "" in values["internet_service"]
    for layout in (r"\d{4}-\d\d-\d\d", r"\d\d/\d\d/\d{4}", r"\d\d\.\d\d\.\d{4}", r"\d{4}/\d\d/\d\d"):
        assert any(re.fullmatch(layout, v) for v in values["signup_date"]), layout
    assert any('"' in v for v in values["full_name"]) and any("," in v for v in values["full_name"])


def test_usage_counts_match_the_json_lines(demo):
    landing, _, day1, _ = demo
    counts = day1.sources["usage"]
    lines = (landing / "usage" / "usage_0001.jsonl").read_text().splitlines()
    check = rules("usage")
    failures, valid_ids = [], []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            failures.append(["malformed_record"])
            continue
        row = {name: clean(record.get(name)) for name in CONF["sources"]["usage"]["schema"]}
        reasons = [name for name, bad in (
            ("event_id_present", row["event_id"] is None),
            ("customer_id_present", row["customer_id"] is None),
            ("event_time_valid", row["event_time"] is None or parse_timestamp(row["event_time"]) is None),
            ("event_type_known", not in_set(lower(row["event_type"]), check["event_type_known"])),
            ("cast:quantity", row["quantity"] is not None and not is_number(row["quantity"])),
        ) if bad]
        if not reasons and not in_range(float(row["quantity"]), check["quantity_non_negative"]):
            reasons.append("quantity_non_negative")
        failures.append(reasons)
        if not reasons:
            valid_ids.append(row["event_id"])
    assert counts.raw_rows == len(lines)
    assert all(len(reasons) <= 1 for reasons in failures)
    assert quarantine_counts(failures) == counts.expected_quarantined
    kinds = {"malformed_record", "customer_id_present", "event_type_known", "quantity_non_negative"}
    assert set(counts.expected_quarantined) == kinds
    assert counts.expected_duplicates == len(valid_ids) - len(set(valid_ids)) > 0
    assert counts.expected_silver_rows == len(set(valid_ids))
    assert any('"device"' not in line for line in lines) and any('"device": null' in line for line in lines)


def billing_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_billing_counts_match_the_rows(demo):
    _, seeds, day1, _ = demo
    rows = billing_rows(seeds / "billing.jsonl")
    counts = day1.sources["billing"]
    amount_range = rules("billing")["amount_in_range"]
    bad = [row for row in rows if not in_range(row["amount"], amount_range)]
    assert counts.raw_rows == len(rows)
    assert counts.expected_quarantined == {"amount_in_range": len(bad)} and bad
    assert all(clean(row["customer_id"]) for row in rows)
    valid = {row["invoice_id"] for row in rows} - {row["invoice_id"] for row in bad}
    assert counts.expected_silver_rows == len(valid) == len(rows) - len(bad)
    for row in rows:
        assert re.fullmatch(r"\d{4}-\d\d-01", row["billing_month"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["updated_at"])
        assert round(row["amount"], 2) == row["amount"] and isinstance(row["paid"], bool)


def ticket_failures(record: dict) -> list[str]:
    assert all(value is None or isinstance(value, str) for value in record.values()), record
    assert set(record) == set(CONF["sources"]["tickets"]["record_schema"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["updated_at"])  # the API compares it as a string
    assert parse_timestamp(record["created_at"]) is not None
    check = rules("tickets")
    row = {name: clean(value) for name, value in record.items()}
    rating = row["satisfaction"] and int(row["satisfaction"])
    return [name for name, bad in (
        ("ticket_id_present", row["ticket_id"] is None),
        ("customer_id_present", row["customer_id"] is None),
        ("priority_known", not in_set(lower(row["priority"]), check["priority_known"])),
        ("satisfaction_in_range", rating is not None and not in_range(rating, check["satisfaction_in_range"])),
    ) if bad]


def test_ticket_counts_match_the_records(demo):
    _, seeds, day1, _ = demo
    records = json.loads((seeds / "tickets.json").read_text())
    counts = day1.sources["tickets"]
    failures = [ticket_failures(record) for record in records]
    assert counts.raw_rows == len(records)
    assert all(len(reasons) <= 1 for reasons in failures)
    assert quarantine_counts(failures) == counts.expected_quarantined
    assert set(counts.expected_quarantined) == {"priority_known", "customer_id_present", "satisfaction_in_range"}
    assert counts.expected_silver_rows == sum(not reasons for reasons in failures)


def test_churn_is_learnable_from_contract(demo):
    landing, _, _, _ = demo
    columns = list(CONF["sources"]["customers"]["schema"])
    _, rows = read_customers(landing / "customers" / "customers_0001.csv")
    by_contract: dict[str, list[bool]] = {}
    for fields, failures in rows:
        if not failures:
            row = {name: clean(value) for name, value in zip(columns, fields)}
            by_contract.setdefault(row["contract"].title(), []).append(row["churn"].lower() in TRUE)
    rate = {contract: sum(churn) / len(churn) for contract, churn in by_contract.items()}
    assert rate["Month-To-Month"] > 2 * rate["Two Year"]


def test_increment_updates_customers_with_newer_versions(demo):
    landing, _, day1, day2 = demo
    _, rows1 = read_customers(landing / "customers" / "customers_0001.csv")
    _, rows2 = read_customers(landing / "customers" / "customers_0002.csv")
    before, delivered = latest_valid_customers(rows1), latest_valid_customers(rows2)
    counts = day2.sources["customers"]
    updated = set(before) & set(delivered)
    assert counts.raw_rows == len(rows2)
    assert quarantine_counts([f for _, f in rows2]) == counts.expected_quarantined
    assert counts.expected_updated == len(updated) > 0
    assert all(delivered[key][0] > before[key][0] for key in updated)
    merged = {**before, **delivered}
    assert counts.expected_silver_rows == day2.expected_gold_rows == len(merged)
    assert day2.churn_rate == pytest.approx(sum(churn for _, churn in merged.values()) / len(merged), abs=1e-4)
    assert day1.extract_time < day2.extract_time


def test_increment_brings_new_and_changed_invoices_and_tickets(demo):
    _, seeds, day1, day2 = demo
    old = {row["invoice_id"]: row for row in billing_rows(seeds / "billing.jsonl")}
    new = billing_rows(seeds / "billing_day2.jsonl")
    changed = [row for row in new if row["invoice_id"] in old]
    assert day2.sources["billing"].raw_rows == len(new)
    assert day2.sources["billing"].expected_updated == len(changed) > 0
    assert len(new) > len(changed)
    for row in changed:
        previous = old[row["invoice_id"]]
        assert row["updated_at"] > max(r["updated_at"] for r in old.values())
        assert (row["amount"], row["paid"]) != (previous["amount"], previous["paid"])
    valid_new = {row["invoice_id"] for row in new if row["amount"] >= 0}
    added = len(valid_new - set(old))
    assert day2.sources["billing"].expected_silver_rows == day1.sources["billing"].expected_silver_rows + added

    old_tickets = {r["ticket_id"]: r for r in json.loads((seeds / "tickets.json").read_text())}
    new_tickets = json.loads((seeds / "tickets_day2.json").read_text())
    resolved = [r for r in new_tickets if r["ticket_id"] in old_tickets]
    assert day2.sources["tickets"].expected_updated == len(resolved) > 0
    assert all(old_tickets[r["ticket_id"]]["status"].lower() in {"open", "pending"} for r in resolved)
    assert min(r["updated_at"] for r in new_tickets) > max(r["updated_at"] for r in old_tickets.values())


def test_increment_needs_the_previous_day(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="day 1"):
        generate_increment(tmp_path / "landing", tmp_path / "seeds", day=2, new_customers=10, seed=7)


def test_large_csv_has_exact_rows_and_counts(tmp_path: Path):
    path = tmp_path / "customers.csv"
    counts = write_customers_csv(path, rows=25_000, seed=3)
    _, rows = read_customers(path)
    assert counts.raw_rows == len(rows) == 25_000
    assert all(len(failures) <= 1 for _, failures in rows)
    assert quarantine_counts([f for _, f in rows]) == counts.expected_quarantined
    latest = latest_valid_customers(rows)
    assert counts.expected_silver_rows == len(latest)
