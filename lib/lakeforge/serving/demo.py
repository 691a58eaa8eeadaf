"""`lakeforge demo-recs`: train on generated interactions, start the service, post a user's events and
show the recommendations move; stops the service it started."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

from lakeforge.recommendations.config import RecsConfig
from lakeforge.recommendations.generate import generate_interactions
from lakeforge.recommendations.load import load_folder
from lakeforge.recommendations.run import summary, train_and_register


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_service(config_path: str, env_name: str, key: str, port: int) -> subprocess.Popen:
    env = {**os.environ, env_name: key}
    command = [sys.executable, "-m", "lakeforge.cli", "serve", "--config", config_path, "--port", str(port)]
    return subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_ready(base: str, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the service at {base} did not become ready within {timeout:.0f} s")


def show(title: str, answer: dict) -> None:
    print(f"\n{title} ({answer['source']}, model v{answer['model_version']}, {answer['variant']}):")
    for item in answer["items"]:
        print(f"  item {item['item_id']:>5}  {item['category']:<12} {item['score']:.3f}")


def run_demo(spark, config: RecsConfig, config_path: str, folder: Path) -> None:
    print(generate_interactions(config.generator, folder))
    load_folder(spark, config, folder)
    result, tracked = train_and_register(spark, config)
    print(summary(result, tracked))
    model = result.model
    user = int(model.user_ids[0])
    touched = Counter(model.item_categories[model.history(model.user_rows[user])[0]].tolist())
    target = min(set(model.item_categories.tolist()), key=lambda category: touched.get(category, 0))
    seen = set(model.history(model.user_rows[user])[0].tolist())
    picks = [int(model.item_ids[row]) for row in model.popularity.argsort()[::-1] if model.item_categories[row] == target and row not in seen][:5]

    key, port = secrets.token_hex(16), free_port()
    process = start_service(config_path, config.serving.api_key_env, key, port)
    base, headers = f"http://127.0.0.1:{port}", {"X-API-Key": key}
    try:
        wait_ready(base, process)
        show(f"user {user} before", httpx.get(f"{base}/recommendations/{user}", headers=headers).json())
        events = [{"event_id": f"demo-{uuid.uuid4().hex}", "user_id": user, "item_id": item, "event_type": "purchase"} for item in picks]
        print(f"\nposting {len(events)} purchases of {target} items: {picks}")
        httpx.post(f"{base}/events", json=events, headers=headers).raise_for_status()
        show(f"user {user} after", httpx.get(f"{base}/recommendations/{user}", headers=headers).json())
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)
