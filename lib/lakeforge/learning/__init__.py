"""Pieces every model-training area uses (training, images, recommendations), kept below all of them."""
