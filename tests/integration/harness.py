"""Integration test harness: starts a real broker on a free loopback port and provides clients.

Broker choice: MESHMQ_TEST_BROKER=mosquitto runs /usr/sbin/mosquitto with a generated config
(used to validate the tests themselves against a reference broker); otherwise $MESHMQ_BIN is
started. Every process a test starts is killed (whole process group) in a cleanup, so a failing
test never leaks a broker.
"""

import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import paho.mqtt.client as paho  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

import mqtt_packets as mp  # noqa: E402

MODE = "mosquitto" if os.environ.get("MESHMQ_TEST_BROKER") == "mosquitto" else "meshmq"
MOSQUITTO = MODE == "mosquitto"
HOST = "127.0.0.1"
TIMEOUT = 5.0  # generous upper bound for anything that should happen "at once" on loopback

# meshmq option name -> mosquitto config key (None: no mosquitto equivalent).
_MOSQUITTO_KEYS = {
    "max_packet_size": "max_packet_size",
    "max_queued_messages": "max_queued_messages",
    "max_inflight": "max_inflight_messages",
    "max_topic_alias": "max_topic_alias",
    "max_keep_alive": "max_keepalive",
    "max_connections": "max_connections",
    "sys_interval": "sys_interval",
    "max_session_expiry": None,
    "connect_timeout_ms": None,
    "retry_interval_ms": None,
    "shared_subscription_strategy": None,
    "debug_fault_injection": None,
}


def meshmq_only(reason):
    """Marks a test that exercises meshmq-specific behaviour; skipped only in mosquitto mode."""
    return unittest.skipIf(MOSQUITTO, "meshmq only: " + reason)


def broker_options(**options):
    """Per-test broker options, e.g. @broker_options(max_packet_size=1000)."""
    def wrap(fn):
        fn.broker_options = options
        return fn
    return wrap


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_port(port, host=None, timeout=10):
    """Waits until something accepts TCP connections on host:port (a listener's readiness)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host or HOST, port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("nothing listens on port %d" % port)
            time.sleep(0.05)


def kill_group(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)


class Broker:
    """One broker process. Use start(); stop() is registered as a cleanup by BrokerTestCase."""

    def __init__(self, options):
        self.options = dict(options)
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="meshmq-it-")
        self.log_path = os.path.join(self.dir, "broker.log")
        self.proc = None

    def command(self):
        if MOSQUITTO:
            conf = os.path.join(self.dir, "mosquitto.conf")
            lines = ["listener %d %s" % (self.port, HOST), "allow_anonymous true", "log_type all",
                     "sys_interval %d" % self.options.get("sys_interval", 1)]
            for key, value in self.options.items():
                mkey = _MOSQUITTO_KEYS[key]
                if mkey is None:
                    raise unittest.SkipTest("option %s has no mosquitto equivalent" % key)
                if key != "sys_interval":
                    lines.append("%s %s" % (mkey, value))
            with open(conf, "w") as f:
                f.write("\n".join(lines) + "\n")
            return ["/usr/sbin/mosquitto", "-c", conf]
        binary = os.environ.get("MESHMQ_BIN")
        if not binary:
            raise RuntimeError("MESHMQ_BIN is not set (or set MESHMQ_TEST_BROKER=mosquitto)")
        # HTTP on a free port so parallel tests never fight over the default 8082.
        cmd = [binary, "--mqtt-listen", "%s:%d" % (HOST, self.port), "--workers", "3",
               "--log-level", "debug", "--http-listen", "%s:0" % HOST]
        opts = {"sys_interval": 1}
        opts.update(self.options)
        for key, value in opts.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                cmd.append(flag)
            else:
                cmd += [flag, str(value)]
        return cmd

    def start(self):
        cmd = self.command()
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
            except OSError:
                time.sleep(0.02)
                continue
            # free_port() only guesses: another test may have taken the port between the guess
            # and our bind, and then the connection above reached its listener, not ours.
            if MOSQUITTO or self._owns_port():
                return self
            time.sleep(0.02)
        log = self.read_log()
        self.stop()
        self.remove_files()
        raise RuntimeError("broker did not accept connections on port %d (exit=%s): %s\nlog:\n%s"
                           % (self.port, self.proc.returncode, " ".join(cmd), log))

    def _owns_port(self):
        """True once our own broker logged that it listens on self.port."""
        return ("listening: tcp %s:%d" % (HOST, self.port)) in self.read_log()

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-20000:]
        except OSError:
            return "<no log>"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None:
            kill_group(self.proc)
            self.log.close()

    def remove_files(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Collector:
    """Thread-safe list of received messages (paho callbacks) with blocking waits."""

    def __init__(self):
        self.items = []
        self.cond = threading.Condition()

    def add(self, item):
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def wait_for(self, n, timeout=TIMEOUT):
        """Waits until at least n items arrived; returns a copy of all items (may be fewer)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.items) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.items)

    def settle(self, quiet=0.3):
        """Waits `quiet` seconds (to catch unexpected extra messages) and returns all items."""
        time.sleep(quiet)
        with self.cond:
            return list(self.items)

    def clear(self):
        with self.cond:
            self.items.clear()


