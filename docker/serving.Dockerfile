# The recommendations API (`lakeforge serve`: FastAPI under uvicorn), as run by the ECS service that
# `lakeforge deploy run --model recs --target aws` updates: it serves the S3 archive its task gets in
# LAKEFORGE_MODEL_URI. Build from the repository root:
#   podman build -f docker/serving.Dockerfile -t lakeforge-serving:$(git rev-parse --short HEAD) .
# Configuration and secrets come from the environment at run time (LAKEFORGE_*, MLFLOW_TRACKING_URI,
# AWS_* or the task role); none are baked into the image.
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 lakeforge \
    && useradd --system --uid 10001 --gid lakeforge --create-home --home-dir /home/lakeforge lakeforge

WORKDIR /opt/lakeforge
# Exact versions from the lock, then the package itself with the serving, ML and AWS extras.
COPY requirements/constraints.txt requirements/constraints.txt
COPY setup.py ./
COPY lib/ lib/
COPY conf/ conf/
RUN pip install --constraint requirements/constraints.txt ".[serve,ml,aws]"

USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
# 0.0.0.0 inside the container only: the port is published by the orchestrator, not the host.
CMD ["lakeforge", "serve", "--host", "0.0.0.0", "--port", "8000"]
