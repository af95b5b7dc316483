"""meshmq-bench smoke test: the load generator runs against a real broker, reports a clean run
as clean and detects loss when a subscriber disappears. Not a performance test.

Needs MESHMQ_BIN and MESHMQ_BUILD_DIR (the bench is $MESHMQ_BUILD_DIR/src/tools/bench/meshmq-bench).
"""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

HOST = "127.0.0.1"


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def bench_binary():
    return os.path.join(os.environ["MESHMQ_BUILD_DIR"], "src", "tools", "bench", "meshmq-bench")


class BenchSmokeTest(unittest.TestCase):
    def setUp(self):
        self.port = free_port()
        self.log = tempfile.TemporaryFile()
        self.broker = subprocess.Popen(
            [os.environ["MESHMQ_BIN"], "--mqtt-listen", "%s:%d" % (HOST, self.port),
             "--workers", "2", "--log-level", "warn", "--http-listen", "off"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        self.addCleanup(self.stop_broker)
        deadline = time.monotonic() + 10
        while True:
            self.assertIsNone(self.broker.poll(), "broker exited: " + self.broker_log())
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
                return
            except OSError:
                self.assertLess(time.monotonic(), deadline, "broker did not start")
                time.sleep(0.05)

    def stop_broker(self):
        if self.broker.poll() is None:
            os.killpg(self.broker.pid, signal.SIGKILL)
        self.broker.wait(timeout=10)
        self.log.close()

    def broker_log(self):
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-5000:]

    def run_bench(self, *args):
        cmd = [bench_binary(), "pubsub", "--targets", "%s:%d" % (HOST, self.port), "--quiet"]
        cmd += list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
        self.assertEqual(len(lines), 1, "stdout: %r stderr: %r" % (proc.stdout, proc.stderr))
        return proc.returncode, json.loads(lines[0]), proc.stderr

    def test_clean_qos1_run_has_no_loss(self):
        rc, result, err = self.run_bench("--layout", "pairs", "--publishers", "2", "--qos", "1",
                                         "--duration", "2", "--expect-no-loss")
        self.assertEqual(rc, 0, err)
        self.assertGreater(result["sent"], 0)
        self.assertEqual(result["lost"], 0)
        self.assertEqual(result["dup"], 0)
        self.assertEqual(result["received"], result["sent"])
        self.assertEqual(result["expected"], result["sent"])
        self.assertGreater(result["p50_us"], 0)
        self.assertGreater(result["msgs_per_s"], 0)

    def test_killed_subscriber_is_reported_as_loss(self):
        # Subscriber 0 vanishes (TCP reset) after 500 ms; its publisher keeps publishing to a
        # topic nobody reads any more, so those messages are lost.
        rc, result, err = self.run_bench("--layout", "pairs", "--publishers", "2", "--qos", "1",
                                         "--duration", "2", "--expect-no-loss",
                                         "--kill-subscriber-after", "500")
        self.assertEqual(rc, 1, err)
        self.assertGreater(result["lost"], 0)
        self.assertLess(result["received"], result["sent"])
        self.assertEqual(result["received"] + result["lost"], result["expected"])

    def test_fanout_expects_every_message_at_every_subscriber(self):
        rc, result, err = self.run_bench("--layout", "fanout", "--subscribers", "5", "--qos", "0",
                                         "--count", "200", "--expect-no-loss")
        self.assertEqual(rc, 0, err)
        self.assertEqual(result["sent"], 200)
        self.assertEqual(result["expected"], 1000)
        self.assertEqual(result["received"], 1000)


if __name__ == "__main__":
    unittest.main()
