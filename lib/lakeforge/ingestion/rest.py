"""REST APIs -> raw pages: pagination, bearer auth, and retries with backoff for transient failures."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests
from requests.utils import parse_header_links

from lakeforge.config.models import (
    CursorPagination,
    LinkHeaderPagination,
    OffsetPagination,
    PagePagination,
    RestSource,
    RetryPolicy,
)

log = logging.getLogger(__name__)

# Failures of the connection rather than of the request: worth another attempt.
TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)

# Past the last page an unreadable page looks the same as one in the middle, so page and offset
# pagination skip unreadable pages only until this many come in a row: then the API is broken.
MAX_UNREADABLE_IN_A_ROW = 3

_MISSING = object()


@dataclass(frozen=True)
class Page:
    """One response as received: bronze keeps the raw body, silver parses `records`."""

    url: str  # the URL actually requested, with its query
    number: int  # 1-based position within one fetch
    status: int
    body: str
    records: list[dict] | None  # None when the body is not JSON or has no list at records_field
    error: str | None = None  # why records is None


class RestSourceError(RuntimeError):
    """A REST source could not be read: a fatal status, or a failure that outlasted every retry."""

    def __init__(self, url: str, status: int | None, attempts: int, problem: str, expected: str):
        self.url, self.status, self.attempts = url, status, attempts
        received = f"HTTP {status}" if status is not None else "no response"
        tries = "attempt" if attempts == 1 else "attempts"
        super().__init__(f"GET {url}: {problem} ({received}, {attempts} {tries}); expected {expected}")


@dataclass(frozen=True)
class _Request:
    url: str
    params: dict[str, str]  # sent unless the URL's query already carries the same name


@dataclass(frozen=True)
class _Fetched:
    page: Page
    document: Any  # the parsed body, or None
    response: requests.Response


@dataclass(frozen=True)
class _Failure:
    """A transient failure; `fetched` is set when the response arrived but its body was unreadable."""

    url: str
    status: int | None
    problem: str
    retry_after: float | None = None
    fetched: _Fetched | None = None


def _lookup(document: Any, dotted_path: str) -> Any:
    """The value at a dotted path such as `meta.next_cursor`, or _MISSING."""
    value = document
    for name in dotted_path.split("."):
        if not isinstance(value, dict) or name not in value:
            return _MISSING
        value = value[name]
    return value


def parse_body(body: str, records_field: str) -> tuple[Any, list[dict] | None, str | None]:
    """(document, records, error) of a page body; records is None exactly when error says why."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        return None, None, f"body is not valid JSON ({exc}): {body[:80]!r}"
    records = _lookup(document, records_field)
    if records is _MISSING:
        return document, None, f"body has no field '{records_field}'"
    if not isinstance(records, list) or not all(isinstance(item, dict) for item in records):
        return document, None, f"'{records_field}' is not a list of objects: {str(records)[:80]!r}"
    return document, records, None


def retry_after_seconds(header: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date), None if absent or unreadable."""
    if header is None:
        return None
    value = header.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _retry_after(response: requests.Response) -> float | None:
    if response.status_code != 429:  # servers also send Retry-After with 503, but only 429 promises it
        return None
    return retry_after_seconds(response.headers.get("Retry-After"), datetime.now(timezone.utc))


def next_link(link_header: str | None, base_url: str) -> str | None:
    """The absolute URL of the RFC 8288 link with rel="next", resolving a relative target against base_url."""
    for link in parse_header_links(link_header or ""):
        if "next" in link.get("rel", "").lower().split():
            return urljoin(base_url, link["url"])
    return None


def unsent_params(url: str, params: dict[str, str]) -> dict[str, str]:
    """Params whose names the URL's query does not already carry (next links usually carry them all)."""
    present = {name for name, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)}
    return {name: value for name, value in params.items() if name not in present}


# --- pagination: one strategy per kind; each makes the first request and the next from a page -----


@dataclass(frozen=True)
class CountingPages:
    """Page-number and offset pagination: a counter moves by a fixed step until a page comes back short."""

    counter_param: str
    size_param: str
    size: int
    start: int
    step: int
    can_skip_unreadable = True  # the next request does not depend on the body

    def first(self, url: str, params: dict[str, str]) -> _Request:
        return _Request(url, {**params, self.counter_param: str(self.start), self.size_param: str(self.size)})

    def next(self, request: _Request, fetched: _Fetched) -> _Request | None:
        records = fetched.page.records
        if records is not None and (not records or len(records) < self.size):
            return None
        counter = int(request.params[self.counter_param]) + self.step
        return _Request(request.url, {**request.params, self.counter_param: str(counter)})


@dataclass(frozen=True)
class CursorPages:
    """The body names the next page by a cursor; no cursor (null, empty or missing) means the last page."""

    spec: CursorPagination
    can_skip_unreadable = False

    def first(self, url: str, params: dict[str, str]) -> _Request:
        return _Request(url, params)

    def next(self, request: _Request, fetched: _Fetched) -> _Request | None:
        cursor = _lookup(fetched.document, self.spec.next_cursor_field)
        if cursor in (_MISSING, None, ""):
            return None
        return _Request(request.url, {**request.params, self.spec.cursor_param: str(cursor)})


@dataclass(frozen=True)
class LinkPages:
    """The Link header names the next page's URL (RFC 8288, rel="next"), as GitHub's API does."""

    can_skip_unreadable = False  # the header survives a bad body, but a page we cannot read ends the run

    def first(self, url: str, params: dict[str, str]) -> _Request:
        return _Request(url, params)

    def next(self, request: _Request, fetched: _Fetched) -> _Request | None:
        target = next_link(fetched.response.headers.get("Link"), fetched.page.url)
        return None if target is None else _Request(target, request.params)


