"""A small trained recommender shared by the recommendations and serving tests: generated
interactions loaded into a temporary lakehouse, ALS trained once and registered in a sqlite MLflow."""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lakeforge.config.models import PlatformConfig, SparkSettings, StorageSettings
from lakeforge.recommendations.config import RecsConfig, load_recs_config, write_recs_config
from lakeforge.recommendations.run import train_and_register
from lakeforge.recommendations.train import RecsResult
from lakeforge.recommendations.generate import generate_interactions
from lakeforge.recommendations.load import load_folder
from lakeforge.streaming.services import IOT_SERVICES, services_up
from lakeforge.tracking import TrackedRun

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "test-key-" + uuid.uuid4().hex[:8]
SERVICE_WORKERS = 2  # uvicorn workers of the serving tests' service


def small_config(root: Path, port: int = 0) -> RecsConfig:
    """Tiny data, one grid point, its own lakehouse, MLflow database and Kafka topic."""
    base = load_recs_config(ROOT / "conf/recommendations.yml", env="local")
    run = uuid.uuid4().hex[:8]  # topics of their own
    spark = SparkSettings(master="local[2]", shuffle_partitions=2, driver_memory="2g", jars_dir=str(ROOT / ".work/jars"), progress_bar=False, log_level="ERROR")
    return base.model_copy(
        update={
            "platform": PlatformConfig(spark=spark, storage=StorageSettings(root=str(root / "lake"), landing=str(root / "in")), mlflow_tracking_uri=f"sqlite:///{root}/mlflow.db"),
            "generator": base.generator.model_copy(update={"users": 150, "items": 80, "interactions": 6000}),
            "als": base.als.model_copy(update={"max_iter": 8, "grid": {"rank": [8], "regParam": [0.1], "alpha": [10.0]}}),
            "kafka": base.kafka.model_copy(update={"interactions": base.kafka.interactions.model_copy(update={"name": f"t{run}.interactions"}),
                                                   "inferences": base.kafka.inferences.model_copy(update={"name": f"t{run}.inferences"})}),
            "stream": base.stream.model_copy(update={"trigger_interval": "1 second"}),
            "serving": base.serving.model_copy(update={"api_key_env": "LAKEFORGE_RECS_TEST_KEY", "poll_seconds": 0.5, "port": port}),
        }
    )


@dataclass(frozen=True)
class World:
    config: RecsConfig
    config_path: Path
    data: Path  # movies.csv, ratings.csv, events.csv
    result: RecsResult
    tracked: TrackedRun

    def interactions(self) -> pd.DataFrame:
        """The generated interactions read straight from the files (independent of the loader)."""
        ratings = pd.read_csv(self.data / "ratings.csv").rename(columns={"userId": "user_id", "movieId": "item_id"})
        events = pd.read_csv(self.data / "events.csv")
        return pd.concat([ratings[["user_id", "item_id"]], events[["user_id", "item_id"]]])

    def categories(self) -> dict[int, str]:
        movies = pd.read_csv(self.data / "movies.csv")
        return dict(zip(movies["movieId"], movies["genres"].str.split("|").str[0]))


_world: World | None = None


def trained_world(spark, root: Path) -> World:
    """Built once per test session, whichever test folder asks first."""
    global _world
    if _world is None:
        services_up(None, IOT_SERVICES)  # Kafka (and its credentials in the environment)
        config = small_config(root)
        data = root / "data"
        generate_interactions(config.generator, data)
        load_folder(spark, config, data)
        result, tracked = train_and_register(spark, config)
        _world = World(config=config, config_path=write_recs_config(config, root / "conf"), data=data, result=result, tracked=tracked)
    return _world


def lakeforge(*args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lakeforge.cli", *args], cwd=ROOT, env=env, **popen)
