"""A version's artifacts to S3 (lakeforge.archives): packed once, uploaded once, never changed after."""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path

import mlflow

from lakeforge.archives import NAME_KEY, SHA256_KEY, VERSION_KEY, S3Artifact, file_sha256, object_metadata


def artifact_for(bucket: str, prefix: str, model_name: str, version: str) -> S3Artifact:
    return S3Artifact(bucket, f"{prefix.strip('/')}/{model_name}/{version}/model.tar.gz")


def pack_model(model_name: str, version: str, folder: Path) -> Path:
    """models:/name/version as folder/model.tar.gz, the model files at the archive's root."""
    source = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{model_name}/{version}", dst_path=str(folder / "model")))
    archive = folder / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(source.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(source)), recursive=False)
    return archive


def upload_model(s3, artifact: S3Artifact, model_name: str, version: str) -> str:
    """Upload unless the object is already there (a version's artifacts never change); returns its SHA-256."""
    existing = object_metadata(s3, artifact)
    if existing is not None and SHA256_KEY in existing:
        return existing[SHA256_KEY]
    with tempfile.TemporaryDirectory() as folder:
        archive = pack_model(model_name, version, Path(folder))
        sha256 = file_sha256(archive)
        s3.upload_file(str(archive), artifact.bucket, artifact.key,
                       ExtraArgs={"Metadata": {SHA256_KEY: sha256, NAME_KEY: model_name, VERSION_KEY: version}})
    return sha256
