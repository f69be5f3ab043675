"""A RabbitMQ cluster on loopback ports for the chain benchmark: 3 nodes with the MQTT plugin, one Erlang
cookie and a private epmd port, everything under one temporary directory; no system service.

    cluster = RabbitCluster(root, size=3).start()    # nodes rabbit1..3@localhost, clustered with rabbit1
    cluster.ctl(1, "add_user", "store1", "secret")   # rabbitmqctl against node 1
    cluster.stop_node(2); cluster.start_node(2)      # a node down, then back (it rejoins by itself)
    cluster.close()                                  # every node stopped, by its pid

RabbitMQ comes from Debian's `rabbitmq-server` (3.10 on bookworm), installed with apt when missing, as the
project installs mosquitto (scripts/bootstrap). The Debian package may also start its own service; nothing
here uses it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from edge.demo.broker import free_port

RABBIT_BIN = Path(os.environ.get("SHELF_NODE_RABBITMQ", "/usr/lib/rabbitmq/bin"))
START_TIMEOUT_S = 180.0
CTL_TIMEOUT_S = 120.0


def rabbitmq_available() -> bool:
    return (RABBIT_BIN / "rabbitmq-server").is_file()


def ensure_rabbitmq() -> None:
    """apt-get install rabbitmq-server when it is missing (as root, or with sudo)."""
    if rabbitmq_available():
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "rabbitmq-server"], check=True, env=env)
    if not rabbitmq_available():
        raise FileNotFoundError(f"rabbitmq-server installed but {RABBIT_BIN / 'rabbitmq-server'} is missing; "
                                f"set SHELF_NODE_RABBITMQ to the directory holding rabbitmq-server and rabbitmqctl")


@dataclass
class RabbitNode:
    index: int
    home: Path
    amqp_port: int = field(default_factory=free_port)
    mqtt_port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def name(self) -> str:
        return f"rabbit{self.index}@localhost"

    @property
    def workdir(self) -> Path:
        return self.home / f"rabbit{self.index}"


@dataclass
class RabbitCluster:
    home: Path  # HOME of every node and every rabbitmqctl: its .erlang.cookie is the cluster's cookie
    size: int = 3
    epmd_port: int = field(default_factory=free_port)
    nodes: list[RabbitNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(16).upper(), encoding="ascii")
        cookie.chmod(0o400)
        self.nodes = [RabbitNode(i + 1, self.home) for i in range(self.size)]

    def env(self, node: RabbitNode | None = None) -> dict[str, str]:
        env = {**os.environ, "HOME": str(self.home), "ERL_EPMD_PORT": str(self.epmd_port),
               "ERL_EPMD_ADDRESS": "127.0.0.1", "LC_ALL": "C.UTF-8"}
        if node is not None:
            base = node.workdir
            env.update({"RABBITMQ_NODENAME": node.name, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
                        "RABBITMQ_NODE_PORT": str(node.amqp_port), "RABBITMQ_DIST_PORT": str(node.dist_port),
                        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"), "RABBITMQ_LOG_BASE": str(base / "log"),
                        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
                        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
                        "RABBITMQ_PID_FILE": str(base / "rabbit.pid"),
                        # the inter-node (Erlang distribution) listener on loopback too, not on every interface
                        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}"})
        return env

    def _write_files(self, node: RabbitNode) -> None:
        node.workdir.mkdir(parents=True, exist_ok=True)
        (node.workdir / "enabled_plugins").write_text("[rabbitmq_mqtt].\n", encoding="ascii")
        (node.workdir / "rabbitmq.conf").write_text("\n".join([
            f"listeners.tcp.default = 127.0.0.1:{node.amqp_port}",
            f"mqtt.listeners.tcp.default = 127.0.0.1:{node.mqtt_port}",
            "mqtt.allow_anonymous = false",  # every store has its own user (docs/scale-out.md)
            "mqtt.vhost = /",
            "mqtt.exchange = amq.topic",
            "disk_free_limit.absolute = 100MB",
            "log.console = false",
            "log.file.level = info",
        ]) + "\n", encoding="ascii")

    def start_node(self, index: int) -> RabbitNode:
        node = self.nodes[index - 1]
        if node.proc is not None and node.proc.poll() is None:
            raise RuntimeError(f"{node.name} is already running")
        self._write_files(node)
        if node.log is None:
            node.log = (node.workdir / "server.out").open("ab")
        node.proc = subprocess.Popen([str(RABBIT_BIN / "rabbitmq-server")], env=self.env(node), stdout=node.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        return node

    def await_node(self, index: int) -> None:
        node = self.nodes[index - 1]
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if node.proc is None or node.proc.poll() is not None:
                raise RuntimeError(f"{node.name} exited; see {node.workdir / 'server.out'} and {node.workdir / 'log'}")
            if _listening(node.mqtt_port) and self.ctl(index, "await_startup", check=False).returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError(f"{node.name} did not start within {START_TIMEOUT_S:g} s; see {node.workdir / 'log'}")

    def ctl(self, index: int, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """rabbitmqctl against node `index`; raises with its output when it fails and `check`."""
        node = self.nodes[index - 1]
        done = subprocess.run([str(RABBIT_BIN / "rabbitmqctl"), "-n", node.name, *args], env=self.env(),
                              capture_output=True, text=True, timeout=CTL_TIMEOUT_S, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl -n {node.name} {' '.join(args)}: {done.stdout} {done.stderr}".strip())
        return done

    def start(self) -> RabbitCluster:
        """Node 1, then the others joined to it (stop_app, join_cluster, start_app)."""
        self.start_node(1)
        self.await_node(1)
        for node in self.nodes[1:]:
            self.start_node(node.index)
        for node in self.nodes[1:]:
            self.await_node(node.index)
            self.ctl(node.index, "stop_app")
            self.ctl(node.index, "join_cluster", self.nodes[0].name)
            self.ctl(node.index, "start_app")
        self.ctl(1, "await_online_nodes", str(self.size))
        return self

    def stop_node(self, index: int) -> None:
        """A clean stop of one node (SIGTERM: RabbitMQ shuts down in order; its peers see it leave)."""
        node = self.nodes[index - 1]
        _end(node.proc)

    def close(self) -> None:
        for node in self.nodes:
            _end(node.proc)
            if node.log is not None:
                node.log.close()
                node.log = None
        self._stop_epmd()

    def _stop_epmd(self) -> None:
        """The private epmd the first node started (on our port only)."""
        epmd = shutil.which("epmd") or "/usr/lib/erlang/bin/epmd"
        if Path(epmd).exists():
            subprocess.run([epmd, "-kill"], env=self.env(), capture_output=True, timeout=30, check=False)


def publish_refused(port: int, user: str, password: str, topic: str) -> bool:
    """True when the cluster's MQTT plugin refuses `user`'s QoS 1 publish on `topic` (MQTT 3.1.1 has no
    negative PUBACK: RabbitMQ closes the connection, and the message goes nowhere)."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"refusal-check-{user}", protocol=paho.MQTTv311)
    client.username_pw_set(user, password)
    connected = threading.Event()
    client.on_connect = lambda *_: connected.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        if not connected.wait(10.0):
            raise RuntimeError(f"{user} could not connect to the cluster's MQTT port {port}")
        info = client.publish(topic, b"{}", qos=1)
        try:
            info.wait_for_publish(timeout=5.0)
        except (RuntimeError, ValueError):  # paho: the connection closed before the PUBACK
            return True
        return not info.is_published()
    finally:
        client.disconnect()
        client.loop_stop()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _end(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
