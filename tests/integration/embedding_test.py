"""meshmq as a library: `cmake --install` of this build into a temporary prefix, the program in
examples/embedded built against it with find_package(meshmq), run on a free port, and driven with
paho: its auth hook decides logins (only "dev-*" users) and its publish hook tags messages."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import HOST, TIMEOUT, free_port, kill_group, main

BUILD = os.environ.get("MESHMQ_BUILD_DIR", "")
SOURCE = os.environ.get("MESHMQ_SOURCE_DIR", "")


def cache_value(name):
    with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith(name + ":"):
                return line.split("=", 1)[1].strip()
    return ""


def code(client):
    rc = client.connack[1]  # paho: ReasonCodes (v5) or int (3.x)
    return getattr(rc, "value", rc)


def run(cmd, timeout=300):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(cmd), r.stdout[-3000:], r.stderr[-3000:])
    return r


@unittest.skipIf(harness.MOSQUITTO, "builds and runs the meshmq library")
class EmbeddingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if cache_value("MESHMQ_SANITIZE") == "ON":
            # scripts/test.sh's ASan stage builds no libmeshmq.a, and an example linked against
            # sanitized objects would need the sanitizer flags too.
            raise unittest.SkipTest("sanitizer build: the example links the normal build only")
        cls.dir = tempfile.mkdtemp(prefix="meshmq-embed-")
        prefix = os.path.join(cls.dir, "prefix")
        out = os.path.join(cls.dir, "build")
        run(["cmake", "--install", BUILD, "--prefix", prefix])
        configure = ["cmake", "-S", os.path.join(SOURCE, "examples", "embedded"), "-B", out,
                     "-DCMAKE_PREFIX_PATH=" + prefix, "-DCMAKE_BUILD_TYPE=Release",
                     "-DCMAKE_CXX_COMPILER=" + cache_value("CMAKE_CXX_COMPILER")]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        launcher = cache_value("CMAKE_CXX_COMPILER_LAUNCHER")
        if launcher:
            configure.append("-DCMAKE_CXX_COMPILER_LAUNCHER=" + launcher)
        run(configure)
        run(["cmake", "--build", out, "-j2"])
        cls.port = free_port()
        cls.proc = subprocess.Popen([os.path.join(out, "embedded"), str(cls.port)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                    start_new_session=True)
        line = cls.proc.stdout.readline()
        assert re.match(r"listening on %d" % cls.port, line), line

    @classmethod
    def tearDownClass(cls):
        # Closing stdin makes the example call Server::Stop() and return from main.
        proc = getattr(cls, "proc", None)
        try:
            if proc is not None:
                proc.stdin.close()
                try:
                    rc = proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    rc = "still running after 20 s"
                assert rc == 0, "embedded server did not stop cleanly: %s" % rc
        finally:
            if proc is not None:
                kill_group(proc)
            shutil.rmtree(cls.dir, ignore_errors=True)

    def client(self, user, version=5, expect_success=True):
        c = harness.Client(self.port, "%s-%d" % (user, version), version=version)
        c.paho.username_pw_set(user, "any")
        self.addCleanup(c.stop)
        return c.connect(expect_success=expect_success)

    def test_auth_hook_decides_logins(self):
        self.client("dev-alice")
        self.client("dev-alice", version=4)
        denied = self.client("mallory", expect_success=False)
        self.assertEqual(code(denied), 0x86)  # bad user name or password
        denied = self.client("mallory", version=4, expect_success=False)
        self.assertEqual(code(denied), 4)

    def test_publish_hook_tags_messages_and_host_publishes(self):
        sub = self.client("dev-sub")
        sub.subscribe("t/#", qos=1)
        sub.subscribe("embedded/started", qos=1)
        pub = self.client("dev-pub")
        pub.publish("t/1", b"hi", qos=1)
        got = sub.messages.wait_for(2, TIMEOUT)
        by_topic = {m.topic: m for m in got}
        # The host program's own retained publish is not shown to publish hooks.
        self.assertEqual(by_topic["embedded/started"].payload, b"hello")
        self.assertTrue(by_topic["embedded/started"].retain)
        self.assertEqual(by_topic["t/1"].payload, b"[dev-pub] hi")
        self.assertEqual(by_topic["t/1"].qos, 1)


if __name__ == "__main__":
    main()
