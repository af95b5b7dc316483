#!/usr/bin/python3
"""Shared subscriptions ($share/<group>/<filter>)."""

import time

from harness import BrokerTestCase, broker_options, main, meshmq_only


class SharedSubscriptionTest(BrokerTestCase):
    def members(self, n, share="$share/g/sh/t", version=5):
        out = []
        for _ in range(n):
            c = self.client(version=version)
            c.subscribe(share, 1)
            out.append(c)
        return out

    def publish_n(self, n, topic="sh/t", client_id=None):
        pub = self.client(client_id, version=4)
        for i in range(n):
            pub.publish(topic, b"%d" % i, 1)

    def payloads(self, clients, expected_total):
        """Waits until the group got expected_total messages (plus a grace period)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if sum(len(c.messages.items) for c in clients) >= expected_total:
                break
            time.sleep(0.02)
        time.sleep(0.2)  # catch duplicates
        return [m.payload for c in clients for m in c.messages.items]

    def test_each_message_to_exactly_one_member(self):
        for version in (4, 5):
            group = self.members(3, "$share/g%d/sh/t" % version, version)
            self.publish_n(30)
            got = self.payloads(group, 30)
            self.assertEqual(sorted(got), sorted(b"%d" % i for i in range(30)))
            for c in group:
                c.disconnect()

    def test_two_groups_and_plain_subscriber_each_get_a_copy(self):
        g1 = self.members(2, "$share/one/sh/t")
        g2 = self.members(2, "$share/two/sh/t")
        plain = self.client()
        plain.subscribe("sh/t", 1)
        self.publish_n(10)
        expected = sorted(b"%d" % i for i in range(10))
        self.assertEqual(sorted(self.payloads(g1, 10)), expected)
        self.assertEqual(sorted(self.payloads(g2, 10)), expected)
        self.assertEqual(sorted(m.payload for m in plain.messages.wait_for(10)), expected)

    def test_wildcard_shared_filter(self):
        group = self.members(2, "$share/w/sh/+")
        pub = self.client(version=4)
        for t in ("sh/a", "sh/b", "other/a"):
            pub.publish(t, t.encode(), 1)
        self.assertEqual(sorted(self.payloads(group, 2)), [b"sh/a", b"sh/b"])

    def test_member_leaving(self):
        a, b = self.members(2)
        b.disconnect()
        self.publish_n(10)
        self.assertEqual(sorted(self.payloads([a], 10)), sorted(b"%d" % i for i in range(10)))

    def test_unsubscribe_shared(self):
        a, b = self.members(2)
        b.unsubscribe("$share/g/sh/t")
        self.publish_n(6)
        self.assertEqual(len(self.payloads([a], 6)), 6)
        self.assertEqual(b.messages.items, [])

    @meshmq_only("mosquitto 2.0.11 sends retained messages to a new shared subscription")
    def test_no_retained_on_shared_subscribe(self):
        self.client(version=4).publish("sh/t", b"retained", 1, retain=True)
        (a,) = self.members(1)
        self.assertEqual(a.messages.settle(0.5), [])  # MQTT 5 section 4.8.2

    @meshmq_only("--shared-subscription-strategy")
    @broker_options(shared_subscription_strategy="round_robin")
    def test_round_robin_even(self):
        group = self.members(3)
        self.publish_n(30)
        self.payloads(group, 30)
        self.assertEqual([len(c.messages.items) for c in group], [10, 10, 10])

    @meshmq_only("--shared-subscription-strategy")
    @broker_options(shared_subscription_strategy="random")
    def test_random_delivers_each_once(self):
        group = self.members(3)
        self.publish_n(60)
        got = self.payloads(group, 60)
        self.assertEqual(sorted(got), sorted(b"%d" % i for i in range(60)))

    @meshmq_only("--shared-subscription-strategy")
    @broker_options(shared_subscription_strategy="hash_client_id")
    def test_hash_client_id_sticks_to_one_member(self):
        group = self.members(3)
        for publisher in ("pub-a", "pub-b", "pub-c", "pub-d"):
            for c in group:
                c.messages.clear()
            self.publish_n(9, client_id=publisher)
            self.payloads(group, 9)
            counts = sorted(len(c.messages.items) for c in group)
            self.assertEqual(counts, [0, 0, 9], publisher)


if __name__ == "__main__":
    main()
