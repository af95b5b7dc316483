"""Multi-process cluster harness: starts N real meshmq nodes and drives them with paho clients.

Layouts:
  * distinct ports on 127.0.0.1 (default), or
  * one loopback address per node (127.0.0.2, .3, ...) with the SAME ports on every node, like
    pods behind a headless service (loopback_per_node=True), or
  * one network namespace per node (see cluster_partition_test.py), via `netns` + NetnsRunner.

Every process is started in its own session and killed (SIGKILL to the group) in a cleanup, so a
failing test leaks nothing. Node logs are printed when a test fails.
"""

import ctypes
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Client, reason_value  # noqa: E402,F401 (reason_value: re-exported)

FAILURE_TIMEOUT_MS = 1000
TIMEOUT = 5.0


def binary():
    path = os.environ.get("MESHMQ_BIN")
    if not path or not os.access(path, os.X_OK):
        raise RuntimeError("MESHMQ_BIN must point at the meshmq binary (got %r)" % path)
    return path


_handed_out = set()


def free_port(hosts=("127.0.0.1",)):
    """A TCP port that is free on every address in `hosts` (same port for all: pod style).

    Never the same port twice in one process: the ports are only probed, not held, until the
    nodes bind them, and meshmq's gRPC listener binds with SO_REUSEPORT, so two nodes given the
    same cluster port would both start and split the connections between them."""
    for _ in range(200):
        port = random.randint(20000, 32700)  # below the ephemeral range (32768-60999)
        if port in _handed_out:
            continue
        try:
            for h in hosts:
                with socket.socket() as s:
                    s.bind((h, port))
            _handed_out.add(port)
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


class NetnsRunner:
    """A thread that has entered a network namespace and runs calls there.

    setns(CLONE_NEWNET) affects only the calling thread, and a socket stays in the namespace it
    was created in, so a paho client connected from this thread keeps working when its network
    loop runs in another thread.
    """

    CLONE_NEWNET = 0x40000000

    def __init__(self, ns):
        self.ns = ns
        self.calls = queue.Queue()
        ready = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        err = ready.get(timeout=10)
        if err:
            raise RuntimeError("cannot enter netns %s: %s" % (ns, err))

    def _run(self, ready):
        libc = ctypes.CDLL(None, use_errno=True)
        try:
            fd = os.open("/var/run/netns/" + self.ns, os.O_RDONLY)
        except OSError as e:
            ready.put(str(e))
            return
        if libc.setns(fd, self.CLONE_NEWNET) != 0:
            ready.put(os.strerror(ctypes.get_errno()))
            os.close(fd)
            return
        os.close(fd)
        ready.put(None)
        while True:
            fn, result = self.calls.get()
            if fn is None:
                return
            try:
                result.put((True, fn()))
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                result.put((False, e))

    def call(self, fn):
        result = queue.Queue()
        self.calls.put((fn, result))
        ok, value = result.get(timeout=60)
        if not ok:
            raise value
        return value

    def close(self):
        self.calls.put((None, None))


class NodeClient(Client):
    """harness.Client that connects to a given host (and optionally from inside a netns)."""

    def __init__(self, host, port, client_id, runner=None, **kw):
        super().__init__(port, client_id, **kw)
        self.host = host
        self.runner = runner

    def _dial(self, kwargs):
        def do_connect():
            return self.paho.connect(self.host, self.port, **kwargs)
        self.runner.call(do_connect) if self.runner else do_connect()


