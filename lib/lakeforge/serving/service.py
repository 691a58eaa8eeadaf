"""The service's parts, wired once per worker: models, live interactions, cache, Kafka in and out."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from lakeforge.config.models import read_secret
from lakeforge.recommendations.config import RecsConfig
from lakeforge.recommendations.recommend import NewInteraction, Recommendation, recommend
from lakeforge.recommendations.topic import ensure_recs_topics
from lakeforge.serving.ab import variant_for
from lakeforge.serving.cache import UserCache
from lakeforge.serving.events import EventPublisher, TopicFollower
from lakeforge.serving.inferences import InferenceLogger
from lakeforge.serving.live import LiveInteractions
from lakeforge.serving.metrics import ServiceMetrics
from lakeforge.serving.registry import ModelSlots, RegistryFollower, ServedModel, archived_artifact, local_artifact
from lakeforge.tracking import use_tracking_uri

log = logging.getLogger(__name__)


class NoModelError(RuntimeError):
    """No model is loaded yet (nothing registered under champion or challenger)."""


@dataclass
class Service:
    config: RecsConfig
    api_key: str
    metrics: ServiceMetrics = field(default_factory=ServiceMetrics)
    live: LiveInteractions = field(default_factory=LiveInteractions)
    publisher: EventPublisher | None = None
    follower: TopicFollower | None = None
    registry: RegistryFollower | None = None
    inference_log: InferenceLogger | None = None

    def __post_init__(self) -> None:
        self.cache = UserCache(self.config.serving.cache_size)
        self.slots = ModelSlots(on_change=self._models_changed)

    @classmethod
    def from_config(cls, config: RecsConfig) -> Service:
        return cls(config=config, api_key=read_secret(config.serving.api_key_env))

    def start(self) -> None:
        """Load the models, then follow the registry and the interactions topic."""
        serving = self.config.serving
        if serving.artifact_dir:
            local_artifact(self.slots, serving.artifact_dir)
        elif serving.artifact_uri:
            archived_artifact(self.slots, serving.artifact_uri)
        else:
            self.registry = RegistryFollower(self.slots, use_tracking_uri(self.config.platform), self.config.tracking.registered_model, serving.poll_seconds)
            self.registry.refresh()
            self.registry.start()
        ensure_recs_topics(self.config.kafka)
        self.publisher = EventPublisher(self.config.kafka)
        if self.config.kafka.inferences is not None:
            self.inference_log = InferenceLogger(self.config.kafka, self.config.kafka.inferences.name, self.config.tracking.registered_model, self.metrics)
        self.follower = TopicFollower(self.config.kafka, lambda record: self.apply(record, "topic"), serving.consumer_poll_seconds)
        self.follower.start(self._replay_from())

    def stop(self) -> None:
        if self.registry:
            self.registry.stop()
        if self.follower:
            self.follower.stop()
        if self.inference_log:
            self.inference_log.close()

    def recommend(self, user_id: int, k: int) -> tuple[ServedModel, Recommendation]:
        """The user's top-k from their A/B arm's model (cached until the user, k or model changes), also
        sent to the inference log."""
        started = time.perf_counter()
        served = self.slots.for_variant(variant_for(user_id, self.config.serving.ab_salt, self.config.serving.challenger_share))
        if served is None:
            raise NoModelError(f"no model to serve: {self.config.tracking.registered_model} has no champion or challenger alias yet")
        new, generation = self.live.of(user_id, served.data_until)
        key = (k, served.variant, served.version, generation)
        cached = self.cache.get(user_id, key)
        self.metrics.cache_lookup(cached is not None)
        if cached is None:
            cached = recommend(served.model, user_id, k, new)
            self.cache.put(user_id, key, cached)
        if self.inference_log is not None:
            self.inference_log.record(user_id, k, served, cached, (time.perf_counter() - started) * 1000)
        return served, cached

    def apply(self, record: dict, origin: str) -> None:
        """A new interaction: into the user's live state (impressions carry no preference) and out of the cache."""
        if record["event_type"] == "impression":
            return
        user_id = int(record["user_id"])
        at = datetime.fromisoformat(record["event_time"])
        if self.live.add(record["event_id"], user_id, at, NewInteraction(int(record["item_id"]), record["event_type"], float(record["value"]))):
            self.cache.invalidate(user_id)
            self.metrics.events.labels(origin).inc()

    def _models_changed(self, slots: ModelSlots) -> None:
        for served in slots.all():
            self.metrics.model_version.labels(served.variant).set(_as_number(served.version))
        ends = [served.data_until for served in slots.all() if served.data_until is not None]
        if ends:
            self.live.keep_after(min(ends))

    def _replay_from(self) -> datetime:
        earliest = datetime.now(timezone.utc) - timedelta(seconds=self.config.serving.replay_seconds)
        ends = [served.data_until for served in self.slots.all() if served.data_until is not None]
        return max([earliest, *ends])


def _as_number(version: str) -> float:
    return float(version) if version.isdigit() else -1.0
