"""MQTT bridges (docs/extending.md) against a real Mosquitto started by the test on a free port.

One bridge "m" (MQTT 5) maps local out/# to remote from-meshmq/out/#, remote in/# to local
from-remote/in/#, and loop/# both ways (the loop test); a second bridge "v3" (MQTT 3.1.1) maps
loop3/# both ways, where loop prevention cannot use no-local.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

from harness import BrokerTestCase, Client, free_port, kill_group, main, HOST

MOSQUITTO = "/usr/sbin/mosquitto"
QUEUE = 20


class Mosquitto:
    def __init__(self, directory, extra=""):
        self.port = free_port()
        self.dir = directory
        self.conf = os.path.join(directory, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write("listener %d %s\nallow_anonymous true\npersistence true\n"
                    "persistence_location %s/\nautosave_interval 0\n%s"
                    % (self.port, HOST, directory, extra))
        self.proc = None

    def start(self):
        with open(os.path.join(self.dir, "mosquitto.log"), "ab") as log:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=log, stderr=log,
                                         start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # saves its database (persistent sessions)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                kill_group(self.proc)
        self.proc = None


class MetricsMixin:
    """/metrics of the broker under test (self.http_port)."""

    def metrics(self):
        url = "http://%s:%d/metrics" % (HOST, self.http_port)
        return urllib.request.urlopen(url, timeout=5).read().decode()

    def metric(self, sample):
        m = re.search(r"^%s (\S+)$" % re.escape(sample), self.metrics(), re.M)
        return float(m.group(1)) if m else None

    def wait_metric(self, sample, value, timeout=10, at_least=False):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                got = self.metric(sample)
                if got == value or (at_least and got is not None and got >= value):
                    return
            except OSError:  # the HTTP listener starts just after the MQTT one
                pass
            time.sleep(0.05)
        self.fail("%s never became %s (is %s)" % (sample, value, self.metric(sample)))


@unittest.skipUnless(os.path.exists(MOSQUITTO), "needs Debian's mosquitto")
class BridgeTest(MetricsMixin, BrokerTestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="meshmq-bridge-")
        os.chmod(self.tmp, 0o777)  # mosquitto started as root drops to its own user to save
        self.remote = Mosquitto(self.tmp)
        self.remote.start()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.addCleanup(self.remote.stop)
        self.http_port = free_port()
        address = "%s:%d" % (HOST, self.remote.port)
        bridges = [
            {"name": "m", "address": address, "version": "5", "keep_alive": 10,
             "reconnect_min_ms": 100, "reconnect_max_ms": 400, "queue_size": QUEUE,
             "out": [{"filter": "out/#", "prefix": "from-meshmq/", "qos": 2},
                     {"filter": "loop/#", "prefix": "", "qos": 1}],
             "in": [{"filter": "in/#", "prefix": "from-remote/", "qos": 2},
                    {"filter": "loop/#", "prefix": "", "qos": 1}]},
            {"name": "v3", "address": address, "version": "3.1.1",
             "out": [{"filter": "loop3/#", "prefix": "", "qos": 1}],
             "in": [{"filter": "loop3/#", "prefix": "", "qos": 1}]},
        ]
        config = os.path.join(self.tmp, "meshmq.json")
        with open(config, "w") as f:
            json.dump({"bridges": bridges}, f)
        self.broker_options = {"config": config, "http_listen": "%s:%d" % (HOST, self.http_port)}
        super().setUp()
        self.wait_metric('meshmq_bridge_connected{bridge="m"}', 1)
        self.wait_metric('meshmq_bridge_connected{bridge="v3"}', 1)

    def remote_client(self, client_id=None, **kw):
        c = Client(self.remote.port, client_id or self.cid("remote"), 5, **kw)
        self.addCleanup(c.stop)
        c.connect()
        return c

    def test_messages_flow_out_and_in_with_their_qos(self):
        remote = self.remote_client()
        remote.subscribe("from-meshmq/#", 2)
        local = self.client()
        local.subscribe("from-remote/#", 2)
        for qos in (0, 1, 2):
            local.publish("out/q%d" % qos, b"o%d" % qos, qos)
        got = remote.messages.wait_for(3)
        self.assertEqual(sorted((m.topic, m.payload, m.qos) for m in got),
                         [("from-meshmq/out/q0", b"o0", 0), ("from-meshmq/out/q1", b"o1", 1),
                          ("from-meshmq/out/q2", b"o2", 2)])
        for qos in (0, 1, 2):
            remote.publish("in/q%d" % qos, b"i%d" % qos, qos)
        got = local.messages.wait_for(3)
        self.assertEqual(sorted((m.topic, m.payload, m.qos) for m in got),
                         [("from-remote/in/q0", b"i0", 0), ("from-remote/in/q1", b"i1", 1),
                          ("from-remote/in/q2", b"i2", 2)])
        self.wait_metric('meshmq_bridge_messages_total{bridge="m",direction="out"}', 3)
        self.wait_metric('meshmq_bridge_messages_total{bridge="m",direction="in"}', 3)

    def test_survives_remote_restart_with_bounded_queue(self):
        # A persistent remote session, so what the bridge delivers after the restart waits for
        # this subscriber however the reconnects interleave.
        remote = self.remote_client("restart-sub", clean=False, session_expiry=300)
        remote.subscribe("from-meshmq/#", 1)
        remote.disconnect()
        self.remote.stop()
        self.wait_metric('meshmq_bridge_connected{bridge="m"}', 0)
        local = self.client()
        for i in range(QUEUE + 5):  # five more than the queue holds
            local.publish("out/r", b"%d" % i, 1)
        self.wait_metric('meshmq_bridge_dropped_total{bridge="m"}', 5)
        self.assertEqual(self.metric('meshmq_bridge_queued_messages{bridge="m"}'), QUEUE)
        self.remote.start()
        self.wait_metric('meshmq_bridge_connected{bridge="m"}', 1)
        self.assertGreaterEqual(self.metric('meshmq_bridge_reconnects_total{bridge="m"}'), 1)
        remote = self.remote_client("restart-sub", clean=False, session_expiry=300)
        got = remote.messages.wait_for(QUEUE, timeout=10)
        self.assertEqual([m.payload for m in got], [b"%d" % i for i in range(QUEUE)])
        self.wait_metric('meshmq_bridge_queued_messages{bridge="m"}', 0)
        # And the bridge works on as before.
        local.publish("out/r", b"after", 1)
        self.assertEqual(remote.messages.wait_for(QUEUE + 1)[-1].payload, b"after")
        self.assertEqual(self.metric('meshmq_bridge_dropped_total{bridge="m"}'), 5)

    def test_no_message_loops(self):
        for topic in ("loop", "loop3"):
            remote = self.remote_client()
            remote.subscribe(topic + "/#", 1)
            local = self.client()
            local.subscribe(topic + "/#", 1)
            local.publish(topic + "/from-local", b"L", 1)
            remote.publish(topic + "/from-remote", b"R", 1)
            self.assertEqual(len(local.messages.wait_for(2)), 2)
            self.assertEqual(len(remote.messages.wait_for(2)), 2)
            # Nothing circulates: each side saw each message exactly once.
            for side in (local, remote):
                got = side.messages.settle(1.0)
                self.assertEqual(sorted(m.topic for m in got),
                                 [topic + "/from-local", topic + "/from-remote"], topic)
        for bridge in ("m", "v3"):
            for direction in ("in", "out"):
                self.assertEqual(self.metric('meshmq_bridge_messages_total{bridge="%s",'
                                             'direction="%s"}' % (bridge, direction)), 1)


@unittest.skipUnless(os.path.exists(MOSQUITTO), "needs Debian's mosquitto")
class TlsBridgeTest(MetricsMixin, BrokerTestCase):
    """The bridge verifies the remote's certificate (CA and host name) and presents its own."""

    def setUp(self):
        from tls_test import Pki
        self.pki = pki = Pki()
        self.addCleanup(pki.remove)
        os.chmod(pki.dir, 0o755)  # mosquitto may read its files as its own user
        for name in os.listdir(pki.dir):
            os.chmod(pki.path(name), 0o644)
        self.tmp = tempfile.mkdtemp(prefix="meshmq-bridge-tls-")
        os.chmod(self.tmp, 0o777)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.plain = free_port()  # a plain listener for the test's own subscriber
        self.remote = Mosquitto(self.tmp, "cafile %s\ncertfile %s\nkeyfile %s\n"
                                "require_certificate true\nlistener %d %s\n"
                                % (pki.path("ca.pem"), pki.path("server.pem"),
                                   pki.path("server.key"), self.plain, HOST))
        self.remote.start()
        self.addCleanup(self.remote.stop)
        address = "%s:%d" % (HOST, self.remote.port)
        bridges = [{"name": "t", "address": address,
                    "tls": {"ca": pki.path("ca.pem"), "cert": pki.path("client.pem"),
                            "key": pki.path("client.key")},
                    "out": [{"filter": "s/#", "prefix": "tls/", "qos": 1}]},
                   {"name": "wrong-ca", "address": address, "reconnect_min_ms": 100,
                    "tls": {"ca": pki.path("other-ca.pem"), "cert": pki.path("client.pem"),
                            "key": pki.path("client.key")},
                    "out": [{"filter": "w/#", "prefix": "", "qos": 1}]}]
        config = os.path.join(self.tmp, "meshmq.json")
        with open(config, "w") as f:
            json.dump({"bridges": bridges}, f)
        self.http_port = free_port()
        self.broker_options = {"config": config, "http_listen": "%s:%d" % (HOST, self.http_port)}
        super().setUp()

    def test_tls_with_client_certificate(self):
        self.wait_metric('meshmq_bridge_connected{bridge="t"}', 1)
        sub = Client(self.plain, self.cid("remote"), 5)
        self.addCleanup(sub.stop)
        sub.connect()
        sub.subscribe("tls/#", 1)
        self.client().publish("s/x", b"secure", 1)
        self.assertEqual([m.topic for m in sub.messages.wait_for(1)], ["tls/s/x"])
        # The bridge trusting another CA never connects: the remote is not who it should be.
        self.wait_metric('meshmq_bridge_reconnects_total{bridge="wrong-ca"}', 2, at_least=True)
        self.assertEqual(self.metric('meshmq_bridge_connected{bridge="wrong-ca"}'), 0)


if __name__ == "__main__":
    main()
