"""The gate as a pure function: hand-written metrics in, the checks that must fail or pass out."""

from __future__ import annotations

from lakeforge.deployment.config import DataGate, Gate, LimitGate, MetricGate
from lakeforge.deployment.validation import DataProfile, ModelEvaluation, validate

GATE = Gate(
    metrics={"roc_auc": MetricGate(min=0.7, max_drop=0.005), "f1": MetricGate(max_drop=0.0), "log_loss": MetricGate(max=0.6, max_rise=0.01)},
    data=DataGate(min_rows=100, max_null_fraction=0.05, min_class_fraction=0.1),
    limits=LimitGate(max_model_mb=10, max_scoring_seconds=30),
)
PROFILE = DataProfile(rows=500, null_fractions={"tenure": 0.0, "contract": 0.01}, class_fractions={0.0: 0.74, 1.0: 0.26})
CHAMPION = ModelEvaluation("1", {"roc_auc": 0.80, "f1": 0.55, "log_loss": 0.45}, size_mb=2.0, scoring_seconds=3.0)


def challenger(**metrics) -> ModelEvaluation:
    return ModelEvaluation("2", {"roc_auc": 0.80, "f1": 0.55, "log_loss": 0.45, **metrics}, size_mb=2.0, scoring_seconds=3.0)


def failed(verdict) -> list[str]:
    return sorted(check.name for check in verdict.checks if not check.passed)


def test_an_equal_challenger_passes_every_check():
    verdict = validate(challenger(), CHAMPION, GATE, PROFILE)
    assert verdict.passed and verdict.reasons == []
    assert {c.name for c in verdict.checks} >= {"metric.roc_auc.max_drop", "metric.f1.max_drop", "metric.log_loss.max_rise", "data.rows"}


def test_roc_auc_may_drop_by_the_allowed_amount_but_not_more():
    assert validate(challenger(roc_auc=0.7951), CHAMPION, GATE, PROFILE).passed  # dropped 0.0049
    verdict = validate(challenger(roc_auc=0.7940), CHAMPION, GATE, PROFILE)  # dropped 0.006
    assert failed(verdict) == ["metric.roc_auc.max_drop"]
    assert "dropped 0.0060, more than the allowed 0.005" in verdict.reasons[0]


def test_f1_must_not_drop_at_all_and_lower_is_better_metrics_must_not_rise():
    verdict = validate(challenger(f1=0.549, log_loss=0.47), CHAMPION, GATE, PROFILE)
    assert failed(verdict) == ["metric.f1.max_drop", "metric.log_loss.max_rise"]
    assert len(verdict.reasons) == 2


def test_first_model_is_held_to_absolute_thresholds_only():
    # Far below any champion, but above the absolute bounds: passes without a champion.
    assert validate(challenger(roc_auc=0.71, f1=0.1), None, GATE, PROFILE).passed
    verdict = validate(challenger(roc_auc=0.69, log_loss=0.61), None, GATE, PROFILE)
    assert failed(verdict) == ["metric.log_loss.max", "metric.roc_auc.min"]


def test_a_metric_the_evaluation_did_not_produce_fails():
    verdict = validate(ModelEvaluation("2", {"roc_auc": 0.9, "log_loss": 0.3}, 1.0, 1.0), CHAMPION, GATE, PROFILE)
    assert failed(verdict) == ["metric.f1"]
    assert "not measured" in verdict.reasons[0]


def test_data_checks_on_the_evaluation_set():
    bad = DataProfile(rows=80, null_fractions={"tenure": 0.2, "contract": 0.0}, class_fractions={0.0: 0.95, 1.0: 0.05},
                      missing_columns=("MonthlyCharges",))
    verdict = validate(challenger(), CHAMPION, GATE, bad)
    assert failed(verdict) == ["data.classes", "data.columns", "data.nulls", "data.rows"]
    assert any("'tenure': 0.2" in reason for reason in verdict.reasons)
    assert any("MonthlyCharges" in reason for reason in verdict.reasons)


def test_one_class_only_fails_the_class_check():
    verdict = validate(challenger(), CHAMPION, GATE, DataProfile(rows=500, null_fractions={}, class_fractions={0.0: 1.0}))
    assert failed(verdict) == ["data.classes"]


def test_size_and_scoring_time_limits():
    heavy = ModelEvaluation("2", dict(CHAMPION.metrics), size_mb=10.5, scoring_seconds=31.0)
    assert failed(validate(heavy, CHAMPION, GATE, PROFILE)) == ["limits.model_mb", "limits.scoring_seconds"]
