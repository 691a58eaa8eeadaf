"""Benchmark of the recommender: HTTP latency and throughput of /recommendations on one uvicorn worker
beside a bare FastAPI endpoint returning a fixed 10-item list (the framework's ceiling here), the numpy
top-K cost per request (the floor), and ALS training time at 100k and 1M interactions.

    .venv/bin/python scripts/bench/recs.py [--interactions 100000 1000000] [--seconds 15] [--rate 1500]

Writes bench/results/recs.json. The load generator is wrk (Debian package, installed by
scripts/setup/system-packages.sh), a compiled client, so it takes little of the cores it shares with
the server; the server runs on CPU 0 and wrk on CPU 1 (taskset), so neither preempts the other. Each
server is measured twice: at its peak (16 connections, no pause) and at an offered rate (connections
pausing between requests), for the p99 at that rate. Three servers are measured: the recommender, a
bare FastAPI endpoint (the framework's ceiling) and a raw ASGI app under the same uvicorn (the server's).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "lib"))

from lakeforge.config.models import SparkSettings  # noqa: E402
from lakeforge.recommendations.als import factor_model, fit_als, training_pairs  # noqa: E402
from lakeforge.recommendations.artifact import FactorModel  # noqa: E402
from lakeforge.recommendations.config import load_recs_config, write_recs_config  # noqa: E402
from lakeforge.recommendations.generate import build_catalogue, draw_interactions  # noqa: E402
from lakeforge.recommendations.recommend import NewInteraction, recommend  # noqa: E402
from lakeforge.spark import build_spark  # noqa: E402
from lakeforge.streaming.services import IOT_SERVICES, services_up  # noqa: E402

WORK = Path(os.environ.get("LAKEFORGE_WORK", ROOT / ".work")) / "bench" / "recs"
CONNECTIONS = 16
SERVER_CPU, WRK_CPU = "0", "1"
API_KEY = "bench-key"
PARAMS = {"rank": 16, "regParam": 0.1, "alpha": 10.0}
WRK_SCRIPT = """
math.randomseed(7)
wrk.headers["X-API-Key"] = "{key}"
request = function()
  return wrk.format("GET", "{path_prefix}" .. math.random(1, {users}) .. "{suffix}")
