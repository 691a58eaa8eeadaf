"""Model archives in S3: a registered version's MLflow folder as model.tar.gz (SageMaker's format), with
its SHA-256 and name/version in the object's metadata, so whoever fetches it (a deployment's smoke test,
a container serving or scoring it) checks the bytes it got against the bytes that were sent."""

from __future__ import annotations

import hashlib
import tarfile
from dataclasses import dataclass
from pathlib import Path

SHA256_KEY, NAME_KEY, VERSION_KEY = "sha256", "model-name", "model-version"
MODEL_URI_ENV = "LAKEFORGE_MODEL_URI"  # the archive a deployed container serves or scores with
ABSENT = ("404", "NoSuchKey", "NotFound")


@dataclass(frozen=True)
class S3Artifact:
    bucket: str
    key: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @classmethod
    def parse(cls, url: str) -> S3Artifact:
        bucket, _, key = url.removeprefix("s3://").partition("/")
        if not url.startswith("s3://") or not bucket or not key:
            raise ValueError(f"{url!r} is not an S3 object URL (s3://bucket/key)")
        return cls(bucket, key)


@dataclass(frozen=True)
class FetchedModel:
    folder: Path  # the unpacked MLflow model folder
    name: str | None  # the registered model and version the upload recorded
    version: str | None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def object_metadata(s3, artifact: S3Artifact) -> dict[str, str] | None:
    """The object's user metadata, or None when there is no such object."""
    try:
        return s3.head_object(Bucket=artifact.bucket, Key=artifact.key)["Metadata"]
    except s3.exceptions.ClientError as error:
        if error.response["Error"]["Code"] in ABSENT:
            return None
        raise


def fetch_model(s3, artifact: S3Artifact, folder: Path) -> FetchedModel:
    """Download and unpack the archive into folder/model; fails if its bytes are not the ones uploaded."""
    archive = folder / "model.tar.gz"
    s3.download_file(artifact.bucket, artifact.key, str(archive))
    metadata = object_metadata(s3, artifact) or {}
    expected, actual = metadata.get(SHA256_KEY), file_sha256(archive)
    if expected != actual:
        raise ValueError(f"{artifact.url}: SHA-256 {actual} does not match the {expected} recorded at upload")
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "model", filter="data")
    return FetchedModel(folder / "model", metadata.get(NAME_KEY), metadata.get(VERSION_KEY))


def fetch_model_url(url: str, folder: Path) -> FetchedModel:
    """fetch_model for an s3:// URL, with boto3's default credentials and region (the aws extra)."""
    import boto3

    return fetch_model(boto3.client("s3"), S3Artifact.parse(url), folder)
