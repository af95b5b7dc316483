"""Network partition of a real 3-node cluster, each node in its own network namespace.

Topology (all made and removed by the test; needs root for `ip netns`, and FAILS if that is not
permitted — never skipped):

    ns <p>-n1 (10.77.0.1/24) ─┐
    ns <p>-n2 (10.77.0.2/24) ─┼─ bridge br0 in ns <p>-br
    ns <p>-n3 (10.77.0.3/24) ─┘

Each node listens on the same ports inside its namespace; clients connect from inside the node's
namespace (NetnsRunner), so both sides of a split keep their clients. The split is made by taking
node3's bridge port down (no RST: connections just go silent, like a real network failure).
"""

import os
import subprocess
import threading
import time

import cluster_harness as ch
from cluster_harness import ClusterTestCase

PREFIX = "mmqp%d" % (os.getpid() % 100000)
SUBNET = "10.77.0.%d"


def ip(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns, "ip"] if ns else ["ip"]) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError("`%s` failed (%d): %s -- this test needs root and `ip netns`"
                             % (" ".join(cmd), r.returncode, r.stderr.strip()))
    return r


class Network:
    """Three node namespaces on a bridge in a fourth namespace."""

    def __init__(self, n=3):
        self.bridge_ns = PREFIX + "-br"
        self.node_ns = ["%s-n%d" % (PREFIX, i + 1) for i in range(n)]
        self.ports = ["%sb%d" % (PREFIX, i + 1) for i in range(n)]  # bridge-side veth ends

    def create(self):
        ip("netns", "add", self.bridge_ns)
        ip("link", "add", "br0", "type", "bridge", ns=self.bridge_ns)
        ip("link", "set", "br0", "up", ns=self.bridge_ns)
        for i, ns in enumerate(self.node_ns):
            inner = "%sn%d" % (PREFIX, i + 1)
            ip("netns", "add", ns)
            ip("link", "add", inner, "type", "veth", "peer", "name", self.ports[i])
            ip("link", "set", inner, "netns", ns)
            ip("link", "set", self.ports[i], "netns", self.bridge_ns)
            ip("link", "set", inner, "name", "eth0", ns=ns)
            ip("link", "set", "lo", "up", ns=ns)
            ip("addr", "add", (SUBNET % (i + 1)) + "/24", "dev", "eth0", ns=ns)
            ip("link", "set", "eth0", "up", ns=ns)
            ip("link", "set", self.ports[i], "master", "br0", ns=self.bridge_ns)
            ip("link", "set", self.ports[i], "up", ns=self.bridge_ns)

    def set_link(self, index, up):
        ip("link", "set", self.ports[index], "up" if up else "down", ns=self.bridge_ns)

    def destroy(self):
        # Deleting a namespace deletes the veth ends in it, and with them their peers.
        for ns in self.node_ns + [self.bridge_ns]:
            ip("netns", "del", ns, check=False)


