"""RestClient against the real local ticket API: pagination, incremental reads, retries and failures."""

from __future__ import annotations

import random
import socket
from datetime import datetime, timezone

import pytest

from fault_api import FaultPlan, start_api_server
from lakeforge.config.models import RestSource
from lakeforge.ingestion.rest import RestClient, RestSourceError, next_link, retry_after_seconds

TOKEN = "test-token"
TOKEN_ENV = "LAKEFORGE_TEST_API_TOKEN"
COUNT = 23  # not a multiple of the page size of 5, so the last page is short
EXPECTED_IDS = [f"T{i:03d}" for i in range(COUNT)]


def ticket(i: int) -> dict:
    return {"ticket_id": f"T{i:03d}", "updated_at": f"2025-03-01T10:{i:02d}:00+00:00", "status": "open"}


# Served in a shuffled order: the API, not the list, decides the order.
TICKETS = random.Random(3).sample([ticket(i) for i in range(COUNT)], COUNT)

PAGINATIONS = {
    "page": {"type": "page", "page_size": 5},
    "offset": {"type": "offset", "limit": 5},
    "cursor": {"type": "cursor"},
    "link": {"type": "link"},
}


def rest_source(url: str, mode: str = "cursor", **retry) -> RestSource:
    retry = {"max_attempts": 4, "backoff_seconds": 0.5, "max_backoff_seconds": 1.5, "timeout_seconds": 2.0, **retry}
    return RestSource(
        url=url,
        pagination=PAGINATIONS[mode],
        token_env=TOKEN_ENV,
        since_param="updated_since",
        since_field="updated_at",
        retry=retry,
        record_schema={"ticket_id": "string", "updated_at": "string"},
    )


class RecordingSleep:
    def __init__(self):
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(source: RestSource, sleep: RecordingSleep | None = None, token: str = TOKEN, seed: int = 0) -> RestClient:
    return RestClient(source, token, sleep=sleep or RecordingSleep(), rng=random.Random(seed))


def ticket_ids(pages) -> list[str]:
    return [record["ticket_id"] for page in pages for record in page.records or []]


@pytest.mark.parametrize("mode", PAGINATIONS)
def test_each_pagination_mode_returns_every_record_once_in_order(mode):
    with start_api_server(TICKETS, TOKEN, mode=mode, page_size=5) as api:
        pages = list(client(rest_source(api.url, mode)).fetch_pages())

    assert ticket_ids(pages) == EXPECTED_IDS
    assert [page.number for page in pages] == [1, 2, 3, 4, 5]
    assert all(page.status == 200 and page.error is None for page in pages)


def test_page_pagination_stops_on_an_empty_page_when_the_last_page_is_full():
    with start_api_server(TICKETS[:20], TOKEN, mode="page") as api:
        pages = list(client(rest_source(api.url, "page")).fetch_pages())

    assert [len(page.records) for page in pages] == [5, 5, 5, 5, 0]
    assert sorted(ticket_ids(pages)) == sorted(t["ticket_id"] for t in TICKETS[:20])


def test_config_params_are_sent_on_every_page_even_when_next_links_omit_them():
    with start_api_server(TICKETS, TOKEN, mode="link", page_size=5) as api:
        source = rest_source(api.url, "link").model_copy(update={"params": {"fields": "all"}})
        pages = list(client(source).fetch_pages(since="2025-03-01T10:02:00+00:00"))

    assert len(pages) == 4
    assert all("fields=all" in page.url and page.url.count("updated_since=") == 1 for page in pages)


def test_since_returns_only_records_updated_after_it_including_ones_added_later():
    with start_api_server(TICKETS, TOKEN, mode="cursor", page_size=5) as api:
        rest = client(rest_source(api.url))
        assert ticket_ids(rest.fetch_pages(since=ticket(10)["updated_at"])) == EXPECTED_IDS[11:]

        changed = {**ticket(4), "updated_at": "2025-03-02T09:00:00+00:00", "status": "closed"}
        api.upsert_records([changed, ticket(30)])
        newer = [record for page in rest.fetch_pages(since=ticket(COUNT - 1)["updated_at"]) for record in page.records]

    assert [(r["ticket_id"], r["status"]) for r in newer] == [("T030", "open"), ("T004", "closed")]


def test_since_without_a_since_param_is_rejected():
    source = rest_source("http://127.0.0.1:9/v1/tickets").model_copy(update={"since_param": None})
    with pytest.raises(ValueError, match="no since_param"):
        client(source).fetch_pages(since="2025-01-01")


def test_server_errors_are_retried_with_exponential_backoff_and_full_jitter():
    sleep = RecordingSleep()
    faults = FaultPlan(fail_pages={2: 3}, fail_status=500)
    with start_api_server(TICKETS, TOKEN, mode="page", faults=faults) as api:
        pages = list(client(rest_source(api.url, "page"), sleep, seed=11).fetch_pages())

    assert ticket_ids(pages) == EXPECTED_IDS
    assert api.stats.by_status[500] == 3
    draws = random.Random(11)
    # ceilings 0.5, 1.0, then 2.0 capped at max_backoff_seconds=1.5
    assert sleep.waits == [draws.uniform(0, 0.5), draws.uniform(0, 1.0), draws.uniform(0, 1.5)]


@pytest.mark.parametrize(("retry_after", "max_backoff", "expected_wait"), [("3", 30.0, 3.0), ("120", 5.0, 5.0)])
def test_429_waits_exactly_the_retry_after_capped_at_max_backoff(retry_after, max_backoff, expected_wait):
    sleep = RecordingSleep()
    faults = FaultPlan(throttle_requests={2}, retry_after=retry_after)
    with start_api_server(TICKETS, TOKEN, mode="cursor", page_size=5, faults=faults) as api:
        pages = list(client(rest_source(api.url, max_backoff_seconds=max_backoff), sleep).fetch_pages())

    assert ticket_ids(pages) == EXPECTED_IDS
    assert api.stats.by_status[429] == 1
    assert sleep.waits == [expected_wait]


