"""With two workers, an event posted to one changes the user's answer from every worker, and /metrics
from either counts both."""

import time
import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from recommendations.world import SERVICE_WORKERS as WORKERS


def test_an_event_changes_the_answer_of_every_worker(service, auth, world):
    user = 2 * 10**8  # new: popular items until the event
    item = int(world.interactions()["item_id"].value_counts().index[0])
    event = {"event_id": f"w-{uuid.uuid4().hex}", "user_id": user, "item_id": item, "event_type": "purchase"}
    assert httpx.post(f"{service}/events", json=event, headers=auth).status_code == 202

    answers: dict[str, dict] = {}  # worker -> its latest answer
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (len(answers) < WORKERS or any(a["source"] != "fold_in" for a in answers.values())):
        response = httpx.get(f"{service}/recommendations/{user}", headers=auth, timeout=10)  # a new connection: any worker
        answers[response.headers["X-Served-By"]] = response.json()
        time.sleep(0.05)
    assert len(answers) == WORKERS
    assert all(answer["source"] == "fold_in" for answer in answers.values())
    assert all(item not in [i["item_id"] for i in answer["items"]] for answer in answers.values())
    assert len({tuple(i["item_id"] for i in answer["items"]) for answer in answers.values()}) == 1  # the same answer everywhere


def requests_counted(metrics_text: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "recs_requests_total" and sample.labels == {"endpoint": "recommendations", "status": "200"}:
                return sample.value
    return 0.0


def test_metrics_from_any_worker_count_every_workers_requests(service, auth):
    def scrape() -> tuple[str, float]:
        response = httpx.get(f"{service}/metrics", timeout=10)  # a new connection: any worker
        return response.headers["X-Served-By"], requests_counted(response.text)

    before = scrape()[1]
    served_by = {httpx.get(f"{service}/recommendations/{n}", headers=auth, timeout=10).headers["X-Served-By"] for n in range(40)}
    assert len(served_by) == WORKERS  # both workers answered some of the 40
    scrapes = [scrape() for _ in range(20)]
    assert {worker for worker, _ in scrapes} == served_by  # each worker answered some scrapes
    assert [count for _, count in scrapes] == [before + 40] * 20
