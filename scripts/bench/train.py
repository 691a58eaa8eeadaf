"""Benchmark: 5-fold CV of the churn pipeline (LR and GBT) in Spark against scikit-learn's equivalent
pipeline on the same generated rows: time ratio and ROC-AUC difference.

    .venv/bin/python scripts/bench/train.py [--rows 100000 1000000] [--models logistic_regression gbt]

Writes bench/results/train.json. Spark runs local[*] and scikit-learn n_jobs=-1 on the same machine:
the same cores, so the ratio is what to compare across machines. Both sides: median imputation,
one-hot encoding, standard scaling; LR with the same L2 penalty (scikit-learn C = 1 / (regParam * n));
GBT with the same rounds, depth and step (scikit-learn's histogram GBT, binned as Spark's is).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyspark
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from lakeforge.config import load_config
from lakeforge.training.columns import check_label, detect_roles, with_label
from lakeforge.training.config import DataSpec, FeatureSpec, ModelSpec, TrainingConfig, ValidationSpec
from lakeforge.training.crossval import cross_validate
from lakeforge.training.features import preprocessing_stages
from lakeforge.training.sample_data import telco_frame
from lakeforge.training.stratified import assign_folds
from lakeforge.spark import build_spark

ROOT = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("LAKEFORGE_WORK", ROOT / ".work")) / "bench" / "train"
FOLDS = 5
REG_PARAM = 0.01
GBT = {"maxIter": 50, "maxDepth": 5, "stepSize": 0.1}
SPARK_MODELS = {
    "logistic_regression": ModelSpec(kind="logistic_regression", params={"regParam": REG_PARAM, "elasticNetParam": 0.0, "maxIter": 100}),
    "gbt": ModelSpec(kind="gbt", params=GBT),
}


def sklearn_model(name: str, rows: int):
    """`rows`: the rows it is fitted on (Spark's regParam is per row, scikit-learn's C is for the sum)."""
    if name == "logistic_regression":
        return LogisticRegression(C=1.0 / (REG_PARAM * rows), max_iter=100)
    return HistGradientBoostingClassifier(max_iter=GBT["maxIter"], max_depth=GBT["maxDepth"], learning_rate=GBT["stepSize"], early_stopping=False)


def sklearn_cv(frame: pd.DataFrame, numeric: list[str], categorical: list[str], name: str) -> tuple[float, float]:
    """(seconds, mean fold ROC-AUC) of the same work as the Spark side: the preprocessing + model fitted
    on 5 stratified folds (in parallel, all cores) with out-of-fold scores, then refitted on every row
    (the model CrossValidator hands back as bestModel)."""
    from joblib import Parallel, delayed

    x = frame[numeric + categorical].assign(**{c: pd.to_numeric(frame[c], errors="coerce") for c in numeric})
    y = (frame["Churn"] == "Yes").to_numpy(int)
    prep = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
        ("cat", make_pipeline(OneHotEncoder(handle_unknown="ignore", sparse_output=False), StandardScaler()), categorical),
    ])

    def fit(rows):
        return make_pipeline(prep, sklearn_model(name, len(rows))).fit(x.iloc[rows], y[rows])

    def fold(train, test):
        return roc_auc_score(y[test], fit(train).predict_proba(x.iloc[test])[:, 1])

    started = time.perf_counter()
    aucs = Parallel(n_jobs=-1)(delayed(fold)(tr, te) for tr, te in StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(x, y))
    fit(np.arange(len(y)))
    return time.perf_counter() - started, float(np.mean(aucs))


def spark_cv(spark, csv: Path, name: str) -> tuple[float, float, list[str], list[str]]:
    spec = DataSpec(label="Churn")
    raw = spark.read.options(header="true").csv(str(csv))
    check_label(raw, spec, "classification")
    roles = detect_roles(raw, spec)
    data = assign_folds(raw.transform(with_label(spec, "classification")), FOLDS, seed=0, stratified=True).cache()
    data.count()
    validation = ValidationSpec(folds=FOLDS, parallelism=2, threshold={"strategy": "none"})
    started = time.perf_counter()
    result = cross_validate(data, preprocessing_stages(roles, FeatureSpec(), "classification", None), name, SPARK_MODELS[name], "classification", validation)
    seconds = time.perf_counter() - started
    data.unpersist()
    return seconds, result.cv["roc_auc"]["mean"], list(roles.numeric), list(roles.categorical)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--models", nargs="+", default=list(SPARK_MODELS), choices=list(SPARK_MODELS))
    args = parser.parse_args()
    settings = load_config(ROOT / "conf/churn.yml", TrainingConfig, env="local").platform.spark
    spark = build_spark(settings.model_copy(update={"progress_bar": False, "log_level": "ERROR"}))
    results = []
    for rows in args.rows:
        csv = WORK / f"telco_{rows}.csv"
        if not csv.exists():
            csv.parent.mkdir(parents=True, exist_ok=True)
            telco_frame(rows=rows, seed=1).to_csv(csv, index=False)
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        for name in args.models:
            spark_seconds, spark_auc, numeric, categorical = spark_cv(spark, csv, name)
            sk_seconds, sk_auc = sklearn_cv(frame, numeric, categorical, name)
            results.append({
                "rows": rows, "model": name, "folds": FOLDS,
                "spark_seconds": round(spark_seconds, 1), "sklearn_seconds": round(sk_seconds, 1),
                "time_ratio_spark_over_sklearn": round(spark_seconds / sk_seconds, 2),
                "spark_roc_auc": round(spark_auc, 4), "sklearn_roc_auc": round(sk_auc, 4),
                "roc_auc_difference": round(spark_auc - sk_auc, 4),
            })
            print(json.dumps(results[-1]))
    out = ROOT / "bench/results/train.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "benchmark": "5-fold CV of the churn pipeline, Spark ML vs scikit-learn on the same rows",
        "goal": "time ratio <= 3, |ROC-AUC difference| <= 0.01",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "spark": pyspark.__version__, "sklearn": sklearn.__version__, "spark_master": settings.master},
        "results": results,
    }, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
