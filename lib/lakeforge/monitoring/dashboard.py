"""`lakeforge dashboard`: a page with live charts, polling a JSON snapshot of the Delta tables.

Served on 127.0.0.1 with a token (config names its environment variable): `/login?token=...` sets a
cookie for the page and its polls; API clients may send `Authorization: Bearer <token>` instead.
"""

from __future__ import annotations

import secrets

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pyspark.sql import SparkSession

from lakeforge.config.models import read_secret
from lakeforge.monitoring.config import MonitoringConfig
from lakeforge.monitoring.page import page
from lakeforge.monitoring.snapshot import Snapshots

COOKIE = "lakeforge_dashboard"


def create_app(snapshots: Snapshots, token: str, refresh_seconds: float) -> FastAPI:
    app = FastAPI(title="Lakeforge dashboard")

    def authorised(request: Request) -> None:
        offered = request.cookies.get(COOKIE) or request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not secrets.compare_digest(offered.encode(), token.encode()):
            raise HTTPException(status_code=401, detail="open /login?token=<the dashboard token> first, or send Authorization: Bearer <token>")

    @app.get("/login")
    def login(token: str = "") -> RedirectResponse:
        if not secrets.compare_digest(token.encode(), app.state.token.encode()):
            raise HTTPException(status_code=401, detail="wrong dashboard token")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    @app.get("/", response_class=HTMLResponse, dependencies=[Depends(authorised)])
    def index() -> str:
        return page(refresh_seconds)

    @app.get("/api/snapshot", dependencies=[Depends(authorised)])
    def snapshot() -> dict:
        return snapshots.snapshot()

    app.state.token = token
    return app


def serve(spark: SparkSession, config: MonitoringConfig) -> None:
    settings = config.dashboard
    app = create_app(Snapshots(spark, config), read_secret(settings.token_env), settings.refresh_seconds)
    print(f"dashboard on http://{settings.host}:{settings.port}/login?token=${settings.token_env}")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
