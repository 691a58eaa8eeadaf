"""With two workers, an event posted to one changes the user's answer from every worker."""

import time
import uuid

import httpx

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
