"""The FastAPI app: recommendations, events, feedback, model reload, health, readiness and metrics."""

import json
import os
import secrets
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader
from prometheus_client import CONTENT_TYPE_LATEST

from lakeforge.recommendations.config import RecsConfig
from lakeforge.recommendations.recommend import Recommendation
from lakeforge.serving.events import PublishError
from lakeforge.serving.fastpath import RecommendationsFastPath
from lakeforge.serving.metrics import MetricsMiddleware, worker_stopped
from lakeforge.serving.registry import ServedModel
from lakeforge.serving.schemas import (
    Accepted,
    Batch,
    Feedback,
    FeedbackBatch,
    Health,
    Id,
    Interaction,
    Readiness,
    Recommendations,
    Reloaded,
    wire_record,
)
from lakeforge.serving.service import NoModelError, Service

CONFIG_ENV = "LAKEFORGE_RECS_CONFIG"  # what `lakeforge serve` hands its workers
API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="the key in the environment variable serving.api_key_env names")
WORKER = str(os.getpid())


def create_app(service: Service) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        await run_in_threadpool(service.start)
        yield
        service.stop()
        worker_stopped()

    app = FastAPI(title="Lakeforge recommendations", version="1", lifespan=lifespan)

    # async: FastAPI runs a plain `def` dependency in its thread pool, a hop that cost more than the ranking.
    async def require_api_key(key: Annotated[str | None, Security(API_KEY_HEADER)]) -> None:
        if key is None or not secrets.compare_digest(key.encode(), service.api_key.encode()):
            raise HTTPException(401, detail="missing or wrong API key (header X-API-Key)", headers={"WWW-Authenticate": "ApiKey"})

    authorised = [Depends(require_api_key)]

    @app.get("/recommendations/{user_id}", dependencies=authorised, response_model=Recommendations,
             responses={503: {"description": "no model loaded yet"}})
    async def recommendations(
        user_id: Annotated[int, Path(ge=0, le=2**31 - 1)],
        k: Annotated[int, Query(ge=1, le=service.config.serving.max_k)] = 10,
    ) -> Response:
        try:
            served, ranked = service.recommend(user_id, k)
        except NoModelError as error:
            raise HTTPException(503, detail=str(error)) from None
        return Response(recommendations_body(user_id, served, ranked), media_type="application/json", headers={"X-Served-By": WORKER})

    async def publish(records: list[dict]) -> Accepted:
        try:
            accepted = await run_in_threadpool(service.publisher.publish, records)
        except PublishError as error:
            raise HTTPException(503, detail=str(error)) from None
        for record in records:
            service.apply(record, "api")  # this worker answers with it at once; the others within a poll
        return Accepted(accepted=accepted)

    @app.post("/events", status_code=202, dependencies=authorised, responses={503: {"description": "Kafka did not confirm"}})
    async def events(body: Interaction | Batch) -> Accepted:
        batch = body if isinstance(body, list) else [body]
        return await publish([wire_record(e.event_id, e.user_id, e.item_id, e.event_type, e.value, e.timestamp, None) for e in batch])

    @app.post("/feedback", status_code=202, dependencies=authorised, responses={503: {"description": "Kafka did not confirm"}})
    async def feedback(body: Feedback | FeedbackBatch) -> Accepted:
        batch = body if isinstance(body, list) else [body]
        return await publish([wire_record(f.event_id, f.user_id, f.item_id, f.kind, 1.0, f.timestamp, f.variant) for f in batch])

    @app.post("/models/reload", dependencies=authorised)
    async def reload_models() -> Reloaded:
        """Check the registry's aliases now instead of at the next poll (what a deployment calls after promoting)."""
        if service.registry is not None:
            await run_in_threadpool(service.registry.refresh)
        return Reloaded(models=service.slots.versions())

    @app.get("/health")
    async def health() -> Health:
        return Health()

    @app.get("/ready", responses={503: {"model": Readiness}})
    async def ready(response: Response) -> Readiness:
        following = service.follower is not None and service.follower.ready.is_set()
        state = Readiness(ready=bool(service.slots.versions()) and following, models=service.slots.versions(), following_events=following)
        response.status_code = 200 if state.ready else 503
        response.headers["X-Served-By"] = WORKER
        return state

    @app.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
    async def metrics() -> Response:
        return Response(service.metrics.exposition(), media_type=CONTENT_TYPE_LATEST, headers={"X-Served-By": WORKER})

    # Added last, so outermost: metrics see both paths; the fast path answers before FastAPI does.
    app.add_middleware(RecommendationsFastPath, service=service, endpoint=recommendations, render=recommendations_body,
                       headers=[(b"x-served-by", WORKER.encode())])
    app.add_middleware(MetricsMiddleware, metrics=service.metrics)
    return app


def recommendations_body(user_id: int, served: ServedModel, ranked: Recommendation) -> bytes:
    """The service's own plain values, serialised once in the shape of `Recommendations` (validating or
    even constructing the pydantic models per item cost more than the ranking)."""
    items = [{"item_id": i, "score": s, "category": c} for i, s, c in zip(ranked.item_ids, ranked.scores, ranked.categories)]
    body = {"user_id": user_id, "items": items, "model_version": served.version, "variant": served.variant, "source": ranked.source}
    return json.dumps(body).encode()


def app_from_environment() -> FastAPI:
    """uvicorn's factory in each worker: the config named by $LAKEFORGE_RECS_CONFIG (and $LAKEFORGE_ENV)."""
    from lakeforge.config import load_config

    return create_app(Service.from_config(load_config(os.environ.get(CONFIG_ENV, "conf/recommendations.yml"), RecsConfig)))
