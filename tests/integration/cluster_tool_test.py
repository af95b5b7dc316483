"""scripts/start-cluster.sh, scripts/stop-cluster.sh and meshmq-cluster-test, end to end.

The scripts' fixed ports are shifted with MESHMQ_PORT_OFFSET so that parallel tests (or a
developer's own cluster on 1883-1885) are never disturbed.
"""

import os
import random
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

SOURCE = os.environ.get("MESHMQ_SOURCE_DIR",
                        os.path.dirname(os.path.dirname(os.path.dirname(
                            os.path.abspath(__file__)))))
START = os.path.join(SOURCE, "scripts", "start-cluster.sh")
STOP = os.path.join(SOURCE, "scripts", "stop-cluster.sh")


def cluster_test_binary():
    build = os.environ.get("MESHMQ_BUILD_DIR")
    if not build:
        raise RuntimeError("MESHMQ_BUILD_DIR is not set")
    path = os.path.join(build, "src", "tools", "cluster_test", "meshmq-cluster-test")
    if not os.access(path, os.X_OK):
        raise RuntimeError("%s missing: build the meshmq-cluster-test target" % path)
    return path


def read(path):
    with open(path) as f:
        return f.read()


def ports(offset):
    return ([1882 + i + offset for i in (1, 2, 3)] + [8071 + 10 * i + offset for i in (1, 2, 3)]
            + [8072 + 10 * i + offset for i in (1, 2, 3)])


def free_offset():
    for _ in range(100):
        offset = random.randint(10000, 22000)  # all ports below the ephemeral range
        try:
            for p in ports(offset):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            return offset
        except OSError:
            continue
    raise RuntimeError("no free port range")


class ClusterToolTest(unittest.TestCase):

    def setUp(self):
        self.run_dir = tempfile.mkdtemp(prefix="meshmq-tool-")
        self.offset = free_offset()
        self.env = dict(os.environ, MESHMQ_RUN_DIR=self.run_dir,
                        MESHMQ_PORT_OFFSET=str(self.offset))
        self.env.pop("MESHMQ_CLUSTER_SECRET", None)
        if not os.environ.get("MESHMQ_BIN"):
            raise RuntimeError("MESHMQ_BIN is not set")
        self.addCleanup(self.kill_leftovers)

    def kill_leftovers(self):
        """Even if the test failed half-way: stop via the script, then SIGKILL what is left."""
        subprocess.run([STOP], env=dict(self.env, MESHMQ_STOP_TIMEOUT="3"),
                       capture_output=True, timeout=30)
        for name in os.listdir(self.run_dir):
            if name.endswith(".pid"):
                try:
                    os.kill(int(read(os.path.join(self.run_dir, name))), signal.SIGKILL)
                except (OSError, ValueError):
                    pass

    def script(self, path, env=None, timeout=90):
        r = subprocess.run([path], env=env or self.env, capture_output=True, text=True,
                           timeout=timeout)
        sys_out = "exit %d\nstdout:\n%s\nstderr:\n%s" % (r.returncode, r.stdout, r.stderr)
        return r, sys_out

    def pids(self):
        out = {}
        for i in (1, 2, 3):
            path = os.path.join(self.run_dir, "node%d.pid" % i)
            if os.path.exists(path):
                out[i] = int(read(path))
        return out

    def test_start_check_stop_idempotent(self):
        start = time.monotonic()
        r, out = self.script(START)
        self.assertEqual(r.returncode, 0, out)
        print("\n  start-cluster.sh: cluster formed in %.1f s" % (time.monotonic() - start))
        p = ports(self.offset)
        for i in range(3):
            self.assertIn("node%d" % (i + 1), r.stdout)
            self.assertIn("127.0.0.1:%d" % p[i], r.stdout)
            self.assertIn(os.path.join(self.run_dir, "node%d.log" % (i + 1)), r.stdout)
        secret = os.path.join(self.run_dir, "cluster.secret")
        self.assertEqual(stat.S_IMODE(os.stat(secret).st_mode), 0o600)
        self.assertGreaterEqual(len(read(secret).strip()), 32)
        pids = self.pids()
        self.assertEqual(sorted(pids), [1, 2, 3])

        # Second start: nothing new, says so, exit 0.
        r, out = self.script(START)
        self.assertEqual(r.returncode, 0, out)
        self.assertIn("already running", r.stdout)
        self.assertEqual(self.pids(), pids)

        # Cross-node checks against the scripted cluster.
        addr = ["--pub", "127.0.0.1:%d" % p[0], "--sub", "127.0.0.1:%d" % p[1],
                "--third", "127.0.0.1:%d" % p[2]]
        t = subprocess.run([cluster_test_binary()] + addr, capture_output=True, text=True,
                           timeout=120)
        print("  meshmq-cluster-test:\n    " + "\n    ".join(t.stdout.splitlines()))
        self.assertEqual(t.returncode, 0, t.stdout + t.stderr)
        self.assertRegex(t.stdout, r"\n[1-9][0-9]* passed, 0 failed\n")
        self.assertNotIn("FAIL", t.stdout)

        # A node that died is started again; the others are left alone.
        os.kill(pids[2], signal.SIGKILL)
        time.sleep(0.2)
        r, out = self.script(START)
        self.assertEqual(r.returncode, 0, out)
        self.assertIn("started node2;", r.stdout)
        new_pids = self.pids()
        self.assertEqual((new_pids[1], new_pids[3]), (pids[1], pids[3]))
        self.assertNotEqual(new_pids[2], pids[2])
        pids = new_pids

        # Stop: processes gone, pid files removed; a second stop is a no-op.
        r, out = self.script(STOP)
        self.assertEqual(r.returncode, 0, out)
        for pid in pids.values():
            self.assertFalse(os.path.exists("/proc/%d" % pid) and
                             "zombie" not in read("/proc/%d/status" % pid).lower(),
                             "node pid %d still running" % pid)
        self.assertEqual(self.pids(), {})
        r, out = self.script(STOP)
        self.assertEqual(r.returncode, 0, out)
        self.assertIn("no node running", r.stdout)

    def test_cluster_test_fails_without_cluster(self):
        p = ports(self.offset)
        t = subprocess.run([cluster_test_binary(), "--pub", "127.0.0.1:%d" % p[0],
                            "--sub", "127.0.0.1:%d" % p[1], "--third", "127.0.0.1:%d" % p[2],
                            "--timeout-ms", "500"], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(t.returncode, 0)
        self.assertRegex(t.stdout, r"\n0 passed, [1-9][0-9]* failed\n")

    def test_port_in_use_is_reported(self):
        p = ports(self.offset)
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", p[4]))  # node2's cluster port
        blocker.listen()
        self.addCleanup(blocker.close)
        r, out = self.script(START)
        self.assertEqual(r.returncode, 1, out)
        self.assertIn("port %d" % p[4], r.stderr)
        self.assertIn("python", r.stderr)  # ss names the process holding it
        self.assertEqual(self.pids(), {}, "nodes started despite the conflict")


if __name__ == "__main__":
    unittest.main(verbosity=2)
