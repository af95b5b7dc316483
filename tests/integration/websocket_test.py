"""MQTT over WebSocket end to end: the real binary with --ws-listen / --wss-listen, driven by
MQTT.js (ws_client.js under node) and by a raw-socket WebSocket client that controls framing.
"""

import base64
import os
import socket
import struct
import subprocess
import unittest

import harness
from tls_test import Pki

HOST = harness.HOST
HERE = os.path.dirname(os.path.abspath(__file__))
JS = os.path.join(HERE, "js")

CONNECT = bytes([0x10, 0x0C, 0x00, 0x04]) + b"MQTT" + bytes([0x04, 0x02, 0x00, 0x3C, 0x00, 0x00])
CONNACK = bytes([0x20, 0x02, 0x00, 0x00])
SUBSCRIBE = bytes([0x82, 0x08, 0x00, 0x01, 0x00, 0x03]) + b"a/b" + bytes([0x00])
SUBACK = bytes([0x90, 0x03, 0x00, 0x01, 0x00])
PUBLISH = bytes([0x30, 0x07, 0x00, 0x03]) + b"a/bhi"


def setUpModule():
    # CI starts from a clean clone: install MQTT.js from the committed lock file.
    if not os.path.isdir(os.path.join(JS, "node_modules", "mqtt")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True,
                       capture_output=True, timeout=300)


def frame(payload, opcode=0x2, fin=True):
    """A masked client frame (RFC 6455 5.2)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class RawWs:
    def __init__(self, port, path="/mqtt", protocol="mqtt"):
        self.sock = socket.create_connection((HOST, port), timeout=harness.TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n"
                           % (path, HOST, key, protocol)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        self.response, _, self.buf = self.buf.partition(b"\r\n\r\n")

    def status(self):
        return int(self.response.split(b" ")[1])

    def read_payload(self, n):
        """Reads frames until n payload bytes arrived."""
        out = b""
        while len(out) < n:
            while len(self.buf) < 2:
                self.buf += self.sock.recv(4096)
            length = self.buf[1] & 0x7F
            start = 2
            if length == 126:
                while len(self.buf) < 4:
                    self.buf += self.sock.recv(4096)
                length, start = struct.unpack("!H", self.buf[2:4])[0], 4
            while len(self.buf) < start + length:
                self.buf += self.sock.recv(4096)
            out += self.buf[start:start + length]
            self.buf = self.buf[start + length:]
        return out


class WebSocketTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = Pki()

    @classmethod
    def tearDownClass(cls):
        cls.pki.remove()

    def setUp(self):
        self.ws_port = harness.free_port()
        self.wss_port = harness.free_port()
        broker = harness.Broker({"ws_listen": "%s:%d" % (HOST, self.ws_port),
                                 "wss_listen": "%s:%d" % (HOST, self.wss_port),
                                 "tls_listen": "%s:%d" % (HOST, harness.free_port()),
                                 "tls_cert": self.pki.path("server.pem"),
                                 "tls_key": self.pki.path("server.key")}).start()
        self.addCleanup(broker.remove_files)
        self.addCleanup(broker.stop)
        # The MQTT port answering does not mean the WebSocket listeners are up yet.
        harness.wait_port(self.ws_port)
        harness.wait_port(self.wss_port)

    def node_client(self, url, *args):
        return subprocess.run(["node", os.path.join(HERE, "ws_client.js"), url] + list(args),
                              capture_output=True, text=True, timeout=30)

    def test_mqtt_js_over_ws(self):
        r = self.node_client("ws://%s:%d/mqtt" % (HOST, self.ws_port), "ws/t", "--publish", "one",
                             "--publish", "two")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, '{"topic":"ws/t","payload":"one","qos":1}\n'
                                   '{"topic":"ws/t","payload":"two","qos":1}\n')

    def test_mqtt_js_over_wss(self):
        url = "wss://%s:%d/mqtt" % (HOST, self.wss_port)
        r = self.node_client(url, "wss/t", "--publish", "s", "--protocol-version", "5", "--ca",
                             self.pki.path("ca.pem"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, '{"topic":"wss/t","payload":"s","qos":1}\n')
        bad = self.node_client(url, "wss/t", "--publish", "s", "--ca",
                               self.pki.path("other-ca.pem"))
        self.assertNotEqual(bad.returncode, 0)

    def test_split_connect_and_packed_packets(self):
        ws = RawWs(self.ws_port)
        self.assertEqual(ws.status(), 101)
        self.assertIn(b"sec-websocket-protocol: mqtt", ws.response.lower())
        ws.sock.sendall(frame(CONNECT[:5]) + frame(CONNECT[5:]))  # [MQTT-6.0.0-2]
        self.assertEqual(ws.read_payload(len(CONNACK)), CONNACK)
        ws.sock.sendall(frame(SUBSCRIBE + PUBLISH))
        self.assertEqual(ws.read_payload(len(SUBACK) + len(PUBLISH)), SUBACK + PUBLISH)

    def test_wrong_path_is_404(self):
        self.assertEqual(RawWs(self.ws_port, path="/nope").status(), 404)


if __name__ == "__main__":
    unittest.main(verbosity=2)
