"""Look-alikes of two public CSVs (IBM Telco customer churn, California housing): same columns, same
quirks (Yes/No labels, numbers stored as text with blanks, missing values), a comparable signal."""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import pandas as pd

TELCO_SERVICES = ["OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport", "StreamingTV", "StreamingMovies"]
PAYMENT_METHODS = ["Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"]


def yes_no(flags: np.ndarray) -> np.ndarray:
    return np.where(flags, "Yes", "No")


def customer_ids(rng: np.random.Generator, rows: int) -> list[str]:
    letters = np.array(list(string.ascii_uppercase))
    ids = {f"{rng.integers(1000, 10000)}-{''.join(rng.choice(letters, 5))}" for _ in range(int(rows * 1.1) + 10)}
    return sorted(ids)[:rows] if len(ids) >= rows else customer_ids(rng, rows)


def telco_frame(rows: int = 7043, seed: int = 7) -> pd.DataFrame:
    """Telco-like customers; about 26% churn, driven by contract, tenure, fiber, e-check and support."""
    rng = np.random.default_rng(seed)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], rows, p=[0.55, 0.21, 0.24])
    mean_tenure = np.select([contract == "Month-to-month", contract == "One year"], [16.0, 40.0], 56.0)
    tenure = np.clip(np.rint(rng.gamma(2.0, mean_tenure / 2.0)), 0, 72).astype(int)
    tenure[rng.random(rows) < 0.0016] = 0
    internet = rng.choice(["DSL", "Fiber optic", "No"], rows, p=[0.34, 0.44, 0.22])
    phone = rng.random(rows) < 0.9
    senior = (rng.random(rows) < 0.16).astype(int)
    partner = rng.random(rows) < 0.48
    dependents = rng.random(rows) < np.where(partner, 0.5, 0.1)
    paperless = rng.random(rows) < 0.59
    payment = rng.choice(PAYMENT_METHODS, rows, p=[0.34, 0.23, 0.22, 0.21])
    frame = pd.DataFrame({
        "customerID": customer_ids(rng, rows),
        "gender": rng.choice(["Male", "Female"], rows),
        "SeniorCitizen": senior,
        "Partner": yes_no(partner),
        "Dependents": yes_no(dependents),
        "tenure": tenure,
        "PhoneService": yes_no(phone),
        "MultipleLines": np.where(phone, yes_no(rng.random(rows) < 0.47), "No phone service"),
        "InternetService": internet,
    })
    services = {name: (internet != "No") & (rng.random(rows) < p) for name, p in zip(TELCO_SERVICES, [0.35, 0.44, 0.44, 0.36, 0.49, 0.5])}
    for name, flags in services.items():
        frame[name] = np.where(internet == "No", "No internet service", yes_no(flags))
    monthly = (
        np.where(phone, 20.0, 0.0) + np.select([internet == "DSL", internet == "Fiber optic"], [25.0, 50.0], 0.0)
        + sum(np.where(flags, 10.0 if name.startswith("Streaming") else 5.0, 0.0) for name, flags in services.items())
        + rng.normal(0, 3, rows)
    )
    monthly = np.round(np.clip(monthly, 18.25, 118.75), 2)
    total = np.round(monthly * tenure * rng.normal(1.0, 0.03, rows), 2)
    frame["Contract"] = contract
    frame["PaperlessBilling"] = yes_no(paperless)
    frame["PaymentMethod"] = payment
    frame["MonthlyCharges"] = monthly
    # As in the public file: TotalCharges is text, and a single space for customers with tenure 0.
    frame["TotalCharges"] = np.where(tenure == 0, " ", total.astype(str))
    logit = (
        -1.55
        + np.select([contract == "Month-to-month", contract == "One year"], [1.2, 0.0], -1.3)
        - 0.035 * tenure
        + np.where(internet == "Fiber optic", 0.9, 0.0) - np.where(internet == "No", 0.6, 0.0)
        + np.where(payment == "Electronic check", 0.6, 0.0)
        + np.where(services["TechSupport"], -0.4, 0.0) + np.where(services["OnlineSecurity"], -0.4, 0.0)
        + 0.3 * senior + np.where(paperless, 0.3, 0.0) - np.where(dependents, 0.2, 0.0)
        + 0.01 * (monthly - 65)
        + rng.normal(0, 0.3, rows)
    )
    frame["Churn"] = yes_no(rng.random(rows) < 1 / (1 + np.exp(-logit)))
    return frame


