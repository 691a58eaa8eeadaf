"""The bridge with the real brokers: exact routing, and nothing lost when the bridge is SIGKILLed or
the Kafka broker restarts mid-run; a config's own topics are created by the commands that use them."""

import json
import signal
import subprocess
import threading
import time

from confluent_kafka.admin import AdminClient

from lakeforge.streaming.bridge import dead_letter_reason
from lakeforge.streaming.config import topic_names, write_iot_config
from lakeforge.streaming.kafka import client_options, delete_topics
from lakeforge.streaming.readings import Manifest, fleet_messages
from lakeforge.streaming.services import run_script
from lakeforge.streaming.simulator import publish_mqtt, simulate
from streaming.iot import isolated_config, lakeforge, read_topic, readings_of


def test_dead_letter_reason_names_what_is_wrong():
    assert dead_letter_reason(b'{"seq": 1}', 100) is None
    assert dead_letter_reason(b"x" * 101, 100) == "too_large: 101 bytes, the limit is 100"
    assert dead_letter_reason(b"\x00\xff", 100).startswith("not_json:")
    assert dead_letter_reason(b"[1, 2]", 100) == "not_json: expected a JSON object, got list"


def test_a_reading_claiming_another_device_is_dead_lettered():
    reading = b'{"device_id": "dev-0002", "seq": 1}'
    assert dead_letter_reason(reading, 100, device="dev-0002") is None
    assert dead_letter_reason(reading, 100, device="dev-0001") == (
        "device_mismatch: the payload says device_id 'dev-0002', the topic belongs to 'dev-0001'"
    )
    assert dead_letter_reason(b'{"seq": 1}', 100, device="dev-0001") is None  # no claim: silver quarantines it


def start_bridge(conf_path):
    process = lakeforge("bridge", "--conf", str(conf_path), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = process.stdout.readline()
    assert json.loads(line) == {"bridge": "subscribed"}, line
    return process


def last_counters(process) -> dict:
    out, _ = process.communicate(timeout=60)
    return json.loads(out.strip().splitlines()[-1])["bridge"]


def publish_in_background(config, manifest: Manifest, ticks_per_second: float):
    devices = [f"dev-{n:04d}" for n in range(1, config.simulator.devices + 1)]
    ticks = fleet_messages(config.simulator, manifest)
    thread = threading.Thread(target=publish_mqtt, args=(config.mqtt, ticks, devices, ticks_per_second), daemon=True)
    thread.start()
    return thread


def test_routes_every_message_once_by_kind(make_config, tmp_path):
    config = make_config(devices=5, readings_per_device=200)
    config = config.model_copy(update={"simulator": config.simulator.model_copy(update={"faults": config.simulator.faults.model_copy(update={"malformed_probability": 0.05})})})
    bridge = start_bridge(write_iot_config(config, tmp_path / "conf"))
    manifest = Manifest()
    publish_in_background(config, manifest, ticks_per_second=0).join()
    topics = config.kafka.topics
    telemetry = read_topic(config.kafka, topics.telemetry.name, expect_at_least=manifest.valid_count)
    dead = read_topic(config.kafka, topics.dead_letter.name, expect_at_least=manifest.dead_letter)
    bridge.send_signal(signal.SIGTERM)
    counters = last_counters(bridge)

    assert manifest.dead_letter > 0 and manifest.quarantine > 0 and manifest.malformed.get("wrong_device", 0) > 0
    sent = manifest.messages
    assert counters == {"received": sent, "forwarded": sent - manifest.dead_letter, "dead_lettered": manifest.dead_letter, "in_flight": 0, "failed": 0}
    assert len(dead) == manifest.dead_letter
    reasons = [dict(record.headers)["reason"].split(b":")[0].decode() for record in dead]
    expected_kinds = {"not_json": "not_json", "too_large": "too_large", "wrong_device": "device_mismatch"}
    assert sorted(reasons) == sorted(expected_kinds[kind] for kind, n in manifest.malformed.items() if kind in expected_kinds for _ in range(n))
    # an impostor reading stays under the publisher's key, never the device it claims to be
    impostors = [record for record in dead if dict(record.headers)["reason"].startswith(b"device_mismatch")]
    assert all(json.loads(record.value)["device_id"] != record.key.decode() for record in impostors)
    assert len(telemetry) == sent - manifest.dead_letter
    assert {key for key in readings_of(telemetry)} >= {(d, s) for d, seqs in manifest.valid.items() for s in seqs}
    # keyed by device: one device's records all sit in one partition
    partitions = {}
    for record in telemetry:
        partitions.setdefault(record.key, set()).add(record.partition)
    assert all(len(found) == 1 for found in partitions.values())


def test_bridge_killed_and_broker_restarted_lose_nothing(make_config, tmp_path):
    config = make_config(devices=4, readings_per_device=750)
    conf_path = write_iot_config(config, tmp_path / "conf")
    bridge = start_bridge(conf_path)
    manifest = Manifest()
    publisher = publish_in_background(config, manifest, ticks_per_second=100)  # about 30 s of readings

    time.sleep(5)
    bridge.kill()  # SIGKILL: unacknowledged messages stay with the broker's persistent session
    bridge.wait()
    time.sleep(2)
    bridge = start_bridge(conf_path)
    time.sleep(3)
    assert run_script("kafka", "down").returncode == 0
    assert run_script("kafka", "up").returncode == 0
    publisher.join(timeout=120)
    assert not publisher.is_alive()

    expected = {(d, s) for d, seqs in manifest.valid.items() for s in seqs}
    telemetry = read_topic(config.kafka, config.kafka.topics.telemetry.name, expect_at_least=len(expected), quiet_seconds=5, timeout=40)
    bridge.send_signal(signal.SIGTERM)
    assert last_counters(bridge)["failed"] == 0
    missing = sorted(expected - set(readings_of(telemetry)))
    assert not missing, f"{len(missing)} readings lost, e.g. {missing[:20]}"


def test_simulating_to_kafka_creates_the_topics_of_its_config(iot_services, tmp_path):
    config = isolated_config(iot_services, tmp_path, devices=2, readings_per_device=5)  # fresh topic names, not created
    names = topic_names(config)
    admin = AdminClient(client_options(config.kafka))
    assert not set(names) & set(admin.list_topics(timeout=10).topics)
    try:
        manifest, stats = simulate(config, via="kafka", rate=0)
        assert stats.messages == manifest.messages == 10
        topics = admin.list_topics(timeout=10).topics
        assert {name: len(topics[name].partitions) for name in names} == {
            spec.name: spec.partitions for spec in (config.kafka.topics.telemetry, config.kafka.topics.dead_letter, config.kafka.topics.alerts)
        }
    finally:
        delete_topics(config.kafka, names)
