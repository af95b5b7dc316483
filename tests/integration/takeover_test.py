#!/usr/bin/python3
"""Client id takeover: a new connection with the same client id replaces the old one."""

from harness import BrokerTestCase, MOSQUITTO, main, reason_value
import mqtt_packets as mp


class TakeoverTest(BrokerTestCase):
    def test_v5_first_connection_gets_disconnect_0x8e(self):
        r1 = self.raw()
        r1.connect("same-id")
        r2 = self.raw()
        r2.connect("same-id")
        packets = r1.expect_closed()
        # Mosquitto 2.0.11 closes the old connection silently; meshmq says why
        # ([MQTT-3.1.4-3], section 4.13: DISCONNECT 0x8E Session taken over).
        expected = [] if MOSQUITTO else [(mp.DISCONNECT, 0x8E)]
        self.assertEqual([(p.type, p.reason) for p in packets], expected)
        # The new connection works.
        r2.send(mp.pingreq())
        self.assertEqual(r2.recv().type, mp.PINGRESP)

    def test_v311_first_connection_closed(self):
        c1 = self.client("same-311", version=4)
        c2 = self.client("same-311", version=4)
        self.assertEqual(reason_value(c1.wait_disconnected()), 7)  # connection lost, no packet
        c2.subscribe("t/1", 0)
        c2.publish("t/1", b"x")
        self.assertEqual(len(c2.messages.wait_for(1)), 1)

    def test_persistent_subscriptions_survive_takeover(self):
        for version in (4, 5):
            cid = "persist-%d" % version
            c1 = self.client(cid, version=version, clean=False, session_expiry=300)
            c1.subscribe("keep/%d" % version, 1)
            c2 = self.client(cid, version=version, clean=False, session_expiry=300)
            self.assertTrue(c2.session_present)
            c1.wait_disconnected()
            pub = self.client(version=4)
            pub.publish("keep/%d" % version, b"after", 1)
            msgs = c2.messages.wait_for(1)
            self.assertEqual([(m.payload, m.qos) for m in msgs], [(b"after", 1)])
            self.assertEqual(c1.messages.settle(0.1), [])

    def test_clean_takeover_drops_subscriptions(self):
        c1 = self.client("drop", version=4, clean=False)
        c1.subscribe("drop/t", 1)
        c2 = self.client("drop", version=4, clean=True)
        self.assertFalse(c2.session_present)
        pub = self.client(version=4)
        pub.publish("drop/t", b"x", 1)
        self.assertEqual(c2.messages.settle(), [])


if __name__ == "__main__":
    main()
