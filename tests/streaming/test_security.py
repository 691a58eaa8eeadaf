"""The broker's access control, tried with real logins: wrong passwords and other devices' topics, with
and without a run's own topic prefix."""

import threading
import uuid

import paho.mqtt.client as mqtt
import pytest

from lakeforge.streaming.config import with_own_topics
from lakeforge.streaming.mqtt import MqttConnectError, bridge_login, connect, device_login, device_of_topic, device_topic, telemetry_filter

NOT_AUTHORIZED = 135  # MQTT 5 reason code


def test_wrong_password_is_refused(iot_services):
    settings = iot_services.mqtt
    user, _ = bridge_login(settings)
    with pytest.raises(MqttConnectError, match="refused: Not authorized|Bad user name or password"):
        connect(settings, (user, "not-the-password"), f"intruder-{uuid.uuid4().hex[:6]}")
    device, _ = device_login(settings, "dev-0002")
    with pytest.raises(MqttConnectError):
        connect(settings, (device, device_login(settings, "dev-0001")[1]), f"intruder-{uuid.uuid4().hex[:6]}")


def test_anonymous_login_is_refused(iot_services):
    with pytest.raises(MqttConnectError):
        connect(iot_services.mqtt, ("", ""), f"anonymous-{uuid.uuid4().hex[:6]}")


@pytest.mark.parametrize("prefix", ["", "runs/t-security"])
def test_device_publishes_only_to_its_own_topic(iot_services, prefix):
    settings = iot_services.mqtt.model_copy(update={"topic_prefix": prefix})
    received: list[str] = []
    listener = connect(settings, bridge_login(settings), f"listener-{uuid.uuid4().hex[:6]}")
    subscribed = threading.Event()
    listener.on_subscribe = lambda *_: subscribed.set()
    delivered = threading.Event()
    listener.on_message = lambda _c, _u, message: (received.append(message.topic), delivered.set())
    listener.subscribe(telemetry_filter(settings), qos=1)
    assert subscribed.wait(10)

    device = connect(settings, device_login(settings, "dev-0001"), f"dev-0001-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5)
    acks: dict[int, int] = {}
    done = threading.Event()

    def on_publish(_client, _userdata, mid, reason_code, _properties):
        acks[mid] = reason_code.value
        if len(acks) == 2:
            done.set()

    device.on_publish = on_publish
    own = device.publish(device_topic(settings, "dev-0001"), b'{"seq": 1}', qos=1)
    other = device.publish(device_topic(settings, "dev-0002"), b'{"seq": 1}', qos=1)
    assert done.wait(10)
    assert delivered.wait(10)
    device.disconnect()
    listener.disconnect()
    listener.loop_stop()
    device.loop_stop()

    assert acks[own.mid] == 0
    assert acks[other.mid] == NOT_AUTHORIZED
    assert received == [f"{prefix}/devices/dev-0001/telemetry".lstrip("/")]


def test_a_run_of_its_own_publishes_where_the_default_bridge_session_does_not_subscribe(iot_services):
    """The default `lakeforge bridge` keeps a persistent session on the default filter: the broker
    queues for it every message that filter matches, so a test's, demo's or benchmark's run must not match it."""
    run = with_own_topics(iot_services, "t1234").mqtt
    assert run.topic_prefix == "runs/t1234"
    run_topic = device_topic(run, "dev-0001")
    assert mqtt.topic_matches_sub(telemetry_filter(run), run_topic)
    assert not mqtt.topic_matches_sub(telemetry_filter(iot_services.mqtt), run_topic)
    assert not mqtt.topic_matches_sub(telemetry_filter(run), device_topic(iot_services.mqtt, "dev-0001"))
    assert device_of_topic(run, run_topic) == "dev-0001"
    assert device_of_topic(iot_services.mqtt, run_topic) is None


def test_bridge_account_cannot_publish_telemetry(iot_services):
    settings = iot_services.mqtt
    bridge = connect(settings, bridge_login(settings), f"bridge-pub-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5)
    answered = threading.Event()
    codes: list[int] = []
    bridge.on_publish = lambda _c, _u, _mid, reason_code, _p: (codes.append(reason_code.value), answered.set())
    bridge.publish(device_topic(settings, "dev-0001"), b"{}", qos=1)
    assert answered.wait(10)
    bridge.disconnect()
    bridge.loop_stop()
    assert codes == [NOT_AUTHORIZED]
