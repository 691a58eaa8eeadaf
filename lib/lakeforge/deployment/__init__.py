"""Deployment: the validation gate, champion/challenger promotion with rollback, and deployment targets."""
