"""Config of the recommender (conf/recommendations.yml): tables, generator, ALS, evaluation, stream, serving."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, model_validator

from lakeforge.config.loader import load_config
from lakeforge.config.models import ColumnRule, ExpectationRule, PlatformConfig, StrictModel

EVENT_TYPES = ("view", "click", "add_to_cart", "purchase", "rating", "impression")
FEEDBACK_TYPES = ("impression", "click")
VARIANTS = ("champion", "challenger")


class TableNames(StrictModel):
    interactions: str = "interactions"  # bronze, silver and quarantine share the name
    items: str = "items"
    item_popularity: str = "item_popularity"  # gold: per item and window
    category_popularity: str = "category_popularity"  # gold: per category and window
    user_stats: str = "user_stats"  # gold: per user
    inference_log: str = "inference_log"  # _system/: what the service answered (monitoring reads it)


class RefineSpec(StrictModel):
    """How raw text becomes a typed silver row, and the rules that send a row to quarantine."""

    columns: dict[str, ColumnRule]
    expectations: list[ExpectationRule] = Field(default_factory=list)


class GeneratorSpec(StrictModel):
    users: int = Field(default=1000, ge=1)
    items: int = Field(default=500, ge=1)
    categories: list[str] = Field(default_factory=lambda: ["Action", "Comedy", "Drama", "Horror", "Sci-Fi", "Romance", "Documentary", "Animation"])
    interactions: int = Field(default=100_000, ge=1)
    # Concentration of each user's taste over categories: small means a few favourite categories.
    taste_concentration: float = Field(default=0.3, gt=0)
    popularity_exponent: float = Field(default=1.1, gt=0)  # Zipf exponent of item popularity within a category
    rating_share: float = Field(default=0.3, ge=0, le=1)  # share of interactions that are explicit ratings
    days: int = Field(default=60, ge=1)
    seed: int = 7


class AlsSpec(StrictModel):
    """Spark ML ALS. implicit: confidence from weighted events; explicit: the latest rating per pair."""

    mode: Literal["implicit", "explicit"] = "implicit"
    # Implicit strength of one event: weight of its type, times its value for ratings (5 stars = 5 x weight).
    event_weights: dict[str, float] = Field(
        default_factory=lambda: {"view": 1.0, "click": 2.0, "add_to_cart": 4.0, "purchase": 8.0, "rating": 1.0, "impression": 0.0}
    )
    max_iter: int = Field(default=10, ge=1)
    grid: dict[Literal["rank", "regParam", "alpha"], list[float]] = Field(
        default_factory=lambda: {"rank": [16], "regParam": [0.05, 0.2], "alpha": [5.0]}
    )
    seed: int = 42

    @model_validator(mode="after")
    def _known_types(self) -> AlsSpec:
        unknown = sorted(set(self.event_weights) - set(EVENT_TYPES))
        if unknown:
            raise ValueError(f"event_weights: unknown event types {unknown}, expected some of {list(EVENT_TYPES)}")
        return self


class EvaluationSpec(StrictModel):
    # Time-based split: the latest test_fraction of interactions (by event time) is the test set; the
    # latest validation_fraction of the rest picks the grid point.
    test_fraction: float = Field(default=0.2, gt=0, lt=1)
    validation_fraction: float = Field(default=0.2, gt=0, lt=1)
    k: int = Field(default=10, ge=1)
    relevant_rating: float = 4.0  # explicit mode: a test rating at least this is a relevant item


class TrackingSpec(StrictModel):
    experiment: str = "lakeforge-recommendations"
    registered_model: str = "lakeforge_recs"
    alias: str = "challenger"


class TopicSpec(StrictModel):
    name: str
    partitions: int = Field(default=1, ge=1)


class KafkaSpec(StrictModel):
    """Same login fields as the IoT pipeline's KafkaSettings, so streaming.kafka's helpers take it."""

    bootstrap: str = "127.0.0.1:29092"
    user_env: str = "LAKEFORGE_KAFKA_USER"
    password_env: str = "LAKEFORGE_KAFKA_PASSWORD"
    interactions: TopicSpec = Field(default_factory=lambda: TopicSpec(name="recs.interactions", partitions=2))
    # One record per answered GET /recommendations, landed in the inference log by the stream job; null: not logged.
    inferences: TopicSpec | None = Field(default_factory=lambda: TopicSpec(name="recs.inferences", partitions=2))


class StreamSpec(StrictModel):
    name: str = "recs"
    trigger_interval: str = "2 seconds"
    max_offsets_per_trigger: int = Field(default=50_000, ge=1)
    starting_offsets: Literal["earliest", "latest"] = "earliest"
    window: str = "1 hour"  # gold popularity windows


class ServingSpec(StrictModel):
    host: str = "127.0.0.1"
    port: int = 8765
    api_key_env: str = "LAKEFORGE_RECS_API_KEY"
    # A folder written by `lakeforge recs train --export` served as champion instead of the registry.
    artifact_dir: str | None = None
    # Or the S3 model archive a deployment uploaded (the ECS task's LAKEFORGE_MODEL_URI), served as champion.
    artifact_uri: str | None = None
    poll_seconds: float = Field(default=5.0, gt=0)  # how often the registry's aliases are checked
    challenger_share: float = Field(default=0.2, ge=0, le=1)
    ab_salt: str = "recs-ab-1"  # changing it reshuffles users between variants
    cache_size: int = Field(default=100_000, ge=0)
    max_k: int = Field(default=100, ge=1)
    max_batch: int = Field(default=1000, ge=1)  # events per POST /events
    consumer_poll_seconds: float = Field(default=0.2, gt=0)
    # A starting worker replays the topic from the served models' data end, but never more than this.
    replay_seconds: float = Field(default=86_400, ge=0)

    @model_validator(mode="after")
    def _one_model_source(self) -> ServingSpec:
        if self.artifact_dir and self.artifact_uri:
            raise ValueError("serving: set artifact_dir (an exported folder) or artifact_uri (an S3 archive), not both")
        return self


class RecsConfig(StrictModel):
    name: str = "recommendations"
    platform: PlatformConfig
    tables: TableNames = Field(default_factory=TableNames)
    silver: RefineSpec
    items: RefineSpec
    generator: GeneratorSpec = Field(default_factory=GeneratorSpec)
    als: AlsSpec = Field(default_factory=AlsSpec)
    evaluation: EvaluationSpec = Field(default_factory=EvaluationSpec)
    tracking: TrackingSpec = Field(default_factory=TrackingSpec)
    kafka: KafkaSpec = Field(default_factory=KafkaSpec)
    stream: StreamSpec = Field(default_factory=StreamSpec)
    serving: ServingSpec = Field(default_factory=ServingSpec)


def load_recs_config(path: str | Path = "conf/recommendations.yml", env: str | None = None) -> RecsConfig:
    return load_config(path, RecsConfig, env)


def write_recs_config(config: RecsConfig, folder: Path) -> Path:
    """The resolved config as `<folder>/recommendations.yml` plus an empty env overlay, for processes
    started with `--config` (the service's workers, the stream job)."""
    (folder / "env").mkdir(parents=True, exist_ok=True)
    (folder / "env" / "local.yml").write_text("{}\n")
    path = folder / "recommendations.yml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json", by_alias=True), sort_keys=False))
    return path
