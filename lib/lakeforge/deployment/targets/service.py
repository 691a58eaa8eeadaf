"""The recommender's local target: the running recommendations API follows the registered model's
aliases, so moving `champion` is the deployment and POST /models/reload makes the service pick it up
now instead of at its next poll. The smoke test asks the service itself."""

from __future__ import annotations

import os
import time

import httpx

from lakeforge.deployment.config import RecommendationSmokeCase, ServiceSpec
from lakeforge.deployment.smoke import NO_USER_CASES
from lakeforge.errors import LakeforgeError
from lakeforge.recommendations.recommend import recommend
from lakeforge.serving.registry import download_model

POLL_SECONDS = 0.2


class ServiceTarget:
    name = "local"

    def __init__(self, model_name: str, spec: ServiceSpec):
        key = os.environ.get(spec.api_key_env)
        if not key:
            raise LakeforgeError(f"set ${spec.api_key_env} to the recommendations API's key: the deployment reloads and smoke-tests it")
        self.model_name, self.spec = model_name, spec
        self.client = httpx.Client(base_url=spec.url, headers={"X-API-Key": key}, timeout=30)

    def deploy(self, version: str) -> dict[str, str]:
        response = self.client.post("/models/reload")
        response.raise_for_status()
        return {"service": self.spec.url, "version": version, "serving": str(response.json()["models"])}

    def smoke_test(self, version: str, cases: list[RecommendationSmokeCase]) -> list[str]:
        """Each case's user gets the version's own top-k from the service, once it answers from the version."""
        if not cases:
            return [NO_USER_CASES]
        model = download_model(self.model_name, version)
        return [failure for case in cases for failure in self.case_failures(version, case, recommend(model, case.user_id, case.k).item_ids)]

    def case_failures(self, version: str, case: RecommendationSmokeCase, expected: list[int]) -> list[str]:
        deadline, body = time.monotonic() + self.spec.wait_seconds, None
        while time.monotonic() < deadline:
            response = self.client.get(f"/recommendations/{case.user_id}", params={"k": case.k})
            if response.status_code != 200:
                return [f"smoke case {case.name!r}: the service answered {response.status_code}: {response.text[:200]}"]
            body = response.json()
            if body["model_version"] == version:
                break
            time.sleep(POLL_SECONDS)
        else:
            served = body["model_version"] if body else "nothing"
            return [f"smoke case {case.name!r}: the service still answers with version {served} after {self.spec.wait_seconds:.0f} s, expected {version}"]
        served = [item["item_id"] for item in body["items"]]
        if served != expected:
            return [f"smoke case {case.name!r}: version {version} served items {served} ({body['source']}), its artifact ranks {expected}"]
        return []

    def withdraw(self) -> None:
        """No alias names the version any more: the reload drops it from the service's arms."""
        self.client.post("/models/reload").raise_for_status()
