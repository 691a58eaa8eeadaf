"""Training and validation: Spark ML pipelines, stratified cross-validation, metrics, MLflow tracking."""
