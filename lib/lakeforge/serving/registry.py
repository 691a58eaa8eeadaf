"""The served models: one per A/B arm, following the registered model's `champion` and `challenger`
aliases (or one exported folder or S3 archive), swapped in place so no request sees a half-loaded model."""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from lakeforge.archives import fetch_model_url
from lakeforge.recommendations.artifact import FactorModel, find_artifact
from lakeforge.recommendations.config import VARIANTS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedModel:
    variant: str
    version: str
    model: FactorModel

    @property
    def data_until(self) -> datetime | None:
        value = self.model.metadata.get("data_until")
        if not value:
            return None
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # Spark's timestamps are UTC here


class ModelSlots:
    """variant -> ServedModel. Readers take a reference; a reload replaces it (an atomic assignment)."""

    def __init__(self, on_change: Callable[[ModelSlots], None] = lambda slots: None) -> None:
        self._served: dict[str, ServedModel] = {}
        self._on_change = on_change

    def put(self, served: ServedModel) -> None:
        self._served = {**self._served, served.variant: served}
        self._on_change(self)

    def drop(self, variant: str) -> None:
        """The arm's alias is gone (a rolled-back or withdrawn version): its users go to the other arm."""
        self._served = {name: served for name, served in self._served.items() if name != variant}
        self._on_change(self)

    def for_variant(self, variant: str) -> ServedModel | None:
        """The arm's model, or the other arm's while this one has none (e.g. only a challenger is registered)."""
        served = self._served
        return served.get(variant) or next(iter(served.values()), None)

    def versions(self) -> dict[str, str]:
        return {variant: served.version for variant, served in self._served.items()}

    def all(self) -> list[ServedModel]:
        return list(self._served.values())


ABSENT = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")  # what MLflow answers for a missing alias or model


def registered_versions(client: MlflowClient, name: str) -> dict[str, str]:
    """alias -> version for the A/B aliases the registered model has (any other registry error raises,
    so a hiccup never reads as an alias removed)."""
    versions = {}
    for alias in VARIANTS:
        try:
            versions[alias] = str(client.get_model_version_by_alias(name, alias).version)
        except MlflowException as error:
            if error.error_code not in ABSENT:
                raise
    return versions


def download_model(name: str, version: str) -> FactorModel:
    with tempfile.TemporaryDirectory() as folder:
        path = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}", dst_path=folder)
        return FactorModel.load(find_artifact(path))


class RegistryFollower:
    """Polls the registry every `poll_seconds` and loads a version when an alias moves to it; refresh()
    does one check at once (what a deployment calls through POST /models/reload)."""

    def __init__(self, slots: ModelSlots, tracking_uri: str, name: str, poll_seconds: float) -> None:
        self.slots, self.name, self.poll_seconds = slots, name, poll_seconds
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        self._tracking_uri = tracking_uri
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="registry-follower", daemon=True)

    def refresh(self) -> dict[str, str]:
        with self._lock:
            mlflow.set_tracking_uri(self._tracking_uri)
            mlflow.set_registry_uri(self._tracking_uri)
            loaded, registered = self.slots.versions(), registered_versions(self.client, self.name)
            for variant, version in registered.items():
                if loaded.get(variant) != version:
                    self.slots.put(ServedModel(variant=variant, version=version, model=download_model(self.name, version)))
                    log.info("serving %s v%s as %s", self.name, version, variant)
            for variant in loaded.keys() - registered.keys():
                self.slots.drop(variant)
                log.info("%s has no %s alias any more; its users get the other arm", self.name, variant)
            return self.slots.versions()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception:  # a registry hiccup must not stop the polling; the loaded models keep serving
                log.exception("checking the registry for %s failed; serving %s", self.name, self.slots.versions())


def archived_artifact(slots: ModelSlots, url: str) -> None:
    """Serve the S3 archive a deployment uploaded as champion, once its bytes match their SHA-256."""
    with tempfile.TemporaryDirectory() as folder:
        fetched = fetch_model_url(url, Path(folder))
        model = FactorModel.load(find_artifact(str(fetched.folder)))
    slots.put(ServedModel(variant="champion", version=fetched.version or url, model=model))


def local_artifact(slots: ModelSlots, folder: str) -> None:
    """Serve one exported artifact folder as champion (no registry)."""
    model = FactorModel.load(find_artifact(folder))
    slots.put(ServedModel(variant="champion", version=f"local:{model.metadata.get('trained_at', '?')}", model=model))
