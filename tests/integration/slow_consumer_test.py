#!/usr/bin/python3
"""A subscriber that stops reading must not slow the others down or grow the broker's memory:
its QoS 0 messages are dropped (policy drop) or it is disconnected (policy disconnect), and
either is counted in /metrics. The fast subscriber is mosquitto_sub (C, so it is never the
bottleneck); the slow one is a raw socket with a tiny receive buffer that never calls recv."""

import socket
import subprocess
import threading
import time

from harness import HOST, main
from overload_util import SANITIZED, OverloadTestCase
import mqtt_packets as mp

PAYLOAD = b"s" * 4000


class SlowConsumerBase(OverloadTestCase):
    def start_fast(self, count):
        proc = subprocess.Popen(
            ["mosquitto_sub", "-h", HOST, "-p", str(self.port), "-t", "load/t", "-q", "0",
             "-C", str(count), "-i", self.cid("fast")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        def stop():
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stderr.close()
        self.addCleanup(stop)
        return proc

    def start_slow(self):
        slow = self.sourced(rcvbuf=4096)
        slow.connect(self.cid("slow"))
        slow.send(mp.subscribe(1, [("load/t", 0)]))
        self.assertEqual(slow.recv_type(mp.SUBACK).codes, [0])
        return slow  # never read again

    def publish_paced(self, count):
        """QoS 0 at up to 20 MB/s (50 messages every 10 ms); returns when all are written."""
        pub = self.raw(connect=True)
        batch = b"".join(mp.publish("load/t", PAYLOAD) for _ in range(50))
        for _ in range(count // 50):
            pub.send(batch)
            time.sleep(0.01)
        return pub

    def run_load(self, count):
        fast = self.start_fast(count)
        slow = self.start_slow()
        self.wait_metric("meshmq_subscriptions", lambda v: v >= 2)
        rss_before = self.rss_bytes()
        peak = [rss_before]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                peak[0] = max(peak[0], self.rss_bytes())
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start = time.monotonic()
        self.publish_paced(count)
        sent_at = time.monotonic()
        try:
            fast.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.fail("fast subscriber did not get all %d messages: %s" % (count, self.metrics()))
        done_at = time.monotonic()
        stop.set()
        sampler.join()
        self.assertEqual(fast.returncode, 0, fast.stderr.read())
        return slow, {"publish_s": sent_at - start, "fast_lag_s": done_at - sent_at,
                      "rss_growth": peak[0] - rss_before}


class SlowConsumerDropTest(SlowConsumerBase):
    broker_options = {"max_outbound_bytes": 4194304, "slow_consumer_policy": "drop"}

    def test_slow_subscriber_dropped_fast_one_gets_everything(self):
        count = 2000 if SANITIZED else 8000  # 32 MB towards a subscriber that reads nothing
        slow, figures = self.run_load(count)
        print("\nslow consumer (drop): %s" % figures)
        # The fast subscriber finished with the publisher, not seconds later.
        self.assertLess(figures["fast_lag_s"], 10.0 if SANITIZED else 2.0, figures)
        # 32 MB went to the slow one; the broker held at most its 4 MiB cap plus overhead.
        if not SANITIZED:
            self.assertLess(figures["rss_growth"], 16 * 1024 * 1024, figures)
        dropped = self.metric('meshmq_messages_dropped_total{reason="slow_consumer"}')
        self.assertGreater(dropped, 0 if SANITIZED else count // 2, figures)
        self.assertTrue(self.broker.alive())


class SlowConsumerDisconnectTest(SlowConsumerBase):
    broker_options = {"max_outbound_bytes": 2097152, "slow_consumer_policy": "disconnect"}

    def test_slow_subscriber_disconnected_fast_one_gets_everything(self):
        count = 3000  # 12 MB
        slow, figures = self.run_load(count)
        print("\nslow consumer (disconnect): %s" % figures)
        self.assertLess(figures["fast_lag_s"], 10.0 if SANITIZED else 2.0, figures)
        self.assertEqual(self.metric("meshmq_slow_consumer_disconnects_total"), 1)
        # The slow socket was closed by the broker: what it holds ends with EOF or a reset.
        slow.sock.settimeout(5)
        try:
            while slow.sock.recv(1 << 20):
                pass
        except ConnectionResetError:
            pass
        except socket.timeout:
            self.fail("slow subscriber's connection still open")
        self.assertEqual(self.wait_metric('meshmq_connections_open{listener="mqtt"}',
                                          lambda v: v <= 1), 1)  # the publisher


if __name__ == "__main__":
    main()
