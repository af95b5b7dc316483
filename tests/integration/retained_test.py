#!/usr/bin/python3
"""Retained messages: set, replace, delete, delivery on subscribe, retain flag on live traffic."""

from harness import BrokerTestCase, main


class RetainedTest(BrokerTestCase):
    def test_set_replace_delete(self):
        pub = self.client(version=4)
        pub.publish("ret/t", b"one", 1, retain=True)
        pub.publish("ret/t", b"two", 1, retain=True)
        s = self.client(version=4)
        s.subscribe("ret/t", 1)
        self.assertEqual([(m.payload, m.retain) for m in s.messages.settle()], [(b"two", True)])
        pub.publish("ret/t", b"", 1, retain=True)
        s2 = self.client(version=4)
        s2.subscribe("ret/t", 1)
        self.assertEqual(s2.messages.settle(), [])
        # The empty retained publish is still forwarded to existing subscribers.
        self.assertEqual([m.payload for m in s.messages.items], [b"two", b""])

    def test_qos_of_retained_delivery(self):
        pub = self.client(version=5)
        pub.publish("retq/2", b"q2", 2, retain=True)
        pub.publish("retq/0", b"q0", 0, retain=True)
        s = self.client(version=5)
        s.subscribe("retq/2", 1)
        self.assertEqual([(m.qos, m.retain) for m in s.messages.wait_for(1)], [(1, True)])
        s.subscribe("retq/0", 2)
        msgs = s.messages.wait_for(2)
        self.assertEqual([(m.payload, m.qos) for m in msgs], [(b"q2", 1), (b"q0", 0)])

    def test_live_messages_have_retain_cleared(self):
        for version in (4, 5):
            s = self.client(version=version)
            s.subscribe("live/%d" % version, 1)
            self.client(version=version).publish("live/%d" % version, b"x", 1, retain=True)
            self.assertEqual([m.retain for m in s.messages.wait_for(1)], [False])

    def test_wildcard_gets_all_matching_retained(self):
        pub = self.client(version=4)
        for t in ("w/a", "w/b", "w/c/d", "x/a"):
            pub.publish(t, t.encode(), 1, retain=True)
        s = self.client(version=4)
        s.subscribe("w/#", 1)
        self.assertEqual(sorted(m.topic for m in s.messages.settle()), ["w/a", "w/b", "w/c/d"])
        s2 = self.client(version=4)
        s2.subscribe("+/a", 1)
        self.assertEqual(sorted(m.topic for m in s2.messages.settle()), ["w/a", "x/a"])

    def test_retained_qos0_and_v31(self):
        pub = self.client(version=3)
        pub.publish("r31", b"v31", 0, retain=True)
        # A QoS 0 publish has no ack. Without this barrier the subscriber's route can win the race
        # and take the message live (retain=0, which the spec allows). The PUBACK of a later
        # publish on the same connection means the retained one was stored.
        pub.publish("r31/barrier", b"", 1)
        s = self.client(version=3)
        s.subscribe("r31", 0)
        self.assertEqual([(m.payload, m.retain) for m in s.messages.wait_for(1)],
                         [(b"v31", True)])

    def test_many_retained(self):
        pub = self.client(version=4)
        for i in range(200):
            pub.publish("many/%d" % i, b"%d" % i, 1, retain=True, wait=False)
        pub.publish("many/last", b"", 1, retain=False)  # ack means all earlier were processed
        s = self.client(version=4)
        s.subscribe("many/+", 0)
        self.assertEqual(len(s.messages.wait_for(200)), 200)


if __name__ == "__main__":
    main()
