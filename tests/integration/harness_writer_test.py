"""The test clients keep a publisher's packets in order (they write from one thread only).

Found through cluster_routing_test's several-publishers burst, which once saw one publisher's
QoS 1 messages arrive as `85, 87, 86, 88` on the other node. The cause was the test client, not
the broker: paho 1.6 writes from the thread that calls publish() unless it believes its own loop
thread runs, and our loop thread writes too, so two threads can take packets off paho's queue and
the later one reach the socket first. harness.Client had the fix (paho._thread = our loop thread);
cluster_harness.NodeClient and ops_harness.HostClient had their own connect() without it. Now all
three share harness.Client.connect.

1. Every client class writes only from its loop thread (deterministic: without the fix the first
   publish is written by the caller's thread).
2. The cluster burst with the window widened: the loop thread pauses between taking a packet off
   paho's queue and sending it. With two writers nearly every publisher's stream then reaches
   node1 out of order (node1's packet trace shows the ids inverted); with one writer the pause
   only slows the stream down, and every publisher's messages arrive at node2 in order.
"""

import threading
import time

import cluster_harness as ch
import harness
import ops_harness as oh
from cluster_harness import ClusterTestCase


def record_writer_threads(client):
    """Wraps paho's socket send to record which thread writes; returns that list."""
    writers = []
    send = client.paho._sock_send

    def recording_send(buf):
        writers.append(threading.current_thread())
        return send(buf)
    client.paho._sock_send = recording_send
    return writers


def slow_loop_writes(client, delay_s=0.002):
    """Makes the loop thread pause before each socket write (widens a two-writer race)."""
    send = client.paho._sock_send

    def slow_send(buf):
        if threading.current_thread() is client._thread:
            time.sleep(delay_s)
        return send(buf)
    client.paho._sock_send = slow_send


class HarnessWriterTest(ClusterTestCase):

    def setUp(self):
        super().setUp()
        self.cluster = self.make_cluster(n=2, start=False)
        self.n1, self.n2 = self.cluster.nodes
        self.n1.extra = ["--trace-clients", "burst-pub"]  # node1 logs every packet they send
        self.cluster.start()

    def check_one_writer(self, client):
        writers = record_writer_threads(client)
        client.subscribe("writer/t", 1)
        for i in range(20):
            client.publish("writer/t", b"%d" % i, i % 2, wait=False)
        client.publish("writer/t", b"last", 1)
        client.messages.wait_for(21)
        self.assertTrue(writers, "nothing written")
        others = {t.name for t in writers if t is not client._thread}
        self.assertEqual(others, set(), "%s wrote from threads other than its loop thread"
                         % type(client).__name__)

    def test_every_client_class_writes_from_its_loop_thread_only(self):
        node = self.n1
        clients = [
            ch.NodeClient(node.host, node.mqtt_port, "writer-node"),
            oh.HostClient(node.host, node.mqtt_port, "writer-host"),
        ]
        if node.host == harness.HOST:
            clients.append(harness.Client(node.mqtt_port, "writer-plain"))
        for c in clients:
            self.addCleanup(c.stop)
            c.connect()
            self.check_one_writer(c)

    def test_publishers_in_order_across_nodes_with_a_slow_client_writer(self):
        n_pubs, n_msgs = 4, 200
        sub = self.client(self.n2)
        sub.subscribe("burst/+", 1)
        pubs = []
        for p in range(n_pubs):
            pub = self.client(self.n1, "burst-pub-%d" % p)
            slow_loop_writes(pub)
            pubs.append(pub)
        self.wait_route(pubs[0], "burst/0", [sub])
        for i in range(n_msgs):
            for p, pub in enumerate(pubs):
                pub.publish("burst/%d" % p, b"%d:%d" % (p, i), 1, wait=False)
        sub.messages.wait_for(n_pubs * n_msgs, timeout=30)
        per_pub = {}
        for m in sub.messages.items:
            if m.payload != b"__probe__":
                p, i = m.payload.split(b":")
                per_pub.setdefault(int(p), []).append(int(i))
        log = self.n1.node_log()
        for p in range(n_pubs):
            # The order node1 read them in (packet ids count up per client; probes are QoS 0).
            ids = [int(line.rsplit(" id=", 1)[1].split()[0]) for line in log.splitlines()
                   if "trace burst-pub-%d <- PUBLISH topic='burst/%d' qos=1" % (p, p) in line]
            inverted = [(a, b) for a, b in zip(ids, ids[1:]) if b < a]
            self.assertEqual(inverted, [], "publisher %d: node1 read its packets out of order" % p)
            self.assertEqual(per_pub.get(p), list(range(n_msgs)), "publisher %d" % p)


if __name__ == "__main__":
    ch.main()
