"""`lakeforge generate|ingest|train|predict images`: the image commands, each a kind of a verb other
areas share (lakeforge.commands.kind_parser)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lakeforge.commands import add_common, kind_parser, load_args_config, session_for

DEFAULT_CONF = "conf/images.yml"


def load(args):
    from lakeforge.images.config import ImagesConfig

    return load_args_config(args, ImagesConfig, DEFAULT_CONF)


def cmd_generate_images(args) -> int:
    from lakeforge.images.generate import generate_images

    config = load(args)
    written = generate_images(config.generate, Path(config.data.path), Path(config.pretrain.data.path))
    print(json.dumps({"target": config.data.path, "source": config.pretrain.data.path, "written": written}, indent=2))
    return 0


def cmd_ingest_images(args) -> int:
    from lakeforge.images.ingest import ingest_images
    from lakeforge.reporting import print_run
    from lakeforge.tables.layout import Lakehouse

    config = load(args)
    spec = config.data
    if args.path or args.manifest:
        spec = spec.model_copy(update={"path": args.path or spec.path, "manifest": args.manifest})
    print_run(ingest_images(session_for(config), spec, Lakehouse(config.platform.storage.root)))
    return 0


def cmd_train_images(args) -> int:
    from lakeforge.images.report import history_table, per_class_table
    from lakeforge.images.tracking import log_image_training
    from lakeforge.images.train import resolve_weights, train_images

    config = load(args)
    spark = session_for(config)
    result = train_images(spark, config, resolve_weights(spark, config, args.weights))
    tracked = log_image_training(result)
    if args.json:
        print(json.dumps({"weights": result.weights.origin, "metrics": result.metrics, "history": result.fitted.history,
                          "mlflow": {"run_id": tracked.run_id, "model_uri": tracked.model_uri, "report": tracked.report_path}}, indent=2))
        return 0
    print(f"\n{history_table(result)}\n\n{per_class_table(result)}")
    print(f"\ntest accuracy {result.metrics['accuracy']:.3f}, macro F1 {result.metrics['macro_f1']:.3f} "
          f"(transferred from {result.weights.origin})")
    print(f"registered {tracked.model_uri} (version {tracked.model_version}); checkpoint {result.fitted.checkpoint}")
    print(f"report: {tracked.report_path}")
    return 0


def cmd_predict_images(args) -> int:
    from pyspark.sql import functions as F

    from lakeforge.images.predict import checkpoint_from_registry, predict_images, write_predictions
    from lakeforge.tables.layout import Lakehouse
    from lakeforge.tracking import use_tracking_uri

    config = load(args)
    spark = session_for(config)
    lakehouse = Lakehouse(config.platform.storage.root)
    checkpoint, model_uri = args.checkpoint, args.checkpoint
    if checkpoint is None:
        use_tracking_uri(config.platform)
        model_uri = f"models:/{config.tracking.registered_model}@{config.tracking.alias}"
        checkpoint = checkpoint_from_registry(model_uri, Path(config.work_dir) / "predict" / "model.pt")
    images = spark.read.format("delta").load(lakehouse.silver(args.table or config.data.table))
    target = lakehouse.gold(config.predictions_table)
    rows = write_predictions(spark, predict_images(images, checkpoint), target, model_uri)
    predictions = spark.read.format("delta").load(target)
    print(f"scored {rows} images into {target} with {model_uri}")
    predictions.groupBy("label", "prediction").count().orderBy("label", "prediction").show(50, truncate=False)
    print(f"accuracy where labelled: {predictions.where('label IS NOT NULL').select(F.avg((F.col('label') == F.col('prediction')).cast('double'))).first()[0]:.3f}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    generate = kind_parser(commands, "generate", "images", help="the synthetic shapes dataset (target and pretraining source)")
    generate.set_defaults(handler=cmd_generate_images)

    ingest = kind_parser(commands, "ingest", "images", help="image files -> Delta image tables (conf/images.yml)")
    ingest.add_argument("--path", default=None, help="folder with one subfolder per class (default: the config's)")
    ingest.add_argument("--manifest", default=None, help="CSV with path,label columns instead of subfolders")
    ingest.set_defaults(handler=cmd_ingest_images)

    train = kind_parser(commands, "train", "images", help="transfer learning: fine-tune a pretrained backbone on the image tables")
    train.add_argument("--weights", default=None, help="backbone weights to transfer from (a state_dict file)")
    train.add_argument("--json", action="store_true", help="print the metrics summary as JSON")
    train.set_defaults(handler=cmd_train_images)

    predict = kind_parser(commands, "predict", "images", help="batch inference: score a Delta image table into gold",
                          verb_help="batch inference with a registered model")
    predict.add_argument("--table", default=None, help="silver image table to score (default: the config's data.table)")
    predict.add_argument("--checkpoint", default=None, help="a Lakeforge model checkpoint (default: the registered model's alias)")
    predict.set_defaults(handler=cmd_predict_images)

    for sub in (generate, ingest, train, predict):
        add_common(sub, DEFAULT_CONF)
