"""The recommendation service: FastAPI app, live interactions, model registry follower, metrics."""
