"""Request and response bodies: the OpenAPI schema built from them is the service's contract."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Id = Annotated[int, Field(ge=0, le=2**31 - 1, description="non-negative 32-bit integer (Spark ALS ids)")]
EventId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$", description="unique per event; a repeat is a duplicate")]
Variant = Literal["champion", "challenger"]


EARLIEST, LATEST = datetime(1970, 1, 2, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _timestamp_in_range(self):
        moment = getattr(self, "timestamp", None)
        if moment is not None and not EARLIEST <= moment <= LATEST:
            raise ValueError(f"timestamp must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}, got {moment.isoformat()}")
        return self


class Interaction(Body):
    event_id: EventId
    user_id: Id
    item_id: Id
    event_type: Literal["view", "click", "add_to_cart", "purchase", "rating"]
    value: float = Field(default=1.0, ge=0, le=1000, allow_inf_nan=False, description="a rating's stars (0.5-5); else a count")
    timestamp: AwareDatetime | None = Field(default=None, description="with a time zone; default: when the service received it")

    @model_validator(mode="after")
    def _rating_in_stars(self) -> Interaction:
        if self.event_type == "rating" and not 0.5 <= self.value <= 5:
            raise ValueError(f"a rating's value must be between 0.5 and 5 stars, got {self.value}")
        return self


class Feedback(Body):
    """What the user was shown (impression) or chose (click) from a served list, for the A/B report."""

    event_id: EventId
    user_id: Id
    item_id: Id
    kind: Literal["impression", "click"]
    variant: Variant
    timestamp: AwareDatetime | None = None


Batch = Annotated[list[Interaction], Field(min_length=1, max_length=1000)]
FeedbackBatch = Annotated[list[Feedback], Field(min_length=1, max_length=1000)]


class Accepted(BaseModel):
    accepted: int = Field(description="events confirmed by Kafka (acks=all)")


class RecommendedItem(BaseModel):
    item_id: int
    score: float
    category: str


class Recommendations(BaseModel):
    user_id: int
    items: list[RecommendedItem] = Field(description="unseen items, best first")
    model_version: str
    variant: Variant = Field(description="the A/B arm that served the list")
    source: Literal["model", "fold_in", "popular"] = Field(description="fold_in: the vector was refitted with interactions newer than the model")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    ready: bool
    models: dict[str, str] = Field(description="variant -> served model version")
    following_events: bool


class Reloaded(BaseModel):
    models: dict[str, str]


def wire_record(event_id: str, user_id: int, item_id: int, event_type: str, value: float, timestamp: datetime | None, variant: str | None) -> dict:
    """The JSON the interactions topic carries (the stream job's and every worker's input)."""
    moment = (timestamp or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return {
        "event_id": event_id,
        "user_id": user_id,
        "item_id": item_id,
        "event_type": event_type,
        "value": value,
        "event_time": moment.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
        "variant": variant,
    }
