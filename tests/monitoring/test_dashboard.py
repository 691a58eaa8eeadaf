"""The dashboard in headless Chromium (Debian's chromium + chromium-driver, scripts/setup/tools.sh):
the page loads, its charts draw the tables' rows, and a new IoT alert appears without a reload."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import datetime, timedelta

import httpx
import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from lakeforge.config.loader import load_model
from lakeforge.monitoring.config import MonitoringConfig
from lakeforge.monitoring.dashboard import create_app
from lakeforge.monitoring.paths import MonitorPaths
from lakeforge.monitoring.snapshot import Snapshots
from lakeforge.tables import delta

TOKEN = "dashboard-test-token"
T0 = datetime(2026, 3, 1, 12, 0)
ALERT_SCHEMA = "alert_id string, device_id string, seq long, event_time timestamp, metric string, rule string, value double, score double, limit double"


def alert(alert_id: str, minutes: int) -> tuple:
    return (alert_id, "device-1", minutes, T0 + timedelta(minutes=minutes), "temperature", "threshold_high", 91.5, 91.5, 80.0)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory, spark):
    root = tmp_path_factory.mktemp("dashboard")
    config = load_model(MonitoringConfig, {
        "name": "dashboard-test", "platform": {"storage": {"root": str(root / "lake"), "landing": str(root / "in")}},
        "model": {"registered_model": "m", "entity_key": "id", "label": "y"},
    }, origin="test")
    paths = MonitorPaths.of(config)
    windows = [(f"device-{d}", T0 + timedelta(minutes=m), T0 + timedelta(minutes=m + 1), 10, 20.0 + d + m / 10) for d in (1, 2) for m in range(5)]
    delta.append(spark.createDataFrame(windows, "device_id string, window_start timestamp, window_end timestamp, readings long, temperature_mean double"), paths.iot_windows)
    delta.append(spark.createDataFrame([alert("a-1", 1)], ALERT_SCHEMA), paths.iot_alerts)
    quality = [(T0 + timedelta(days=d), "m", "1", 0.8 - d / 10, 0.6) for d in range(3)]
    delta.append(spark.createDataFrame(quality, "window_start timestamp, model_name string, model_version string, roc_auc double, f1 double"), paths.quality)
    server = uvicorn.Server(uvicorn.Config(create_app(Snapshots(spark, config), TOKEN, refresh_seconds=0.5), host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.1)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}", paths
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    yield driver
    driver.quit()


def test_the_api_refuses_requests_without_the_token(dashboard):
    url, _ = dashboard
    with httpx.Client(timeout=300) as client:  # a snapshot runs several Spark queries
        assert client.get(f"{url}/api/snapshot").status_code == 401
        assert client.get(f"{url}/login", params={"token": "wrong"}).status_code == 401
        snapshot = client.get(f"{url}/api/snapshot", headers={"Authorization": f"Bearer {TOKEN}"})
    assert snapshot.status_code == 200 and snapshot.json()["iot_windows"]["metric"] == "temperature_mean"


def test_page_charts_the_tables_and_shows_a_new_iot_alert_without_reloading(dashboard, browser, spark):
    url, paths = dashboard
    browser.get(f"{url}/login?token={TOKEN}")
    wait = WebDriverWait(browser, 120)
    wait.until(lambda b: b.find_element(By.ID, "iot-chart").get_attribute("data-points") == "10")
    assert browser.find_element(By.ID, "quality-chart").get_attribute("data-points") == "6"  # roc_auc and f1, 3 windows
    assert [li.get_attribute("data-id") for li in browser.find_elements(By.CSS_SELECTOR, "#iot-alerts li")] == ["a-1"]
    browser.execute_script("window.loadedOnce = 'still here';")  # gone if the page reloads

    delta.append(spark.createDataFrame([alert("a-2", 4)], ALERT_SCHEMA), paths.iot_alerts)
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#iot-alerts li[data-id='a-2']"))
    assert browser.execute_script("return window.loadedOnce") == "still here"
    assert "threshold_high" in browser.find_element(By.CSS_SELECTOR, "#iot-alerts li[data-id='a-2']").text