def test_retry_after_as_an_http_date_counts_from_now():
    now = datetime(2015, 10, 21, 7, 27, 30, tzinfo=timezone.utc)
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now) == 30.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon", now) is None


def test_exhausted_attempts_raise_with_the_url_status_and_attempts():
    sleep = RecordingSleep()
    with start_api_server(TICKETS, TOKEN, mode="page", faults=FaultPlan(fail_pages={1: 99})) as api:
        with pytest.raises(RestSourceError) as raised:
            list(client(rest_source(api.url, "page", max_attempts=3), sleep).fetch_pages())

    message = str(raised.value)
    assert f"{api.url}?page=1&page_size=5" in message
    assert "HTTP 503" in message and "3 attempts" in message
    assert api.stats.by_status[503] == 3
    assert len(sleep.waits) == 2  # no wait after the last attempt


def test_connection_refused_is_retried_then_reported_as_no_response():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleep = RecordingSleep()
    with pytest.raises(RestSourceError, match=r"no response, 2 attempts") as raised:
        list(client(rest_source(f"http://127.0.0.1:{port}/v1/tickets", max_attempts=2), sleep).fetch_pages())

    assert f"127.0.0.1:{port}/v1/tickets" in str(raised.value)
    assert len(sleep.waits) == 1


def test_unauthorised_raises_at_once_naming_the_token_variable():
    sleep = RecordingSleep()
    with start_api_server(TICKETS, TOKEN) as api:
        with pytest.raises(RestSourceError, match="HTTP 401") as raised:
            list(client(rest_source(api.url), sleep, token="wrong").fetch_pages())

    assert TOKEN_ENV in str(raised.value)
    assert api.stats.requests == 1 and sleep.waits == []


def test_other_client_errors_raise_at_once():
    with start_api_server(TICKETS, TOKEN, mode="cursor") as api:
        source = rest_source(api.url).model_copy(update={"params": {"cursor": "not-a-cursor"}})
        with pytest.raises(RestSourceError, match=r"not one this API issued.*\(HTTP 400, 1 attempt\)"):
            list(client(source).fetch_pages())

    assert api.stats.requests == 1


def test_invalid_json_once_is_retried_like_a_transient_failure():
    sleep = RecordingSleep()
    with start_api_server(TICKETS, TOKEN, mode="offset", faults=FaultPlan(invalid_json_once={3})) as api:
        pages = list(client(rest_source(api.url, "offset"), sleep).fetch_pages())

    assert ticket_ids(pages) == EXPECTED_IDS
    assert api.stats.by_page[3] == 2 and len(sleep.waits) == 1


def test_page_mode_yields_a_page_that_stays_invalid_and_goes_on_to_the_next():
    with start_api_server(TICKETS, TOKEN, mode="page", faults=FaultPlan(invalid_json_always={2})) as api:
        pages = list(client(rest_source(api.url, "page", max_attempts=3)).fetch_pages())

    bad = pages[1]
    assert bad.records is None and "not valid JSON" in bad.error
    assert "page=2" in bad.url and bad.status == 200 and bad.body.startswith('{"data": [{"ticket_id": "T005"')
    assert ticket_ids(pages) == EXPECTED_IDS[:5] + EXPECTED_IDS[10:]
    assert api.stats.by_page[2] == 3 and api.stats.by_page[5] == 1


def test_page_mode_gives_up_after_three_unreadable_pages_in_a_row():
    faults = FaultPlan(invalid_json_always={1, 2, 3, 4})
    with start_api_server(TICKETS, TOKEN, mode="page", faults=faults) as api:
        with pytest.raises(RestSourceError, match="unreadable pages in a row"):
            list(client(rest_source(api.url, "page", max_attempts=1)).fetch_pages())

    assert set(api.stats.by_page) == {1, 2, 3}


def test_cursor_mode_yields_the_invalid_page_then_raises():
    seen = []
    with start_api_server(TICKETS, TOKEN, mode="cursor", page_size=5, faults=FaultPlan(invalid_json_always={2})) as api:
        with pytest.raises(RestSourceError, match="cursor pagination needs to find the next page") as raised:
            for page in client(rest_source(api.url, max_attempts=2)).fetch_pages():
                seen.append(page)

    assert [page.records is None for page in seen] == [False, True]
    assert seen[1].url in str(raised.value)
    assert api.stats.by_page[3] == 0


def test_a_timed_out_request_is_retried():
    sleep = RecordingSleep()
    faults = FaultPlan(slow_page=2, slow_seconds=1.0)
    with start_api_server(TICKETS, TOKEN, mode="cursor", page_size=5, faults=faults) as api:
        pages = list(client(rest_source(api.url, timeout_seconds=0.2), sleep).fetch_pages())

    assert ticket_ids(pages) == EXPECTED_IDS
    assert api.stats.by_page[2] == 2 and len(sleep.waits) == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('<https://api.example.com/t?page=3>; rel="next", <https://api.example.com/t?page=9>; rel="last"', "https://api.example.com/t?page=3"),
        ('</v1/tickets?page=2>; rel="next"', "http://127.0.0.1:8765/v1/tickets?page=2"),
        ('<?page=2>; rel="prev next"', "http://127.0.0.1:8765/v1/tickets?page=2"),
        ('<https://api.example.com/t?page=1>; rel="prev"', None),
        (None, None),
    ],
)
def test_next_link_resolves_absolute_and_relative_targets(header, expected):
    assert next_link(header, "http://127.0.0.1:8765/v1/tickets?page=1") == expected
