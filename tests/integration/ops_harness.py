"""Harness for the operations tests (deployment files, Prometheus, SIGTERM drain).

Starts real meshmq nodes (and dnsmasq / Prometheus when a test needs them) as processes in their
own sessions; `Processes.kill_all()` SIGKILLs every group it started and runs as a unittest
cleanup, so a failing test leaks nothing. Node logs are attached to assertion messages.
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Client  # noqa: E402

SOURCE_DIR = os.environ.get(
    "MESHMQ_SOURCE_DIR",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def binary():
    path = os.environ.get("MESHMQ_BIN")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("MESHMQ_BIN must point at the meshmq binary (got %r)" % path)
    return path


def port_free(host, port):
    with socket.socket() as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def free_port(hosts=("127.0.0.1",)):
    """A TCP port free on every address in `hosts` (one port for all of them, pod style)."""
    for _ in range(500):
        port = random.randint(20000, 60000)
        if all(port_free(h, port) for h in hosts):
            return port
    raise RuntimeError("no free port")


def wait_until(predicate, timeout, interval=0.05):
    """Polls `predicate` until it returns a truthy value; returns it, or None on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


def http_get(host, port, path, timeout=2.0):
    """(status, body text); status None when the connection fails (refused, reset, timeout)."""
    url = "http://%s:%d%s" % (host, port, path)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (OSError, urllib.error.URLError):
        return None, ""


def http_json(host, port, path):
    status, body = http_get(host, port, path)
    if status != 200:
        return None
    return json.loads(body)


class Processes:
    """Every process a test starts; kill_all() is the cleanup."""

    def __init__(self):
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="meshmq-ops-")

    def start(self, name, cmd, env=None):
        log_path = os.path.join(self.dir, name + ".log")
        log = open(log_path, "wb")
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
        log.close()
        proc.log_path = log_path
        proc.name = name
        self.procs.append(proc)
        return proc

    def log(self, proc, tail=6000):
        try:
            with open(proc.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-tail:]
        except OSError:
            return "<no log>"

    def logs(self):
        return "\n".join("--- %s (exit %s) ---\n%s" % (p.name, p.poll(), self.log(p))
                         for p in self.procs)

    def kill_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


class Node:
    """One meshmq process with known MQTT, HTTP and cluster addresses."""

    def __init__(self, procs, node_id, host, mqtt_port, http_port, cluster_port, args, env=None):
        self.procs = procs
        self.node_id = node_id
        self.host = host
        self.mqtt_port = mqtt_port
        self.http_port = http_port
        self.cluster_port = cluster_port
        self.args = args
        self.env = env
        self.proc = None

    def start(self):
        self.proc = self.procs.start(self.node_id, [binary()] + self.args, self.env)
        return self

    def get(self, path):
        return http_get(self.host, self.http_port, path)

    def json(self, path):
        return http_json(self.host, self.http_port, path)

    def ready(self):
        return self.get("/readyz")[0] == 200

    def peer_states(self):
        """{node_id: state} of the peers this node knows (itself excluded)."""
        doc = self.json("/api/v1/nodes")
        if doc is None:
            return {}
        return {n["node_id"]: n["state"] for n in doc["nodes"] if not n.get("self")}

    def log(self):
        return self.procs.log(self.proc)


def static_cluster(procs, count=3, secret="ops-secret", extra=()):
    """`count` nodes on 127.0.0.1 with distinct free ports, static discovery of each other."""
    ports = [(free_port(), free_port(), free_port()) for _ in range(count)]
    peers = ",".join("127.0.0.1:%d" % c for _, _, c in ports)
    nodes = []
    for i, (mqtt, http, cluster) in enumerate(ports):
        node_id = "node%d" % (i + 1)
        args = ["--node-id", node_id, "--workers", "2",
                "--mqtt-listen", "127.0.0.1:%d" % mqtt, "--http-listen", "127.0.0.1:%d" % http,
                "--cluster-listen", "127.0.0.1:%d" % cluster, "--cluster-secret", secret,
                "--discovery", "static", "--peers", peers, "--failure-timeout", "1000",
                "--sys-interval", "0"] + list(extra)
        nodes.append(Node(procs, node_id, "127.0.0.1", mqtt, http, cluster, args))
    return nodes


def wait_cluster_formed(nodes, timeout=30):
    """True once every node is ready and sees every other node alive."""
    ids = {n.node_id for n in nodes}

    def formed():
        for n in nodes:
            if not n.ready():
                return False
            states = n.peer_states()
            if any(states.get(other) != "alive" for other in ids - {n.node_id}):
                return False
        return True
    return bool(wait_until(formed, timeout, 0.2))


class HostClient(Client):
    """harness.Client that connects to any host (harness.Client connects to 127.0.0.1)."""

    def __init__(self, host, port, client_id, **kw):
        super().__init__(port, client_id, **kw)
        self.host = host


def route_message(test, sub_node, pub_node, topic, timeout=10):
    """Subscribes on sub_node, then publishes (QoS 1) on pub_node until one copy arrives.

    Route propagation is asynchronous, so the publisher repeats; a copy must arrive in time.
    """
    sub = HostClient(sub_node.host, sub_node.mqtt_port, "ops-sub-%d" % random.randint(0, 1 << 30))
    pub = HostClient(pub_node.host, pub_node.mqtt_port, "ops-pub-%d" % random.randint(0, 1 << 30))
    test.addCleanup(sub.stop)
    test.addCleanup(pub.stop)
    sub.connect()
    test.assertEqual(sub.subscribe(topic, qos=1), [1])
    pub.connect()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pub.publish(topic, b"hello", qos=1)
        if sub.messages.wait_for(1, 0.3):
            break
    got = sub.messages.wait_for(1, 0.1)
    sub.disconnect()
    pub.disconnect()
    return [m.payload for m in got]


class Dnsmasq:
    """dnsmasq on 127.0.0.1:port, authoritative for `domain`, answering from a hosts file."""

    def __init__(self, procs, domain, records):
        self.procs = procs
        self.port = free_port()
        self.hosts = os.path.join(procs.dir, "dns-hosts")
        with open(self.hosts, "w") as f:
            for name, ip in records:
                f.write("%s %s\n" % (ip, name))
        self.cmd = ["/usr/sbin/dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                    "--no-resolv", "--no-hosts", "--port=%d" % self.port,
                    "--listen-address=127.0.0.1", "--bind-interfaces",
                    "--local=/%s/" % domain, "--addn-hosts=%s" % self.hosts, "--pid-file=",
                    "--user=root", "--group=root", "--log-facility=-", "--log-queries"]
        self.proc = None

    def start(self):
        self.proc = self.procs.start("dnsmasq", self.cmd)
        # dnsmasq binds UDP and TCP on the port; TCP accepting means it is serving.
        if not wait_until(lambda: _tcp_open("127.0.0.1", self.port), 10):
            raise RuntimeError("dnsmasq did not start: " + self.procs.log(self.proc))
        return self

    @property
    def server(self):
        return "127.0.0.1:%d" % self.port


def _tcp_open(host, port):
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False
