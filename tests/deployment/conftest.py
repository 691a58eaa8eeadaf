"""Deployment fixtures: a temporary MLflow registry (sqlite) and lakehouse, three tiny churn pipelines
fitted once (weak, good, label-shuffled) that tests register under their own model names, and moto's
AWS emulator on loopback."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pytest
import yaml
from helpers import write_test_overlay
from mlflow.models import infer_signature
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import OneHotEncoder, SQLTransformer, StringIndexer, VectorAssembler

from lakeforge.config.loader import load_config
from lakeforge.deployment.config import DeploymentConfig
from lakeforge.training.sample_data import telco_frame, write_csv
from lakeforge.training.tracking import pip_requirements

ROOT = Path(__file__).resolve().parents[2]
FEATURES = {"weak": ["MonthlyCharges"], "good": ["tenure", "MonthlyCharges", "Contract"], "shuffled": ["tenure", "MonthlyCharges", "Contract"]}
names = (f"churn_{n}" for n in itertools.count(1))


def tiny_pipeline(features: list[str]) -> Pipeline:
    """Text columns as the training CSV reader gives them: numbers cast, Contract one-hot encoded."""
    numeric = [c for c in features if c != "Contract"]
    casts = ", ".join([*(f"CAST(`{c}` AS DOUBLE) AS `{c}_n`" for c in numeric), "*"])
    stages = [SQLTransformer(statement=f"SELECT {casts} FROM __THIS__")]
    vector_inputs = [f"{c}_n" for c in numeric]
    if "Contract" in features:
        stages += [StringIndexer(inputCol="Contract", outputCol="contract_i", handleInvalid="keep"), OneHotEncoder(inputCol="contract_i", outputCol="contract_v")]
        vector_inputs.append("contract_v")
    stages += [VectorAssembler(inputCols=vector_inputs, outputCol="features", handleInvalid="keep"),
               LogisticRegression(featuresCol="features", labelCol="label", maxIter=30)]
    return Pipeline(stages=stages)


@dataclass(frozen=True)
class Workspace:
    root: Path
    conf: Path  # conf/deployment.yml in root, with conf/env/test.yml
    data: Path  # the telco look-alike CSV the models were fitted on and are evaluated on
    models: dict[str, PipelineModel]
    spark: object

    def config(self, model: str, **overrides) -> DeploymentConfig:
        """conf/deployment.yml's churn entry for registered model `model`, with overrides of its keys."""
        config = load_config(self.conf, DeploymentConfig, env="test")
        spec = config.models["churn"].model_copy(update={"registered_model": model, **overrides})
        return config.model_copy(update={"models": {"churn": spec}})

    def write_conf(self, model: str, **overrides) -> Path:
        """A config file beside conf/deployment.yml (so the test overlay applies) for registered model `model`."""
        document = yaml.safe_load(self.conf.read_text())
        document["models"]["churn"].update(registered_model=model, **overrides)
        path = self.conf.with_name(f"deployment-{model}.yml")
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path

    def register(self, model: str, kind: str) -> str:
        """Log the fitted `kind` pipeline as a new version of `model` with the alias challenger."""
        fitted, features = self.models[kind], FEATURES[kind]
        example = self.spark.read.option("header", "true").csv(str(self.data)).select(*features).limit(5)
        signature = infer_signature(example.toPandas(), fitted.transform(example).select("prediction").toPandas())
        with mlflow.start_run(experiment_id=mlflow.set_experiment("deployment-tests").experiment_id):
            info = mlflow.spark.log_model(fitted, "model", registered_model_name=model, signature=signature, pip_requirements=pip_requirements())
        version = str(info.registered_model_version)
        mlflow.MlflowClient().set_registered_model_alias(model, "challenger", version)
        return version


def fit_models(spark, data: Path) -> dict[str, PipelineModel]:
    frame = spark.read.option("header", "true").csv(str(data))
    labelled = frame.selectExpr("*", "CAST(Churn = 'Yes' AS DOUBLE) AS label").cache()
    rng = np.random.default_rng(5)
    shuffled_labels = rng.permutation([float(row.label) for row in labelled.select("label").collect()])
    shuffled = spark.createDataFrame(
        [(*[row[c] for c in FEATURES["shuffled"]], float(label)) for row, label in zip(labelled.collect(), shuffled_labels)],
        [*FEATURES["shuffled"], "label"],
    )
    return {
        "weak": tiny_pipeline(FEATURES["weak"]).fit(labelled),
        "good": tiny_pipeline(FEATURES["good"]).fit(labelled),
        "shuffled": tiny_pipeline(FEATURES["shuffled"]).fit(shuffled),
    }


@pytest.fixture(scope="session")
def workspace(tmp_path_factory, spark) -> Workspace:
    root = tmp_path_factory.mktemp("deployment")
    data = write_csv(telco_frame(rows=600, seed=5), root / "data/telco.csv")
    conf = root / "conf"
    write_test_overlay(conf, root)
    document = yaml.safe_load((ROOT / "conf/deployment.yml").read_text())
    churn = document["models"]["churn"]
    churn.update(run_mode="enabled", target="local", experiment="deployment-validation")
    churn["evaluation"] = {"data": {"path": str(data), "label": "Churn"}, "holdout": {"test_fraction": 0.3, "seed": 3}}
    churn["gate"] = {"metrics": {"roc_auc": {"min": 0.55, "max_drop": 0.005}, "f1": {"max_drop": 0.0}},
                     "data": {"min_rows": 100, "max_null_fraction": 0.05, "min_class_fraction": 0.05},
                     "limits": {"max_model_mb": 20}}
    # Known answers of the telco look-alike: churn rises with month-to-month contracts and falls with tenure.
    churn["smoke"] = [{"name": "stayer", "row": {"tenure": 70, "MonthlyCharges": 20.0, "Contract": "Two year"}, "prediction": 0.0}]
    churn["scoring"] = {"data": {"path": str(data), "label": "Churn"}, "key": "customerID", "output_table": "churn_predictions"}
    (conf / "deployment.yml").write_text(yaml.safe_dump(document, sort_keys=False))
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    return Workspace(root=root, conf=conf / "deployment.yml", data=data, models=fit_models(spark, data), spark=spark)


@pytest.fixture
def model_name() -> str:
    """A registered model of its own for each test, so aliases never leak between tests."""
    return next(names)
