"""Image transfer learning: Delta image tables, Petastorm feeding, distributed PyTorch fine-tuning."""
