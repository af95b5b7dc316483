"""Node failures in a 3-node cluster: crash (kill -9), restart with a new incarnation, graceful
SIGTERM, and nodes refused for a wrong cluster secret or cluster name.

Failure timeout 1000 ms. Measured times are printed.
"""

import re
import signal
import threading
import time

import cluster_harness as ch
from cluster_harness import ClusterTestCase

MARGIN_S = 1.5  # heartbeat granularity + HTTP polling + a loaded 2-core machine


class Traffic:
    """QoS 1 publishes from `pub` to `sub` on one topic in a background thread; counts loss."""

    def __init__(self, pub, sub, topic):
        self.pub, self.sub, self.topic = pub, sub, topic
        self.sent = 0
        self.errors = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.pub.publish(self.topic, b"%d" % self.sent, 1)
                self.sent += 1
            except AssertionError as e:
                self.errors.append(str(e))
                return
            time.sleep(0.01)

    def start(self):
        self._thread.start()
        return self

    def stop_and_check(self, test):
        self._stop.set()
        self._thread.join(10)
        got = [m.payload for m in self.sub.messages.wait_for(self.sent, 10)]
        test.assertEqual(self.errors, [])
        test.assertGreater(self.sent, 50)
        test.assertEqual(got, [b"%d" % i for i in range(self.sent)],
                         "survivor traffic lost or reordered")


class ClusterFailureTest(ClusterTestCase):

    def start3(self):
        self.cluster = self.make_cluster(n=3, failure_timeout_ms=ch.FAILURE_TIMEOUT_MS)
        return self.cluster.nodes

    def survivor_traffic(self, n1, n2):
        sub = self.client(n2)
        sub.subscribe("survivors/t", 1)
        pub = self.client(n1)
        self.wait_route(pub, "survivors/t", [sub])
        return Traffic(pub, sub, "survivors/t").start()

    def routes_of(self, node_id, observers):
        return [o.peer_routes(node_id) for o in observers]

    def test_kill9_routes_expire_then_restart_resyncs_without_ghosts(self):
        n1, n2, n3 = self.start3()
        base = self.routes_of("node3", [n1, n2])
        doomed = self.client(n3)
        doomed.subscribe("doomed/#", 1)
        doomed.subscribe("doomed/+/x", 1)
        ch.wait_until(lambda: self.routes_of("node3", [n1, n2]) == [b + 2 for b in base],
                      what="node3 routes on node1 and node2")
        traffic = self.survivor_traffic(n1, n2)
        time.sleep(0.3)
        killed_at = time.monotonic()
        n3.kill(signal.SIGKILL)
        ch.wait_until(lambda: self.routes_of("node3", [n1, n2]) == base,
                      timeout=ch.FAILURE_TIMEOUT_MS / 1000 + MARGIN_S + 2, interval=0.01,
                      what="node3 routes dropped after kill -9")
        took = time.monotonic() - killed_at
        states = [n.peer_state("node3") for n in (n1, n2)]
        print("\n  kill -9: node3 routes gone on both survivors after %.0f ms "
              "(failure timeout %d ms), states %s" % (took * 1000, ch.FAILURE_TIMEOUT_MS, states))
        self.assertLess(took, ch.FAILURE_TIMEOUT_MS / 1000 + MARGIN_S)
        self.assertEqual(states, ["down", "down"])
        time.sleep(0.3)
        traffic.stop_and_check(self)

        # Restart: a new incarnation; its old (clean) subscribers are gone, so are their routes.
        restarted_at = time.monotonic()
        n3.start()
        formed = self.cluster.wait_formed()
        print("  restart: node3 back in the cluster after %.0f ms" % (formed * 1000))
        time.sleep(0.5)
        self.assertEqual(self.routes_of("node3", [n1, n2]), base, "ghost routes after restart")
        fresh = self.client(n3)
        fresh.subscribe("doomed/again", 1)
        pub = self.client(n1)
        self.wait_route(pub, "doomed/again", [fresh])
        self.assertEqual(self.routes_of("node3", [n1, n2]), [b + 1 for b in base])
        pub.publish("doomed/again", b"back", 1)
        pub.publish("doomed/a/x", b"old-filter", 1)  # only the old, dead subscription matched
        self.assertEqual([m.payload for m in fresh.messages.wait_for(1)], [b"back"])
        self.assertEqual(len(fresh.messages.settle(0.3)), 1)
        self.assertLess(time.monotonic() - restarted_at, 15)

    def test_sigterm_routes_gone_within_one_second(self):
        n1, n2, n3 = self.start3()
        base = self.routes_of("node3", [n1, n2])
        sub = self.client(n3)
        sub.subscribe("leaving/t", 1)
        ch.wait_until(lambda: self.routes_of("node3", [n1, n2]) == [b + 1 for b in base],
                      what="node3 route on both peers")
        start = time.monotonic()
        n3.kill(signal.SIGTERM, wait=False)
        ch.wait_until(lambda: self.routes_of("node3", [n1, n2]) == base, timeout=3,
                      interval=0.01, what="node3 routes dropped after SIGTERM")
        took = time.monotonic() - start
        print("\n  SIGTERM: node3 routes gone on both peers after %.0f ms, states %s"
              % (took * 1000, [n.peer_state("node3") for n in (n1, n2)]))
        self.assertLess(took, 1.0)
        n3.proc.wait(timeout=15)
        self.assertEqual(n3.proc.returncode, 0)
        self.assertEqual([n.peer_state("node3") for n in (n1, n2)], ["left", "left"])

    def check_refused(self, configure, why_pattern):
        cluster = self.make_cluster(n=3, start=False)
        self.cluster = cluster
        n1, n2, n3 = cluster.nodes
        configure(n3)
        n1.start()
        n2.start()
        cluster.wait_formed([n1, n2])
        n3.start()
        traffic = self.survivor_traffic(n1, n2)
        time.sleep(3 * ch.FAILURE_TIMEOUT_MS / 1000)  # several dial attempts in both directions
        for n in (n1, n2):
            self.assertNotIn("node3", n.peers(), "%s admitted the bad node" % n.node_id)
        self.assertNotIn("node1", n3.peers())
        self.assertNotIn("node2", n3.peers())
        traffic.stop_and_check(self)
        logs = "\n".join(n.node_log() for n in cluster.nodes)
        why = [l for l in logs.splitlines() if why_pattern.search(l)]
        print("\n  refused, logged as: %s" % (why[0] if why else None))
        self.assertTrue(why, "no log line says why the node was refused")
        refused = sum(n.metrics().get("meshmq_cluster_auth_failures_total", 0)
                      for n in cluster.nodes)
        self.assertGreater(refused, 0)

    def test_wrong_secret_is_refused(self):
        def bad_secret(node):
            node.secret = "not-the-secret"
        self.check_refused(bad_secret, re.compile(r"(?i)secret|unauthenticated"))

    def test_wrong_cluster_name_is_refused(self):
        def bad_name(node):
            node.cluster_name = "another-cluster"
        self.check_refused(bad_name, re.compile(r"(?i)cluster name|another-cluster"))


if __name__ == "__main__":
    ch.main()
