#!/usr/bin/python3
"""Will messages: abnormal close, normal DISCONNECT, DISCONNECT 0x04, will delay, retain, QoS."""

import time

from paho.mqtt.packettypes import PacketTypes

from harness import BrokerTestCase, main, meshmq_only, props
import mqtt_packets as mp


class WillTest(BrokerTestCase):
    def watcher(self, topic="will/#", qos=2):
        w = self.client(version=4)
        w.subscribe(topic, qos)
        return w

    def test_will_on_abnormal_close(self):
        w = self.watcher()
        for version in (3, 4, 5):
            c = self.client(version=version,
                            will={"topic": "will/%d" % version, "payload": b"gone", "qos": 1})
            c.close_abruptly()
        msgs = w.messages.wait_for(3)
        self.assertEqual(sorted((m.topic, m.payload, m.qos) for m in msgs),
                         [("will/%d" % v, b"gone", 1) for v in (3, 4, 5)])

    def test_no_will_on_normal_disconnect(self):
        w = self.watcher()
        for version in (4, 5):
            c = self.client(version=version, will={"topic": "will/n", "payload": b"x"})
            c.disconnect()
        self.assertEqual(w.messages.settle(0.5), [])

    def test_v5_disconnect_with_will_0x04(self):
        w = self.watcher()
        c = self.client(will={"topic": "will/04", "payload": b"sent"})
        c.disconnect(reason=0x04)
        self.assertEqual([m.payload for m in w.messages.wait_for(1)], [b"sent"])

    def test_will_delay_cancelled_by_reconnect(self):
        w = self.watcher()
        will = {"topic": "will/delay", "payload": b"late",
                "props": props(PacketTypes.WILLMESSAGE, WillDelayInterval=2)}
        c = self.client("delayed", will=will, session_expiry=60)
        c.close_abruptly()
        time.sleep(0.5)
        c2 = self.client("delayed", clean=False, session_expiry=60)
        self.assertTrue(c2.session_present)
        self.assertEqual(w.messages.settle(2.2), [])

    def test_will_delay_elapses(self):
        w = self.watcher()
        will = {"topic": "will/delay2", "payload": b"late",
                "props": props(PacketTypes.WILLMESSAGE, WillDelayInterval=1)}
        c = self.client(will=will, session_expiry=60)
        start = time.monotonic()
        c.close_abruptly()
        msgs = w.messages.wait_for(1, 4)
        self.assertEqual([m.payload for m in msgs], [b"late"])
        self.assertGreater(time.monotonic() - start, 0.8)

    @meshmq_only("mosquitto 2.0.11 waits for the will delay even when the session ends first")
    def test_will_sent_at_session_end_if_sooner_than_delay(self):
        # [MQTT-3.1.3-9]: the will is published when the session ends, even if the will
        # delay is longer (session expiry 0 -> session ends at disconnect).
        w = self.watcher()
        will = {"topic": "will/sess", "payload": b"now",
                "props": props(PacketTypes.WILLMESSAGE, WillDelayInterval=30)}
        c = self.client(will=will, session_expiry=0)
        c.close_abruptly()
        self.assertEqual([m.payload for m in w.messages.wait_for(1, 3)], [b"now"])

    def test_will_retain(self):
        c = self.client(version=4, will={"topic": "will/ret", "payload": b"r", "retain": True})
        c.close_abruptly()
        time.sleep(0.3)
        late = self.watcher("will/ret", 1)
        msgs = late.messages.wait_for(1)
        self.assertEqual([(m.payload, m.retain) for m in msgs], [(b"r", True)])

    def test_will_qos(self):
        w = self.watcher()
        for qos in (0, 1, 2):
            c = self.client(version=4,
                            will={"topic": "will/q%d" % qos, "payload": b"x", "qos": qos})
            c.close_abruptly()
        msgs = w.messages.wait_for(3)
        self.assertEqual(sorted((m.topic, m.qos) for m in msgs),
                         [("will/q0", 0), ("will/q1", 1), ("will/q2", 2)])

    def test_will_on_protocol_error(self):
        w = self.watcher()
        r = self.raw(version=4)
        r.connect("proterr", will={"topic": "will/err", "payload": b"bad"})
        r.send(b"\x00\x00")  # reserved packet type 0
        r.expect_closed()
        self.assertEqual([m.payload for m in w.messages.wait_for(1)], [b"bad"])

    def test_will_properties_forwarded(self):
        w = self.client()
        w.subscribe("will/p", 1)
        will_props = props(PacketTypes.WILLMESSAGE, ContentType="text/plain",
                           UserProperty=[("k", "v")])
        c = self.client(will={"topic": "will/p", "payload": b"x", "props": will_props})
        c.close_abruptly()
        m = w.messages.wait_for(1)[0]
        self.assertEqual(m.properties.ContentType, "text/plain")
        self.assertEqual(m.properties.UserProperty, [("k", "v")])


if __name__ == "__main__":
    main()
