"""--trace-clients: every packet of the chosen clients is logged, nobody else's."""
import time

from harness import BrokerTestCase, broker_options, main


class TraceTest(BrokerTestCase):
    @broker_options(trace_clients="dev-")
    def test_packets_of_matching_clients_are_logged(self):
        c = self.client("dev-1", version=5)
        c.subscribe("trace/t", 1)
        other = self.client("other-1", version=4)
        other.publish("trace/t", b"hello", 1)
        self.assertEqual([m.payload for m in c.messages.wait_for(1)], [b"hello"])
        c.disconnect()
        time.sleep(0.2)
        log = self.broker.read_log()
        for line in ("trace dev-1 <- CONNECT v5", "trace dev-1 -> CONNACK",
                     "trace dev-1 <- SUBSCRIBE", "trace dev-1 -> SUBACK",
                     "trace dev-1 -> PUBLISH topic='trace/t' qos=1", "trace dev-1 <- PUBACK",
                     "trace dev-1 <- DISCONNECT"):
            self.assertIn(line, log)
        self.assertNotIn("trace other-1", log)


if __name__ == "__main__":
    main()
