"""A new registered version under the champion alias is served without a restart or a failed request."""

import threading
import time

import httpx
from mlflow import MlflowClient

from lakeforge.recommendations.tracking import log_recommender


def test_alias_change_under_load_fails_no_request(service, auth, world):
    failures, versions, stop = [], set(), threading.Event()

    def hammer(offset: int) -> None:
        with httpx.Client(base_url=service, headers=auth, timeout=10) as client:
            user = offset
            while not stop.is_set():
                user = (user + 7) % 150 + 1
                try:
                    response = client.get(f"/recommendations/{user}")
                    if response.status_code != 200:
                        failures.append(response.status_code)
                    else:
                        body = response.json()
                        versions.add((body["variant"], body["model_version"]))
                except httpx.HTTPError as error:
                    failures.append(repr(error))

    threads = [threading.Thread(target=hammer, args=(offset,)) for offset in range(3)]
    for thread in threads:
        thread.start()
    try:
        tracked = log_recommender(world.result)  # the same factors as a new version (alias challenger moves too)
        MlflowClient().set_registered_model_alias(tracked.model_name, "champion", tracked.model_version)
        deadline = time.monotonic() + 60
        while ("champion", tracked.model_version) not in versions and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    try:
        assert ("champion", tracked.model_version) in versions
        assert ("challenger", world.tracked.model_version) in versions
        assert failures == []
    finally:  # the world is shared: its own version keeps the challenger alias it was registered with
        MlflowClient().set_registered_model_alias(tracked.model_name, "challenger", world.tracked.model_version)
