"""Where a local MLflow backend keeps its artifacts."""

from __future__ import annotations

from lakeforge.tracking import artifact_location


def test_sqlite_artifacts_sit_beside_the_database_as_sqlalchemy_reads_the_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # Three slashes: a path relative to the working directory (the local env's default).
    assert artifact_location("sqlite:///.work/mlflow.db") == str(tmp_path / ".work" / "mlartifacts")
    # Four: an absolute path.
    assert artifact_location(f"sqlite:///{tmp_path}/db/mlflow.db") == str(tmp_path / "db" / "mlartifacts")
    assert artifact_location("http://127.0.0.1:5000") is None and artifact_location("databricks") is None
