#!/usr/bin/python3
"""MQTT 5 PUBLISH properties pass-through, message expiry, request/response information."""

import time

from harness import BrokerTestCase, main, publish_props
import mqtt_packets as mp


class PropertiesTest(BrokerTestCase):
    def test_properties_passed_through(self):
        s = self.client()
        s.subscribe("pp/t", 1)
        p = publish_props(UserProperty=[("a", "1"), ("b", "2"), ("a", "3")],
                          ContentType="application/json", PayloadFormatIndicator=1,
                          ResponseTopic="pp/reply", CorrelationData=b"\x00\x01corr")
        self.client().publish("pp/t", b"{}", 1, properties=p)
        m = s.messages.wait_for(1)[0]
        self.assertEqual(m.properties.UserProperty, [("a", "1"), ("b", "2"), ("a", "3")])
        self.assertEqual(m.properties.ContentType, "application/json")
        self.assertEqual(m.properties.PayloadFormatIndicator, 1)
        self.assertEqual(m.properties.ResponseTopic, "pp/reply")
        self.assertEqual(m.properties.CorrelationData, b"\x00\x01corr")

    def test_properties_stripped_for_v311_subscriber(self):
        s = self.raw(connect=True, version=4)
        s.send(mp.subscribe(1, [("pp3/t", 1)], version=4))
        s.recv()
        p = publish_props(UserProperty=[("a", "1")], ContentType="text/plain")
        self.client().publish("pp3/t", b"plain", 1, properties=p)
        m = s.recv_type(mp.PUBLISH)
        self.assertEqual((m.topic, m.payload), ("pp3/t", b"plain"))

    def test_retained_message_expires(self):
        pub = self.client()
        pub.publish("exp/r", b"short", 1, retain=True,
                    properties=publish_props(MessageExpiryInterval=1))
        pub.publish("exp/long", b"long", 1, retain=True,
                    properties=publish_props(MessageExpiryInterval=100))
        time.sleep(2.2)  # mosquitto keeps time in whole seconds
        s = self.client()
        s.subscribe("exp/#", 1)
        msgs = s.messages.settle(0.5)
        self.assertEqual([m.payload for m in msgs], [b"long"])
        # Delivered expiry is the remaining lifetime [MQTT-3.3.2-6].
        remaining = msgs[0].properties.MessageExpiryInterval
        self.assertLess(remaining, 100)
        self.assertGreaterEqual(remaining, 97)

    def test_queued_message_expires(self):
        c = self.client("offexp", session_expiry=60)
        c.subscribe("qexp/t", 1)
        c.disconnect()
        pub = self.client()
        pub.publish("qexp/t", b"dies", 1, properties=publish_props(MessageExpiryInterval=1))
        pub.publish("qexp/t", b"lives", 1, properties=publish_props(MessageExpiryInterval=60))
        pub.publish("qexp/t", b"forever", 1)
        time.sleep(2.2)  # mosquitto keeps time in whole seconds
        c = self.client("offexp", clean=False, session_expiry=60)
        msgs = c.messages.settle(0.5)
        self.assertEqual([m.payload for m in msgs], [b"lives", b"forever"])
        self.assertLessEqual(msgs[0].properties.MessageExpiryInterval, 59)
        self.assertFalse(hasattr(msgs[1].properties, "MessageExpiryInterval"))

    def test_live_message_expiry_forwarded(self):
        s = self.client()
        s.subscribe("lexp/t", 1)
        self.client().publish("lexp/t", b"x", 1, properties=publish_props(MessageExpiryInterval=30))
        m = s.messages.wait_for(1)[0]
        self.assertIn(m.properties.MessageExpiryInterval, (29, 30))

    def test_request_response_information(self):
        # Like mosquitto 2.0, meshmq does not offer Response Information: the CONNACK has none
        # even when the client asks for it (allowed by section 3.1.2.11.7).
        ack = self.raw().connect("rri", props=[(mp.REQUEST_RESPONSE_INFO, 1)])
        self.assertEqual(ack.reason, 0)
        self.assertNotIn(mp.RESPONSE_INFO, ack.props)

    def test_request_response_pattern(self):
        responder = self.client()
        responder.subscribe("svc/req", 1)
        requester = self.client()
        requester.subscribe("svc/resp/me", 1)
        requester.publish("svc/req", b"ping", 1, properties=publish_props(
            ResponseTopic="svc/resp/me", CorrelationData=b"42"))
        req = responder.messages.wait_for(1)[0]
        responder.publish(req.properties.ResponseTopic, b"pong", 1, properties=publish_props(
            CorrelationData=req.properties.CorrelationData))
        resp = requester.messages.wait_for(1)[0]
        self.assertEqual((resp.payload, resp.properties.CorrelationData), (b"pong", b"42"))


if __name__ == "__main__":
    main()
