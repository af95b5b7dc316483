#!/usr/bin/python3
"""Malformed and protocol-violating input closes only the offending connection.

Each case is sent on a fresh MQTT 5 (and 3.1.1) connection; the broker must close that
connection (v5: after a DISCONNECT with the reason code where the spec allows one) while a
bystander client connected throughout keeps publishing and receiving.
"""

import struct

from harness import BrokerTestCase, MOSQUITTO, main
import mqtt_packets as mp

D = mp.DISCONNECT


def publish_raw(flags, body):
    return mp.packet(mp.PUBLISH, flags, body)


def dup_property_publish():
    props = b"\x01\x01\x01\x01"  # Payload Format Indicator twice
    return publish_raw(0, mp.utf8("a/b") + mp.varint(len(props)) + props + b"x")


# name -> (bytes for v5, meshmq v5 expectation, mosquitto 2.0.11 v5 observation).
# Expectations list the packets received before the close (a tuple: any of these);
# None: mosquitto does not close.
CASES = {
    "remaining_length_5_bytes": (b"\x30\xff\xff\xff\xff\x7f", [(D, 0x81)], []),
    "reserved_flags_subscribe": (
        mp.packet(mp.SUBSCRIBE, 0, struct.pack("!H", 1) + b"\x00" + mp.utf8("a") + b"\x00"),
        [(D, 0x81)], [(D, 0x81)]),
    "reserved_flags_pingreq": (b"\xc1\x00", [(D, 0x81)], None),
    "publish_qos3": (publish_raw(6, mp.utf8("a") + b"\x00\x01\x00x"), [(D, 0x81)],
                     [(D, 0x81)]),
    "invalid_utf8_topic": (publish_raw(0, mp.utf8(b"a/\xff\xfe") + b"\x00x"),
                           [(D, 0x81)], [(D, 0x81)]),
    "null_char_in_topic": (publish_raw(0, mp.utf8(b"a\x00b") + b"\x00x"), [(D, 0x81)],
                           [(D, 0x81)]),
    "wildcard_in_publish_topic": (mp.publish("a/+/c", b"x"), [(D, 0x90)], [(D, 0x82)]),
    "hash_in_publish_topic": (mp.publish("a/#", b"x"), [(D, 0x90)], [(D, 0x82)]),
    "packet_id_zero": (mp.publish("a/b", b"x", qos=1, pid=0), [(D, 0x82)], [(D, 0x82)]),
    "subscribe_no_filters": (mp.packet(mp.SUBSCRIBE, 2, struct.pack("!H", 1) + b"\x00"),
                             [(D, 0x82)], [(D, 0x81)]),
    "unsubscribe_no_filters": (mp.packet(mp.UNSUBSCRIBE, 2, struct.pack("!H", 1) + b"\x00"),
                               [(D, 0x82)], [(D, 0x81)]),
    # PINGRESP type with a 5-byte remaining length: either diagnosis (or none) is right.
    "garbage": (b"\xde\xad\xbe\xef" * 8, ([], [(D, 0x81)], [(D, 0x82)]), []),
    "reserved_packet_type_0": (b"\x00\x00", [(D, 0x82)], [(D, 0x82)]),
    "duplicate_property": (dup_property_publish(), [(D, 0x82)], []),
    "property_length_overflows_packet": (publish_raw(0, mp.utf8("a") + b"\x20\x01"),
                                         [(D, 0x81)], [(D, 0x81)]),
    "connack_from_client": (b"\x20\x03\x00\x00\x00", [(D, 0x82)], []),
}


class MalformedTest(BrokerTestCase):
    def setUp(self):
        super().setUp()
        self.bystander = self.client(version=5)
        self.bystander.subscribe("bystander/t", 1)
        self.sent = 0

    def bystander_works(self):
        self.sent += 1
        self.assertTrue(self.broker.alive(), "broker died")
        self.client(version=4).publish("bystander/t", b"%d" % self.sent, 1)
        msgs = self.bystander.messages.wait_for(self.sent)
        self.assertEqual(len(msgs), self.sent)

    def check(self, name, data, expected, version):
        r = self.raw(version=version)
        r.connect(self.cid(name[:20]))
        r.send(data)
        packets = r.expect_closed()
        got = [(p.type, p.reason) for p in packets]
        if isinstance(expected, tuple):
            self.assertIn(got, expected, "%s v%d" % (name, version))
        else:
            self.assertEqual(got, expected, "%s v%d" % (name, version))
        self.bystander_works()

    def test_v5_cases(self):
        for name, (data, meshmq, mosquitto) in CASES.items():
            if MOSQUITTO and mosquitto is None:
                continue
            with self.subTest(name):
                self.check(name, data, mosquitto if MOSQUITTO else meshmq, 5)

    def test_v311_cases_close_silently(self):
        for name, (data, _, mosquitto) in CASES.items():
            if name == "duplicate_property" or (MOSQUITTO and mosquitto is None):
                continue  # no properties in 3.1.1; mosquitto ignores PINGREQ flags
            if data[0] >> 4 == mp.PUBLISH and name not in ("publish_qos3",
                                                           "remaining_length_5_bytes"):
                # v5 PUBLISH bodies carry a property length byte; rebuild without it.
                data = {
                    "invalid_utf8_topic": publish_raw(0, mp.utf8(b"a/\xff\xfe") + b"x"),
                    "null_char_in_topic": publish_raw(0, mp.utf8(b"a\x00b") + b"x"),
                    "wildcard_in_publish_topic": mp.publish("a/+/c", b"x", version=4),
                    "hash_in_publish_topic": mp.publish("a/#", b"x", version=4),
                    "packet_id_zero": mp.publish("a/b", b"x", qos=1, pid=0, version=4),
                    "property_length_overflows_packet": None,
                }[name]
                if data is None:
                    continue
            if name in ("subscribe_no_filters", "unsubscribe_no_filters"):
                data = data[:1] + b"\x02" + data[2:4]  # no property length in 3.1.1
            with self.subTest(name):
                self.check(name, data, [], 4)

    def test_truncated_packet_then_close(self):
        w = self.client(version=4)
        w.subscribe("trunc/will", 1)
        r = self.raw(version=4)
        r.connect("trunc", will={"topic": "trunc/will", "payload": b"w"})
        full = mp.publish("trunc/t", b"x" * 100, qos=1, pid=1, version=4)
        r.send(full[:50])
        r.close()
        self.assertEqual([m.payload for m in w.messages.wait_for(1)], [b"w"])
        self.bystander_works()

    def test_truncated_connect(self):
        r = self.raw()
        r.send(mp.connect("trunc-connect")[:10])
        r.close()
        self.bystander_works()

    def test_malformed_connect(self):
        cases = [
            mp.connect("x", version=4)[:2] + b"\x00\x04MQTX\x04\x02\x00\x3c\x00\x01x",
            # Reserved CONNECT flag bit 0 set [MQTT-3.1.2-3].
            b"\x10\x0d\x00\x04MQTT\x04\x03\x00\x3c\x00\x01x",
        ]
        for data in cases:
            r = self.raw(version=4)
            r.send(data)
            packets = r.expect_closed()
            self.assertTrue(all(p.type == mp.CONNACK and p.reason != 0 for p in packets),
                            packets)
        self.bystander_works()


if __name__ == "__main__":
    main()
