"""The HTTP authentication and ACL backend (docs/extending.md) against a real HTTP service:
python3's http.server with a small handler, started by the test on a free port.

Service rules: login alice/Pa55-good is allowed, root/rootpw is allowed as superuser, user
"forbidden" is denied with reason not_authorized, user "slow" is answered after 3 s; anything
else is denied. ACL: topics under allowed/ are allowed, slow/... is answered after 3 s, the rest
is denied.
"""
import json
import re
import threading
import time
import unittest
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import BrokerTestCase, free_port, main, mp, HOST


class Service:
    """The auth service: counts requests per path and keeps every request body."""

    def __init__(self, status=200):
        self.status = status
        self.requests = []
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the broker reuses connections

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with service.lock:
                    service.requests.append((self.path, body))
                reply = service.decide(self.path, body)
                data = json.dumps(reply).encode()
                self.send_response(service.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://%s:%d%s" % (HOST, self.port, path)

    @staticmethod
    def decide(path, body):
        if path == "/auth":
            user, pw = body.get("username"), body.get("password")
            if user == "slow":
                time.sleep(3)
                return {"result": "allow"}
            if user == "alice" and pw == "Pa55-good":
                return {"result": "allow"}
            if user == "root" and pw == "rootpw":
                return {"result": "allow", "superuser": True}
            if user == "forbidden":
                return {"result": "deny", "reason": "not_authorized"}
            return {"result": "deny"}
        topic = body.get("topic", "")
        if topic.startswith("slow/"):
            time.sleep(3)
        return {"result": "allow" if topic.startswith("allowed/") else "deny"}

    def count(self, path, **match):
        with self.lock:
            return sum(1 for p, b in self.requests
                       if p == path and all(b.get(k) == v for k, v in match.items()))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def metric(http_port, name):
    deadline = time.monotonic() + 5
    while True:
        try:
            text = urllib.request.urlopen("http://%s:%d/metrics" % (HOST, http_port),
                                          timeout=5).read()
            break
        except OSError:  # the HTTP listener starts just after the MQTT one
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    m = re.search(r"^%s (\S+)$" % re.escape(name), text.decode(), re.M)
    return float(m.group(1)) if m else None


class HttpAuthCase(BrokerTestCase):
    service_status = 200
    extra = {}

    def setUp(self):
        self.service = Service(self.service_status)
        self.addCleanup(self.service.stop)
        self.http_port = free_port()
        self.broker_options = dict(self.extra)
        self.broker_options.setdefault("auth_http_url", self.service.url("/auth"))
        self.broker_options.setdefault("acl_http_url", self.service.url("/acl"))
        self.broker_options["http_listen"] = "%s:%d" % (HOST, self.http_port)
        super().setUp()

    def login(self, username, password, version=5, client_id=None, expect=0):
        r = self.raw(version=version)
        ack = r.connect(client_id or self.cid(), username=username, password=password,
                        expect_reason=None)
        self.assertEqual(ack.reason, expect)
        return r

    def subscribe(self, r, topic, pid=1):
        r.send(mp.subscribe(pid, [(topic, 1)], version=r.version))
        return r.recv_type(mp.SUBACK).codes[0]


class LoginAndAclTest(HttpAuthCase):
    def test_login_allow_and_deny_v5_and_v3(self):
        self.login("alice", "Pa55-good")
        self.login("alice", "Pa55-good", version=4)
        self.login("alice", "bad", expect=0x86)
        self.login("alice", "bad", version=4, expect=4)
        self.login("forbidden", "x", expect=0x87)
        self.login("forbidden", "x", version=4, expect=5)
        # What the service was sent; the password travels only to it, never to the log.
        body = [b for p, b in self.service.requests if p == "/auth" and b["password"] == "bad"][0]
        self.assertEqual(body["username"], "alice")
        self.assertEqual(body["address"], "127.0.0.1")
        self.assertIn(body["protocol_version"], (4, 5))
        self.assertTrue(body["clientid"])
        time.sleep(0.1)
        self.assertNotIn("Pa55-good", self.broker.read_log())

    def test_acl_publish_and_subscribe(self):
        sub = self.login("alice", "Pa55-good", client_id="sub1")
        self.assertEqual(self.subscribe(sub, "allowed/#"), 1)
        self.assertEqual(self.subscribe(sub, "denied/#", pid=2), 0x87)
        self.assertEqual(self.service.count("/acl", action="subscribe", topic="allowed/#",
                                            clientid="sub1", username="alice"), 1)
        pub = self.login("alice", "Pa55-good", version=4)
        pub.send(mp.publish("denied/x", b"no", qos=1, pid=5, version=4))
        self.assertIsNotNone(pub.recv_type(mp.PUBACK))  # 3.1.1 acks without a reason
        pub.send(mp.publish("allowed/x", b"yes", qos=1, pid=6, version=4))
        self.assertIsNotNone(pub.recv_type(mp.PUBACK))
        got = sub.recv_type(mp.PUBLISH)
        self.assertEqual((got.topic, got.payload), ("allowed/x", b"yes"))
        v5 = self.login("alice", "Pa55-good")
        v5.send(mp.publish("denied/y", b"no", qos=1, pid=7))
        self.assertEqual(v5.recv_type(mp.PUBACK).reason, 0x87)
        sub.recv_none()
        self.assertEqual(self.service.count("/acl", action="publish", topic="denied/x"), 1)

    def test_superuser_skips_acl(self):
        root = self.login("root", "rootpw")
        self.assertEqual(self.subscribe(root, "denied/#"), 1)
        root.send(mp.publish("denied/z", b"su", qos=1, pid=3))
        got = {p.type: p for p in (root.recv(), root.recv())}  # delivery and PUBACK, any order
        self.assertEqual(got[mp.PUBACK].reason, 0)
        self.assertEqual(got[mp.PUBLISH].payload, b"su")
        self.assertEqual(self.service.count("/acl", username="root"), 0)

    def test_cache_keeps_backend_hits_flat(self):
        pub = self.login("alice", "Pa55-good", client_id="cached")
        for i in range(5):
            pub.send(mp.publish("allowed/c", b"%d" % i, qos=1, pid=10 + i))
            self.assertEqual(pub.recv_type(mp.PUBACK).reason, 0x10)  # no subscribers
        for i in range(3):
            pub.send(mp.publish("denied/c", b"x", qos=1, pid=20 + i))
            self.assertEqual(pub.recv_type(mp.PUBACK).reason, 0x87)
        pub.close()
        self.login("alice", "Pa55-good", client_id="cached")  # same login again
        self.assertEqual(self.service.count("/acl", topic="allowed/c"), 1)
        self.assertEqual(self.service.count("/acl", topic="denied/c"), 1)
        self.assertEqual(self.service.count("/auth", clientid="cached"), 1)
        self.assertGreaterEqual(metric(self.http_port, "meshmq_auth_http_cache_hits_total"), 7)
        self.assertEqual(metric(self.http_port, "meshmq_auth_http_requests_total"),
                         len(self.service.requests))


class CacheTtlTest(HttpAuthCase):
    extra = {"auth_http_cache_ttl_ms": 300}

    def test_entries_expire_after_ttl(self):
        pub = self.login("alice", "Pa55-good")
        pub.send(mp.publish("allowed/t", b"1", qos=1, pid=1))
        pub.recv_type(mp.PUBACK)
        pub.send(mp.publish("allowed/t", b"2", qos=1, pid=2))
        pub.recv_type(mp.PUBACK)
        self.assertEqual(self.service.count("/acl", topic="allowed/t"), 1)
        time.sleep(0.5)
        pub.send(mp.publish("allowed/t", b"3", qos=1, pid=3))
        pub.recv_type(mp.PUBACK)
        self.assertEqual(self.service.count("/acl", topic="allowed/t"), 2)


class SlowBackendTest(HttpAuthCase):
    extra = {"auth_http_timeout_ms": 700}

    def test_timeout_applies_policy_while_node_keeps_serving(self):
        other = self.login("alice", "Pa55-good")
        self.assertEqual(self.subscribe(other, "allowed/live"), 1)
        result = {}

        def slow_login():
            start = time.monotonic()
            r = self.raw()
            result["ack"] = r.connect(self.cid("slow"), username="slow", password="x",
                                      expect_reason=None)
            result["seconds"] = time.monotonic() - start

        t = threading.Thread(target=slow_login)
        t.start()
        time.sleep(0.1)  # the slow login is now waiting on the backend
        # Meanwhile the node serves other clients at once.
        start = time.monotonic()
        other.send(mp.publish("allowed/live", b"ping", qos=1, pid=9))
        self.assertEqual(other.recv_type(mp.PUBLISH).payload, b"ping")
        self.assertLess(time.monotonic() - start, 0.5)
        self.assertNotIn("ack", result)  # still waiting on the backend
        t.join(10)
        self.assertEqual(result["ack"].reason, 0x87)  # deny by default
        self.assertLess(result["seconds"], 2.5)  # the timeout, not the 3 s answer
        self.assertEqual(metric(self.http_port, "meshmq_auth_http_timeouts_total"), 1)

    def test_slow_acl_holds_only_that_client(self):
        slow = self.login("alice", "Pa55-good")
        fast = self.login("alice", "Pa55-good")
        self.assertEqual(self.subscribe(fast, "allowed/f"), 1)
        slow.send(mp.publish("slow/x", b"s", qos=1, pid=1))
        slow.send(mp.publish("allowed/f", b"after", qos=1, pid=2))  # queued behind, in order
        fast.send(mp.publish("allowed/f", b"fast", qos=1, pid=3))
        self.assertEqual(fast.recv_type(mp.PUBLISH, timeout=0.5).payload, b"fast")
        self.assertEqual(slow.recv_type(mp.PUBACK).reason, 0x87)  # timed out: denied
        self.assertEqual(fast.recv_type(mp.PUBLISH).payload, b"after")


class FailingBackendDeniesTest(HttpAuthCase):
    service_status = 500

    def test_http_500_denies(self):
        self.login("alice", "Pa55-good", expect=0x87)
        self.login("alice", "Pa55-good", version=4, expect=5)
        self.assertGreaterEqual(metric(self.http_port, "meshmq_auth_http_errors_total"), 2)


def closed_port_url(path):
    return "http://%s:%d%s" % (HOST, free_port(), path)


class RefusedBackendTest(HttpAuthCase):
    extra = {"auth_http_url": closed_port_url("/auth"), "acl_http_url": closed_port_url("/acl")}

    def test_connection_refused_denies(self):
        self.login("alice", "Pa55-good", expect=0x87)


class RefusedBackendAllowPolicyTest(HttpAuthCase):
    extra = {"auth_http_url": closed_port_url("/auth"), "acl_http_url": closed_port_url("/acl"),
             "auth_http_failure_policy": "allow"}

    def test_connection_refused_allows_when_configured(self):
        r = self.login("alice", "anything")
        self.assertEqual(self.subscribe(r, "denied/x"), 1)
        self.assertGreaterEqual(metric(self.http_port, "meshmq_auth_http_errors_total"), 2)


if __name__ == "__main__":
    main()