class Node:
    """One meshmq process of a cluster. Ports stay the same across restarts."""

    def __init__(self, cluster, index, host, mqtt_port, grpc_port, http_port, netns=None):
        self.cluster = cluster
        self.index = index
        self.node_id = "node%d" % index
        self.host = host
        self.mqtt_port = mqtt_port
        self.grpc_port = grpc_port
        self.http_port = http_port
        self.netns = netns
        self.runner = NetnsRunner(netns) if netns else None
        self.extra = []  # extra flags for the next start
        self.secret = None  # overrides the cluster's secret / name for this node (None: same)
        self.cluster_name = None
        self.proc = None
        self.log_path = os.path.join(cluster.dir, "%s.log" % self.node_id)
        self.log = None
        self.starts = 0

    @property
    def grpc_address(self):
        return "%s:%d" % (self.host, self.grpc_port)

    def command(self):
        c = self.cluster
        cmd = [binary(), "--node-id", self.node_id,
               "--mqtt-listen", "%s:%d" % (self.host, self.mqtt_port),
               "--cluster-listen", self.grpc_address, "--cluster-advertise", self.grpc_address,
               "--http-listen", "%s:%d" % (self.host, self.http_port),
               "--cluster-name", self.cluster_name or c.cluster_name,
               "--cluster-secret", self.secret or c.secret,
               "--failure-timeout", str(c.failure_timeout_ms), "--workers", "2",
               "--log-level", c.log_level]
        if c.api_token:
            cmd += ["--http-api-token", c.api_token]
        cmd += c.discovery_flags(self) + self.extra
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        return cmd

    def start(self):
        self.starts += 1
        if self.log:
            self.log.close()
        self.log = open(self.log_path, "ab")
        self.log.write(("==== start %d: %s\n" % (self.starts, " ".join(self.command())))
                       .encode())
        self.log.flush()
        self.proc = subprocess.Popen(self.command(), stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s"
                                   % (self.node_id, self.proc.returncode, self.read_log()))
            if self.http("/healthz")[0] == 200:
                return self
            time.sleep(0.05)
        raise RuntimeError("%s did not serve HTTP:\n%s" % (self.node_id, self.read_log()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL, wait=True):
        """Sends `sig` to the node (SIGKILL: crash; SIGTERM: graceful leave)."""
        if not self.alive():
            return
        os.killpg(self.proc.pid, sig)
        if wait:
            self.proc.wait(timeout=15)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        if self.log:
            self.log.close()
            self.log = None

    def restart(self):
        self.stop()
        return self.start()

    def node_log(self):
        """What the node itself logged (without the harness's "==== start" lines)."""
        return "\n".join(l for l in self.read_log().splitlines() if not l.startswith("===="))

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return "<no log>"

    # HTTP -------------------------------------------------------------------------------------
    def http(self, path, timeout=2.0):
        """(status, body) of GET path; (None, error) if the node does not answer."""
        url = "http://%s:%d%s" % (self.host, self.http_port, path)
        token = self.cluster.api_token
        request = urllib.request.Request(
            url, headers={"Authorization": "Bearer " + token} if token else {})

        def get():
            try:
                with urllib.request.urlopen(request, timeout=timeout) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()
            except (OSError, urllib.error.URLError) as e:
                return None, str(e)
        return self.runner.call(get) if self.runner else get()

    def json(self, path):
        status, body = self.http(path)
        if status != 200:
            raise AssertionError("%s GET %s: %s %s" % (self.node_id, path, status, body))
        return json.loads(body)

    def peers(self):
        """{node_id: entry} of the peers in /api/v1/nodes (self excluded)."""
        return {n["node_id"]: n for n in self.json("/api/v1/nodes")["nodes"] if not n["self"]}

    def peer_state(self, node_id):
        entry = self.peers().get(node_id)
        return entry["state"] if entry else None

    def peer_routes(self, node_id):
        """How many routes this node holds for `node_id` (0 when unknown)."""
        entry = self.peers().get(node_id)
        return entry["routes"] if entry else 0

    def metrics(self):
        """Prometheus samples as {'name{labels}': value}."""
        status, body = self.http("/metrics")
        if status != 200:
            raise AssertionError("%s /metrics: %s" % (self.node_id, status))
        out = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                out[key] = float(value)
        return out

    def forwarded_to(self, node_id):
        return self.metrics().get('meshmq_cluster_forwarded_messages_total{peer="%s"}'
                                  % node_id, 0.0)

    def client(self, client_id, **kw):
        return NodeClient(self.host, self.mqtt_port, client_id, runner=self.runner, **kw)


class Cluster:
    """N nodes with static (default) or DNS discovery. Call start(); stop() kills everything."""

    def __init__(self, n=3, loopback_per_node=False, hosts=None, netns=None,
                 failure_timeout_ms=FAILURE_TIMEOUT_MS, discovery="static", dns=None,
                 secret="test-secret", cluster_name="meshmq-test", log_level="info",
                 api_token=None):
        self.api_token = api_token  # sent to the admin API; the nodes get --http-api-token
        self.dir = tempfile.mkdtemp(prefix="meshmq-cluster-")
        self.failure_timeout_ms = failure_timeout_ms
        self.discovery = discovery
        self.dns = dns  # (dns_name, "host:port") for --discovery dns
        self.secret = secret
        self.cluster_name = cluster_name
        self.log_level = log_level
        if hosts is None:
            hosts = (["127.0.0.%d" % (i + 2) for i in range(n)] if loopback_per_node
                     else ["127.0.0.1"] * n)
        self.nodes = []
        if len(set(hosts)) == len(hosts):  # pod style: same ports everywhere
            if netns:
                ports = (1883, 8081, 8082)  # each namespace has its own port space
            else:
                ports = (free_port(hosts), free_port(hosts), free_port(hosts))
            for i, h in enumerate(hosts):
                ns = netns[i] if netns else None
                self.nodes.append(Node(self, i + 1, h, *ports, netns=ns))
        else:
            for i, h in enumerate(hosts):
                self.nodes.append(Node(self, i + 1, h, free_port(), free_port(), free_port()))

    def discovery_flags(self, node):
        if self.discovery in ("dns", "dns-srv"):
            name, server = self.dns
            return ["--discovery", self.discovery, "--dns-name", name, "--dns-server", server,
                    "--dns-refresh-ms", "500"]
        peers = ",".join(n.grpc_address for n in self.nodes)
        return ["--discovery", "static", "--peers", peers]

    def start(self, wait=True):
        for n in self.nodes:
            n.start()
        if wait:
            self.wait_formed()
        return self

    def stop(self):
        for n in self.nodes:
            n.stop()
            if n.runner:
                n.runner.close()

    def wait_formed(self, nodes=None, timeout=20.0):
        """Waits until each node is ready and sees every other node of `nodes` alive."""
        nodes = nodes or self.nodes
        deadline = time.monotonic() + timeout
        start = time.monotonic()
        while True:
            pending = [n.node_id for n in nodes if not self._formed(n, nodes)]
            if not pending:
                return time.monotonic() - start
            if time.monotonic() > deadline:
                raise AssertionError("cluster not formed after %.0fs, pending %s"
                                     % (timeout, pending))
            time.sleep(0.05)

    @staticmethod
    def _formed(node, nodes):
        if node.http("/readyz")[0] != 200:
            return False
        try:
            peers = node.peers()
        except (AssertionError, ValueError):
            return False
        return all(peers.get(o.node_id, {}).get("state") == "alive"
                   for o in nodes if o is not node)

    def dump_logs(self, tail=6000):
        out = []
        for n in self.nodes:
            out.append("---- %s log (%s) ----\n%s" % (n.node_id, n.log_path, n.read_log()[-tail:]))
        return "\n".join(out)


def wait_until(predicate, timeout=TIMEOUT, interval=0.02, what="condition"):
    """Polls `predicate` until it returns truthy; returns (value, seconds waited)."""
    start = time.monotonic()
    while True:
        value = predicate()
        if value:
            return value, time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class ClusterTestCase(unittest.TestCase):
    """A test that owns clusters; logs of every node are printed when the test fails."""

    def setUp(self):
        self._clusters = []
        self._ids = 0

    def make_cluster(self, start=True, **kw):
        c = Cluster(**kw)
        self._clusters.append(c)
        self.addCleanup(c.stop)
        if start:
            c.start()
        return c

    def run(self, result=None):
        result = result or self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        self._clusters = []
        try:
            return super().run(result)
        finally:
            if len(result.failures) + len(result.errors) > before:
                for c in self._clusters:
                    sys.stderr.write("\n" + c.dump_logs() + "\n")

    def cid(self, name="c"):
        self._ids += 1
        return "%s-%s-%d" % (self._testMethodName[-24:], name, self._ids)

    def client(self, node, client_id=None, connect=True, **kw):
        c = node.client(client_id or self.cid(node.node_id), **kw)
        self.addCleanup(c.stop)
        if connect:
            c.connect()
        return c

    def wait_route(self, pub, topic, subs, timeout=TIMEOUT):
        """Publishes QoS 0 probes from `pub` until every client in `subs` got one; drains them.
        Returns the seconds it took (route propagation as seen by clients)."""
        start = time.monotonic()
        seen = set()
        while len(seen) < len(subs):
            if time.monotonic() - start > timeout:
                raise AssertionError("route for %s not propagated within %.1fs" % (topic, timeout))
            pub.publish(topic, b"__probe__", 0)
            time.sleep(0.03)
            for i, s in enumerate(subs):
                if any(m.payload == b"__probe__" for m in s.messages.items):
                    seen.add(i)
        took = time.monotonic() - start
        time.sleep(0.2)
        for s in subs:
            with s.messages.cond:
                s.messages.items[:] = [m for m in s.messages.items if m.payload != b"__probe__"]
        return took


def main():
    unittest.main(verbosity=2)
