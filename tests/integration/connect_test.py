#!/usr/bin/python3
"""CONNECT/CONNACK behaviour for MQTT 3.1, 3.1.1 and 5.0, as seen from a client."""

import time

from harness import (BrokerTestCase, MOSQUITTO, broker_options, main, meshmq_only)
import mqtt_packets as mp


class ConnectTest(BrokerTestCase):
    def test_v31_connect(self):
        r = self.raw(version=3)
        ack = r.connect("v31-client")
        self.assertFalse(ack.session_present)
        self.assertEqual(len(ack.body), 2)

    def test_v311_and_v5_connect_with_paho(self):
        for version in (3, 4, 5):
            c = self.client(version=version)
            self.assertEqual(c.connack[1], 0)
            self.assertFalse(c.session_present)
            c.disconnect()

    def test_empty_client_id_v311_clean_accepted(self):
        r = self.raw(version=4)
        r.connect("", clean=True)

    def test_empty_client_id_v311_persistent_rejected(self):
        r = self.raw(version=4)
        r.send(mp.connect("", version=4, clean=False))
        packets = r.expect_closed()
        self.assertEqual(len(packets), 1)
        self.assertEqual(packets[0].type, mp.CONNACK)
        self.assertEqual(packets[0].reason, 0x02)  # identifier rejected [MQTT-3.1.3-8]

    def test_empty_client_id_v5_assigned(self):
        r = self.raw()
        ack = r.connect("")
        assigned = ack.props.get(mp.ASSIGNED_CLIENT_ID)
        self.assertTrue(assigned)
        r2 = self.raw()
        self.assertNotEqual(r2.connect("").props.get(mp.ASSIGNED_CLIENT_ID), assigned)

    def test_unsupported_protocol_level(self):
        r = self.raw(version=4)
        r.send(mp.connect("bad-level", version=6, protocol_name="MQTT"))
        packets = r.expect_closed()
        self.assertEqual(len(packets), 1)
        self.assertEqual(packets[0].type, mp.CONNACK)
        self.assertEqual(packets[0].reason, 0x01)  # unacceptable protocol version

    def test_session_present_flag(self):
        cid = self.cid()
        for version in (4, 5):
            c = self.client(cid, version=version, clean=False, session_expiry=60)
            self.assertFalse(c.session_present)
            c.disconnect()
            c = self.client(cid, version=version, clean=False, session_expiry=60)
            self.assertTrue(c.session_present)
            c.disconnect()
            c = self.client(cid, version=version, clean=True)
            self.assertFalse(c.session_present)
            c.disconnect()
            cid += "x"

    def test_v5_connack_properties(self):
        ack = self.raw().connect("props")
        p = ack.props
        # Receive Maximum absent means 65535; topic alias maximum must be advertised (> 0).
        self.assertGreater(p.get(mp.RECEIVE_MAXIMUM, 65535), 0)
        self.assertGreater(p.get(mp.TOPIC_ALIAS_MAXIMUM, 0), 0)
        if MOSQUITTO:
            self.assertNotIn(mp.MAXIMUM_PACKET_SIZE, p)  # mosquitto has no default limit
        else:
            # meshmq enforces a default limit (1 MiB), so it must announce it [MQTT-3.2.2-?]:
            # an absent property would promise the client no limit at all.
            self.assertEqual(p.get(mp.MAXIMUM_PACKET_SIZE), 1048576)
        # Absent availability properties mean "available" [MQTT-3.2.2.3].
        for prop in (mp.RETAIN_AVAILABLE, mp.WILDCARD_SUB_AVAILABLE, mp.SUB_ID_AVAILABLE,
                     mp.SHARED_SUB_AVAILABLE):
            self.assertEqual(p.get(prop, 1), 1)
        self.assertEqual(p.get(mp.MAXIMUM_QOS, 2), 2)

    @broker_options(max_packet_size=2000, max_inflight=7, max_topic_alias=5)
    def test_v5_connack_properties_configured(self):
        p = self.raw().connect("props").props
        self.assertEqual(p.get(mp.MAXIMUM_PACKET_SIZE), 2000)
        self.assertEqual(p.get(mp.RECEIVE_MAXIMUM), 7)
        self.assertEqual(p.get(mp.TOPIC_ALIAS_MAXIMUM), 5)

    def test_first_packet_not_connect_closed(self):
        r = self.raw()
        r.send(mp.publish("a/b", b"x", version=4))
        self.assertEqual(r.expect_closed(), [])
        r = self.raw()
        r.send(mp.pingreq())
        self.assertEqual(r.expect_closed(), [])
        self.assert_broker_serves()

    def test_second_connect_closed(self):
        for version in (4, 5):
            r = self.raw(version=version)
            r.connect(self.cid())
            r.send(mp.connect(self.cid(), version=version))
            packets = r.expect_closed()
            if version == 5 and not MOSQUITTO:
                # meshmq says why before closing (optional per [MQTT-3.1.0-2]); mosquitto
                # just closes.
                self.assertEqual([(p.type, p.reason) for p in packets], [(mp.DISCONNECT, 0x82)])
            else:
                self.assertEqual(packets, [])
        self.assert_broker_serves()

    @meshmq_only("mosquitto has no connect timeout setting")
    @broker_options(connect_timeout_ms=500)
    def test_connect_timeout(self):
        r = self.raw()
        start = time.monotonic()
        self.assertEqual(r.expect_closed(timeout=3), [])
        self.assertLess(time.monotonic() - start, 2.5)
        self.assertGreater(time.monotonic() - start, 0.3)

    def test_username_password_accepted_anonymous(self):
        r = self.raw(version=4)
        r.connect("userpass", username="u", password="p")


if __name__ == "__main__":
    main()
