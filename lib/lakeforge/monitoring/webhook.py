"""POST alerts to a webhook (Slack-, Teams- or PagerDuty-style receivers take JSON bodies)."""

from __future__ import annotations

import math

import httpx

from lakeforge.config.models import read_secret
from lakeforge.monitoring.config import WebhookSettings


def json_safe(alert: dict) -> dict:
    """Timestamps as ISO text, non-finite numbers (a table never loaded is infinitely stale) as null."""
    safe = {}
    for key, value in alert.items():
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, float) and not math.isfinite(value):
            value = None
        safe[key] = value
    return safe


def post_alerts(alerts: list[dict], settings: WebhookSettings) -> int:
    """One POST per alert; connection failures are retried by the transport. Returns the alerts sent."""
    if settings.url is None or not alerts:
        return 0
    token = read_secret(settings.token_env)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.HTTPTransport(retries=settings.attempts - 1)
    with httpx.Client(transport=transport, timeout=settings.timeout_seconds, headers=headers) as client:
        for alert in alerts:
            client.post(settings.url, json=json_safe(alert)).raise_for_status()
    return len(alerts)
