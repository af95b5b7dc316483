#!/usr/bin/python3
"""MQTT 5 subscription options: No Local, Retain As Published, Retain Handling, ids."""

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes

from harness import BrokerTestCase, main, props


def opts(qos=1, **kw):
    return paho.SubscribeOptions(qos=qos, **kw)


class V5SubscriptionOptionsTest(BrokerTestCase):
    def test_no_local(self):
        c = self.client()
        c.subscribe("nl/t", options=opts(noLocal=True))
        c.subscribe("nl/other", options=opts(noLocal=False))
        c.publish("nl/t", b"own", 1)
        c.publish("nl/other", b"own-other", 1)
        self.client(version=4).publish("nl/t", b"foreign", 1)
        self.assertEqual(sorted(m.payload for m in c.messages.settle(0.5)),
                         [b"foreign", b"own-other"])

    def test_retain_as_published(self):
        rap = self.client()
        rap.subscribe("rap/t", options=opts(retainAsPublished=True))
        plain = self.client()
        plain.subscribe("rap/t", options=opts(retainAsPublished=False))
        self.client().publish("rap/t", b"r", 1, retain=True)
        self.assertEqual([m.retain for m in rap.messages.wait_for(1)], [True])
        self.assertEqual([m.retain for m in plain.messages.wait_for(1)], [False])

    def test_retain_handling(self):
        self.client().publish("rh/t", b"kept", 1, retain=True)
        c0 = self.client()
        c0.subscribe("rh/t", options=opts(retainHandling=0))
        c0.subscribe("rh/t", options=opts(retainHandling=0))  # 0: sent on every subscribe
        self.assertEqual([m.payload for m in c0.messages.settle()], [b"kept", b"kept"])
        c1 = self.client()
        c1.subscribe("rh/t", options=opts(retainHandling=1))
        c1.subscribe("rh/t", options=opts(retainHandling=1))  # 1: only for a new subscription
        self.assertEqual([m.payload for m in c1.messages.settle()], [b"kept"])
        c2 = self.client()
        c2.subscribe("rh/t", options=opts(retainHandling=2))  # 2: never
        self.assertEqual(c2.messages.settle(), [])
        for m in c0.messages.items + c1.messages.items:
            self.assertTrue(m.retain)

    def test_subscription_identifiers_delivered(self):
        c = self.client()
        c.subscribe("sid/+", 1, properties=props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=42))
        c.subscribe("other", 1, properties=props(PacketTypes.SUBSCRIBE,
                                                 SubscriptionIdentifier=268435455))
        c.subscribe("noid", 1)
        pub = self.client(version=4)
        pub.publish("sid/x", b"1", 1)
        pub.publish("other", b"2", 1)
        pub.publish("noid", b"3", 1)
        msgs = c.messages.wait_for(3)
        got = [(m.payload, getattr(m.properties, "SubscriptionIdentifier", None)) for m in msgs]
        self.assertEqual(got, [(b"1", [42]), (b"2", [268435455]), (b"3", None)])

    def test_subscription_identifier_on_retained(self):
        self.client().publish("sidr/t", b"r", 1, retain=True)
        c = self.client()
        c.subscribe("sidr/#", 1, properties=props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=7))
        msgs = c.messages.wait_for(1)
        self.assertEqual([(m.payload, m.retain, m.properties.SubscriptionIdentifier)
                          for m in msgs], [(b"r", True, [7])])


if __name__ == "__main__":
    main()
