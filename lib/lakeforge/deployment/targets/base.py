"""What a deployment target does: put a version live, prove it answers correctly, or take it down."""

from __future__ import annotations

from typing import Protocol

from lakeforge.deployment.config import SmokeCase


class Target(Protocol):
    name: str

    def deploy(self, version: str) -> dict[str, str]:
        """Make `version` the one that serves (idempotent); returns where it went."""

    def smoke_test(self, version: str, cases: list[SmokeCase]) -> list[str]:
        """Score the cases through what is deployed; the reasons it failed (empty: it passed)."""

    def withdraw(self) -> None:
        """Stop serving anything: a first version failed and there is no earlier one to go back to."""
