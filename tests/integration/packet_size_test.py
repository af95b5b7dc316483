#!/usr/bin/python3
"""Maximum packet size in both directions."""

from harness import BrokerTestCase, broker_options, main, meshmq_only
import mqtt_packets as mp


class PacketSizeTest(BrokerTestCase):
    @broker_options(max_packet_size=1000)
    def test_oversized_publish_from_v5_client(self):
        other = self.client(version=4)
        other.subscribe("big/#", 1)
        r = self.raw()
        ack = r.connect("big")
        self.assertEqual(ack.props.get(mp.MAXIMUM_PACKET_SIZE), 1000)
        r.send(mp.publish("big/t", b"x" * 1500, qos=0))
        packets = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in packets], [(mp.DISCONNECT, 0x95)])
        # A publish that fits still flows for everyone else.
        self.client(version=4).publish("big/ok", b"y" * 900, 1)
        self.assertEqual([m.topic for m in other.messages.wait_for(1)], ["big/ok"])
        self.assertEqual(other.messages.settle(0.2)[0].payload, b"y" * 900)

    @broker_options(max_packet_size=1000)
    def test_oversized_publish_from_v311_client_closed(self):
        r = self.raw(version=4)
        r.connect("big311")
        r.send(mp.publish("big/t", b"x" * 2000, qos=1, pid=1, version=4))
        self.assertEqual(r.expect_closed(), [])
        self.assert_broker_serves()

    @broker_options(max_packet_size=1000)
    def test_packet_exactly_at_limit_accepted(self):
        r = self.raw()
        r.connect("exact")
        topic = "lim/t"
        # The empty packet's remaining length fits one byte; a 1000-byte packet needs two.
        overhead = len(mp.publish(topic, b"", qos=1, pid=1)) + 1
        packet = mp.publish(topic, b"z" * (1000 - overhead), qos=1, pid=1)
        self.assertEqual(len(packet), 1000)
        r.send(packet)
        self.assertEqual(r.recv().type, mp.PUBACK)

    @meshmq_only("mosquitto 2.0.11 compares only the remaining length with max_packet_size")
    @broker_options(max_packet_size=1000)
    def test_one_byte_over_limit_rejected(self):
        r = self.raw()
        r.connect("over")
        overhead = len(mp.publish("lim/t", b"", qos=0))
        # The limit covers the whole packet, fixed header included [MQTT-3.1.2-24].
        r.send(mp.publish("lim/t", b"z" * (1001 - overhead), qos=0))
        packets = r.expect_closed()
        self.assertEqual([(p.type, p.reason) for p in packets], [(mp.DISCONNECT, 0x95)])

    def test_client_maximum_packet_size_respected(self):
        small = self.raw()
        small.connect("small", props=[(mp.MAXIMUM_PACKET_SIZE, 200)])
        small.send(mp.subscribe(1, [("mps/t", 1)]))
        small.recv()
        large = self.client()
        large.subscribe("mps/t", 1)
        pub = self.client()
        pub.publish("mps/t", b"a" * 500, 1)  # too large for `small`: dropped for it only
        pub.publish("mps/t", b"b" * 50, 1)
        p = small.recv_type(mp.PUBLISH)
        self.assertEqual(p.payload, b"b" * 50)
        small.send(mp.ack(mp.PUBACK, p.pid))
        small.recv_none()
        self.assertEqual([m.payload for m in large.messages.wait_for(2)], [b"a" * 500, b"b" * 50])


if __name__ == "__main__":
    main()