HOUSING_REGIONS = [
    # name, longitude, latitude, spread, share, ocean proximity, price level
    ("los_angeles", -118.3, 34.05, 0.35, 0.30, "<1H OCEAN", 1.45),
    ("bay_area", -122.25, 37.8, 0.25, 0.12, "NEAR BAY", 1.75),
    ("san_diego", -117.15, 32.8, 0.2, 0.08, "NEAR OCEAN", 1.5),
    ("central_coast", -120.6, 35.3, 0.5, 0.06, "NEAR OCEAN", 1.3),
    ("orange_county", -117.85, 33.7, 0.2, 0.12, "<1H OCEAN", 1.6),
    ("central_valley", -119.8, 36.8, 0.8, 0.18, "INLAND", 0.75),
    ("sacramento", -121.4, 38.6, 0.4, 0.08, "INLAND", 0.85),
    ("inland_empire", -117.3, 34.0, 0.4, 0.06, "INLAND", 0.8),
]


def housing_frame(rows: int = 20640, seed: int = 7) -> pd.DataFrame:
    """California-housing-like districts: value from income and location, capped at 500,001; about 1% of
    total_bedrooms missing; ocean_proximity categorical (a handful of ISLAND rows)."""
    rng = np.random.default_rng(seed)
    shares = np.array([region[4] for region in HOUSING_REGIONS])
    region = rng.choice(len(HOUSING_REGIONS), rows, p=shares / shares.sum())
    pick = lambda i: np.array([r[i] for r in HOUSING_REGIONS])[region]  # noqa: E731
    spread = pick(3)
    longitude = np.round(pick(1) + rng.normal(0, 1, rows) * spread, 2)
    latitude = np.round(pick(2) + rng.normal(0, 1, rows) * spread, 2)
    proximity = pick(5).astype(object)
    proximity[rng.choice(rows, 5, replace=False)] = "ISLAND"
    income = np.round(np.clip(rng.lognormal(np.log(3.5), 0.45, rows), 0.5, 15.0001), 4)
    age = np.clip(np.rint(rng.normal(29, 12, rows)), 1, 52).astype(int)
    households = np.maximum(np.rint(rng.lognormal(np.log(420), 0.6, rows)), 1)
    rooms_per_household = np.clip(rng.normal(4.6 + 0.35 * income, 0.9, rows), 1.5, 12)
    total_rooms = np.rint(households * rooms_per_household)
    total_bedrooms = np.rint(total_rooms * np.clip(rng.normal(0.21, 0.03, rows), 0.1, 0.4))
    population = np.rint(households * np.clip(rng.normal(3.0, 0.7, rows), 1.0, 8.0))
    level = np.where(proximity == "ISLAND", 2.2, pick(6))
    # Distance from the region's centre lowers prices (suburbs), more so on the coast.
    distance = np.hypot(longitude - pick(1), latitude - pick(2))
    value = (
        60_000 * income**0.85 * level * np.exp(-0.35 * distance)
        + 800 * (age - 29) * (level > 1)
        + rng.normal(0, 30_000, rows)
    )
    value = np.clip(np.round(value, -2), 14_999, 500_001)
    frame = pd.DataFrame({
        "longitude": longitude, "latitude": latitude, "housing_median_age": age,
        "total_rooms": total_rooms, "total_bedrooms": total_bedrooms, "population": population,
        "households": households, "median_income": income, "median_house_value": value,
        "ocean_proximity": proximity,
    })
    frame.loc[rng.choice(rows, max(1, rows // 100), replace=False), "total_bedrooms"] = np.nan
    return frame


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


SAMPLES = {"telco": telco_frame, "housing": housing_frame}
