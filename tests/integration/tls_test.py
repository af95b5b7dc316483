"""TLS listener end to end: the real binary with --tls-* flags, driven by mosquitto_pub/sub and
openssl s_client; certificates are made per test run with the openssl tool.

Flags used: --tls-listen HOST:PORT, --tls-cert, --tls-key, --tls-ca, --tls-verify-client.
"""

import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness

HOST = harness.HOST
KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


class Pki:
    """CA, other CA, server certificates (valid, expired, from the other CA) and client ones."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="meshmq-tls-")
        for ca, cn in (("ca", "meshmq-test-ca"), ("other-ca", "other-ca")):
            openssl("req", "-x509", *KEY, "-days", "30", "-subj", "/CN=" + cn,
                    "-keyout", self.path(ca + ".key"), "-out", self.path(ca + ".pem"))
        with open(self.path("san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        self.issue("server", "ca", "127.0.0.1", 30, server=True)
        self.issue("server-expired", "ca", "127.0.0.1", -1, server=True)  # notAfter < now
        self.issue("server-other", "other-ca", "127.0.0.1", 30, server=True)
        self.issue("client", "ca", "client-1", 30)
        self.issue("client-other", "other-ca", "client-2", 30)

    def path(self, name):
        return os.path.join(self.dir, name)

    def issue(self, name, ca, cn, days, server=False):
        openssl("req", *KEY, "-subj", "/CN=" + cn, "-keyout", self.path(name + ".key"),
                "-out", self.path(name + ".csr"))
        extra = ["-extfile", self.path("san.ext")] if server else []
        openssl("x509", "-req", "-in", self.path(name + ".csr"), "-CA", self.path(ca + ".pem"),
                "-CAkey", self.path(ca + ".key"), "-CAcreateserial", "-days", str(days),
                "-out", self.path(name + ".pem"), *extra)

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class TlsTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = Pki()

    @classmethod
    def tearDownClass(cls):
        cls.pki.remove()

    def start_broker(self, server="server", **options):
        self.tls_port = harness.free_port()
        opts = {"tls_listen": "%s:%d" % (HOST, self.tls_port),
                "tls_cert": self.pki.path(server + ".pem"),
                "tls_key": self.pki.path(server + ".key")}
        opts.update(options)
        broker = harness.Broker(opts).start()
        self.addCleanup(broker.remove_files)
        self.addCleanup(broker.stop)
        self.broker = broker
        return broker

    def tool(self, name, ca, *args, timeout=20):
        cmd = [name, "-h", HOST, "-p", str(self.tls_port), "--cafile", self.pki.path(ca)]
        return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout)

    def client_cert(self, name):
        return ["--cert", self.pki.path(name + ".pem"), "--key", self.pki.path(name + ".key")]

    def assert_round_trip(self, ca="ca.pem", extra=()):
        pub = self.tool("mosquitto_pub", ca, *extra, "-t", "tls/r", "-m", "hello", "-r", "-q", "1")
        self.assertEqual(pub.returncode, 0, pub.stderr)
        sub = self.tool("mosquitto_sub", ca, *extra, "-t", "tls/r", "-C", "1", "-W", "10")
        self.assertEqual(sub.returncode, 0, sub.stderr)
        self.assertEqual(sub.stdout, "hello\n")

    def assert_refused(self, ca="ca.pem", extra=()):
        pub = self.tool("mosquitto_pub", ca, *extra, "-t", "t", "-m", "x", "-q", "1")
        self.assertNotEqual(pub.returncode, 0, pub.stdout + pub.stderr)


class ServerCertificateTest(TlsTestCase):
    def test_pub_sub_with_trusted_ca(self):
        self.start_broker()
        self.assert_round_trip()

    def test_other_ca_refuses_the_server(self):
        self.start_broker()
        self.assert_refused(ca="other-ca.pem")

    def test_expired_server_certificate_is_refused(self):
        self.start_broker(server="server-expired")
        self.assert_refused()

    def test_tls_1_1_is_refused(self):
        self.start_broker()
        base = ["openssl", "s_client", "-connect", "%s:%d" % (HOST, self.tls_port),
                "-CAfile", self.pki.path("ca.pem")]
        # SECLEVEL=0 lets the client offer TLS 1.1, so only the server can refuse it.
        old = subprocess.run(base + ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], input="",
                             capture_output=True, text=True, timeout=10)
        self.assertNotEqual(old.returncode, 0)
        self.assertIn("alert protocol version", old.stdout + old.stderr)
        ok = subprocess.run(base + ["-tls1_2"], input="", capture_output=True, text=True,
                            timeout=10)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertIn("Verify return code: 0 (ok)", ok.stdout)

    def test_plain_mqtt_listener_still_works(self):
        broker = self.start_broker()
        sub = subprocess.run(["mosquitto_pub", "-h", HOST, "-p", str(broker.port), "-t", "p",
                              "-m", "x"], capture_output=True, text=True, timeout=10)
        self.assertEqual(sub.returncode, 0, sub.stderr)


class ClientCertificateTest(TlsTestCase):
    def setUp(self):
        self.start_broker(tls_ca=self.pki.path("ca.pem"), tls_verify_client=True)

    def test_certificate_from_ca_is_accepted(self):
        self.assert_round_trip(extra=self.client_cert("client"))

    def test_missing_certificate_is_refused(self):
        self.assert_refused()

    def test_certificate_from_other_ca_is_refused(self):
        self.assert_refused(extra=self.client_cert("client-other"))


class ReloadTest(TlsTestCase):
    def test_sighup_reloads_certificates_and_keeps_connections(self):
        live = tempfile.mkdtemp(prefix="meshmq-tls-live-")
        self.addCleanup(shutil.rmtree, live, True)
        cert, key = os.path.join(live, "live.pem"), os.path.join(live, "live.key")
        shutil.copy(self.pki.path("server.pem"), cert)
        shutil.copy(self.pki.path("server.key"), key)
        broker = self.start_broker(tls_cert=cert, tls_key=key)
        old = subprocess.Popen(["mosquitto_sub", "-h", HOST, "-p", str(self.tls_port), "--cafile",
                                self.pki.path("ca.pem"), "-t", "reload", "-W", "30", "-q", "1"],
                               stdout=subprocess.PIPE)
        self.addCleanup(lambda: old.poll() is None and old.kill())
        received = bytearray()

        def wait_for(line, publish=None, timeout=20):
            # mosquitto_sub has no ready signal: publish (again) until the line comes through.
            deadline = time.monotonic() + timeout
            while line not in received.decode(errors="replace").splitlines():
                self.assertLess(time.monotonic(), deadline, "no %r, got %r" % (line, received))
                if publish:
                    publish()
                ready, _, _ = select.select([old.stdout], [], [], 0.5)
                if ready:
                    chunk = os.read(old.stdout.fileno(), 4096)
                    self.assertTrue(chunk, "mosquitto_sub exited")
                    received.extend(chunk)

        wait_for("probe", lambda: self.tool("mosquitto_pub", "ca.pem", "-t", "reload", "-m",
                                            "probe", "-q", "1"))

        shutil.copy(self.pki.path("server-other.pem"), cert)
        shutil.copy(self.pki.path("server-other.key"), key)
        os.kill(broker.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "reloaded" not in broker.read_log() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("reloaded", broker.read_log())

        self.assert_refused(ca="ca.pem")  # new handshakes present the new certificate
        pub = self.tool("mosquitto_pub", "other-ca.pem", "-t", "reload", "-m", "new", "-q", "1")
        self.assertEqual(pub.returncode, 0, pub.stderr)
        wait_for("new")  # the connection made before the reload still works
        self.assertIsNone(old.poll())
        self.assertTrue(broker.alive())


if __name__ == "__main__":
    unittest.main(verbosity=2)
