"""Pipelines: sources -> bronze -> silver -> gold, with audit."""
