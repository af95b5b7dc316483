#!/usr/bin/python3
"""--max-connections: connections beyond the limit are refused, existing ones keep working."""

import time

from harness import BrokerTestCase, MOSQUITTO, broker_options, main
import mqtt_packets as mp

LIMIT = 4
# mosquitto 2.0.11 accepts max_connections + 1 clients (its check is `count > max`) and closes
# the next one without a CONNACK; meshmq accepts exactly LIMIT and answers the next CONNECT.
ACCEPTED = LIMIT + 1 if MOSQUITTO else LIMIT


class LimitsTest(BrokerTestCase):
    broker_options = {"max_connections": LIMIT}

    def fill(self):
        clients = []
        for i in range(ACCEPTED):
            r = self.raw()
            r.connect("held-%d" % i)
            clients.append(r)
        return clients

    def refused(self, version):
        r = self.raw(version=version)
        try:
            r.send(mp.connect(self.cid("over"), version=version))
        except OSError:
            return []  # closed before we could even send
        return [(p.type, p.reason) for p in r.expect_closed()]

    def test_v5_over_limit_refused_with_0x97(self):
        held = self.fill()
        got = self.refused(5)
        self.assertEqual(got, [] if MOSQUITTO else [(mp.CONNACK, 0x97)])  # Quota exceeded
        # Existing connections still work.
        held[0].send(mp.subscribe(1, [("lim/t", 1)]))
        self.assertEqual(held[0].recv().codes, [1])
        held[1].send(mp.publish("lim/t", b"still", qos=1, pid=1))
        self.assertEqual(held[1].recv().type, mp.PUBACK)
        self.assertEqual(held[0].recv_type(mp.PUBLISH).payload, b"still")

    def test_v311_over_limit_refused(self):
        self.fill()
        got = self.refused(4)
        self.assertEqual(got, [] if MOSQUITTO else [(mp.CONNACK, 0x03)])  # server unavailable

    def test_slot_freed_after_disconnect(self):
        held = self.fill()
        held[0].send(mp.disconnect())
        held[0].expect_closed()
        for _ in range(50):  # the broker frees the slot asynchronously
            r = self.raw()
            try:
                r.send(mp.connect(self.cid("again")))
                p = r.recv()
            except OSError:
                p = None
            if p is not None and p.type == mp.CONNACK and p.reason == 0:
                break
            r.close()
            time.sleep(0.05)
        else:
            self.fail("slot never freed")


if __name__ == "__main__":
    main()
