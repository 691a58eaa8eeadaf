"""The hot route without the framework: a well-formed, authorised `GET /recommendations/{user_id}?k=N`
is answered here, in front of FastAPI, whose routing, dependencies and validation cost about twice the
service's own work per request and set its tail latency (bench/results/recs.json measures both).

Anything else, including a missing or wrong key, a malformed id or k and no model loaded, falls through
to the FastAPI route, so errors keep their one shape and the OpenAPI schema stays the contract (its
tests validate every answer, this path's included).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from lakeforge.serving.service import NoModelError, Service

PATH = re.compile(r"/recommendations/([0-9]{1,10})")
QUERY = re.compile(rb"(?:k=([0-9]{1,4}))?")
MAX_USER_ID = 2**31 - 1
API_KEY_HEADER = b"x-api-key"


class RecommendationsFastPath:
    """Pure ASGI middleware; `endpoint` is the FastAPI route's function, so metrics name both paths alike
    and `render` is the body that route returns."""

    def __init__(self, app, service: Service, endpoint: Callable, render: Callable, headers: list[tuple[bytes, bytes]]) -> None:
        self.app, self.service, self.endpoint, self.render, self.headers = app, service, endpoint, render, headers
        self.key = service.api_key.encode()

    async def __call__(self, scope, receive, send) -> None:
        request = self._parse(scope) if scope["type"] == "http" and scope["method"] == "GET" else None
        if request is None:
            await self.app(scope, receive, send)
            return
        user_id, k = request
        try:
            served, ranked = self.service.recommend(user_id, k)
        except NoModelError:
            await self.app(scope, receive, send)
            return
        body = self.render(user_id, served, ranked)
        scope["endpoint"] = self.endpoint
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *self.headers]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _parse(self, scope) -> tuple[int, int] | None:
        """(user_id, k) of a request this path answers as the route would, else None."""
        path, query = PATH.fullmatch(scope["path"]), QUERY.fullmatch(scope["query_string"])
        if path is None or query is None or scope.get("root_path"):
            return None
        user_id, k = int(path.group(1)), int(query.group(1) or 10)
        if user_id > MAX_USER_ID or not 1 <= k <= self.service.config.serving.max_k:
            return None
        key = next((value for name, value in scope["headers"] if name == API_KEY_HEADER), None)
        return (user_id, k) if key is not None and secrets.compare_digest(key, self.key) else None
