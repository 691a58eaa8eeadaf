"""What the pipeline must find in a demo delivery: per source, how many records land, are quarantined (and
why), are dropped as duplicates and end up in silver; and the gold table's size and churn rate.

Counts assume the order silver uses: cleanse, then quarantine failing records, then dedupe the rest by key
keeping the latest, then merge into the table (a key already there is updated, not added).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lakeforge.demo.batch import RawBatch


@dataclass(frozen=True)
class SourceCounts:
    """One source in one delivery. Quarantine reasons are rule names from conf/customer360.yml,
    "malformed_record" for records the reader cannot parse, or "cast:<column>" for values of the wrong type."""

    files: list[str]  # what was written, relative to the landing folder (files) or the seed folder (others)
    raw_rows: int  # records delivered, malformed ones included
    expected_quarantined: dict[str, int]  # reason -> records
    expected_warnings: dict[str, int]  # warn-only rule -> records that fail it but are kept
    expected_duplicates: int  # valid records dropped for a later one with the same key in this delivery
    expected_updated: int  # silver rows this delivery replaces (keys silver already holds)
    expected_silver_rows: int  # rows in the silver table once this delivery is merged


@dataclass(frozen=True)
class DemoManifest:
    day: int  # 1: the initial load; 2, 3, ...: the increments
    seed: int
    extract_time: str  # UTC; every change in this delivery happened before it
    sources: dict[str, SourceCounts]  # customers, usage, billing, tickets
    expected_gold_rows: int  # distinct valid customers: silver customers after this delivery
    churn_rate: float  # share of those customers whose (latest) churn label is true

    def to_dict(self) -> dict:
        return asdict(self)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def read(cls, path: Path) -> DemoManifest:
        data = json.loads(Path(path).read_text())
        data["sources"] = {name: SourceCounts(**counts) for name, counts in data["sources"].items()}
        return cls(**data)


class Tally:
    """Adds up the labels of one source's records, delivered in one batch or streamed in chunks."""

    def __init__(self) -> None:
        self.raw_rows = 0
        self.valid_rows = 0
        self.quarantined: Counter[str] = Counter()
        self.warnings: Counter[str] = Counter()
        self._valid_keys: list[np.ndarray] = []

    def add(self, batch: RawBatch) -> Tally:
        self.raw_rows += len(batch)
        self.quarantined.update(batch.reasons[batch.reasons != None].tolist())  # noqa: E711
        self.warnings.update(batch.warnings[batch.warnings != None].tolist())  # noqa: E711
        self.valid_rows += int((batch.reasons == None).sum())  # noqa: E711
        self._valid_keys.append(batch.valid_keys())
        return self

    def counts(self, files: list[str], silver_keys: np.ndarray, silver_rows: int | None = None) -> SourceCounts:
        """Counts once merged into a silver table holding `silver_keys` (or, for append-only sources whose
        keys are never re-sent, only `silver_rows` rows, with `silver_keys` empty)."""
        new_keys = np.unique(np.concatenate(self._valid_keys)) if self._valid_keys else np.empty(0, np.int64)
        updated = int(np.isin(new_keys, silver_keys).sum())
        before = len(silver_keys) if silver_rows is None else silver_rows
        return SourceCounts(
            files=files,
            raw_rows=self.raw_rows,
            expected_quarantined=dict(sorted(self.quarantined.items())),
            expected_warnings=dict(sorted(self.warnings.items())),
            expected_duplicates=self.valid_rows - len(new_keys),
            expected_updated=updated,
            expected_silver_rows=before + len(new_keys) - updated,
        )
