#!/usr/bin/python3
"""$SYS topics published every --sys-interval seconds, names as in mosquitto.

Like mosquitto, a value may be re-published only when it changes, so the tests watch the
latest value of each topic until it satisfies the expectation.
"""

import time

from harness import BrokerTestCase, MOSQUITTO, main

TOPICS = ["$SYS/broker/version", "$SYS/broker/uptime", "$SYS/broker/clients/connected",
          "$SYS/broker/messages/received", "$SYS/broker/messages/sent"]


class SysTopicsTest(BrokerTestCase):
    def setUp(self):
        super().setUp()
        self.watcher = self.client(version=4)
        self.watcher.subscribe("$SYS/broker/#", 0)

    def latest(self):
        values = {}
        for m in self.watcher.messages.items:
            values[m.topic] = m.payload.decode()
        return values

    def wait_until(self, predicate, timeout=4):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            values = self.latest()
            try:
                if predicate(values):
                    return values
            except (KeyError, ValueError):
                pass
            time.sleep(0.05)
        self.fail("$SYS values never matched: %r" % self.latest())

    def test_sys_topics_published(self):
        values = self.wait_until(lambda v: all(t in v for t in TOPICS))
        self.assertTrue(values["$SYS/broker/version"].startswith(
            "mosquitto version" if MOSQUITTO else "meshmq"), values["$SYS/broker/version"])
        self.assertRegex(values["$SYS/broker/uptime"], r"^\d+ seconds$")
        for t in TOPICS[2:]:
            self.assertRegex(values[t], r"^\d+$")
        self.wait_until(lambda v: int(v["$SYS/broker/clients/connected"]) >= 1)

    def test_counters_move(self):
        before = self.wait_until(lambda v: all(t in v for t in TOPICS[2:]))
        others = [self.client(version=4) for _ in range(3)]
        for o in others:
            o.subscribe("sys/t", 0)
        for _ in range(20):
            others[0].publish("sys/t", b"x", 1)

        def moved(v):
            return (int(v["$SYS/broker/clients/connected"]) >= 4 and
                    int(v["$SYS/broker/messages/received"]) >=
                    int(before["$SYS/broker/messages/received"]) + 20 and
                    int(v["$SYS/broker/messages/sent"]) >=
                    int(before["$SYS/broker/messages/sent"]) + 60)
        self.wait_until(moved)

    def test_uptime_advances(self):
        first = self.wait_until(lambda v: "$SYS/broker/uptime" in v)["$SYS/broker/uptime"]
        self.wait_until(lambda v: int(v["$SYS/broker/uptime"].split()[0]) >
                        int(first.split()[0]))

    def test_sys_not_matched_by_hash(self):
        c = self.client(version=4)
        c.subscribe("#", 0)
        self.assertEqual([m.topic for m in c.messages.settle(1.5)
                          if m.topic.startswith("$")], [])


if __name__ == "__main__":
    main()
