"""DNS discovery with a real dnsmasq: a "headless service" name with one A record per node.

Three nodes on 127.0.0.2/.3/.4 with the SAME MQTT/gRPC/HTTP ports (like pods), --discovery dns
against dnsmasq serving meshmq-headless.test. Then one record is removed (SIGHUP reloads the
hosts file) and its node killed: the other two keep a working cluster; then the record comes
back with a restarted node and the cluster is whole again.
"""

import os
import signal
import socket
import subprocess
import time

import cluster_harness as ch
from cluster_harness import ClusterTestCase

DNSMASQ = "/usr/sbin/dnsmasq"
NAME = "meshmq-headless.test"
ADDRESSES = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]


def free_udp_tcp_port():
    for _ in range(100):
        port = ch.free_port()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port for dnsmasq")


class Dnsmasq:
    def __init__(self, directory):
        self.dir = directory
        self.hosts = os.path.join(directory, "hosts")
        self.port = free_udp_tcp_port()
        self.log_path = os.path.join(directory, "dnsmasq.log")
        self.proc = None
        self.extra = []  # more dnsmasq flags, e.g. --srv-host=... (cluster_dns_srv_test.py)

    def write_records(self, addresses):
        tmp = self.hosts + ".tmp"
        with open(tmp, "w") as f:
            for a in addresses:
                f.write("%s %s\n" % (a, NAME))
        os.replace(tmp, self.hosts)

    def start(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
             "--port=%d" % self.port, "--listen-address=127.0.0.1", "--bind-interfaces",
             "--local=/test/", "--addn-hosts=%s" % self.hosts, "--pid-file=", "--user=root",
             "--group=root", "--log-facility=-", "--log-queries"] + self.extra,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dnsmasq exited: %s" % open(self.log_path).read())
            with open(self.log_path, "rb") as f:
                if b"read %s" % self.hosts.encode() in f.read():
                    return self
            time.sleep(0.05)
        raise RuntimeError("dnsmasq did not load its hosts file")

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc:
            self.log.close()


class ClusterDnsTest(ClusterTestCase):

    def test_dns_discovery_record_removed_node_killed_then_back(self):
        cluster = self.make_cluster(n=3, loopback_per_node=True, discovery="dns", start=False)
        dns = Dnsmasq(cluster.dir)
        dns.write_records(ADDRESSES)
        dns.start()
        self.addCleanup(dns.stop)
        cluster.dns = (NAME, "127.0.0.1:%d" % dns.port)
        n1, n2, n3 = cluster.nodes
        self.assertEqual(len({n.mqtt_port for n in cluster.nodes}), 1, "same ports, like pods")
        self.assertEqual([n.host for n in cluster.nodes], ADDRESSES)

        start = time.monotonic()
        cluster.start(wait=False)
        formed = cluster.wait_formed()
        print("\n  DNS discovery: 3 nodes formed %.0f ms after the last start (%.0f ms total)"
              % (formed * 1000, (time.monotonic() - start) * 1000))
        for n in cluster.nodes:
            addrs = sorted(p["address"] for p in n.peers().values())
            self.assertEqual(addrs, sorted("%s:%d" % (a, n.grpc_port) for a in ADDRESSES
                                           if a != n.host))

        subs = [self.client(n2), self.client(n3)]
        for s in subs:
            s.subscribe("dns/t", 1)
        pub = self.client(n1)
        took = self.wait_route(pub, "dns/t", subs)
        print("  route node2,node3 -> node1: %.0f ms" % (took * 1000))
        pub.publish("dns/t", b"three", 1)
        for s in subs:
            self.assertEqual([m.payload for m in s.messages.wait_for(1)], [b"three"])

        # Scale down: the record goes first (as Kubernetes does), then the pod.
        dns.write_records(ADDRESSES[:2])
        dns.reload()
        time.sleep(1.0)  # > --dns-refresh-ms: both nodes have re-resolved
        killed = time.monotonic()
        n3.kill(signal.SIGKILL)
        ch.wait_until(lambda: all(n.peer_routes("node3") == 0
                                  and n.peer_state("node3") in (None, "down", "left")
                                  for n in (n1, n2)),
                      timeout=10, interval=0.01, what="node3 gone from node1 and node2")
        print("  record removed + kill -9: node3 routes gone after %.0f ms, states %s"
              % ((time.monotonic() - killed) * 1000,
                 [n.peer_state("node3") for n in (n1, n2)]))
        self.assertEqual(n1.peer_state("node2"), "alive")
        self.assertEqual(n2.peer_state("node1"), "alive")
        self.assertEqual(n1.http("/readyz")[0], 200)
        self.assertEqual(n2.http("/readyz")[0], 200)

        # The 2-node cluster still routes, in both directions.
        pub.publish("dns/t", b"two", 1)
        self.assertEqual([m.payload for m in subs[0].messages.wait_for(2)], [b"three", b"two"])
        back = self.client(n1)
        back.subscribe("dns/back", 1)
        pub2 = self.client(n2)
        self.wait_route(pub2, "dns/back", [back])
        pub2.publish("dns/back", b"ok", 1)
        self.assertEqual([m.payload for m in back.messages.wait_for(1)], [b"ok"])

        # Scale up again: record back, node restarted (new incarnation) -> 3 nodes, no ghosts.
        dns.write_records(ADDRESSES)
        dns.reload()
        n3.start()
        formed = cluster.wait_formed()
        print("  record re-added + node3 restarted: 3 nodes formed after %.0f ms" % (formed * 1000))
        self.assertEqual([n.peer_routes("node3") for n in (n1, n2)], [0, 0])
        late = self.client(n3)
        late.subscribe("dns/t", 1)
        self.wait_route(pub, "dns/t", [late])
        pub.publish("dns/t", b"again", 1)
        self.assertEqual([m.payload for m in late.messages.wait_for(1)], [b"again"])
        with open(dns.log_path, "rb") as f:
            self.assertIn(NAME.encode(), f.read(), "nodes did not query dnsmasq")


if __name__ == "__main__":
    ch.main()
