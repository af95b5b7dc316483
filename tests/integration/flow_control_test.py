#!/usr/bin/python3
"""MQTT 5 flow control: client's and broker's Receive Maximum."""

from harness import BrokerTestCase, MOSQUITTO, broker_options, main
import mqtt_packets as mp


class FlowControlTest(BrokerTestCase):
    def test_client_receive_maximum_respected(self):
        r = self.raw()
        r.connect("recvmax", props=[(mp.RECEIVE_MAXIMUM, 3)])
        r.send(mp.subscribe(1, [("fc/t", 1)]))
        r.recv()
        pub = self.client(version=4)
        for i in range(10):
            pub.publish("fc/t", b"%d" % i, 1)
        first = [r.recv_type(mp.PUBLISH) for _ in range(3)]
        self.assertEqual([p.payload for p in first], [b"0", b"1", b"2"])
        r.recv_none(0.5)  # at most 3 unacknowledged [MQTT-3.3.4-9]
        got = [p.payload for p in first]
        pending = list(first)
        while len(got) < 10:
            r.send(mp.ack(mp.PUBACK, pending.pop(0).pid))
            p = r.recv_type(mp.PUBLISH)
            got.append(p.payload)
            pending.append(p)
            self.assertLessEqual(len(pending), 3)
        self.assertEqual(got, [b"%d" % i for i in range(10)])

    def test_receive_maximum_counts_qos2_until_pubcomp(self):
        r = self.raw()
        r.connect("recvmax2", props=[(mp.RECEIVE_MAXIMUM, 1)])
        r.send(mp.subscribe(1, [("fc2/t", 2)]))
        r.recv()
        pub = self.client(version=4)
        pub.publish("fc2/t", b"a", 2)
        pub.publish("fc2/t", b"b", 2)
        p = r.recv_type(mp.PUBLISH)
        self.assertEqual(p.payload, b"a")
        r.send(mp.ack(mp.PUBREC, p.pid))
        self.assertEqual(r.recv().type, mp.PUBREL)
        r.recv_none(0.4)  # still in flight until PUBCOMP
        r.send(mp.ack(mp.PUBCOMP, p.pid))
        self.assertEqual(r.recv_type(mp.PUBLISH).payload, b"b")

    def test_qos0_not_limited(self):
        r = self.raw()
        r.connect("recvmax0", props=[(mp.RECEIVE_MAXIMUM, 1)])
        r.send(mp.subscribe(1, [("fc0/t", 0)]))
        r.recv()
        pub = self.client(version=4)
        for i in range(5):
            pub.publish("fc0/t", b"%d" % i, 1)
        self.assertEqual([r.recv_type(mp.PUBLISH).payload for _ in range(5)],
                         [b"%d" % i for i in range(5)])

    @broker_options(max_inflight=2)
    def test_broker_receive_maximum_enforced(self):
        r = self.raw()
        ack = r.connect("flood")
        self.assertEqual(ack.props.get(mp.RECEIVE_MAXIMUM), 2)
        for pid in (1, 2):
            r.send(mp.publish("fl/t", b"x", qos=2, pid=pid))
            self.assertEqual(r.recv().type, mp.PUBREC)
        r.send(mp.publish("fl/t", b"x", qos=2, pid=3))  # third unreleased QoS 2 publish
        if MOSQUITTO:
            # mosquitto 2.0.11 refuses just that message (PUBREC 0x97 Quota exceeded).
            p = r.recv()
            self.assertEqual((p.type, p.pid, p.reason), (mp.PUBREC, 3, 0x97))
        else:
            # meshmq follows section 4.9: DISCONNECT 0x93 Receive Maximum exceeded.
            packets = r.expect_closed()
            self.assertEqual([(p.type, p.reason) for p in packets], [(mp.DISCONNECT, 0x93)])
        self.assert_broker_serves()

    @broker_options(max_inflight=2)
    def test_broker_receive_maximum_released_by_pubrel(self):
        r = self.raw()
        r.connect("steady")
        for pid in range(1, 8):
            r.send(mp.publish("st/t", b"x", qos=2, pid=pid))
            self.assertEqual(r.recv().type, mp.PUBREC)
            r.send(mp.ack(mp.PUBREL, pid))
            self.assertEqual(r.recv().type, mp.PUBCOMP)


if __name__ == "__main__":
    main()
