#!/usr/bin/python3
"""Connection flood: thousands of connections opened at once, some silent, some sending half a
CONNECT, some a whole CONNECT and then nothing. Meanwhile a normal client keeps
publishing to itself with bounded latency; the flood is closed by the connect timeout, the
node's memory stays bounded and it returns to its idle state afterwards."""

import socket
import threading
import time

from harness import HOST, main
from overload_util import SANITIZED, OverloadTestCase, raise_fd_limit
import mqtt_packets as mp

# Well below the 20,000 open-file cap (the test and the broker each hold these).
FLOOD = 1500 if SANITIZED else 4000


class ConnectionFloodTest(OverloadTestCase):
    broker_options = {"connect_timeout_ms": 1000, "max_accept_rate": 2000}

    @classmethod
    def setUpClass(cls):
        raise_fd_limit()  # before the broker starts: it inherits the limit

    def test_flood_is_absorbed_and_normal_client_unaffected(self):
        baseline = self.metrics()
        rss_before = self.rss_bytes()
        # A normal client, connected before the flood, pinging itself through the broker.
        client = self.raw(connect=True)
        client.send(mp.subscribe(1, [("flood/echo", 1)]))
        client.recv_type(mp.SUBACK)
        latencies, stop = [], threading.Event()
        errors = []

        def echo():
            pid = 0
            while not stop.is_set():
                pid = pid % 60000 + 1
                t0 = time.monotonic()
                try:
                    client.send(mp.publish("flood/echo", b"%d" % pid, qos=1, pid=pid))
                    while True:
                        p = client.recv(5)
                        if p is None:
                            raise AssertionError("normal client disconnected")
                        if p.type == mp.PUBLISH:
                            client.send(mp.ack(mp.PUBACK, p.pid))
                            break
                except Exception as e:  # reported by the main thread
                    errors.append(e)
                    return
                latencies.append(time.monotonic() - t0)
                time.sleep(0.02)

        echoer = threading.Thread(target=echo, daemon=True)
        echoer.start()

        # The flood: 127.0.0.2 (silent), 127.0.0.3 (half a CONNECT), 127.0.0.4 (full CONNECT,
        # then nothing more: these live until their keep alive).
        socks, peak_rss = [], [rss_before]
        half = mp.connect("half")[:7]
        start = time.monotonic()
        for i in range(FLOOD):
            kind = i % 3
            s = socket.socket()
            s.bind(("127.0.0.%d" % (2 + kind), 0))
            s.setblocking(False)
            s.connect_ex((HOST, self.port))
            socks.append((kind, s))
            if i % 500 == 0:
                peak_rss[0] = max(peak_rss[0], self.rss_bytes())
        opened_s = time.monotonic() - start
        # Once connected, the half and full CONNECTs are written.
        time.sleep(0.3)
        for kind, s in socks:
            try:
                if kind == 1:
                    s.send(half)
                elif kind == 2:
                    s.send(mp.connect("flood-%d" % s.fileno(), keepalive=3))
            except OSError:
                pass
        # Wait until the broker closed every silent and half connection (connect timeout),
        # sampling its memory meanwhile.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            peak_rss[0] = max(peak_rss[0], self.rss_bytes())
            m = self.metrics()
            if m["meshmq_connections_total{listener=\"mqtt\"}"] >= baseline[
                    "meshmq_connections_total{listener=\"mqtt\"}"] + FLOOD and \
                    m["meshmq_connections_open{listener=\"mqtt\"}"] <= FLOOD // 3 + 2:
                break
            time.sleep(0.2)
        m = self.metrics()
        absorbed_s = time.monotonic() - start
        stop.set()
        echoer.join(10)
        self.assertEqual(errors, [])
        self.assertGreater(len(latencies), 20)
        figures = {"opened_s": round(opened_s, 2), "absorbed_s": round(absorbed_s, 2),
                   "echo_count": len(latencies), "echo_max_s": round(max(latencies), 3),
                   "echo_median_s": round(sorted(latencies)[len(latencies) // 2], 4),
                   "rss_before": rss_before, "rss_peak": peak_rss[0],
                   "open_after_timeout": m['meshmq_connections_open{listener="mqtt"}']}
        print("\nconnection flood: %s" % figures)
        self.assertGreaterEqual(m['meshmq_connections_total{listener="mqtt"}'],
                                baseline['meshmq_connections_total{listener="mqtt"}'] + FLOOD)
        # Only the full CONNECTs (and the normal client) remain after the connect timeout.
        self.assertLessEqual(figures["open_after_timeout"], FLOOD // 3 + 2, figures)
        self.assertLess(figures["echo_max_s"], 3.0 if SANITIZED else 1.0, figures)
        if not SANITIZED:
            self.assertLess(peak_rss[0] - rss_before, 150 * 1024 * 1024, figures)
        # Afterwards: close the rest and the node is back to one connection and its idle fds.
        for _, s in socks:
            s.close()
        self.assertEqual(self.wait_metric('meshmq_connections_open{listener="mqtt"}',
                                          lambda v: v <= 1, timeout=10), 1)
        fds = self.wait_metric("process_open_fds",
                               lambda v: v <= baseline["process_open_fds"] + 5, timeout=10)
        self.assertLessEqual(fds, baseline["process_open_fds"] + 5)
        self.assert_broker_serves()


if __name__ == "__main__":
    main()
