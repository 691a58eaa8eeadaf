"""The customers CSV as a CRM export writes it: messy spellings, broken lines, bad values, older duplicates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lakeforge.demo.batch import MALFORMED, RawBatch, inject_defects, pick_defect_rows, replace_with
from lakeforge.demo.clock import DAY, Window, random_times
from lakeforge.demo.population import CONTRACTS, PAYMENT_METHODS, customer_ids
from lakeforge.demo.spelling import (
    choose,
    format_dates,
    format_timestamps,
    pad_some,
    spell_booleans,
    vary_case,
)

HEADER = (
    "customer_id", "full_name", "email", "gender", "senior_citizen", "partner", "dependents", "signup_date",
    "tenure", "contract", "payment_method", "paperless_billing", "internet_service", "monthly_charges",
    "total_charges", "churn", "updated_at",
)
COLUMN = {name: index for index, name in enumerate(HEADER)}

# Share of customers whose row gets each defect (the rule name in conf/customer360.yml it breaks).
QUARANTINE_RATES = {
    MALFORMED: 0.004,
    "customer_id_present": 0.003,
    "customer_id_format": 0.003,
    "cast:tenure": 0.003,
    "tenure_in_range": 0.003,
    "cast:monthly_charges": 0.003,
    "monthly_charges_in_range": 0.003,
    "contract_known": 0.004,
    "churn_label_present": 0.004,
}
WARNING_RATES = {"email_format": 0.01}  # warn-only: the rows are kept
DUPLICATE_RATE = 0.02  # customers also sent in an older version
UPDATED_AT_WEIGHTS = (0.65, 0.2, 0.1, 0.05)  # "yyyy-MM-dd HH:mm:ss", "...T...", "...Z", "...+00:00"
TENURE_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
)


def render_rows(rng: np.random.Generator, customers: pd.DataFrame) -> list[list[str]]:
    """CSV rows for these customers, spelled the many ways a CRM export spells them; no defects."""
    size = len(customers)
    internet = customers["internet_service"].to_numpy(dtype=object).copy()
    internet[(internet == "No") & (rng.random(size) < 0.15)] = ""  # left blank: silver imputes "No"
    total = customers["total_charges"].to_numpy()
    columns = [
        pad_some(rng, vary_case(rng, customer_ids(customers["number"]), 0.04), 0.03),
        pad_some(rng, vary_case(rng, customers["full_name"].to_numpy(), 0.05), 0.02),
        vary_case(rng, customers["email"].to_numpy(), 0.05),
        pad_some(rng, vary_case(rng, customers["gender"].to_numpy(), 0.3), 0.02),
        spell_booleans(rng, customers["senior_citizen"].to_numpy(), (0.1, 0.02, 0.8, 0.04, 0.02, 0.02)),
        spell_booleans(rng, customers["partner"].to_numpy()),
        spell_booleans(rng, customers["dependents"].to_numpy()),
        format_dates(rng, customers["signup_date"].to_numpy()),
        pad_some(rng, customers["tenure"].astype(str).to_numpy(), 0.03),
        pad_some(rng, vary_case(rng, customers["contract"].to_numpy(), 0.3), 0.03),
        vary_case(rng, customers["payment_method"].to_numpy(), 0.3),
        spell_booleans(rng, customers["paperless_billing"].to_numpy()),
        vary_case(rng, internet, 0.2),
        [f"{m:.2f}" for m in customers["monthly_charges"].tolist()],
        [" " if np.isnan(t) else f"{t:.2f}" for t in total.tolist()],  # blank for new customers, as CRMs do
        spell_booleans(rng, customers["churn"].to_numpy()),
        format_timestamps(rng, customers["updated_at"].to_numpy(), UPDATED_AT_WEIGHTS),
    ]
    return [list(row) for row in zip(*columns)]


def customer_records(rng: np.random.Generator, customers: pd.DataFrame, defects: bool = True) -> RawBatch:
    """One row per customer; with `defects`, some broken (one defect each) and older versions of some
    added, shuffled."""
    batch = RawBatch.clean(render_rows(rng, customers), customers["number"].to_numpy())
    if not defects:
        return batch
    picked = pick_defect_rows(rng, len(batch), {**QUARANTINE_RATES, **WARNING_RATES, "duplicate": DUPLICATE_RATE})
    inject_defects(rng, batch, picked, DEFECTS)
    inject_defects(rng, batch, picked, {"email_format": _malform_email}, warn_only=True)
    older = older_versions(rng, customers.iloc[picked["duplicate"]])
    return (batch + RawBatch.clean(render_rows(rng, older), older["number"].to_numpy())).shuffled(rng)


def older_versions(rng: np.random.Generator, customers: pd.DataFrame) -> pd.DataFrame:
    """What the customers looked like 1 to 120 days before their last change (which must win in silver)."""
    older = customers.copy()
    older["updated_at"] = older["updated_at"].to_numpy() - rng.integers(1, 121, len(older)) * DAY
    cheaper = older["monthly_charges"].to_numpy() - rng.choice([5.0, 10.0], len(older))
    older["monthly_charges"] = np.round(np.maximum(cheaper, 18.25), 2)
    older["churn"] = False  # the label flips once a customer leaves
    return older


def updated_versions(rng: np.random.Generator, customers: pd.DataFrame, window: Window) -> pd.DataFrame:
    """New versions of these customers, changed within `window`: new prices, contracts, payment, churn."""
    newer = customers.copy()
    size = len(newer)
    repriced = newer["monthly_charges"].to_numpy() + rng.choice([-10.0, -5.0, 5.0, 10.0], size)
    newer["monthly_charges"] = np.round(np.clip(repriced, 18.25, 118.75), 2)
    upgrade = (newer["contract"].to_numpy() == CONTRACTS[0]) & (rng.random(size) < 0.2)
    newer.loc[upgrade, "contract"] = CONTRACTS[1]
    switch = rng.random(size) < 0.1
    newer.loc[switch, "payment_method"] = choose(rng, PAYMENT_METHODS, (1, 1, 1, 1), int(switch.sum()))
    newer["churn"] = newer["churn"].to_numpy() | (rng.random(size) < 0.1)
    newer["updated_at"] = random_times(rng, window[0], window[1], size)
    return newer


def _break_line(rng: np.random.Generator, row: list[str]) -> list[str]:
    """A line with the wrong number of fields: cut short, or a name with an unquoted comma."""
    if rng.random() < 0.5:
        return row[: rng.integers(3, len(HEADER) - 1)]
    first, _, last = row[COLUMN["full_name"]].strip().partition(" ")
    return row[: COLUMN["full_name"]] + [last, first] + row[COLUMN["full_name"] + 1 :]  # "Smith, John"


def _bad_customer_id(rng: np.random.Generator, row: list[str]) -> list[str]:
    number = int(row[COLUMN["customer_id"]].strip()[1:])
    layouts = (f"C{number:07d}", f"CU{number:06d}", f"C-{number:06d}", f"{number:06d}")
    row[COLUMN["customer_id"]] = layouts[rng.integers(0, len(layouts))]
    return row


def _tenure_in_words(rng: np.random.Generator, row: list[str]) -> list[str]:
    tenure = int(row[COLUMN["tenure"]])
    words = TENURE_WORDS[tenure] if tenure < len(TENURE_WORDS) and rng.random() < 0.7 else f"{tenure} months"
    row[COLUMN["tenure"]] = words
    return row


def _tenure_out_of_range(rng: np.random.Generator, row: list[str]) -> list[str]:
    row[COLUMN["tenure"]] = str(rng.integers(121, 1000)) if rng.random() < 0.8 else str(-rng.integers(1, 10))
    return row


def _charges_not_a_number(rng: np.random.Generator, row: list[str]) -> list[str]:
    amount = row[COLUMN["monthly_charges"]]
    layouts = (amount.replace(".", ","), amount.replace(".", ",")[:-1] + "x", f"${amount}", f"{amount} EUR")
    row[COLUMN["monthly_charges"]] = layouts[rng.integers(0, len(layouts))]
    return row


def _charges_out_of_range(rng: np.random.Generator, row: list[str]) -> list[str]:
    amount = float(row[COLUMN["monthly_charges"]])
    row[COLUMN["monthly_charges"]] = f"-{amount:.2f}" if rng.random() < 0.5 else f"{amount * 100:.2f}"
    return row


def _malform_email(rng: np.random.Generator, row: list[str]) -> list[str]:
    email = row[COLUMN["email"]]
    mailbox, _, domain = email.partition("@")
    without_tld = domain.rsplit(".", 1)[0]
    layouts = (f"{mailbox} at {domain}", f"{mailbox}@{without_tld}", f"{mailbox}@@{domain}", f"{mailbox}{domain}")
    row[COLUMN["email"]] = layouts[rng.integers(0, len(layouts))]
    return row


# Quarantine reason -> how a row gets it. Null-like spellings ("", "NULL", "n/a") are nulls after cleansing.
DEFECTS = {
    MALFORMED: _break_line,
    "customer_id_present": replace_with(COLUMN["customer_id"], ("", "  ", "NULL", "n/a")),
    "customer_id_format": _bad_customer_id,
    "cast:tenure": _tenure_in_words,
    "tenure_in_range": _tenure_out_of_range,
    "cast:monthly_charges": _charges_not_a_number,
    "monthly_charges_in_range": _charges_out_of_range,
    "contract_known": replace_with(COLUMN["contract"], ("Weekly", "Three year", "Prepaid", "Month-to-mnth")),
    "churn_label_present": replace_with(COLUMN["churn"], ("", " ", "N/A", "null")),
}
