#!/usr/bin/python3
"""Keep alive: idle connections closed after 1.5x, PINGREQ keeps alive, server keep alive cap."""

import time

from harness import BrokerTestCase, MOSQUITTO, broker_options, main, meshmq_only
import mqtt_packets as mp


class KeepAliveTest(BrokerTestCase):
    def test_idle_connection_closed_and_will_sent(self):
        w = self.client(version=4)
        w.subscribe("ka/will", 1)
        for version in (4, 5):
            r = self.raw(version=version)
            r.connect(self.cid(), keepalive=1, will={"topic": "ka/will", "payload": b"dead"})
            start = time.monotonic()
            packets = r.expect_closed(timeout=8)
            elapsed = time.monotonic() - start
            self.assertGreater(elapsed, 1.2)  # not before 1.5 x keep alive (minus slack)
            # mosquitto 2.0.11 checks keep alive only every ~5 s; meshmq is exact [MQTT-3.1.2-22].
            self.assertLess(elapsed, 7.0 if MOSQUITTO else 2.5)
            # The spec allows closing silently or after DISCONNECT 0x8D (Keep Alive timeout).
            self.assertIn([(p.type, p.reason) for p in packets], ([], [(mp.DISCONNECT, 0x8D)]))
        self.assertEqual([m.payload for m in w.messages.wait_for(2)], [b"dead", b"dead"])

    def test_pingreq_keeps_alive(self):
        r = self.raw(version=4)
        r.connect("pinger", keepalive=1)
        for _ in range(5):
            time.sleep(0.6)
            r.send(mp.pingreq())
            p = r.recv()
            self.assertEqual(p.type, mp.PINGRESP)
            self.assertEqual(p.body, b"")

    def test_other_traffic_keeps_alive(self):
        r = self.raw(version=4)
        r.connect("publisher", keepalive=1)
        for i in range(5):
            time.sleep(0.6)
            r.send(mp.publish("ka/traffic", b"%d" % i, qos=1, pid=i + 1, version=4))
            self.assertEqual(r.recv().type, mp.PUBACK)

    def test_keepalive_zero_never_times_out(self):
        r = self.raw(version=4)
        r.connect("forever", keepalive=0)
        r.recv_none(2.0)
        r.send(mp.pingreq())
        self.assertEqual(r.recv().type, mp.PINGRESP)

    @broker_options(max_keep_alive=10)  # mosquitto refuses values below 10
    def test_v5_server_keep_alive_caps(self):
        ack = self.raw().connect("capped", keepalive=60)
        self.assertEqual(ack.props.get(mp.SERVER_KEEP_ALIVE), 10)
        ack = self.raw().connect("lower", keepalive=5)
        self.assertNotIn(mp.SERVER_KEEP_ALIVE, ack.props)

    @meshmq_only("mosquitto refuses max_keepalive below 10 s")
    @broker_options(max_keep_alive=1)
    def test_v5_server_keep_alive_enforced(self):
        r = self.raw()
        ack = r.connect("enforced", keepalive=60)
        self.assertEqual(ack.props.get(mp.SERVER_KEEP_ALIVE), 1)
        start = time.monotonic()
        r.expect_closed(timeout=4)
        self.assertLess(time.monotonic() - start, 3.0)


if __name__ == "__main__":
    main()
