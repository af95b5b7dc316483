#!/usr/bin/python3
"""Robustness: a failing session is contained, connection churn, abrupt resets."""

import socket
import struct
import threading

from harness import BrokerTestCase, HOST, broker_options, main, meshmq_only
import mqtt_packets as mp


class RobustnessTest(BrokerTestCase):
    def keeps_serving(self, sub, expected_count):
        self.assertTrue(self.broker.alive(), "broker died")
        self.client(version=4).publish("rob/t", b"%d" % expected_count, 1)
        self.assertEqual(len(sub.messages.wait_for(expected_count)), expected_count)

    @meshmq_only("--debug-fault-injection")
    @broker_options(debug_fault_injection=True)
    def test_fault_injection_closes_only_that_session(self):
        sub = self.client(version=5)
        sub.subscribe("rob/t", 1)
        bystander = self.raw(connect=True)
        for i in range(3):
            victim = self.raw(connect=True, version=5 if i % 2 else 4)
            victim.send(mp.publish("$meshmq/debug/throw", b"boom", qos=1, pid=1,
                                   version=victim.version))
            victim.expect_closed()
            self.keeps_serving(sub, i + 1)
        bystander.send(mp.pingreq())
        self.assertEqual(bystander.recv().type, mp.PINGRESP)

    @meshmq_only("--debug-fault-injection")
    @broker_options(debug_fault_injection=True)
    def test_fault_injection_publishes_will(self):
        w = self.client(version=4)
        w.subscribe("rob/will", 1)
        victim = self.raw(version=4)
        victim.connect("victim", will={"topic": "rob/will", "payload": b"crashed"})
        victim.send(mp.publish("$meshmq/debug/throw", b"", version=4))
        victim.expect_closed()
        self.assertEqual([m.payload for m in w.messages.wait_for(1)], [b"crashed"])

    def test_connection_churn(self):
        sub = self.client(version=4)
        sub.subscribe("rob/t", 1)
        errors = []

        def churn(worker):
            try:
                for i in range(50):
                    s = socket.create_connection((HOST, self.port), timeout=5)
                    s.sendall(mp.connect("churn-%d-%d" % (worker, i), version=4 + (i % 2)))
                    if s.recv(2)[:1] != b"\x20":
                        errors.append("no CONNACK")
                    if i % 3 == 0:
                        s.sendall(mp.disconnect(version=4))
                    s.close()
            except OSError as e:
                errors.append(repr(e))

        threads = [threading.Thread(target=churn, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.keeps_serving(sub, 1)

    def test_abrupt_resets(self):
        sub = self.client(version=4)
        sub.subscribe("rob/t", 1)
        for i in range(30):
            s = socket.create_connection((HOST, self.port), timeout=5)
            s.sendall(mp.connect("reset-%d" % i, version=5))
            if i % 2:
                s.recv(64)
                s.sendall(mp.subscribe(1, [("rob/#", 1)]))
                s.sendall(mp.publish("rob/x", b"x" * 1000, qos=1, pid=2))
            # SO_LINGER 0: close sends RST instead of FIN.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        self.keeps_serving(sub, 1)

    def test_many_concurrent_clients(self):
        clients = []
        for i in range(200):
            r = self.raw(version=4)
            r.send(mp.connect("many-%d" % i, version=4))
            clients.append(r)
        for r in clients:
            p = r.recv()
            self.assertEqual((p.type, p.reason), (mp.CONNACK, 0))
        for r in clients[:100]:
            r.send(mp.subscribe(1, [("rob/fan", 0)], version=4))
        for r in clients[:100]:
            self.assertEqual(r.recv().type, mp.SUBACK)
        clients[150].send(mp.publish("rob/fan", b"all", version=4))
        for r in clients[:100]:
            self.assertEqual(r.recv_type(mp.PUBLISH).payload, b"all")
        for r in clients:
            r.close()
        self.assert_broker_serves()


if __name__ == "__main__":
    main()
