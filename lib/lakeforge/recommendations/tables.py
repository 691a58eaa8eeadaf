"""Where the recommender's tables and checkpoints live in the lakehouse."""

from __future__ import annotations

from dataclasses import dataclass

from lakeforge.recommendations.config import RecsConfig
from lakeforge.tables.layout import Lakehouse


@dataclass(frozen=True)
class RecsTables:
    lakehouse: Lakehouse
    bronze: str
    silver: str
    quarantine: str
    items: str
    items_quarantine: str
    item_popularity: str
    category_popularity: str
    user_stats: str
    inference_log: str
    checkpoint: str  # the stream job's; deleting it replays the topic (silver still dedupes by event id)

    @classmethod
    def of(cls, config: RecsConfig) -> RecsTables:
        lake, names = Lakehouse(config.platform.storage.root), config.tables
        return cls(
            lakehouse=lake,
            bronze=lake.bronze(names.interactions),
            silver=lake.silver(names.interactions),
            quarantine=lake.quarantine(names.interactions),
            items=lake.silver(names.items),
            items_quarantine=lake.quarantine(names.items),
            item_popularity=lake.gold(names.item_popularity),
            category_popularity=lake.gold(names.category_popularity),
            user_stats=lake.gold(names.user_stats),
            inference_log=lake.system(names.inference_log),
            checkpoint=lake.checkpoint(config.stream.name, "interactions"),
        )