end
{delay}
"""


def interactions_frame(spark, config, count: int):
    """Generated interactions as a Spark frame with silver's columns (users and items scale with count)."""
    spec = config.generator.model_copy(update={"interactions": count, "users": max(1000, count // 100), "items": max(500, count // 200)})
    rng = np.random.default_rng(spec.seed)
    drawn = draw_interactions(spec, build_catalogue(spec, rng), rng)
    types = np.where(drawn["is_rating"], "rating", drawn["implicit_type"])
    values = np.where(drawn["is_rating"], drawn["stars"], 1.0)
    pdf = drawn.assign(user_id=drawn["user"].astype("int32"), item_id=drawn["item"].astype("int32"), event_type=types, value=values,
                       event_time=drawn["time"].dt.tz_localize(None), event_id=[f"b{i}" for i in range(len(drawn))])
    return spark.createDataFrame(pdf[["event_id", "user_id", "item_id", "event_type", "value", "event_time"]]), spec.users


def time_als(spark, config, counts: list[int]):
    """Seconds of one ALS fit (10 iterations, rank 16) on each size's pairs; returns the last model."""
    results, model = {}, None
    for count in counts:
        interactions, users = interactions_frame(spark, config, count)
        pairs = interactions.transform(training_pairs(config.als)).persist()
        pair_count = pairs.count()
        started = time.perf_counter()
        fitted = fit_als(pairs, config.als, PARAMS)
        seconds = time.perf_counter() - started
        results[str(count)] = {"pairs": pair_count, "users": users, "seconds": round(seconds, 1)}
        print(f"ALS on {count:,} interactions ({pair_count:,} pairs): {seconds:.1f} s", flush=True)
        if model is None:  # the smallest size is what the HTTP runs serve
            model = factor_model(fitted, pairs, config.als, PARAMS, categories={})
        pairs.unpersist()
    return results, model


def train(config, counts: list[int]) -> None:
    """Times ALS at each size and saves the smallest size's model, the one the servers answer from."""
    WORK.mkdir(parents=True, exist_ok=True)
    spark = build_spark(SparkSettings(master="local[*]", driver_memory="6g", jars_dir=str(ROOT / ".work/jars"), progress_bar=False, log_level="ERROR"))
    als, model = time_als(spark, config, sorted(counts))
    model.save(WORK / "artifact")
    (WORK / "als.json").write_text(json.dumps(als))


def numpy_costs(model) -> dict:
    """Microseconds per call of the library's answer (no HTTP): trained vector, fold-in, popular."""
    users = model.user_ids[:: max(1, len(model.user_ids) // 500)].tolist()
    fresh = [NewInteraction(int(i), "purchase", 1.0) for i in model.item_ids[:5]]
    cost = lambda fn: round(min(timeit.repeat(fn, number=1, repeat=3)) / len(users) * 1e6, 1)  # noqa: E731 (fn answers every user once)
    return {
        "model_us": cost(lambda: [recommend(model, u, 10) for u in users]),
        "fold_in_us": cost(lambda: [recommend(model, u, 10, fresh) for u in users]),
        "popular_us": cost(lambda: [recommend(model, -1, 10) for u in users]),
        "items": len(model.item_ids),
        "rank": int(model.item_factors.shape[1]),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} not ready after {timeout} s")


def run_wrk(url_base: str, path_prefix: str, suffix: str, users: int, seconds: int, rate: float | None) -> dict:
    delay = "" if rate is None else f"delay = function() return {CONNECTIONS * 1000.0 / rate:.3f} end"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT.format(key=API_KEY, path_prefix=path_prefix, suffix=suffix, users=users, delay=delay))
    out = subprocess.run(["taskset", "-c", WRK_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", script.name, url_base], capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    return parse_wrk(out)


def parse_wrk(out: str) -> dict:
    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 3)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def measure_server(command: list[str], env: dict, ready_path: str, path_prefix: str, suffix: str, users: int, seconds: int, rate: float) -> dict:
    port = free_port()
    process = subprocess.Popen(["taskset", "-c", SERVER_CPU, *command, "--port", str(port)], cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base + ready_path, process)
        run_wrk(base, path_prefix, suffix, users, 3, None)  # warm-up
        return {"peak": run_wrk(base, path_prefix, suffix, users, seconds, None), f"at_{int(rate)}_per_second": run_wrk(base, path_prefix, suffix, users, seconds, rate)}
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=30)


RAW_BODY = json.dumps({"user_id": 1, "items": [{"item_id": i, "score": 1.0 - i / 10, "category": "Drama"} for i in range(10)],
                       "model_version": "0", "variant": "champion", "source": "model"}).encode()


async def raw_asgi(scope, receive, send) -> None:
    """uvicorn's own ceiling: a fixed body, no framework."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": RAW_BODY})


def serve_bare(port: int, raw: bool) -> None:
    """The ceilings: FastAPI + uvicorn returning a fixed 10-item list, nothing else (or no FastAPI at all)."""
    import uvicorn
    from fastapi import FastAPI

    if raw:
        uvicorn.run(raw_asgi, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        return

    app = FastAPI()
    items = [{"item_id": i, "score": 1.0 - i / 10, "category": "Drama"} for i in range(10)]

    @app.get("/bare/{user_id}")
    async def bare(user_id: int, k: int = 10) -> dict:
        return {"user_id": user_id, "items": items[:k], "model_version": "0", "variant": "champion", "source": "model"}

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--rate", type=float, default=1500.0)
    parser.add_argument("--train", action="store_true", help=argparse.SUPPRESS)  # the training process
    parser.add_argument("--serve-bare", choices=["fastapi", "raw"], help=argparse.SUPPRESS)  # a ceiling's server process
    parser.add_argument("--port", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.port, raw=args.serve_bare == "raw")
        return

    config = load_recs_config(ROOT / "conf/recommendations.yml", env="local")
    if args.train:
        train(config, args.interactions)
        return

    subprocess.run(["bash", str(ROOT / "scripts/setup/system-packages.sh"), "wrk"], check=True)
    services_up(None, IOT_SERVICES)
    WORK.mkdir(parents=True, exist_ok=True)
    # Training runs in a process of its own: its JVM exits with it instead of competing with the servers.
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--train", "--interactions", *map(str, args.interactions)], check=True)
    als = json.loads((WORK / "als.json").read_text())
    artifact = WORK / "artifact"
    model = FactorModel.load(artifact)
    served = config.model_copy(update={
        "serving": config.serving.model_copy(update={"artifact_dir": str(artifact), "api_key_env": "LAKEFORGE_RECS_BENCH_KEY"}),
        # The service logs every answer to Kafka, as it does in production: its cost is in the numbers.
        "kafka": config.kafka.model_copy(update={"interactions": config.kafka.interactions.model_copy(update={"name": "bench.recs.interactions"}),
                                                 "inferences": config.kafka.inferences.model_copy(update={"name": "bench.recs.inferences"})}),
    })
    conf_path = write_recs_config(served, WORK / "conf")
    env = {**os.environ, "LAKEFORGE_RECS_BENCH_KEY": API_KEY}
    users = int(model.user_ids.max())
    recs = measure_server([sys.executable, "-m", "lakeforge.cli", "serve", "--config", str(conf_path), "--workers", "1"], env, "/ready",
                          "/recommendations/", "?k=10", users, args.seconds, args.rate)
    bare = measure_server([sys.executable, str(Path(__file__).resolve()), "--serve-bare", "fastapi"], env, "/health", "/bare/", "?k=10", users, args.seconds, args.rate)
    raw = measure_server([sys.executable, str(Path(__file__).resolve()), "--serve-bare", "raw"], env, "/health", "/raw/", "", users, args.seconds, args.rate)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average_at_start": os.getloadavg()},
        "recommendations": recs,
        "bare_fastapi": bare,
        "raw_asgi_uvicorn": raw,
        "cpus": {"server": SERVER_CPU, "wrk": WRK_CPU},
        "peak_throughput_ratio": round(recs["peak"]["requests_per_second"] / bare["peak"]["requests_per_second"], 3),
        "goals": {"p99_ms_at_rate": 10.0, "rate": args.rate, "peak_ratio": 0.5},
        "numpy_top_k": numpy_costs(model),
        "als_training": als,
    }
    out = ROOT / "bench/results/recs.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
