#!/usr/bin/python3
"""Interoperability with the mosquitto_pub / mosquitto_sub command line clients."""

import os
import subprocess
import time

from harness import BrokerTestCase, HOST, kill_group, main


class MosquittoClientsTest(BrokerTestCase):
    def common(self, version):
        return ["-h", HOST, "-p", str(self.port), "-V", version]

    def pub(self, version, topic, message, *extra):
        body = ["-n"] if message is None else ["-m", message]  # -n: zero-length message
        subprocess.run(["mosquitto_pub"] + self.common(version) + ["-t", topic] + body +
                       list(extra), check=True, timeout=10)

    def sub(self, version, *args):
        """Starts mosquitto_sub; returns the process (stdout pipe), killed at cleanup."""
        proc = subprocess.Popen(["mosquitto_sub"] + self.common(version) + list(args),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True)
        self.addCleanup(kill_group, proc)
        return proc

    def wait_subscribed(self, topic):
        """mosquitto_sub has no 'subscribed' signal; loopback subscribe takes milliseconds."""
        time.sleep(0.5)

    def finish(self, proc, timeout=10):
        out, err = proc.communicate(timeout=timeout)
        self.assertEqual(proc.returncode, 0, err.decode())
        return out.decode().splitlines()

    def test_pub_sub_all_qos(self):
        for version in ("mqttv5", "mqttv311", "mqttv31"):
            for qos in ("0", "1", "2"):
                topic = "mc/%s/%s" % (version, qos)
                s = self.sub(version, "-t", topic, "-q", qos, "-C", "3", "-v")
                self.wait_subscribed(topic)
                for i in range(3):
                    self.pub(version, topic, "m%d" % i, "-q", qos)
                self.assertEqual(self.finish(s), ["%s m%d" % (topic, i) for i in range(3)])

    def test_retained(self):
        self.pub("mqttv5", "mc/ret", "kept", "-r", "-q", "1")
        s = self.sub("mqttv311", "-t", "mc/ret", "-C", "1", "-F", "%r %t %p")
        self.assertEqual(self.finish(s), ["1 mc/ret kept"])
        self.pub("mqttv311", "mc/ret", None, "-r")  # zero-length retained clears
        s = self.sub("mqttv5", "-t", "mc/ret", "-W", "1")  # -W: exit after 1 s
        out, _ = s.communicate(timeout=10)
        self.assertEqual(out, b"")

    def test_wildcards_and_count(self):
        s = self.sub("mqttv5", "-t", "mcw/+/x", "-t", "mcw/deep/#", "-C", "3", "-v")
        self.wait_subscribed("mcw")
        for topic in ("mcw/a/x", "mcw/a/y", "mcw/deep/1/2", "mcw/b/x"):
            self.pub("mqttv5", topic, "p")
        self.assertEqual(self.finish(s), ["mcw/a/x p", "mcw/deep/1/2 p", "mcw/b/x p"])

    def test_v5_properties_and_sub_output(self):
        s = self.sub("mqttv5", "-t", "mcp/t", "-C", "1", "-F", "%t|%p|%C|%P")
        self.wait_subscribed("mcp/t")
        self.pub("mqttv5", "mcp/t", "hello", "-D", "publish", "content-type", "text/plain",
                 "-D", "publish", "user-property", "k", "v")
        self.assertEqual(self.finish(s), ["mcp/t|hello|text/plain|k:v"])

    def test_persistent_session_with_client_id(self):
        s = self.sub("mqttv311", "-t", "mcs/t", "-q", "1", "-c", "-i", "mc-persist", "-C", "1")
        self.wait_subscribed("mcs/t")
        self.pub("mqttv311", "mcs/t", "first", "-q", "1")
        self.assertEqual(self.finish(s), ["first"])
        self.pub("mqttv311", "mcs/t", "while-offline", "-q", "1")
        s = self.sub("mqttv311", "-t", "mcs/t", "-q", "1", "-c", "-i", "mc-persist", "-C", "1")
        self.assertEqual(self.finish(s), ["while-offline"])

    def test_large_payload_from_file(self):
        path = os.path.join(self.broker.dir, "payload.bin")
        with open(path, "wb") as f:
            f.write(b"L" * 200000)
        s = self.sub("mqttv5", "-t", "mcl/t", "-C", "1", "-N")
        self.wait_subscribed("mcl/t")
        subprocess.run(["mosquitto_pub"] + self.common("mqttv5") + ["-t", "mcl/t", "-f", path,
                       "-q", "1"], check=True, timeout=10)
        out, _ = s.communicate(timeout=10)
        self.assertEqual(out, b"L" * 200000)


if __name__ == "__main__":
    main()
