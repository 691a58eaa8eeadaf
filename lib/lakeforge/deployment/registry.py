"""The registered model's aliases: `challenger` (set by training), `champion` (what serves), `previous`
(what the champion replaced, kept for rollback)."""

from __future__ import annotations

from dataclasses import dataclass

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from lakeforge.errors import LakeforgeError

CHALLENGER, CHAMPION, PREVIOUS = "challenger", "champion", "previous"


class RollbackError(LakeforgeError):
    """There is nothing to roll back to."""


@dataclass(frozen=True)
class Aliases:
    challenger: str | None
    champion: str | None
    previous: str | None


class ModelRegistry:
    def __init__(self, model_name: str, client: MlflowClient | None = None):
        self.model_name = model_name
        self.client = client or MlflowClient()

    def version_of(self, alias: str) -> str | None:
        try:
            return str(self.client.get_model_version_by_alias(self.model_name, alias).version)
        except MlflowException as missing:
            if missing.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise

    def aliases(self) -> Aliases:
        return Aliases(self.version_of(CHALLENGER), self.version_of(CHAMPION), self.version_of(PREVIOUS))

    def promote(self, version: str) -> str | None:
        """`champion` -> version; the replaced champion keeps `previous`. Returns the replaced version."""
        replaced = self.version_of(CHAMPION)
        if replaced is not None and replaced != version:
            self.client.set_registered_model_alias(self.model_name, PREVIOUS, replaced)
        self.client.set_registered_model_alias(self.model_name, CHAMPION, version)
        return replaced

    def roll_back(self) -> tuple[str, str | None]:
        """`champion` -> the `previous` version (which loses that alias). Returns (restored, withdrawn)."""
        previous, withdrawn = self.version_of(PREVIOUS), self.version_of(CHAMPION)
        if previous is None:
            raise RollbackError(f"{self.model_name}: no version holds the alias {PREVIOUS!r}; there is nothing to roll back to")
        self.client.set_registered_model_alias(self.model_name, CHAMPION, previous)
        self.client.delete_registered_model_alias(self.model_name, PREVIOUS)
        self._retire_challenger(withdrawn)
        return previous, withdrawn

    def withdraw_champion(self) -> str | None:
        """A first champion that failed its smoke test: no alias is left pointing at it."""
        withdrawn = self.version_of(CHAMPION)
        if withdrawn is not None:
            self.client.delete_registered_model_alias(self.model_name, CHAMPION)
            self._retire_challenger(withdrawn)
        return withdrawn

    def _retire_challenger(self, version: str | None) -> None:
        """A version taken out of service stops being the challenger too: the next run does not promote it
        again, and the recommender's A/B arm does not keep serving it."""
        if version is not None and self.version_of(CHALLENGER) == version:
            self.client.delete_registered_model_alias(self.model_name, CHALLENGER)

    def tag(self, version: str, key: str, value: str) -> None:
        self.client.set_model_version_tag(self.model_name, version, key, value)
