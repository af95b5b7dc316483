"""SIGTERM drain under traffic (what a Kubernetes rolling update does to a pod).

A 3-node static cluster; node3 gets SIGTERM while a QoS 1 publisher on node1 feeds a persistent
subscriber on node2. Checked: node3's readiness goes away at once, its MQTT 5 clients get
DISCONNECT 0x8B (Server shutting down), the other nodes mark it "left" and drop its routes within
1 s, no PUBACKed message is lost, and node3 exits 0 well inside the drain budget.
"""

import re
import signal
import socket
import threading
import time
import unittest

import ops_harness as oh
import mqtt_packets as mp

# k8s/statefulset.yaml: terminationGracePeriodSeconds 30 minus a 5 s preStop sleep.
DRAIN_BUDGET_S = 25
ROUTES_DROPPED_WITHIN_S = 1.0


def remote_routes(node):
    status, text = node.get("/metrics")
    if status != 200:
        return None
    m = re.search(r'^meshmq_routes\{scope="remote"\} (\S+)$', text, re.M)
    return int(float(m.group(1))) if m else None


class RawV5Client:
    """MQTT 5 client on a raw socket: sees the exact DISCONNECT bytes the broker sends.

    (paho 1.6 drops the reason code of a DISCONNECT whose remaining length is 1, the short form
    meshmq sends, so paho cannot tell 0x8B from a lost connection.)
    """

    def __init__(self, host, port, client_id):
        self.sock = socket.create_connection((host, port), timeout=5)
        self.sock.sendall(mp.connect(client_id, 5, True, 60, None, None))
        self.buf = self._read_packet()

    def _read_packet(self):
        data = b""
        while True:
            if len(data) >= 2:
                length, pos = mp.read_varint(data, 1)
                if len(data) >= pos + length:
                    return data[:pos + length]
            chunk = self.sock.recv(4096)
            if not chunk:
                return data
            data += chunk

    def next_packet(self, timeout):
        self.sock.settimeout(timeout)
        return self._read_packet()

    def close(self):
        self.sock.close()


class QoS1Publisher(threading.Thread):
    """Publishes seq numbers at QoS 1 until stopped; records which ones were PUBACKed."""

    def __init__(self, node, topic_prefix):
        super().__init__(daemon=True)
        self.client = oh.HostClient(node.host, node.mqtt_port, "drain-pub", version=5)
        self.topic_prefix = topic_prefix
        self.acked = []
        self.unacked = []
        self.stop_flag = threading.Event()

    def run(self):
        seq = 0
        while not self.stop_flag.is_set():
            info = self.client.paho.publish("%s/%d" % (self.topic_prefix, seq), str(seq), qos=1)
            info.wait_for_publish(5)
            (self.acked if info.is_published() else self.unacked).append(seq)
            seq += 1
            time.sleep(0.002)


class ShutdownTest(unittest.TestCase):
    def setUp(self):
        self.procs = oh.Processes()
        self.addCleanup(self.procs.kill_all)
        self.nodes = oh.static_cluster(self.procs)
        for n in self.nodes:
            n.start()
        self.assertTrue(oh.wait_cluster_formed(self.nodes), self.procs.logs())

    def test_sigterm_drains_under_traffic(self):
        node1, node2, node3 = self.nodes
        sub = oh.HostClient(node2.host, node2.mqtt_port, "drain-sub", version=5, clean=False,
                            session_expiry=300)
        self.addCleanup(sub.stop)
        sub.connect()
        self.assertEqual(sub.subscribe("load/#", qos=1), [1])
        sub3 = oh.HostClient(node3.host, node3.mqtt_port, "node3-sub", version=5)
        self.addCleanup(sub3.stop)
        sub3.connect()
        self.assertEqual(sub3.subscribe("node3/#", qos=1), [1])
        raw = RawV5Client(node3.host, node3.mqtt_port, "node3-raw")
        self.addCleanup(raw.close)
        self.assertEqual(raw.buf[0], 0x20, "expected CONNACK, got %r" % raw.buf)
        # Before the drain node1 knows both remote filters (node2's and node3's), node2 knows
        # node3's.
        self.assertTrue(oh.wait_until(lambda: remote_routes(node1) == 2
                                      and remote_routes(node2) == 1, 10),
                        "remote routes: node1 %s, node2 %s" % (remote_routes(node1),
                                                               remote_routes(node2)))

        pub = QoS1Publisher(node1, "load")
        pub.client.connect()
        self.addCleanup(pub.client.stop)
        pub.start()
        self.assertTrue(oh.wait_until(lambda: len(pub.acked) >= 50, 10), "publisher stalled")

        t0 = time.monotonic()
        node3.proc.send_signal(signal.SIGTERM)
        # Readiness is withdrawn at once (the signal takes a moment to be handled): 503 while
        # the node drains, or the HTTP listener already closed.
        self.assertTrue(oh.wait_until(lambda: node3.get("/readyz")[0] in (503, None), 1.0),
                        "/readyz still ready after SIGTERM")

        sub3.wait_disconnected()  # the paho client on node3 is disconnected too
        packet = raw.next_packet(5)
        self.assertGreaterEqual(len(packet), 3, "no DISCONNECT, got %r" % packet)
        self.assertEqual(packet[0], 0xE0, "expected DISCONNECT, got %r" % packet)
        self.assertEqual(packet[2], 0x8B, "reason %#x, want 0x8B Server shutting down" % packet[2])

        def left_everywhere():
            return all(n.peer_states().get("node3") == "left" for n in (node1, node2)) \
                and remote_routes(node1) == 1 and remote_routes(node2) == 0
        self.assertTrue(oh.wait_until(left_everywhere, ROUTES_DROPPED_WITHIN_S, 0.02),
                        "node3 not left / routes kept after %.1fs: node1 %s routes %s, node2 %s "
                        "routes %s" % (ROUTES_DROPPED_WITHIN_S, node1.peer_states(),
                                       remote_routes(node1), node2.peer_states(),
                                       remote_routes(node2)))

        try:
            code = node3.proc.wait(DRAIN_BUDGET_S)
        except Exception:  # noqa: BLE001 - reported as a failure with the log
            self.fail("node3 still running %ds after SIGTERM\n%s" % (DRAIN_BUDGET_S, node3.log()))
        exit_s = time.monotonic() - t0
        self.assertEqual(code, 0, node3.log())
        self.assertEqual(node3.get("/readyz")[0], None)

        # Keep publishing a little after node3 is gone, then check nothing was lost.
        before = len(pub.acked)
        self.assertTrue(oh.wait_until(lambda: len(pub.acked) >= before + 50, 10))
        pub.stop_flag.set()
        pub.join(10)
        self.assertEqual(pub.unacked, [], "publishes not acknowledged during the drain")
        expected = {str(s).encode() for s in pub.acked}

        def all_arrived():
            got = {m.payload for m in sub.messages.wait_for(0, 0)}
            return expected <= got
        oh.wait_until(all_arrived, 10, 0.1)
        got = {m.payload for m in sub.messages.wait_for(0, 0)}
        missing = sorted(int(p) for p in expected - got)
        self.assertEqual(missing, [], "%d of %d PUBACKed messages lost" % (len(missing),
                                                                          len(expected)))
        self.assertTrue(node1.ready() and node2.ready())
        print("drain: %d messages PUBACKed, none lost; node3 exited 0 after %.2fs"
              % (len(expected), exit_s))


if __name__ == "__main__":
    unittest.main()
