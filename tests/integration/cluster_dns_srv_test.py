"""DNS SRV discovery (--discovery dns-srv) with a real dnsmasq.

Three nodes on 127.0.0.1 with DIFFERENT cluster ports; dnsmasq serves one SRV record per node
under _cluster._tcp.meshmq.test (target podN.meshmq.test, port = that node's gRPC port) and the
targets' A records. Every peer is dialled on the port its record names: with A/AAAA discovery
(one port for all) these nodes could not find each other. Then node3's record is withdrawn
(dnsmasq restarted on the same port without it) and node3 killed: a working 2-node cluster.
"""

import signal
import time

import cluster_harness as ch
from cluster_dns_test import Dnsmasq
from cluster_harness import ClusterTestCase

SRV_NAME = "_cluster._tcp.meshmq.test"


def pod(node):
    return "pod%d.meshmq.test" % node.index


class ClusterDnsSrvTest(ClusterTestCase):

    def serve(self, dns, nodes):
        """(Re)starts dnsmasq with one SRV record per node in `nodes`, same port as before."""
        dns.stop()
        with open(dns.hosts, "w") as f:
            for n in nodes:
                f.write("127.0.0.1 %s\n" % pod(n))
        dns.extra = ["--srv-host=%s,%s,%d" % (SRV_NAME, pod(n), n.grpc_port) for n in nodes]
        dns.start()

    def test_srv_records_give_each_peer_its_own_port(self):
        cluster = self.make_cluster(n=3, discovery="dns-srv", start=False)
        n1, n2, n3 = cluster.nodes
        self.assertEqual(len({n.grpc_port for n in cluster.nodes}), 3, "one port per node")
        dns = Dnsmasq(cluster.dir)
        self.addCleanup(dns.stop)
        self.serve(dns, cluster.nodes)
        cluster.dns = (SRV_NAME, "127.0.0.1:%d" % dns.port)

        cluster.start(wait=False)
        formed = cluster.wait_formed()
        print("\n  SRV discovery: 3 nodes formed %.0f ms after the last start" % (formed * 1000))
        for n in cluster.nodes:
            self.assertEqual(sorted(p["address"] for p in n.peers().values()),
                             sorted(o.grpc_address for o in cluster.nodes if o is not n))

        sub = self.client(n2)
        sub.subscribe("srv/t", 1)
        pub = self.client(n1)
        self.wait_route(pub, "srv/t", [sub])
        pub.publish("srv/t", b"via-srv", 1)
        self.assertEqual([m.payload for m in sub.messages.wait_for(1)], [b"via-srv"])

        # Scale down: node3's record goes, then node3.
        self.serve(dns, [n1, n2])
        time.sleep(1.0)  # > --dns-refresh-ms: both nodes have re-resolved
        n3.kill(signal.SIGKILL)
        ch.wait_until(lambda: all(n.peer_state("node3") in (None, "down", "left")
                                  for n in (n1, n2)),
                      timeout=10, interval=0.02, what="node3 gone from node1 and node2")
        pub.publish("srv/t", b"two-nodes", 1)
        self.assertEqual([m.payload for m in sub.messages.wait_for(2)], [b"via-srv", b"two-nodes"])
        with open(dns.log_path, "rb") as f:
            self.assertIn(b"SRV", f.read(), "nodes did not ask dnsmasq for SRV records")


if __name__ == "__main__":
    ch.main()
