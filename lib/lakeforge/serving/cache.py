"""Per-user answer cache: bounded, least recently used users evicted first, dropped on the user's events."""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any

from cachetools import LRUCache


class UserCache:
    """user -> {answer key -> answer}; a user's answers go together when one of their events arrives."""

    def __init__(self, max_users: int) -> None:
        self._entries: LRUCache[int, dict[Hashable, Any]] | None = LRUCache(max_users) if max_users else None
        self._lock = threading.Lock()  # the Kafka follower thread invalidates while requests read

    def get(self, user_id: int, key: Hashable) -> Any | None:
        if self._entries is None:
            return None
        with self._lock:
            return self._entries.get(user_id, {}).get(key)

    def put(self, user_id: int, key: Hashable, value: Any) -> None:
        if self._entries is None:
            return
        with self._lock:
            answers = self._entries.get(user_id)
            if answers is None:
                self._entries[user_id] = answers = {}
            answers[key] = value

    def invalidate(self, user_id: int) -> None:
        if self._entries is None:
            return
        with self._lock:
            self._entries.pop(user_id, None)
