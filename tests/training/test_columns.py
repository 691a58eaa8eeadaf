"""Real-world CSV quirks: Yes/No labels, numbers as text with blanks, ids, categories found by content."""

from __future__ import annotations

import pytest

from lakeforge.training.columns import LABEL, check_label, detect_roles, with_label
from lakeforge.training.config import DataSpec

ROWS = [
    # customerID, tenure, TotalCharges, Contract, Partner, score, Churn
    ("7590-VHVEG", "1", "29.85", "Month-to-month", "Yes", 1.5, "Yes"),
    ("5575-GNVDE", "34", "1889.5", "One year", "No", 2.5, "No"),
    ("3668-QPYBK", "2", " ", "Month-to-month", "No", None, "Yes"),
    ("7795-CFOCW", "45", "1840.75", "One year", "No", 3.5, "no"),
    ("9237-HQITU", "2", "NA", "Month-to-month", "No", 4.0, " No "),
]
COLUMNS = ["customerID", "tenure", "TotalCharges", "Contract", "Partner", "score", "Churn"]


@pytest.fixture(scope="module")
def raw(spark):
    return spark.createDataFrame(ROWS, COLUMNS)


def test_roles_are_found_from_the_values(raw):
    roles = detect_roles(raw, DataSpec(label="Churn"))
    assert roles.numeric == ("tenure", "TotalCharges", "score")
    assert roles.categorical == ("Contract", "Partner")
    assert roles.excluded == {"customerID": "id-like: unique per row"}


def test_config_overrides_detection(raw):
    roles = detect_roles(raw, DataSpec(label="Churn", categorical=["tenure"], exclude=["Partner"]))
    assert roles.categorical == ("tenure", "Contract")
    assert "Partner" in roles.excluded and "Partner" not in roles.features


def test_unknown_config_columns_are_named(raw):
    with pytest.raises(ValueError, match=r"\['tenur'\]"):
        detect_roles(raw, DataSpec(label="Churn", numeric=["tenur"]))


def test_yes_no_labels_in_any_case_become_one_and_zero(raw):
    spec = DataSpec(label="Churn")
    check_label(raw, spec, "classification")
    labels = [row[LABEL] for row in raw.transform(with_label(spec, "classification")).select(LABEL).collect()]
    assert labels == [1.0, 0.0, 1.0, 0.0, 0.0]


def test_unreadable_labels_are_named_and_positive_label_reads_them(raw, spark):
    odd = spark.createDataFrame([("a", "Churned"), ("b", "Stayed"), ("c", "Stayed")], ["id", "status"])
    with pytest.raises(ValueError, match=r"\['Churned', 'Stayed'\]"):
        check_label(odd, DataSpec(label="status"), "classification")
    spec = DataSpec(label="status", positive_label="churned")
    check_label(odd, spec, "classification")
    assert [r[LABEL] for r in odd.transform(with_label(spec, "classification")).collect()] == [1.0, 0.0, 0.0]


def test_distinct_counts_are_exact_at_the_cut_offs(spark):
    """Distinct values are estimated, then counted exactly near the id and max_categories cut-offs."""
    rows = 20_000
    frame = spark.range(rows).selectExpr(
        "concat('a', cast(id AS string)) AS account",  # unique: an id
        "concat('a', cast(least(id, 19998) AS string)) AS almost_unique",  # one value repeated: not an id
        "concat('c', cast(id % 50 AS string)) AS fifty",  # exactly max_categories
        "concat('c', cast(id % 51 AS string)) AS fifty_one",
        "if(id % 2 = 0, 'Yes', 'No') AS label",
    )
    roles = detect_roles(frame, DataSpec(label="label", max_categories=50))
    assert roles.excluded == {
        "account": "id-like: unique per row",
        "almost_unique": f"{rows - 1} distinct values > max_categories 50",
        "fifty_one": "51 distinct values > max_categories 50",
    }
    assert roles.categorical == ("fifty",)