Paging = CountingPages | CursorPages | LinkPages


def paging_for(spec: PagePagination | OffsetPagination | CursorPagination | LinkHeaderPagination) -> Paging:
    if isinstance(spec, PagePagination):
        return CountingPages(spec.page_param, spec.size_param, spec.page_size, start=spec.start_page, step=1)
    if isinstance(spec, OffsetPagination):
        return CountingPages(spec.offset_param, spec.limit_param, spec.limit, start=0, step=spec.limit)
    if isinstance(spec, CursorPagination):
        return CursorPages(spec)
    return LinkPages()


# --- the client ----------------------------------------------------------------------------------


class RestClient:
    """Reads every page of a RestSource; `sleep` and `rng` are injectable so tests need not wait."""

    def __init__(
        self,
        source: RestSource,
        token: str | None,
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        self.source = source
        self._retry: RetryPolicy = source.retry
        self._paging = paging_for(source.pagination)
        self._http = http or requests.Session()
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._sleep = sleep
        self._rng = rng or random.Random()

    def fetch_pages(self, since: str | None = None) -> Iterator[Page]:
        """Every page in order; with `since`, only what the API reports as changed after it."""
        params = dict(self.source.params)
        if since is not None:
            if self.source.since_param is None:
                raise ValueError(
                    f"since={since!r} was given, but source {self.source.url} has no since_param to send it in"
                )
            params[self.source.since_param] = since
        return self._pages(self._paging.first(self.source.url, params))

    def _pages(self, request: _Request | None) -> Iterator[Page]:
        number, unreadable_in_a_row = 1, 0
        while request is not None:
            fetched = self._fetch(request, number)
            yield fetched.page
            unreadable_in_a_row = unreadable_in_a_row + 1 if fetched.page.records is None else 0
            if unreadable_in_a_row:
                self._raise_unless_skippable(fetched.page, unreadable_in_a_row)
            request = self._paging.next(request, fetched)
            number += 1

    def _raise_unless_skippable(self, page: Page, in_a_row: int) -> None:
        if not self._paging.can_skip_unreadable:
            expected = f"a JSON body, which {self.source.pagination.type} pagination needs to find the next page"
        elif in_a_row >= MAX_UNREADABLE_IN_A_ROW:
            expected = f"fewer than {MAX_UNREADABLE_IN_A_ROW} unreadable pages in a row"
        else:
            return
        raise RestSourceError(page.url, page.status, self._retry.max_attempts, page.error or "", expected)

    def _fetch(self, request: _Request, number: int) -> _Fetched:
        """One page, retrying transient failures; an unreadable body that outlasts the retries is returned."""
        attempts = self._retry.max_attempts
        for attempt in range(attempts):
            outcome = self._attempt(request, number)
            if isinstance(outcome, _Fetched):
                return outcome
            if attempt + 1 < attempts:
                wait = self._wait(outcome, attempt)
                log.warning("GET %s: %s (status %s); retry %d of %d in %.2f s", outcome.url, outcome.problem, outcome.status, attempt + 1, attempts - 1, wait)
                self._sleep(wait)
        if outcome.fetched is not None:
            return outcome.fetched
        expected = f"a 2xx response within the {self._retry.timeout_seconds} s timeout"
        raise RestSourceError(outcome.url, outcome.status, attempts, outcome.problem, expected)

    def _wait(self, failure: _Failure, attempt: int) -> float:
        """Retry-After when the API sent one, else exponential backoff with full jitter."""
        cap = self._retry.max_backoff_seconds
        if failure.retry_after is not None:
            return min(cap, failure.retry_after)
        return self._rng.uniform(0, min(cap, self._retry.backoff_seconds * 2**attempt))

    def _attempt(self, request: _Request, number: int) -> _Fetched | _Failure:
        params = unsent_params(request.url, request.params)
        try:
            response = self._http.get(request.url, params=params, headers=self._headers, timeout=self._retry.timeout_seconds)
        except TRANSIENT_ERRORS as exc:
            url = requests.Request("GET", request.url, params=params).prepare().url or request.url
            return _Failure(url, None, f"{type(exc).__name__}: {exc}")
        status = response.status_code
        if status == 429 or status >= 500:
            return _Failure(response.url, status, f"the server answered {response.reason}", _retry_after(response))
        if not 200 <= status < 300:
            raise self._refusal(response)
        fetched = self._read(response, number)
        if fetched.page.records is None:
            return _Failure(response.url, status, fetched.page.error or "", fetched=fetched)
        return fetched

    def _read(self, response: requests.Response, number: int) -> _Fetched:
        body = response.text
        document, records, error = parse_body(body, self.source.records_field)
        page = Page(url=response.url, number=number, status=response.status_code, body=body, records=records, error=error)
        return _Fetched(page, document, response)

    def _refusal(self, response: requests.Response) -> RestSourceError:
        """The error for a status that another attempt would not change (401, 403, other 4xx)."""
        problem = f"refused with {response.reason}: {response.text[:200]!r}"
        if response.status_code in (401, 403):
            where = (
                f"a bearer token the API accepts in environment variable {self.source.token_env}"
                if self.source.token_env
                else "a bearer token, but the source sets no token_env to read one from"
            )
            return RestSourceError(response.url, response.status_code, 1, problem, where)
        return RestSourceError(response.url, response.status_code, 1, problem, "a 2xx response (client errors are not retried)")
