"""Where each table and checkpoint lives under the lakehouse root."""

from __future__ import annotations

from dataclasses import dataclass

LAYERS = ("bronze", "silver", "gold", "quarantine", "_system")


@dataclass(frozen=True)
class Lakehouse:
    """Path-based Delta tables: {root}/{layer}/{name}, so any Spark (local, EMR, Databricks) finds them."""

    root: str

    def table(self, layer: str, name: str) -> str:
        if layer not in LAYERS:
            raise ValueError(f"unknown layer '{layer}', expected one of {LAYERS}")
        return f"{self.root}/{layer}/{name}"

    def bronze(self, name: str) -> str:
        return self.table("bronze", name)

    def silver(self, name: str) -> str:
        return self.table("silver", name)

    def gold(self, name: str) -> str:
        return self.table("gold", name)

    def quarantine(self, name: str) -> str:
        return self.table("quarantine", name)

    def system(self, name: str) -> str:
        return self.table("_system", name)

    def checkpoint(self, *parts: str) -> str:
        return "/".join([self.root, "_checkpoints", *parts])
