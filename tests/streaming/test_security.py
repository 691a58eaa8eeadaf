"""The broker's access control, tried with real logins: wrong passwords and other devices' topics."""

import threading
import uuid

import paho.mqtt.client as mqtt
import pytest

from lakeforge.streaming.mqtt import MqttConnectError, bridge_login, connect, device_login, device_topic

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


def test_device_publishes_only_to_its_own_topic(iot_services):
    settings = iot_services.mqtt
    received: list[str] = []
    listener = connect(settings, bridge_login(settings), f"listener-{uuid.uuid4().hex[:6]}")
    subscribed = threading.Event()
    listener.on_subscribe = lambda *_: subscribed.set()
    delivered = threading.Event()
    listener.on_message = lambda _c, _u, message: (received.append(message.topic), delivered.set())
    listener.subscribe("devices/+/telemetry", qos=1)
    assert subscribed.wait(10)

    device = connect(settings, device_login(settings, "dev-0001"), f"dev-0001-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5)
    acks: dict[int, int] = {}
    done = threading.Event()

    def on_publish(_client, _userdata, mid, reason_code, _properties):
        acks[mid] = reason_code.value
        if len(acks) == 2:
            done.set()

    device.on_publish = on_publish
    own = device.publish(device_topic("dev-0001"), b'{"seq": 1}', qos=1)
    other = device.publish(device_topic("dev-0002"), b'{"seq": 1}', qos=1)
    assert done.wait(10)
    assert delivered.wait(10)
    device.disconnect()
    listener.disconnect()
    listener.loop_stop()
    device.loop_stop()

    assert acks[own.mid] == 0
    assert acks[other.mid] == NOT_AUTHORIZED
    assert received == [device_topic("dev-0001")]


def test_bridge_account_cannot_publish_telemetry(iot_services):
    settings = iot_services.mqtt
    bridge = connect(settings, bridge_login(settings), f"bridge-pub-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv5)
    answered = threading.Event()
    codes: list[int] = []
    bridge.on_publish = lambda _c, _u, _mid, reason_code, _p: (codes.append(reason_code.value), answered.set())
    bridge.publish(device_topic("dev-0001"), b"{}", qos=1)
    assert answered.wait(10)
    bridge.disconnect()
    bridge.loop_stop()
    assert codes == [NOT_AUTHORIZED]
