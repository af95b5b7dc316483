"""Helpers for the overload tests: a broker with a known HTTP port, /metrics parsing, the broker's
RSS, raw clients bound to a chosen source address (127.0.0.2, 127.0.0.3 ... are all loopback)."""

import os
import re
import resource
import socket
import time
import urllib.request

from harness import HOST, TIMEOUT, BrokerTestCase, RawClient, free_port
import mqtt_packets as mp


def raise_fd_limit():
    """The soft open-file limit up to the hard one (20,000 here), for us and the brokers we start."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class SourcedRawClient(RawClient):
    """RawClient whose socket is bound to `source` (and optionally has a small receive buffer)."""

    def __init__(self, port, version=5, source=None, rcvbuf=None):
        self.version = version
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if source:
            sock.bind((source, 0))
        sock.settimeout(TIMEOUT)
        sock.connect((HOST, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self.buf = bytearray()
        self.closed = False


# scripts/test.sh runs the integration tests a second time against an ASan+UBSan Debug build
# (ASAN_OPTIONS set): there the load tests scale down and do not judge memory (ASan's quarantine
# keeps freed memory resident) or tight latencies; they still exercise every path.
SANITIZED = bool(os.environ.get("ASAN_OPTIONS"))

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$')


def parse_metrics(text):
    """{'name{label="v"}': value, 'name': value} for every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


class OverloadTestCase(BrokerTestCase):
    """BrokerTestCase whose broker serves /metrics on a port we know."""

    def setUp(self):
        self.http_port = free_port()
        self.broker_options = dict(self.broker_options)
        self.broker_options["http_listen"] = "%s:%d" % (HOST, self.http_port)
        super().setUp()

    def metrics(self):
        url = "http://%s:%d/metrics" % (HOST, self.http_port)
        with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
            return parse_metrics(r.read().decode())

    def metric(self, key):
        return self.metrics().get(key, 0.0)

    def wait_metric(self, key, pred, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            value = self.metric(key)
            if pred(value) or time.monotonic() > deadline:
                return value
            time.sleep(0.05)

    def rss_bytes(self):
        """The broker's resident set size, from /proc/PID/status."""
        with open("/proc/%d/status" % self.broker.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def sourced(self, source=None, version=5, rcvbuf=None):
        r = SourcedRawClient(self.port, version, source, rcvbuf)
        self.addCleanup(r.close)
        return r


def refused_or_closed(client):
    """True when the broker closed the connection without any packet (refused at accept)."""
    try:
        p = client.recv(TIMEOUT)
    except OSError:
        return True
    return p is None


def connect_packet(client_id, version=5, **kw):
    return mp.connect(client_id, version, **kw)
