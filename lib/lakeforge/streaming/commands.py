"""`lakeforge services|simulate|replay|bridge|stream|streams|demo-iot`: the IoT pipeline's subcommands."""

from __future__ import annotations

import json
import signal
import threading

from lakeforge.commands import add_common, session_for, work_dir
from lakeforge.errors import LakeforgeError

DEFAULT_CONF = "conf/iot.yml"


def load(args):
    from lakeforge.streaming.config import load_iot_config

    return load_iot_config(args.config, env=args.env)


def stop_on_sigterm() -> threading.Event:
    """An event set by SIGTERM or Ctrl-C, so long-running commands can shut down cleanly."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def cmd_services(args) -> int:
    from lakeforge.streaming import services

    chosen = tuple(args.names) or services.SERVICES
    unknown = sorted(set(chosen) - {*services.SERVICES, *services.ON_REQUEST})
    if unknown:
        raise SystemExit(f"services: unknown {unknown}; expected some of {[*services.SERVICES, *services.ON_REQUEST]}")
    if args.action == "up":
        for line in services.services_up(load(args).kafka, chosen):
            print(line)
        return 0
    if args.action == "down":
        for line in services.services_down(chosen):
            print(line)
        return 0
    status = services.services_status(chosen)
    for service, running in status.items():
        print(f"{service}: {'running' if running else 'stopped'}")
    return 0 if all(status.values()) else 3


def cmd_simulate(args) -> int:
    from lakeforge.streaming.simulator import simulate

    config = load(args)
    updates = {key: value for key, value in (("devices", args.devices), ("readings_per_device", args.readings)) if value is not None}
    if updates:
        config = config.model_copy(update={"simulator": config.simulator.model_copy(update=updates)})
    manifest, stats = simulate(config, via=args.via, rate=args.rate)
    print(json.dumps({"published": stats.messages, "seconds": round(stats.seconds, 2), "per_second": round(stats.per_second), **manifest.to_dict()}))
    return 0


def cmd_replay(args) -> int:
    from lakeforge.streaming.config import CsvReplay
    from lakeforge.streaming.replay import parse_metrics, replay_csv

    config = load(args)
    if args.csv is None:
        if config.simulator.replay is None:
            raise LakeforgeError("give --csv (with --time-column and --metrics) or set simulator.replay in the config")
        replay = config.simulator.replay
    else:
        if not (args.time_column and args.metrics) or (args.device_column is None) == (args.device is None):
            raise LakeforgeError("--csv needs --time-column, --metrics and one of --device-column and --device")
        try:
            metrics = parse_metrics(args.metrics)
        except ValueError as error:
            raise LakeforgeError(str(error)) from error
        replay = CsvReplay(path=args.csv, device_column=args.device_column, device=args.device, time_column=args.time_column, columns=metrics)
    if args.speed is not None:
        replay = replay.model_copy(update={"speed": args.speed})
    print(json.dumps(replay_csv(config, replay).to_dict(), indent=2))
    return 0


def cmd_bridge(args) -> int:
    from lakeforge.streaming.bridge import Bridge

    bridge = Bridge(load(args))
    bridge.stop = stop_on_sigterm()
    bridge.start()
    print(json.dumps({"bridge": "subscribed"}), flush=True)
    bridge.run(report=lambda line: print(line, flush=True))
    return 0


def cmd_stream(args) -> int:
    from lakeforge.streaming.job import as_catch_up, run_stream

    config = load(args)
    if args.available_now:
        config = as_catch_up(config)
    run_stream(session_for(config), config, stop=stop_on_sigterm(), seconds=args.seconds)
    return 0


def cmd_streams(args) -> int:
    from lakeforge.streaming.progress import format_progress, latest_progress
    from lakeforge.streaming.tables import IotTables

    config = load(args)
    rows = latest_progress(session_for(config), IotTables.of(config).progress)
    print(json.dumps(rows, indent=2, default=str) if args.json else format_progress(rows))
    return 0


def cmd_demo_iot(args) -> int:
    from lakeforge.streaming.demo import run_demo

    run_demo(load(args), work_dir() / "demo-iot")
    return 0


def register(commands) -> None:
    services = commands.add_parser("services", help="start, stop or check PostgreSQL, Mosquitto and Kafka on 127.0.0.1")
    services.add_argument("action", choices=["up", "down", "status"])
    services.add_argument("names", nargs="*", metavar="SERVICE", help="postgres, mosquitto, kafka (default: these three), spark-cluster or schema-registry")
    services.set_defaults(handler=cmd_services)

    simulate = commands.add_parser("simulate", help="publish simulated IoT readings (with injected faults) as the devices")
    simulate.add_argument("what", choices=["iot"])
    simulate.add_argument("--via", choices=["mqtt", "kafka"], default="mqtt", help="kafka: skip MQTT and the bridge (volume tests)")
    simulate.add_argument("--rate", type=float, default=None, help="readings per device per second (0: unpaced)")
    simulate.add_argument("--devices", type=int, default=None)
    simulate.add_argument("--readings", type=int, default=None, help="readings per device")
    simulate.set_defaults(handler=cmd_simulate)

    replay = commands.add_parser("replay", help="publish recorded readings from a CSV to the telemetry topic, device ids kept")
    replay.add_argument("what", choices=["iot"])
    replay.add_argument("--csv", default=None, help="the file (default: simulator.replay in the config)")
    replay.add_argument("--device-column", default=None, help="the column naming each row's device")
    replay.add_argument("--device", default=None, help="or the id of the one device a single-sensor file is from")
    replay.add_argument("--time-column", default=None, help="ISO-8601 times; without an offset they are UTC")
    replay.add_argument("--metrics", default=None, metavar="COL=METRIC,...", help="e.g. value=temperature,rh=humidity")
    replay.add_argument("--speed", type=float, default=None, help="N x real time by event time (default 0: as fast as possible)")
    replay.set_defaults(handler=cmd_replay)

    bridge = commands.add_parser("bridge", help="forward MQTT telemetry to Kafka until SIGTERM")
    bridge.set_defaults(handler=cmd_bridge)

    stream = commands.add_parser("stream", help="run the streaming job: Kafka -> bronze and silver -> gold + alerts")
    stream.add_argument("what", choices=["iot"])
    stream.add_argument("--seconds", type=float, default=None, help="stop after this long (default: until SIGTERM)")
    stream.add_argument("--available-now", action="store_true", help="catch up on everything new, then stop")
    stream.set_defaults(handler=cmd_stream)

    streams = commands.add_parser("streams", help="latest micro-batch progress of each streaming query")
    streams.add_argument("--json", action="store_true")
    streams.set_defaults(handler=cmd_streams)

    demo = commands.add_parser("demo-iot", help="simulator, bridge and streaming job live for about a minute; prints windows and alerts")
    demo.set_defaults(handler=cmd_demo_iot)

    for sub in (services, simulate, replay, bridge, stream, streams, demo):
        add_common(sub, default_conf=DEFAULT_CONF)

