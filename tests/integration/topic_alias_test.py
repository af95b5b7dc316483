#!/usr/bin/python3
"""MQTT 5 topic aliases in both directions."""

from harness import BrokerTestCase, MOSQUITTO, broker_options, main
import mqtt_packets as mp


class TopicAliasTest(BrokerTestCase):
    def subscriber(self, topic="ta/#"):
        s = self.client(version=4)
        s.subscribe(topic, 1)
        return s

    def test_client_to_broker_alias(self):
        s = self.subscriber()
        r = self.raw(connect=True)
        r.send(mp.publish("ta/one", b"1", qos=1, pid=1, props=[(mp.TOPIC_ALIAS, 1)]))
        self.assertEqual(r.recv().type, mp.PUBACK)
        r.send(mp.publish("", b"2", qos=1, pid=2, props=[(mp.TOPIC_ALIAS, 1)]))
        self.assertEqual(r.recv().type, mp.PUBACK)
        # Re-map alias 1 to another topic.
        r.send(mp.publish("ta/two", b"3", qos=1, pid=3, props=[(mp.TOPIC_ALIAS, 1)]))
        r.recv()
        r.send(mp.publish("", b"4", qos=1, pid=4, props=[(mp.TOPIC_ALIAS, 1)]))
        r.recv()
        self.assertEqual([(m.topic, m.payload) for m in s.messages.wait_for(4)],
                         [("ta/one", b"1"), ("ta/one", b"2"), ("ta/two", b"3"),
                          ("ta/two", b"4")])

    def expect_invalid_alias(self, alias, topic="ta/x", code=0x94):
        r = self.raw()
        ack = r.connect(self.cid())
        r.send(mp.publish(topic, b"x", qos=0, props=[(mp.TOPIC_ALIAS, alias)]))
        packets = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in packets], [(mp.DISCONNECT, code)])
        return ack

    def test_alias_zero_rejected(self):
        # Section 3.3.2.3.4: alias 0 is "Topic Alias invalid" (0x94); mosquitto says 0x81.
        self.expect_invalid_alias(0, code=0x81 if MOSQUITTO else 0x94)
        self.assert_broker_serves()

    @broker_options(max_topic_alias=3)
    def test_alias_above_maximum_rejected(self):
        ack = self.expect_invalid_alias(4)
        self.assertEqual(ack.props.get(mp.TOPIC_ALIAS_MAXIMUM), 3)
        self.assert_broker_serves()

    def test_unknown_alias_with_empty_topic(self):
        r = self.raw(connect=True)
        r.send(mp.publish("", b"x", qos=0, props=[(mp.TOPIC_ALIAS, 2)]))
        packets = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in packets], [(mp.DISCONNECT, 0x82)])

    def test_broker_to_client_with_alias_maximum(self):
        r = self.raw()
        r.connect("aliasrx", props=[(mp.TOPIC_ALIAS_MAXIMUM, 2)])
        r.send(mp.subscribe(1, [("tb/#", 0)]))
        r.recv()
        pub = self.client(version=4)
        topics = ["tb/a", "tb/b", "tb/a", "tb/c", "tb/a", "tb/b"]
        for t in topics:
            pub.publish(t, t.encode(), 1)
        aliases = {}
        got = []
        for _ in topics:
            p = r.recv_type(mp.PUBLISH)
            alias = p.props.get(mp.TOPIC_ALIAS)
            if alias is not None:
                self.assertTrue(1 <= alias <= 2)
                if p.topic:
                    aliases[alias] = p.topic
                topic = aliases[alias]
            else:
                topic = p.topic
            got.append((topic, p.payload))
        self.assertEqual(got, [(t, t.encode()) for t in topics])

    def test_broker_sends_no_alias_without_client_maximum(self):
        r = self.raw(connect=True)
        r.send(mp.subscribe(1, [("tn/#", 0)]))
        r.recv()
        pub = self.client(version=4)
        for _ in range(3):
            pub.publish("tn/a", b"x", 1)
        for _ in range(3):
            p = r.recv_type(mp.PUBLISH)
            self.assertEqual(p.topic, "tn/a")
            self.assertNotIn(mp.TOPIC_ALIAS, p.props)


if __name__ == "__main__":
    main()
