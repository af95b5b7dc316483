"""A bridge configured on every node of a 2-node cluster runs on exactly one node (the live node
with the lowest node id), carries messages published on any node, and moves to the other node
when that one dies (docs/extending.md, "Bridges in a cluster")."""
import json
import os
import shutil
import tempfile
import unittest

import cluster_harness as ch
from bridge_test import MOSQUITTO, Mosquitto
from harness import Client


@unittest.skipUnless(os.path.exists(MOSQUITTO), "needs Debian's mosquitto")
class BridgeClusterTest(ch.ClusterTestCase):
    def test_runs_on_one_node_and_moves_when_it_dies(self):
        tmp = tempfile.mkdtemp(prefix="meshmq-bridge-cluster-")
        os.chmod(tmp, 0o777)
        self.addCleanup(shutil.rmtree, tmp, True)
        remote = Mosquitto(tmp)
        remote.start()
        self.addCleanup(remote.stop)
        bridges = json.dumps([{"name": "c", "address": "127.0.0.1:%d" % remote.port,
                               "reconnect_min_ms": 100, "reconnect_max_ms": 400,
                               "out": [{"filter": "out/#", "prefix": "cl/", "qos": 1}]}])
        cluster = self.make_cluster(n=2, start=False)
        for node in cluster.nodes:
            node.extra = ["--bridges", bridges]
        cluster.start()
        node1, node2 = cluster.nodes

        def active(node):
            m = node.metrics()
            return (m.get('meshmq_bridge_active{bridge="c"}'),
                    m.get('meshmq_bridge_connected{bridge="c"}'))

        ch.wait_until(lambda: active(node1) == (1, 1), what="bridge running on node1")
        self.assertEqual(active(node2), (0, 0))
        sub = Client(remote.port, self.cid("remote"), 5)
        self.addCleanup(sub.stop)
        sub.connect()
        sub.subscribe("cl/#", 1)
        # Published on node2, carried by node1's bridge through the cluster's routing.
        pub2 = self.client(node2)
        ch.wait_until(lambda: node2.peer_routes("node1") > 0, what="bridge route on node2")
        pub2.publish("out/a", b"via-node1", 1)
        self.assertEqual([m.payload for m in sub.messages.wait_for(1)], [b"via-node1"])
        node1.kill()
        _, moved = ch.wait_until(lambda: active(node2) == (1, 1), timeout=10,
                                 what="bridge moved to node2")
        pub2b = self.client(node2)
        pub2b.publish("out/b", b"via-node2", 1)
        got = sub.messages.wait_for(2)
        self.assertEqual([m.payload for m in got], [b"via-node1", b"via-node2"])
        print("bridge moved to node2 %.1f s after node1 died" % moved)


if __name__ == "__main__":
    ch.main()
