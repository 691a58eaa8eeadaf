"""One delivery of a source's records, each labelled with what the pipeline must do with it.

The labels are set where a record is made, so the manifest's counts come from construction, not from
reading the files back. A record carries at most one defect, so its quarantine reason is unambiguous.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

# Reason of records the reader cannot split into the source's columns (bad CSV line, broken JSON).
MALFORMED = "malformed_record"


@dataclass(frozen=True)
class RawBatch:
    """Records in delivery order, with per record: the key it stands for, its quarantine reason (None: it
    reaches silver) and the warn-only rule it fails (None: none; such records are kept)."""

    records: list[Any]
    keys: np.ndarray
    reasons: np.ndarray
    warnings: np.ndarray

    @classmethod
    def clean(cls, records: list[Any], keys: np.ndarray) -> RawBatch:
        empty = np.full(len(records), None, dtype=object)
        return cls(records, np.asarray(keys, dtype=np.int64), empty, empty.copy())

    def __len__(self) -> int:
        return len(self.records)

    def __add__(self, other: RawBatch) -> RawBatch:
        return RawBatch(
            self.records + other.records,
            np.concatenate([self.keys, other.keys]),
            np.concatenate([self.reasons, other.reasons]),
            np.concatenate([self.warnings, other.warnings]),
        )

    def take(self, rows: np.ndarray) -> RawBatch:
        return RawBatch([self.records[i] for i in rows], self.keys[rows], self.reasons[rows], self.warnings[rows])

    def shuffled(self, rng: np.random.Generator) -> RawBatch:
        """The same records in random order: sources deliver neither sorted nor grouped by key."""
        return self.take(rng.permutation(len(self)))

    def valid_keys(self) -> np.ndarray:
        """Distinct keys of the records that reach silver."""
        return np.unique(self.keys[self.reasons == None])  # noqa: E711 (elementwise on an object array)


def pick_defect_rows(rng: np.random.Generator, size: int, rates: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Disjoint random row numbers per defect, round(size * rate) each: no row gets two defects."""
    counts = [round(size * rate) for rate in rates.values()]
    if sum(counts) > size:
        raise ValueError(f"defect rates {dict(rates)} add up to more than the {size} rows they apply to")
    chosen = rng.permutation(size)[: sum(counts)]
    return dict(zip(rates, np.split(chosen, np.cumsum(counts)[:-1])))


def replace_with(column: int, values: tuple[Any, ...]) -> Callable[[np.random.Generator, list], list]:
    """A defect that sets a row's value at `column` to one of `values`."""

    def defect(rng: np.random.Generator, row: list) -> list:
        row[column] = values[rng.integers(0, len(values))]
        return row

    return defect


def inject_defects(
    rng: np.random.Generator,
    batch: RawBatch,
    rows: Mapping[str, np.ndarray],
    defects: Mapping[str, Callable[[np.random.Generator, Any], Any]],
    *,
    warn_only: bool = False,
) -> None:
    """Replaces each record at rows[name] with defects[name](rng, record) (which may edit it in place) and
    labels it `name`: as its quarantine reason, or with `warn_only` as the warn-only rule it fails."""
    labels = batch.warnings if warn_only else batch.reasons
    for name, defect in defects.items():
        for row in rows[name]:
            batch.records[row] = defect(rng, batch.records[row])
        labels[rows[name]] = name
