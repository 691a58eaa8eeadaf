"""Interactions newer than the served models, per user, as every worker sees them on the topic."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from lakeforge.recommendations.recommend import NewInteraction


class LiveInteractions:
    """Per user, the events since the oldest served model's data ended, deduplicated by event id (a
    worker sees its own posts twice: applied at once, then from the topic). A user's generation grows
    with each new event, so an answer cached before an event is never served after it."""

    def __init__(self) -> None:
        self._events: dict[int, OrderedDict[str, tuple[datetime, NewInteraction]]] = {}
        self._generations: dict[int, int] = {}
        self._lock = threading.Lock()
        self._keep_after: datetime | None = None

    def add(self, event_id: str, user_id: int, at: datetime, interaction: NewInteraction) -> bool:
        """True if the event is new (and not older than every served model's data)."""
        if self._keep_after is not None and at <= self._keep_after:
            return False
        with self._lock:
            events = self._events.setdefault(user_id, OrderedDict())
            if event_id in events:
                return False
            events[event_id] = (at, interaction)
            self._generations[user_id] = self._generations.get(user_id, 0) + 1
            return True

    def of(self, user_id: int, after: datetime | None) -> tuple[list[NewInteraction], int]:
        """(the user's interactions later than `after`, the user's generation)."""
        events = self._events.get(user_id)
        if not events:
            return [], 0
        with self._lock:
            return [event for at, event in events.values() if after is None or at > after], self._generations[user_id]

    def keep_after(self, moment: datetime) -> None:
        """Drop events at or before `moment`: every served model was trained on data up to it."""
        with self._lock:
            self._keep_after = moment
            for user_id in list(self._events):
                kept = OrderedDict((key, value) for key, value in self._events[user_id].items() if value[0] > moment)
                if kept:
                    self._events[user_id] = kept
                else:
                    del self._events[user_id]
