"""The HTTP contract: API keys, validation, popular items for new users, live answers, health and metrics."""

import time
import uuid
from collections import Counter

import httpx
import pytest

USER = 10**8  # not in the generated data


def get(base, path, headers=None, **params):
    return httpx.get(f"{base}{path}", headers=headers, params=params, timeout=10)  # a new connection: any worker


@pytest.mark.parametrize("headers", [None, {"X-API-Key": "wrong"}], ids=["missing", "wrong"])
def test_missing_or_wrong_key_gets_401(service, headers):
    assert get(service, "/recommendations/1", headers).status_code == 401
    event = {"event_id": "k1", "user_id": 1, "item_id": 1, "event_type": "view"}
    assert httpx.post(f"{service}/events", json=event, headers=headers).status_code == 401


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"event_id": "b1", "item_id": 1, "event_type": "view"}, "user_id"),
        ({"event_id": "b2", "user_id": 1, "item_id": 1, "event_type": "teleport"}, "event_type"),
        ({"event_id": "b3", "user_id": 1, "item_id": 1, "event_type": "rating", "value": 9}, "between 0.5 and 5"),
        ({"event_id": "b4", "user_id": 1, "item_id": -3, "event_type": "view"}, "item_id"),
        ({"event_id": "b5", "user_id": 1, "item_id": 1, "event_type": "view", "timestamp": "2026-01-01T10:00:00"}, "timezone"),
        ({"event_id": "b6", "user_id": 1, "item_id": 1, "event_type": "view", "colour": "red"}, "colour"),
        ([], "at least 1"),
    ],
    ids=["no-user", "unknown-type", "rating-out-of-range", "negative-item", "naive-time", "unknown-field", "empty-batch"],
)
def test_bad_payloads_get_422_with_the_reason(service, auth, body, reason):
    response = httpx.post(f"{service}/events", json=body, headers=auth)
    assert response.status_code == 422
    assert reason in response.text


def test_bad_query_parameters_get_422(service, auth, world):
    assert get(service, "/recommendations/1", auth, k=0).status_code == 422
    assert get(service, "/recommendations/-1", auth).status_code == 422
    assert get(service, f"/recommendations/{2**31}", auth).status_code == 422  # ten digits, past int32
    assert get(service, "/recommendations/1", auth, k=world.config.serving.max_k + 1).status_code == 422


def test_the_fast_path_answers_as_the_fastapi_route_does(service, auth):
    """A well-formed request is answered in front of FastAPI; an extra query parameter makes FastAPI's
    route answer the same request (it ignores the parameter): the two answers are the same."""
    for user, k in ((7, 5), (USER, 10), (42, 1)):
        fast, route = get(service, f"/recommendations/{user}", auth, k=k), get(service, f"/recommendations/{user}", auth, k=k, by="route")
        assert fast.status_code == route.status_code == 200
        assert fast.json() == route.json() and len(fast.json()["items"]) == k
        assert fast.headers["content-type"] == route.headers["content-type"] == "application/json"
        assert int(fast.headers["content-length"]) == len(fast.content) and fast.headers["x-served-by"]


def test_unknown_user_gets_popular_items(service, auth, world):
    interactions = world.interactions().drop_duplicates()
    users_per_item = interactions.groupby("item_id")["user_id"].nunique()
    body = get(service, f"/recommendations/{USER}", auth, k=5).json()
    assert body["source"] == "popular"
    assert [users_per_item[item["item_id"]] for item in body["items"]] == users_per_item.sort_values(ascending=False).iloc[:5].tolist()


def answer_after(service, auth, user: int, source: str, timeout: float = 30.0) -> dict:
    """The user's answer once it comes from `source` (the other worker may need a poll to see an event)."""
    deadline = time.monotonic() + timeout
    while True:
        body = get(service, f"/recommendations/{user}", auth, k=10).json()
        if body["source"] == source or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def test_a_users_events_raise_their_category_and_seen_items_never_come_back(service, auth, world):
    interactions, categories = world.interactions(), world.categories()
    user = int(interactions["user_id"].value_counts().index[3])
    seen = set(interactions.loc[interactions["user_id"] == user, "item_id"])
    before = get(service, f"/recommendations/{user}", auth, k=10).json()
    assert before["source"] == "model" and not {item["item_id"] for item in before["items"]} & seen

    touched = Counter(categories[i] for i in interactions.loc[interactions["user_id"] == user, "item_id"])
    target = min(set(categories.values()), key=lambda c: touched.get(c, 0))
    picks = [int(i) for i in interactions["item_id"].value_counts().index if categories[int(i)] == target and int(i) not in seen][:6]
    events = [{"event_id": f"c-{uuid.uuid4().hex}", "user_id": user, "item_id": item, "event_type": "purchase"} for item in picks]
    assert httpx.post(f"{service}/events", json=events, headers=auth).json() == {"accepted": len(picks)}

    after = answer_after(service, auth, user, "fold_in")
    share = lambda answer: sum(item["category"] == target for item in answer["items"]) / len(answer["items"])  # noqa: E731
    assert after["source"] == "fold_in"
    assert share(after) > share(before)
    assert not {item["item_id"] for item in after["items"]} & (seen | set(picks))


def test_feedback_is_accepted(service, auth):
    feedback = [
        {"event_id": f"f-{uuid.uuid4().hex}", "user_id": 1, "item_id": 2, "kind": "impression", "variant": "champion"},
        {"event_id": f"f-{uuid.uuid4().hex}", "user_id": 1, "item_id": 2, "kind": "click", "variant": "champion"},
    ]
    assert httpx.post(f"{service}/feedback", json=feedback, headers=auth).json() == {"accepted": 2}


def test_health_ready_and_metrics(service, auth, world):
    assert get(service, "/health").json() == {"status": "ok"}
    assert get(service, "/ready").json()["models"]["challenger"] == world.tracked.model_version
    get(service, "/recommendations/1", auth)
    metrics = get(service, "/metrics").text
    for name in ("recs_requests_total", "recs_request_seconds_bucket", "recs_cache_hit_rate", "recs_model_version{variant=\"challenger\"}"):
        assert name in metrics
