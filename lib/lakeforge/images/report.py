"""The image training report: metrics tables, per-epoch history, confusion matrix, misclassified grid."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from lakeforge.images.evaluate import confusion_figure, misclassified_figure
from lakeforge.images.train import ImageTrainingResult
from lakeforge.reporting import format_table


def per_class_table(result: ImageTrainingResult) -> str:
    rows = [[name, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(m["support"])]
            for name, m in result.metrics["per_class"].items()]
    return format_table(["class", "precision", "recall", "f1", "support"], rows)


def history_table(result: ImageTrainingResult) -> str:
    rows = [[h["phase"], str(h["epoch"]), f"{h['train_loss']:.4f}", f"{h['val_loss']:.4f}", f"{h['val_accuracy']:.3f}",
             f"{h['images_per_s']:.0f}"] for h in result.fitted.history]
    return format_table(["phase", "epoch", "train loss", "val loss", "val accuracy", "images/s"], rows)


def write_report(result: ImageTrainingResult, folder: Path) -> Path:
    """report.md plus its figures in `folder`; returns the Markdown file."""
    figures = {
        "confusion_matrix.png": confusion_figure(result.test["label"], result.test["prediction"], result.fitted.classes),
        "misclassified.png": misclassified_figure(result.test),
    }
    for name, figure in figures.items():
        figure.savefig(folder / name, dpi=100)
        plt.close(figure)
    config = result.config
    lines = [
        f"# {config.name}: {config.model.backbone} fine-tuned on {', '.join(result.fitted.classes)}",
        "",
        f"Transferred from: {result.weights.origin} ({result.weights.path or 'random initialisation'}); "
        f"{result.fitted.train_rows} training images on {len(result.fitted.ranks)} processes.",
        "",
        f"Test accuracy **{result.metrics['accuracy']:.3f}**, macro F1 **{result.metrics['macro_f1']:.3f}** "
        f"on {len(result.test)} images.",
        "",
        "```", per_class_table(result), "```", "",
        "## Training history", "", "```", history_table(result), "```", "",
        "![confusion matrix](confusion_matrix.png)", "", "![misclassified](misclassified.png)", "",
    ]
    path = folder / "report.md"
    path.write_text("\n".join(lines))
    return path