class ClusterPartitionTest(ClusterTestCase):

    def setUp(self):
        super().setUp()
        self.net = Network()
        self.addCleanup(self.net.destroy)
        self.net.create()
        hosts = [SUBNET % (i + 1) for i in range(3)]
        # Cleanups run in reverse: nodes are killed before their namespaces go away.
        self.cluster = self.make_cluster(n=3, hosts=hosts, netns=self.net.node_ns)
        self.n1, self.n2, self.n3 = self.cluster.nodes

    def local_routes(self, node):
        return len(node.json("/api/v1/routes")["local"])

    def routes_converged(self):
        """Every node holds exactly the routes each peer announces, and sees it alive."""
        for a in self.cluster.nodes:
            peers = a.peers()
            for b in self.cluster.nodes:
                if a is b:
                    continue
                entry = peers.get(b.node_id)
                if not entry or entry["state"] != "alive":
                    return False
                if entry["routes"] != self.local_routes(b):
                    return False
        return True

    def retained_on(self, node, topic):
        status, body = node.http("/api/v1/retained/" + topic)
        return ch.json.loads(body)["payload"] if status == 200 else None

    def test_split_and_heal_converge_without_restart(self):
        n1, n2, n3 = self.n1, self.n2, self.n3
        # Before the split: subscribers everywhere, a shared retained message.
        s2 = self.client(n2)
        s2.subscribe("part/t", 1)
        s3 = self.client(n3)
        s3.subscribe("part/t", 1)
        s3.subscribe("part/local3", 1)
        gone1 = self.client(n1)
        gone1.subscribe("part/gone1", 1)
        p1 = self.client(n1)
        self.wait_route(p1, "part/t", [s2, s3])
        p1.publish("part/ret", b"before", 1, retain=True)
        ch.wait_until(lambda: all(self.retained_on(n, "part/ret") == "before"
                                  for n in self.cluster.nodes), what="retained everywhere")
        ch.wait_until(self.routes_converged, what="routes converged before the split")

        # Split node3 off, under traffic node1 -> node2.
        traffic = Traffic(p1, s2, "part/t")
        traffic.start()
        time.sleep(0.3)
        split_at = time.monotonic()
        self.net.set_link(2, up=False)
        ch.wait_until(lambda: n1.peer_state("node3") == "down" and n2.peer_state("node3") == "down"
                      and n3.peer_state("node1") == "down" and n3.peer_state("node2") == "down",
                      timeout=10, interval=0.05, what="both sides see the split")
        print("\n  split detected on both sides after %.0f ms (failure timeout %d ms)"
              % ((time.monotonic() - split_at) * 1000, ch.FAILURE_TIMEOUT_MS))

        # Both sides serve their own clients.
        p3 = self.client(n3)
        p3.publish("part/local3", b"island", 1)
        got, _ = ch.wait_until(lambda: [m.payload for m in s3.messages.items
                                        if m.topic == "part/local3"],
                               what="local delivery on node3 during the split")
        self.assertEqual(got, [b"island"])
        # State changes on both sides during the split.
        gone1.unsubscribe("part/gone1")      # a route that must not come back as a ghost
        new3 = self.client(n3)
        new3.subscribe("part/new3", 1)       # a route the majority must learn on heal
        p1.publish("part/ret", b"side-a", 1, retain=True)
        time.sleep(0.05)
        p3.publish("part/ret", b"side-b", 1, retain=True)  # newer: must win everywhere
        twin_id = self.cid("twin")
        twin_a = self.client(n1, twin_id)
        time.sleep(0.05)
        twin_b = self.client(n3, twin_id)    # newer registration: must win on heal
        self.assertTrue(twin_a.paho.is_connected() and twin_b.paho.is_connected())
        time.sleep(0.5)
        traffic.stop_and_check(self)

        # Heal, no restart.
        healed_at = time.monotonic()
        self.net.set_link(2, up=True)
        _, took = ch.wait_until(self.routes_converged, timeout=15, interval=0.05,
                                what="routes converged after heal")
        print("  heal: routes converged after %.0f ms" % (took * 1000))
        ch.wait_until(lambda: all(self.retained_on(n, "part/ret") == "side-b"
                                  for n in self.cluster.nodes), timeout=10,
                      what="retained converged to the newer write")
        rc = twin_a.wait_disconnected(timeout=10)
        print("  heal: older twin on node1 evicted (rc %s), %.0f ms after heal"
              % (ch.reason_value(rc), (time.monotonic() - healed_at) * 1000))
        time.sleep(0.5)
        self.assertTrue(twin_b.paho.is_connected(), "newer twin was disconnected too")
        self.assertEqual(len(twin_a.disconnects.items), 1)
        self.assertEqual(len(twin_b.disconnects.items), 0)
        # No ghost route: node1 announces no part/gone1, and nobody holds more than it announces.
        self.assertNotIn("part/gone1", n1.json("/api/v1/routes")["local"])
        self.assertTrue(self.routes_converged())

        # Cross-node delivery works again in both directions.
        p1.publish("part/new3", b"healed", 1)
        self.assertEqual([m.payload for m in new3.messages.wait_for(1)], [b"healed"])
        back = self.client(n1)
        back.subscribe("part/back", 1)
        self.wait_route(p3, "part/back", [back])
        p3.publish("part/back", b"ok", 1)
        self.assertEqual([m.payload for m in back.messages.wait_for(1)], [b"ok"])


class Traffic:
    """QoS 1 publishes in a background thread; every one must arrive, in order."""

    def __init__(self, pub, sub, topic):
        self.pub, self.sub, self.topic = pub, sub, topic
        self.sent = 0
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.payloads = []

    def _run(self):
        while not self._stop.is_set():
            payload = b"traffic-%d" % self.sent
            try:
                self.pub.publish(self.topic, payload, 1)
            except AssertionError as e:
                self.errors.append(str(e))
                return
            self.payloads.append(payload)
            self.sent += 1
            time.sleep(0.01)

    def start(self):
        self._thread.start()

    def stop_and_check(self, test):
        self._stop.set()
        self._thread.join(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = [m.payload for m in self.sub.messages.items if m.payload.startswith(b"traffic")]
            if len(got) >= self.sent:
                break
            time.sleep(0.05)
        test.assertEqual(self.errors, [])
        test.assertGreater(self.sent, 20)
        test.assertEqual(got, self.payloads, "majority-side traffic lost during the split")


if __name__ == "__main__":
    ch.main()
