"""Interactions, ALS training and the numpy serving artifact of the real-time recommender."""
