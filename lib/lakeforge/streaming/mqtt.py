"""MQTT logins and clients: the bridge's account, and each device's own account and topic."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt

from lakeforge.config.models import read_secret
from lakeforge.streaming.config import MqttSettings


class MqttConnectError(ConnectionError):
    """The broker refused or did not answer a login."""


def device_topic(settings: MqttSettings, device_id: str) -> str:
    root = f"{settings.topic_prefix}/" if settings.topic_prefix else ""
    return f"{root}devices/{device_id}/telemetry"


def telemetry_filter(settings: MqttSettings) -> str:
    """What the bridge subscribes to: every device's telemetry under the settings' prefix only."""
    return device_topic(settings, "+")


def device_of_topic(settings: MqttSettings, topic: str) -> str | None:
    """The device a telemetry topic belongs to (the broker's ACL guarantees it is the publisher)."""
    head, _, tail = telemetry_filter(settings).partition("+")
    device = topic.removeprefix(head).removesuffix(tail)
    return device if topic.startswith(head) and topic.endswith(tail) and device and "/" not in device else None


def device_password(secret: str, device_id: str) -> str:
    """A device's own password, derived from the fleet secret as scripts/services/mosquitto.sh does."""
    return hmac.new(secret.encode(), device_id.encode(), hashlib.sha256).hexdigest()[:32]


def device_login(settings: MqttSettings, device_id: str) -> tuple[str, str]:
    return device_id, device_password(read_secret(settings.device_secret_env), device_id)


def bridge_login(settings: MqttSettings) -> tuple[str, str]:
    return read_secret(settings.bridge_user_env), read_secret(settings.bridge_password_env)


def connect(
    settings: MqttSettings,
    login: tuple[str, str],
    client_id: str,
    *,
    clean_session: bool = True,
    manual_ack: bool = False,
    protocol: mqtt.MQTTProtocolVersion = mqtt.MQTTv311,
    on_message: Callable | None = None,
    timeout: float = 10.0,
) -> mqtt.Client:
    """A connected client with its network loop running; raises MqttConnectError naming the refusal.

    on_message is set before connecting: a persistent session's redelivered messages arrive right
    after CONNACK, and with manual acks one that finds no callback stays unacknowledged until the
    next reconnect.
    """
    kwargs = {"clean_session": clean_session} if protocol != mqtt.MQTTv5 else {}
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol, manual_ack=manual_ack, **kwargs
    )
    client.username_pw_set(*login)
    client.on_message = on_message
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    answered = threading.Event()
    outcome: dict[str, mqtt.ReasonCode] = {}

    def on_connect(_client, _userdata, _flags, reason_code, _properties):
        outcome["reason"] = reason_code
        answered.set()

    client.on_connect = on_connect
    client.connect(settings.host, settings.port, keepalive=settings.keepalive_seconds)
    client.loop_start()
    answered.wait(timeout)
    reason = outcome.get("reason")
    if reason is None or reason.is_failure:
        client.loop_stop()
        client.disconnect()
        got = reason if reason is not None else f"no answer within {timeout:.0f} s"
        raise MqttConnectError(f"MQTT login as '{login[0]}' to {settings.host}:{settings.port} refused: {got}")
    return client


def end_session(settings: MqttSettings, login: tuple[str, str], client_id: str) -> None:
    """Discard a client's persistent session, so the broker stops queueing messages for a client that
    will not come back (a test's or benchmark's bridge)."""
    client = connect(settings, login, client_id, clean_session=True)
    client.disconnect()
    client.loop_stop()
