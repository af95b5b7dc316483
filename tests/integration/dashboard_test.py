"""The web dashboard end to end in a real browser: Debian's chromium driven by Playwright
(playwright-core, tests/integration/dashboard/e2e.mjs) against a local 3-node cluster whose admin
API requires a token. Checks: login with the token, the overview lists 3 nodes, a mosquitto_sub
client appears in the client list and is kicked from the page (mosquitto_sub exits), a
mosquitto_pub message appears in the live tail (MQTT over WebSocket from the browser), and a
retained message deleted from the page is gone for a real client subscribing afterwards.
Screenshots of every page are saved under $MESHMQ_BUILD_DIR/dashboard-screenshots.

Without npm or chromium the test is skipped locally, but fails when CI or
MESHMQ_REQUIRE_DASHBOARD_TEST is set (scripts/test.sh sets it after installing chromium): a
missing browser must not look like a pass.
"""

import json
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import cluster_harness
from cluster_harness import ClusterTestCase, free_port, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
E2E = os.path.join(HERE, "dashboard")
CHROMIUM = os.environ.get("MESHMQ_CHROMIUM", "/usr/bin/chromium")
TOKEN = "dashboard-test-token"


def missing_tools():
    missing = [t for t in ("npm", "node", "mosquitto_sub", "mosquitto_pub") if not shutil.which(t)]
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(CHROMIUM)
    return missing


def setUpModule():
    missing = missing_tools()
    if missing:
        if os.environ.get("CI") or os.environ.get("MESHMQ_REQUIRE_DASHBOARD_TEST"):
            raise RuntimeError("dashboard test needs %s (scripts/install-deps.sh installs them)"
                               % ", ".join(missing))
        raise unittest.SkipTest("not installed: %s" % ", ".join(missing))
    # playwright-core from the committed lock file (it never downloads a browser).
    if not os.path.isdir(os.path.join(E2E, "node_modules", "playwright-core")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=E2E, check=True,
                       capture_output=True, timeout=300)


class DashboardTest(ClusterTestCase):
    def test_dashboard_in_chromium(self):
        c = self.make_cluster(start=False, api_token=TOKEN)
        for n in c.nodes:
            n.ws_port = free_port()
            n.extra = ["--ws-listen", "%s:%d" % (n.host, n.ws_port)]
        c.start()
        n1, n2, n3 = c.nodes
        status, body = n1.http("/")
        self.assertEqual(200, status)
        self.assertNotIn("dashboard-missing", body, "this meshmq was built without the dashboard")
        self.assertEqual(401, self.no_token_status(n1))  # the API is closed without the token

        # Traffic for the charts and the topology: node1 -> subscribers on node2 and node3.
        subs = [self.client(n, "traffic-sub-%s" % n.node_id) for n in (n2, n3)]
        for s in subs:
            s.subscribe("traffic/#", 0)
        pub = self.client(n1, "traffic-pub")
        self.wait_route(pub, "traffic/probe", subs)
        # A shared subscription group with members on two nodes.
        for n in (n2, n3):
            self.client(n, "worker-%s" % n.node_id).subscribe("$share/workers/jobs/#", 1)
        stop = threading.Event()

        def traffic():
            while not stop.is_set():
                pub.publish("traffic/load", b"x" * 32, 0, wait=False)
                time.sleep(random.uniform(0.02, 0.08))
        t = threading.Thread(target=traffic, daemon=True)
        t.start()
        self.addCleanup(stop.set)

        # The client to kick: mosquitto_sub on node2.
        kick_id = "dash-kick-me"
        sub = subprocess.Popen(["mosquitto_sub", "-h", n2.host, "-p", str(n2.mqtt_port), "-i",
                                kick_id, "-V", "mqttv5", "-t", "kick/topic/#"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(lambda: sub.poll() is None and sub.kill())
        wait_until(lambda: any(i["client_id"] == kick_id for i in
                               n2.json("/api/v1/clients?prefix=dash")["items"]),
                   what="mosquitto_sub connected")

        # A retained message, set on node3 (replicated to node1, which the browser talks to).
        topic, payload = "dash/retained/room-1", "21.5 degrees"
        subprocess.run(["mosquitto_pub", "-h", n3.host, "-p", str(n3.mqtt_port), "-r", "-q", "1",
                        "-t", topic, "-m", payload], check=True, timeout=10)
        self.assertEqual(payload, self.retained_seen(n1, topic), "retained not set (test broken)")
        for t, p in (("dash/retained/room-2", "19.0 degrees"),
                     ("dash/config/firmware", '{"version": "1.4.2", "channel": "stable"}'),
                     ("dash/status/gateway-7", "online")):  # company for the screenshot
            subprocess.run(["mosquitto_pub", "-h", n1.host, "-p", str(n1.mqtt_port), "-r",
                            "-t", t, "-m", p], check=True, timeout=10)

        shots = os.path.join(os.environ.get("MESHMQ_BUILD_DIR", tempfile.gettempdir()),
                             "dashboard-screenshots")
        profile = tempfile.mkdtemp(prefix="meshmq-chromium-")
        self.addCleanup(shutil.rmtree, profile, True)
        cfg = {
            "base": "http://%s:%d/" % (n1.host, n1.http_port), "token": TOKEN,
            "chromium": CHROMIUM, "profile": profile, "shots": shots,
            "kick_client": kick_id, "kick_topic": "kick/topic/#",
            "shared_group": "workers",
            "retained_prefix": "dash/", "retained_topic": topic, "retained_payload": payload,
            "tail_filter": "dash/tail/#", "tail_topic": "dash/tail/from-mosquitto",
            "tail_payload": "hello from mosquitto_pub", "pub_host": n3.host,
            "pub_port": n3.mqtt_port,
        }
        started = time.monotonic()
        r = subprocess.run(["node", os.path.join(E2E, "e2e.mjs"), json.dumps(cfg)],
                           capture_output=True, text=True, timeout=90)
        sys_out = r.stdout + r.stderr
        self.assertEqual(0, r.returncode, "browser test failed:\n" + sys_out)
        print("browser steps took %.1fs:\n%s" % (time.monotonic() - started, r.stdout))

        # Kicked: mosquitto_sub saw the DISCONNECT and exited; no node lists the client.
        sub.wait(timeout=5)
        clients = n1.json("/api/v1/clients?scope=cluster&prefix=dash")["items"]
        self.assertEqual([], [i for i in clients if i["client_id"] == kick_id])
        # Deleted: a real client subscribing afterwards (on another node) gets no retained message.
        self.assertIsNone(self.retained_seen(n2, topic))
        for name in ("login", "overview", "clients", "clients-detail", "subscriptions",
                     "retained", "retained-detail", "tail"):
            self.assertTrue(os.path.getsize(os.path.join(shots, name + ".png")) > 10000, name)

    @staticmethod
    def no_token_status(node):
        import urllib.error
        import urllib.request
        try:
            urllib.request.urlopen("http://%s:%d/api/v1/nodes" % (node.host, node.http_port),
                                   timeout=2)
            return 200
        except urllib.error.HTTPError as e:
            return e.code

    @staticmethod
    def retained_seen(node, topic):
        """The retained payload a fresh mosquitto_sub gets on `topic`, or None within 2 s."""
        r = subprocess.run(["mosquitto_sub", "-h", node.host, "-p", str(node.mqtt_port),
                            "--retained-only", "-C", "1", "-W", "2", "-t", topic],
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip() if r.returncode == 0 and r.stdout else None


if __name__ == "__main__":
    cluster_harness.main()
