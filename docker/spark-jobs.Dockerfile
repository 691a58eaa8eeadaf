# The Spark jobs (jobs/*.py: ingest, train, deploy) on Apache Spark's own image, for spark-submit on
# Kubernetes or ECS. Build from the repository root:
#   podman build -f docker/spark-jobs.Dockerfile -t lakeforge-jobs:$(git rev-parse --short HEAD) .
# Run, e.g.: lakeforge-jobs spark-submit jobs/deploy_model.py --model churn --target aws --env cluster
# The aws target's scheduled task runs `spark-submit jobs/score_churn.py` in it with LAKEFORGE_MODEL_URI.
# Configuration and secrets come from the environment at run time; none are baked into the image.
FROM apache/spark:4.0.0-scala2.13-java17-python3-ubuntu

USER 0
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/lakeforge
COPY requirements/constraints.txt requirements/constraints.txt
COPY setup.py ./
COPY lib/ lib/
COPY conf/ conf/
COPY jobs/ jobs/
# pyspark comes with the image's Spark; the package brings Delta, MLflow and boto3 at the locked versions.
RUN pip install --constraint requirements/constraints.txt ".[ml,aws]" \
    && chown -R spark:spark /opt/lakeforge

# The image's unprivileged user (uid 185).
USER 185
HEALTHCHECK --interval=60s --timeout=10s --retries=3 CMD ["python3", "-c", "import lakeforge, pyspark"]
ENTRYPOINT ["/opt/entrypoint.sh"]