class Message:
    def __init__(self, msg):
        self.topic = msg.topic
        self.payload = msg.payload
        self.qos = msg.qos
        self.retain = bool(msg.retain)
        self.dup = bool(msg.dup)
        self.mid = msg.mid
        self.properties = getattr(msg, "properties", None)

    def __repr__(self):
        return "Message(%s, %r, qos=%d, retain=%d)" % (self.topic, self.payload, self.qos,
                                                       self.retain)


class Client:
    """paho client driven by our own network thread (no auto-reconnect, fast abrupt close)."""

    def __init__(self, port, client_id, version=5, clean=True, session_expiry=None,
                 will=None, keepalive=60, connect_props=None):
        proto = {3: paho.MQTTv31, 4: paho.MQTTv311, 5: paho.MQTTv5}[version]
        self.version = version
        self.port = port
        kwargs = {"client_id": client_id, "protocol": proto}
        if version != 5:
            kwargs["clean_session"] = clean
        self.paho = paho.Client(**kwargs)
        self.host = HOST  # subclasses connect to other addresses
        self.clean = clean
        self.session_expiry = session_expiry
        self.keepalive = keepalive
        self.connect_props = connect_props
        self.messages = Collector()
        self.disconnects = Collector()
        self.acks = Collector()  # mids of completed publishes
        self.subacks = Collector()
        self.connack = None
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._thread = None
        if will:
            props = will.get("props")
            self.paho.will_set(will["topic"], will.get("payload"), will.get("qos", 0),
                               will.get("retain", False), properties=props)
        p = self.paho
        p.on_connect = self._on_connect
        p.on_message = lambda c, u, m: self.messages.add(Message(m))
        p.on_publish = lambda c, u, mid: self.acks.add(mid)
        p.on_disconnect = self._on_disconnect
        p.on_subscribe = self._on_subscribe
        p.on_unsubscribe = self._on_unsubscribe

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.connack = (flags, rc, properties)
        self.connected.set()

    def _on_disconnect(self, client, userdata, rc, properties=None):
        self.disconnects.add((rc, properties))

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        codes = [g.value if hasattr(g, "value") else g for g in granted]
        self.subacks.add((mid, codes))

    def _on_unsubscribe(self, client, userdata, mid, properties=None, reasons=None):
        if isinstance(reasons, list):
            codes = [r.value for r in reasons]
        elif reasons is not None:
            codes = [reasons.value]
        else:
            codes = []
        self.subacks.add((mid, codes))

    def _loop(self):
        while not self._stop.is_set():
            rc = self.paho.loop(0.02)
            if rc != paho.MQTT_ERR_SUCCESS:
                time.sleep(0.02)

    def _dial(self, kwargs):
        """Opens the TCP connection and sends CONNECT (from the calling thread)."""
        self.paho.connect(self.host, self.port, **kwargs)

    def connect(self, expect_success=True, timeout=TIMEOUT):
        props = None
        if self.version == 5:
            props = Properties(PacketTypes.CONNECT)
            if self.session_expiry is not None:
                props.SessionExpiryInterval = self.session_expiry
            for key, value in (self.connect_props or {}).items():
                setattr(props, key, value)
        kwargs = {"keepalive": self.keepalive}
        if self.version == 5:
            kwargs["clean_start"] = self.clean
            kwargs["properties"] = props
        self._dial(kwargs)
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        # paho 1.6 writes queued packets from the publishing thread too unless it believes its
        # own loop thread runs: then publish() writes from the caller's thread while the loop
        # thread writes what publish() queued, and two writers swap packets on the wire (QoS 0
        # and QoS 1 alike: a publisher's messages reach the broker out of order). Telling paho
        # that our loop thread is its thread leaves all writing to that one thread.
        # Every client class of the harnesses connects here (see writer_thread_test.py).
        self.paho._thread = self._thread
        self._thread.start()
        if not self.connected.wait(timeout):
            raise AssertionError("no CONNACK from %s:%d within %.1fs"
                                 % (self.host, self.port, timeout))
        flags, rc, _ = self.connack
        if expect_success and rc != 0:
            raise AssertionError("CONNACK refused: %s" % rc)
        return self

    @property
    def session_present(self):
        return bool(self.connack[0].get("session present"))

    @property
    def connack_properties(self):
        return self.connack[2]

    def subscribe(self, topic, qos=0, options=None, properties=None, timeout=TIMEOUT):
        """Subscribes and waits for the SUBACK; returns the list of reason codes."""
        if self.version == 5:
            opts = options or paho.SubscribeOptions(qos=qos)
            rc, mid = self.paho.subscribe(topic, options=opts, properties=properties)
        else:
            rc, mid = self.paho.subscribe(topic, qos)
        assert rc == 0, rc
        return self._wait_ack(mid, timeout)

    def unsubscribe(self, topic, timeout=TIMEOUT):
        rc, mid = self.paho.unsubscribe(topic)
        assert rc == 0, rc
        return self._wait_ack(mid, timeout)

    def _wait_ack(self, mid, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m, codes in self.subacks.wait_for(len(self.subacks.items) + 1, 0.05):
                if m == mid:
                    return codes
        raise AssertionError("no SUBACK/UNSUBACK for mid %d" % mid)

    def publish(self, topic, payload=b"", qos=0, retain=False, properties=None, wait=True):
        info = self.paho.publish(topic, payload, qos, retain, properties=properties)
        if wait and qos > 0:
            deadline = time.monotonic() + TIMEOUT
            while info.mid not in self.acks.wait_for(len(self.acks.items) + 1, 0.05):
                if time.monotonic() > deadline:
                    raise AssertionError("publish %s not acknowledged" % topic)
        return info

    def disconnect(self, reason=None, properties=None):
        if self._thread and self._thread.is_alive():
            if self.version == 5 and reason is not None:
                from paho.mqtt.reasoncodes import ReasonCodes
                rc = ReasonCodes(PacketTypes.DISCONNECT, identifier=reason)
                self.paho.disconnect(reasoncode=rc, properties=properties)
            else:
                self.paho.disconnect()
            deadline = time.monotonic() + 1
            while self.paho.socket() is not None and time.monotonic() < deadline:
                time.sleep(0.01)
        self.stop()

    def close_abruptly(self):
        """Closes the TCP connection without DISCONNECT (triggers the will)."""
        self.stop()
        sock = self.paho.socket()
        if sock is not None:
            sock.close()

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(2)

    def wait_disconnected(self, timeout=TIMEOUT):
        """Waits for the broker to end the connection; returns paho's rc (ReasonCodes or int)."""
        items = self.disconnects.wait_for(1, timeout)
        if not items:
            raise AssertionError("connection was not closed by the broker")
        return items[0][0]


def reason_value(rc):
    return rc.value if hasattr(rc, "value") else rc


class RawClient:
    """Raw TCP MQTT client for malformed input and precise flow control."""

    def __init__(self, port, version=5):
        self.version = version
        self.sock = socket.create_connection((HOST, port), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.closed = False

    def send(self, data):
        self.sock.sendall(data)

    def connect(self, client_id="", clean=True, keepalive=60, props=None, will=None,
                expect_reason=0, **kw):
        self.send(mp.connect(client_id, self.version, clean, keepalive, props, will, **kw))
        connack = self.recv(TIMEOUT)
        assert connack is not None and connack.type == mp.CONNACK, connack
        if expect_reason is not None:
            assert connack.reason == expect_reason, connack
        return connack

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout()
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
        self.buf += data

    def recv(self, timeout=TIMEOUT):
        """Next packet, or None if the connection was closed. Raises socket.timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 2:
                try:
                    length, pos = mp.read_varint(self.buf, 1)
                except IndexError:
                    length, pos = None, 0
                if length is not None and len(self.buf) >= pos + length:
                    first = self.buf[0]
                    body = bytes(self.buf[pos:pos + length])
                    del self.buf[:pos + length]
                    return mp.Packet(first, body, self.version)
            if self.closed:
                return None
            self._fill(deadline)

    def recv_type(self, ptype, timeout=TIMEOUT):
        """Next packet of the given type, skipping others (e.g. PINGRESP)."""
        deadline = time.monotonic() + timeout
        while True:
            p = self.recv(max(0.001, deadline - time.monotonic()))
            if p is None or p.type == ptype:
                return p

    def recv_none(self, quiet=0.3):
        """Asserts nothing arrives within `quiet` seconds (connection may stay open)."""
        try:
            p = self.recv(quiet)
        except socket.timeout:
            return
        raise AssertionError("unexpected packet %r" % (p,))

    def expect_closed(self, timeout=TIMEOUT):
        """Reads until the broker closes the connection; returns packets received before."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                p = self.recv(max(0.001, deadline - time.monotonic()))
            except socket.timeout:
                raise AssertionError("connection not closed; got %r" % got)
            if p is None:
                return got
            got.append(p)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class BrokerTestCase(unittest.TestCase):
    """Starts a fresh broker for every test (isolation: retained messages, sessions)."""

    broker_options = {}  # class-wide options; merged with @broker_options on the test method

    def setUp(self):
        options = dict(self.broker_options)
        options.update(getattr(getattr(self, self._testMethodName), "broker_options", {}))
        self.broker = Broker(options)
        self.addCleanup(self.broker.stop)
        self.broker.start()
        self.port = self.broker.port
        self._ids = 0

    def run(self, result=None):
        # Cleanups have stopped the broker when super().run() returns; its log file is kept
        # until here so that a failing test can show it.
        result = result or self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        self.broker = None
        try:
            return super().run(result)
        finally:
            if self.broker is not None:
                if len(result.failures) + len(result.errors) > before:
                    sys.stderr.write("\n---- broker log (%s) ----\n%s\n---- end of log ----\n"
                                     % (self.id(), self.broker.read_log()[-8000:]))
                self.broker.remove_files()

    def cid(self, name="c"):
        self._ids += 1
        return "%s-%s-%d" % (self._testMethodName[-20:], name, self._ids)

    def client(self, client_id=None, version=5, connect=True, **kw):
        c = Client(self.port, client_id if client_id is not None else self.cid(), version, **kw)
        self.addCleanup(c.stop)
        if connect:
            c.connect()
        return c

    def raw(self, version=5, connect=False, client_id=None, **kw):
        r = RawClient(self.port, version)
        self.addCleanup(r.close)
        if connect:
            r.connect(client_id if client_id is not None else self.cid("raw"), **kw)
        return r

    def assert_broker_serves(self):
        """A fresh client can still subscribe and receive its own message."""
        self.assertTrue(self.broker.alive(), "broker process died")
        c = self.client(version=4)
        topic = "health/%d" % self._ids
        c.subscribe(topic, 1)
        c.publish(topic, b"ok", 1)
        msgs = c.messages.wait_for(1)
        self.assertEqual([m.payload for m in msgs], [b"ok"])
        c.disconnect()


def props(packet_type, **values):
    p = Properties(packet_type)
    for key, value in values.items():
        setattr(p, key, value)
    return p


def publish_props(**values):
    return props(PacketTypes.PUBLISH, **values)


def main():
    unittest.main(verbosity=2)
