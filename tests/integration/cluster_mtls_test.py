"""Mutual TLS between cluster nodes (--cluster-tls-cert/-key/-ca).

Certificates are made by the test with openssl in a temporary directory: CA "good" signs node1,
node2 and node3's certificates; CA "rogue" signs a certificate for an outsider. Two mTLS nodes
form a cluster and route; a plaintext peer, a peer whose certificate comes from another CA, and a
peer with a good certificate but the wrong shared secret are refused in both directions and can
neither read nor inject routes or publishes.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time

import cluster_harness as ch
from cluster_harness import ClusterTestCase

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
SERVER_NAME = "meshmq-cluster"  # every node certificate carries it (SAN), see docs/security.md


def openssl(*args, cwd):
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


class Pki:
    """A CA and node certificates under one directory."""

    def __init__(self, root, name):
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.ca = os.path.join(self.dir, "ca.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=%s-ca" % name,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)

    def node(self, name):
        """(cert, key) for `name`, valid as TLS server and client, SAN SERVER_NAME + 127.0.0.1."""
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s,IP:127.0.0.1\n"
                    "extendedKeyUsage=serverAuth,clientAuth\n"
                    "basicConstraints=CA:FALSE\n" % SERVER_NAME)
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name,
                cwd=self.dir)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", name + ".pem", "-days", "2", "-extfile", ext,
                cwd=self.dir)
        return os.path.join(self.dir, name + ".pem"), os.path.join(self.dir, name + ".key")


def tls_flags(cert, key, ca):
    return ["--cluster-tls-cert", cert, "--cluster-tls-key", key, "--cluster-tls-ca", ca,
            "--cluster-tls-server-name", SERVER_NAME]


class ClusterMtlsTest(ClusterTestCase):

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="meshmq-mtls-")
        cls.good = Pki(cls.root, "good")
        cls.rogue = Pki(cls.root, "rogue")
        cls.certs = {n: cls.good.node(n) for n in ("node1", "node2", "node3")}
        cls.rogue_cert = cls.rogue.node("node3")
        # The outsider trusts both CAs, so only OUR side's checks can keep it out.
        cls.both_cas = os.path.join(cls.root, "both-cas.pem")
        with open(cls.both_cas, "w") as out:
            for ca in (cls.good.ca, cls.rogue.ca):
                with open(ca) as f:
                    out.write(f.read())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def good_flags(self, node):
        return tls_flags(*self.certs[node.node_id], self.good.ca)

    def test_two_mtls_nodes_form_a_cluster_and_route(self):
        cluster = self.make_cluster(n=2, start=False)
        for n in cluster.nodes:
            n.extra = self.good_flags(n)
        cluster.start()
        n1, n2 = cluster.nodes
        self.assertIn("mutual TLS", n1.node_log())
        sub = self.client(n2)
        sub.subscribe("mtls/t", 1)
        pub = self.client(n1)
        took = self.wait_route(pub, "mtls/t", [sub])
        for i in range(20):
            pub.publish("mtls/t", b"m%d" % i, 1)
        got = [m.payload for m in sub.messages.wait_for(20, ch.TIMEOUT)]
        self.assertEqual(got, [b"m%d" % i for i in range(20)])
        print("\n  mTLS cluster formed, route usable after %.0f ms" % (took * 1000))

    def check_outsider_refused(self, outsider_flags, secret=None):
        """node1 + node2 with mTLS; node3 configured by `outsider_flags` lists them as peers."""
        cluster = self.make_cluster(n=3, start=False)
        n1, n2, n3 = cluster.nodes
        n1.extra, n2.extra = self.good_flags(n1), self.good_flags(n2)
        n3.extra = outsider_flags
        n3.secret = secret
        n1.start()
        n2.start()
        cluster.wait_formed([n1, n2])
        n3.start()
        # The outsider subscribes (it would announce a route) and publishes (it would forward).
        spy = self.client(n3)
        spy.subscribe("mtls/#", 1)
        good_sub = self.client(n2)
        good_sub.subscribe("mtls/data", 1)
        good_pub = self.client(n1)
        self.wait_route(good_pub, "mtls/data", [good_sub])
        routes_before = {n.node_id: {p: n.peer_routes(p) for p in ("node1", "node2")}
                         for n in (n1, n2)}
        injector = self.client(n3)
        deadline = time.monotonic() + 3 * ch.FAILURE_TIMEOUT_MS / 1000  # several dial attempts
        i = 0
        while time.monotonic() < deadline:
            injector.publish("mtls/data", b"injected-%d" % i, 1)
            good_pub.publish("mtls/data", b"good-%d" % i, 1)
            i += 1
            time.sleep(0.05)
        good = [b"good-%d" % k for k in range(i)]
        got = [m.payload for m in good_sub.messages.wait_for(i, ch.TIMEOUT)]
        time.sleep(0.3)  # a late injected message would show up now
        got = [m.payload for m in good_sub.messages.items]
        self.assertEqual(got, good, "the outsider injected publishes or the good ones were lost")
        self.assertEqual([m.payload for m in spy.messages.items if m.payload.startswith(b"good")],
                         [], "the outsider read publishes of the cluster")
        for n in (n1, n2):
            self.assertNotIn("node3", n.peers(), "%s admitted the outsider" % n.node_id)
            self.assertEqual({p: n.peer_routes(p) for p in ("node1", "node2")},
                             routes_before[n.node_id], "routes changed on %s" % n.node_id)
        self.assertEqual(n3.peers(), {}, "the outsider learned about the cluster")
        return cluster

    def test_plaintext_peer_is_refused(self):
        self.check_outsider_refused([])

    def test_peer_with_certificate_from_another_ca_is_refused(self):
        cert, key = self.rogue_cert
        self.check_outsider_refused(tls_flags(cert, key, self.both_cas))

    def test_good_certificate_but_wrong_secret_is_refused(self):
        cluster = self.check_outsider_refused(tls_flags(*self.certs["node3"], self.good.ca),
                                              secret="not-the-secret")
        refused = sum(n.metrics().get("meshmq_cluster_auth_failures_total", 0)
                      for n in cluster.nodes)
        self.assertGreater(refused, 0, "the secret was not checked under mTLS")
        logs = "\n".join(n.node_log() for n in cluster.nodes)
        self.assertTrue(re.search(r"(?i)wrong cluster secret", logs))


if __name__ == "__main__":
    ch.main()
