"""The demo's ticket API made to misbehave on cue (5xx, 429 with Retry-After, cut bodies, slow pages),
counting what it answered, for the REST ingestion tests."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lakeforge.demo.api_server import ApiServer, TicketHandler, TicketServer, TicketStore


@dataclass
class FaultPlan:
    """Which requests misbehave. Pages are numbered from 1 by position (offset // page size + 1)."""

    fail_pages: dict[int, int] = field(default_factory=dict)  # page -> its first N requests get fail_status
    fail_status: int = 503
    throttle_requests: set[int] = field(default_factory=set)  # 1-based request numbers answered 429
    retry_after: str = "1"  # Retry-After of those 429s: delay-seconds or an HTTP-date
    invalid_json_once: set[int] = field(default_factory=set)  # pages whose first answer is cut in half
    invalid_json_always: set[int] = field(default_factory=set)  # pages always cut in half
    slow_page: int | None = None  # the first request of this page waits slow_seconds before answering
    slow_seconds: float = 0.0


@dataclass
class ServerStats:
    """What the server answered, for tests to assert on."""

    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_page: Counter[int] = field(default_factory=Counter)  # authorised, well-formed requests per page


class FaultInjector:
    """Applies a FaultPlan, remembering which one-off faults have fired. Not thread-safe: callers lock."""

    def __init__(self, plan: FaultPlan):
        self.plan = plan
        self._fired: set[tuple[str, int]] = set()

    def fault_for(self, request_number: int, page: int, page_request_number: int) -> str | None:
        """The fault for a request (throttle, fail, slow, invalid) or None; requests are numbered overall and per page."""
        plan = self.plan
        if request_number in plan.throttle_requests:
            return "throttle"
        if page_request_number <= plan.fail_pages.get(page, 0):
            return "fail"
        if page == plan.slow_page and self._fire_once("slow", page):
            return "slow"
        if page in plan.invalid_json_always or (page in plan.invalid_json_once and self._fire_once("invalid", page)):
            return "invalid"
        return None

    def _fire_once(self, fault: str, page: int) -> bool:
        fired = (fault, page) in self._fired
        self._fired.add((fault, page))
        return not fired


class FaultyTicketHandler(TicketHandler):
    server: FaultyTicketServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.request_number = self.server.count_request()
        self.truncate = False
        super().do_GET()

    def answer(self, query: dict[str, str], offset: int, size: int) -> None:
        plan = self.server.faults.plan
        fault = self.server.fault_for(self.request_number, offset // size + 1)
        if fault == "throttle":
            return self.send_json(429, {"error": "too many requests"}, {"Retry-After": plan.retry_after})
        if fault == "fail":
            return self.send_json(plan.fail_status, {"error": "injected failure"})
        if fault == "slow":
            time.sleep(plan.slow_seconds)
        self.truncate = fault == "invalid"
        super().answer(query, offset, size)

    def send_body(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.server.count_status(status)
        super().send_body(status, data[: len(data) // 2] if self.truncate else data, headers)  # a connection cut mid-body


class FaultyTicketServer(TicketServer):
    def __init__(self, address: tuple[str, int], store: TicketStore, token: str, mode: str, page_size: int, faults: FaultPlan):
        super().__init__(address, store, token, mode, page_size, handler=FaultyTicketHandler)
        self.faults = FaultInjector(faults)
        self.stats = ServerStats()
        self._lock = threading.Lock()

    def count_request(self) -> int:
        with self._lock:
            self.stats.requests += 1
            return self.stats.requests

    def fault_for(self, request_number: int, page: int) -> str | None:
        with self._lock:
            self.stats.by_page[page] += 1
            return self.faults.fault_for(request_number, page, self.stats.by_page[page])

    def count_status(self, status: int) -> None:
        with self._lock:
            self.stats.by_status[status] += 1


class FaultyApiServer(ApiServer):
    server: FaultyTicketServer

    @property
    def stats(self) -> ServerStats:
        return self.server.stats


def start_api_server(
    records: Iterable[dict[str, Any]], token: str, mode: str = "cursor", page_size: int = 100, faults: FaultPlan | None = None
) -> FaultyApiServer:
    """Serve `records` at /v1/tickets on a free 127.0.0.1 port (see .url), misbehaving as `faults` plans."""
    store = TicketStore(records)
    return FaultyApiServer(FaultyTicketServer(("127.0.0.1", 0), store, token, mode, page_size, faults or FaultPlan()))
