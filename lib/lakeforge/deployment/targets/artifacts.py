"""Model artifacts in S3: a version's MLflow model folder as model.tar.gz (SageMaker's format), with its
SHA-256 in the object's metadata so what comes back can be checked against what was sent."""

from __future__ import annotations

import hashlib
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow

SHA256_KEY = "sha256"


@dataclass(frozen=True)
class S3Artifact:
    bucket: str
    key: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def artifact_for(bucket: str, prefix: str, model_name: str, version: str) -> S3Artifact:
    return S3Artifact(bucket, f"{prefix.strip('/')}/{model_name}/{version}/model.tar.gz")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    existing = object_sha256(s3, artifact)
    if existing is not None:
        return existing
    with tempfile.TemporaryDirectory() as folder:
        archive = pack_model(model_name, version, Path(folder))
        sha256 = file_sha256(archive)
        s3.upload_file(str(archive), artifact.bucket, artifact.key,
                       ExtraArgs={"Metadata": {SHA256_KEY: sha256, "model-name": model_name, "model-version": version}})
    return sha256


def object_sha256(s3, artifact: S3Artifact) -> str | None:
    try:
        return s3.head_object(Bucket=artifact.bucket, Key=artifact.key)["Metadata"].get(SHA256_KEY)
    except s3.exceptions.ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def download_model(s3, artifact: S3Artifact, folder: Path) -> Path:
    """Fetch and unpack the archive; fails if its bytes are not the ones uploaded."""
    archive = folder / "model.tar.gz"
    s3.download_file(artifact.bucket, artifact.key, str(archive))
    expected, actual = object_sha256(s3, artifact), file_sha256(archive)
    if expected != actual:
        raise ValueError(f"{artifact.url}: SHA-256 {actual} does not match the {expected} recorded at upload")
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "model", filter="data")
    return folder / "model"
