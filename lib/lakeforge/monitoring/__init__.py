"""Model and pipeline monitoring: inference logs, drift and quality per window, health, alerts, dashboard."""
