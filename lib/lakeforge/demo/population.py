"""The demo's customers as they really are, before any source system spells them: one row per customer.

Churn is drawn from a logistic model, so a classifier has something to learn: month-to-month contracts,
short tenure, high monthly charges, electronic checks, many support tickets and little usage raise the
odds. Tickets and usage come from a hidden dissatisfaction score that also moves churn.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from lakeforge.demo.clock import DAY, Window, random_times

CONTRACTS = ("Month-to-month", "One year", "Two year")
INTERNET_SERVICES = ("DSL", "Fiber optic", "No")
PAYMENT_METHODS = ("Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)")
TARGET_CHURN_RATE = 0.25
MAX_TENURE = 72  # months

FEMALE_NAMES = (
    "Mary", "Anna", "Sofia", "Emma", "Olivia", "Chloé", "Priya", "Mei", "Fatima", "Laura", "Zoë", "Ingrid",
    "Aisha", "Elena", "Hannah", "Grace", "Yuki", "Lucía", "Nora", "Amara", 'Katherine "Kate"', "Mary-Ann",
)
MALE_NAMES = (
    "John", "James", "Luca", "Mateo", "Noah", "Liam", "Ravi", "Wei", "Omar", "Lars", "José", "Ahmed",
    "David", "Kenji", "Pierre", "Samuel", "Tomás", "Ivan", "Kwame", "Ethan", 'Robert "Bob"', "Jean-Luc",
)
LAST_NAMES = (
    "Smith", "Johnson", "García", "Müller", "Rossi", "Nguyen", "Kim", "Patel", "O'Brien", "Dubois", "Novak",
    "Silva", "Kowalski", "Andersen", "Tanaka", "Okafor", "Cohen", "Fischer", "Lopez", "Brown", "Wilson",
    "Haddad", "Ivanova", "Murphy", "Santos", "Schmidt", "de la Cruz", "van Dijk", "Smith-Jones", "Chen",
    "Martin, Jr.", "Jensen", "Ali", "Moreau", "Bianchi", "Costa",
)
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "proton.me", "example.net", "mail.org")


def customer_ids(numbers: pd.Series | np.ndarray) -> list[str]:
    """The ids source systems know customers by: C and six digits (what silver's customer_id_format checks)."""
    return [f"C{number:06d}" for number in np.asarray(numbers).tolist()]


def draw_customers(
    rng: np.random.Generator, numbers: np.ndarray, as_of: np.datetime64, changed: Window
) -> pd.DataFrame:
    """Customers with these numbers, tenure counted up to `as_of`, last changed within `changed` ([start, end))."""
    frame = pd.DataFrame({"number": np.asarray(numbers, dtype=np.int64)})
    frame = frame.join(_draw_identity(rng, len(frame), frame["number"].to_numpy()))
    frame = frame.join(_draw_plan(rng, len(frame)))
    frame = frame.join(_draw_engagement(rng, frame))
    frame["churn"] = rng.random(len(frame)) < churn_probability(frame)
    frame["signup_date"] = _signup_dates(rng, frame["tenure"].to_numpy(), as_of, changed[1])
    since = np.maximum(frame["signup_date"].to_numpy().astype("M8[s]"), changed[0])
    frame["updated_at"] = random_times(rng, since, changed[1], len(frame))
    return frame


def _draw_identity(rng: np.random.Generator, size: int, numbers: np.ndarray) -> pd.DataFrame:
    female = rng.random(size) < 0.5
    first = np.where(
        female, rng.integers(0, len(FEMALE_NAMES), size), len(FEMALE_NAMES) + rng.integers(0, len(MALE_NAMES), size)
    )
    last = rng.integers(0, len(LAST_NAMES), size)
    first_names, last_names = FIRST_NAMES[first].tolist(), LAST_NAMES_ARRAY[last].tolist()
    mailboxes = zip(FIRST_MAILBOXES[first].tolist(), LAST_MAILBOXES[last].tolist(), (numbers % 97).tolist())
    domains = np.asarray(EMAIL_DOMAINS, dtype=object)[rng.integers(0, len(EMAIL_DOMAINS), size)].tolist()
    return pd.DataFrame(
        {
            "full_name": [f"{f} {l}" for f, l in zip(first_names, last_names)],
            "email": [f"{f}.{l}{n}@{d}" for (f, l, n), d in zip(mailboxes, domains)],
            "gender": np.where(female, "Female", "Male"),
            "senior_citizen": rng.random(size) < 0.16,
            "partner": rng.random(size) < 0.48,
            "dependents": rng.random(size) < 0.30,
        }
    )


def _mailbox(name: str) -> str:
    """The part of a name that goes into an e-mail address: ASCII letters only, lower case."""
    plain = unicodedata.normalize("NFKD", name.split('"')[0].split(",")[0]).lower()
    return "".join(ch for ch in plain if "a" <= ch <= "z")


FIRST_NAMES = np.asarray(FEMALE_NAMES + MALE_NAMES, dtype=object)
FIRST_MAILBOXES = np.asarray([_mailbox(name) for name in FIRST_NAMES], dtype=object)
LAST_NAMES_ARRAY = np.asarray(LAST_NAMES, dtype=object)
LAST_MAILBOXES = np.asarray([_mailbox(name) for name in LAST_NAMES], dtype=object)


def _draw_plan(rng: np.random.Generator, size: int) -> pd.DataFrame:
    contract = rng.choice(3, size=size, p=[0.55, 0.21, 0.24])
    mean_tenure = np.array([14.0, 38.0, 55.0])[contract]
    tenure = np.minimum(rng.gamma(1.6, mean_tenure / 1.6), MAX_TENURE).astype(np.int64)
    internet = rng.choice(3, size=size, p=[0.34, 0.44, 0.22])
    base_charge = np.array([48.0, 82.0, 21.0])[internet]
    monthly = np.round(np.clip(base_charge + rng.normal(0, 11, size), 18.25, 118.75), 2)
    total = np.round(monthly * tenure * rng.uniform(0.94, 1.04, size), 2)
    return pd.DataFrame(
        {
            "tenure": tenure,
            "contract": np.asarray(CONTRACTS)[contract],
            "payment_method": np.asarray(PAYMENT_METHODS)[rng.choice(4, size=size, p=[0.34, 0.23, 0.22, 0.21])],
            "paperless_billing": rng.random(size) < 0.59,
            "internet_service": np.asarray(INTERNET_SERVICES)[internet],
            "monthly_charges": monthly,
            "total_charges": np.where(tenure == 0, np.nan, total),  # nothing billed yet
        }
    )


def _draw_engagement(rng: np.random.Generator, frame: pd.DataFrame) -> pd.DataFrame:
    """Usage (events per 30 days) and support tickets (per 90 days), both driven by dissatisfaction."""
    dissatisfaction = rng.normal(0, 1, len(frame))
    usage_base = frame["internet_service"].map({"DSL": 3.0, "Fiber optic": 4.0, "No": 1.5}).to_numpy()
    usage_rate = usage_base * np.exp(-0.45 * dissatisfaction)
    ticket_rate = 0.7 * np.exp(0.55 * dissatisfaction)
    return pd.DataFrame(
        {
            "dissatisfaction": dissatisfaction,
            "usage_rate": usage_rate,
            "ticket_rate": ticket_rate,
            "usage_events": rng.poisson(usage_rate),  # in the 30 days before day 1's extract
            "tickets": rng.poisson(ticket_rate),  # in the 90 days before day 1's extract
        }
    )


def churn_probability(frame: pd.DataFrame) -> np.ndarray:
    """P(churn) per customer, with the intercept set so the population's mean is TARGET_CHURN_RATE."""
    contract = frame["contract"].to_numpy()
    score = (
        1.0 * (contract == "Month-to-month")
        - 1.0 * (contract == "Two year")
        - 0.035 * frame["tenure"].to_numpy()
        + 0.02 * (frame["monthly_charges"].to_numpy() - 65)
        + 0.45 * (frame["payment_method"].to_numpy() == "Electronic check")
        + 0.3 * frame["senior_citizen"].to_numpy()
        + 0.45 * frame["tickets"].to_numpy()
        - 0.2 * frame["usage_events"].to_numpy()
        + 0.4 * frame["dissatisfaction"].to_numpy()
    )
    low, high = -20.0, 20.0
    for _ in range(50):  # bisection: the mean of a logistic is increasing in its intercept
        middle = (low + high) / 2
        if _sigmoid(score + middle).mean() > TARGET_CHURN_RATE:
            high = middle
        else:
            low = middle
    return _sigmoid(score + low)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _signup_dates(
    rng: np.random.Generator, tenure: np.ndarray, as_of: np.datetime64, latest: np.datetime64
) -> np.ndarray:
    """A day in the month `tenure` months before `as_of`, and before the customer's last change."""
    month = np.datetime64(as_of, "M") - tenure.astype("m8[M]")
    dates = month.astype("M8[D]") + rng.integers(0, 28, len(tenure)).astype("m8[D]")
    return np.minimum(dates, (latest - DAY).astype("M8[D]"))
