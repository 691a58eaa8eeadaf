"""The demo: synthetic customer data and a local ticket API to ingest it from."""
