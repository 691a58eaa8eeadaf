"""What silver holds after each demo day, saved beside the seeds so the next day's delivery can change it.

One folder per day (seed_dir/state/day<N>), so re-generating day N from day N-1 gives the same files again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

TABLES = ("customers", "invoices", "tickets")
FIRST_NUMBERS = {"customer": 1, "event": 1, "invoice": 100_001, "ticket": 1}  # invoices look like 100001


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame({"number": pd.Series(dtype="int64")})


@dataclass(frozen=True)
class DemoState:
    day: int  # 0: before the initial load
    next_numbers: dict[str, int] = field(default_factory=lambda: dict(FIRST_NUMBERS))
    usage_rows: int = 0  # silver usage rows; events are never re-sent across days, so no keys are kept
    # The true values of the latest valid version of each row in silver:
    customers: pd.DataFrame = field(default_factory=_empty_table)
    invoices: pd.DataFrame = field(default_factory=_empty_table)
    tickets: pd.DataFrame = field(default_factory=_empty_table)

    def save(self, seed_dir: Path) -> None:
        folder = _folder(seed_dir, self.day)
        folder.mkdir(parents=True, exist_ok=True)
        for table in TABLES:
            getattr(self, table).to_parquet(folder / f"{table}.parquet", index=False)
        counters = {"day": self.day, "next_numbers": self.next_numbers, "usage_rows": self.usage_rows}
        (folder / "counters.json").write_text(json.dumps(counters, indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, seed_dir: Path, day: int) -> DemoState:
        folder = _folder(seed_dir, day)
        if not (folder / "counters.json").is_file():
            raise FileNotFoundError(
                f"no demo state for day {day} in {folder}: generate day {day} first "
                f"({'generate_demo' if day == 1 else 'generate_increment'}), with the same seed_dir"
            )
        counters = json.loads((folder / "counters.json").read_text())
        tables = {table: pd.read_parquet(folder / f"{table}.parquet") for table in TABLES}
        return cls(**counters, **tables)


def upsert(table: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """`table` with `rows` added, replacing the rows that have the same number."""
    kept = table[~table["number"].isin(rows["number"])]
    frames = [frame for frame in (kept, rows) if len(frame)] or [kept]  # concat warns about empty frames
    return pd.concat(frames, ignore_index=True).sort_values("number", ignore_index=True)


def _folder(seed_dir: Path, day: int) -> Path:
    return Path(seed_dir) / "state" / f"day{day}"
