"""The deployment gate: a pure function over measured numbers (challenger vs champion, bounds from config).

Nothing here trains, scores or reads: the evaluation hands over a `ModelEvaluation` per model and a
`DataProfile` of the evaluation set, so every rule is testable with hand-written numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lakeforge.deployment.config import DataGate, Gate, LimitGate, MetricGate


@dataclass(frozen=True)
class ModelEvaluation:
    """One model version measured on the evaluation set."""

    version: str
    metrics: dict[str, float]
    size_mb: float
    scoring_seconds: float


@dataclass(frozen=True)
class DataProfile:
    rows: int
    null_fractions: dict[str, float]  # feature column -> share of null values
    class_fractions: dict[float, float] = field(default_factory=dict)  # label -> share of rows
    missing_columns: tuple[str, ...] = ()  # model inputs the evaluation data lacks


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Verdict:
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def reasons(self) -> list[str]:
        """Why the challenger was refused, one line per failed check (empty when it passed)."""
        return [f"{check.name}: {check.detail}" for check in self.checks if not check.passed]


def check(name: str, passed: bool, ok: str, failed: str) -> Check:
    return Check(name, passed, ok if passed else failed)


def metric_checks(name: str, gate: MetricGate, challenger: dict[str, float], champion: dict[str, float] | None) -> list[Check]:
    if name not in challenger:
        return [Check(f"metric.{name}", False, f"not measured (measured: {sorted(challenger)})")]
    value = challenger[name]
    checks = []
    if gate.min is not None:
        checks.append(check(f"metric.{name}.min", value >= gate.min, f"{value:.4f} >= {gate.min}", f"{value:.4f} is below the minimum {gate.min}"))
    if gate.max is not None:
        checks.append(check(f"metric.{name}.max", value <= gate.max, f"{value:.4f} <= {gate.max}", f"{value:.4f} is above the maximum {gate.max}"))
    if champion is None or name not in champion:
        return checks
    base = champion[name]
    change = value - base
    if gate.max_drop is not None:
        checks.append(check(
            f"metric.{name}.max_drop", change >= -gate.max_drop,
            f"{value:.4f} vs champion {base:.4f} (change {change:+.4f})",
            f"{value:.4f} vs champion {base:.4f}: dropped {-change:.4f}, more than the allowed {gate.max_drop}",
        ))
    if gate.max_rise is not None:
        checks.append(check(
            f"metric.{name}.max_rise", change <= gate.max_rise,
            f"{value:.4f} vs champion {base:.4f} (change {change:+.4f})",
            f"{value:.4f} vs champion {base:.4f}: rose {change:.4f}, more than the allowed {gate.max_rise}",
        ))
    return checks


def data_checks(gate: DataGate, profile: DataProfile) -> list[Check]:
    checks = [
        check("data.columns", not profile.missing_columns, "every model input is present",
              f"the evaluation data lacks model inputs {list(profile.missing_columns)}"),
        check("data.rows", profile.rows >= gate.min_rows, f"{profile.rows} rows", f"{profile.rows} rows, fewer than min_rows {gate.min_rows}"),
    ]
    too_null = {column: round(share, 4) for column, share in profile.null_fractions.items() if share > gate.max_null_fraction}
    checks.append(check("data.nulls", not too_null, f"no feature over {gate.max_null_fraction:.0%} null",
                        f"columns over max_null_fraction {gate.max_null_fraction}: {too_null}"))
    if profile.class_fractions:
        rare = {label: round(share, 4) for label, share in profile.class_fractions.items() if share < gate.min_class_fraction}
        one_class = len(profile.class_fractions) < 2
        checks.append(check("data.classes", not rare and not one_class, f"class shares {profile.class_fractions}",
                            f"class shares {profile.class_fractions}: need 2 classes, each at least {gate.min_class_fraction}"))
    return checks


def limit_checks(gate: LimitGate, challenger: ModelEvaluation) -> list[Check]:
    checks = []
    if gate.max_model_mb is not None:
        checks.append(check("limits.model_mb", challenger.size_mb <= gate.max_model_mb, f"{challenger.size_mb:.2f} MB",
                            f"{challenger.size_mb:.2f} MB, over max_model_mb {gate.max_model_mb}"))
    if gate.max_scoring_seconds is not None:
        checks.append(check("limits.scoring_seconds", challenger.scoring_seconds <= gate.max_scoring_seconds,
                            f"{challenger.scoring_seconds:.2f} s", f"{challenger.scoring_seconds:.2f} s, over max_scoring_seconds {gate.max_scoring_seconds}"))
    return checks


def validate(challenger: ModelEvaluation, champion: ModelEvaluation | None, gate: Gate, profile: DataProfile) -> Verdict:
    """Every check of the gate; without a champion, only absolute bounds apply."""
    champion_metrics = champion.metrics if champion is not None else None
    checks = data_checks(gate.data, profile)
    for name, metric_gate in gate.metrics.items():
        checks += metric_checks(name, metric_gate, challenger.metrics, champion_metrics)
    checks += limit_checks(gate.limits, challenger)
    return Verdict(tuple(checks))
