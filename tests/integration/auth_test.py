"""Authentication (password file, `meshmq passwd`) and the ACL file, against the real binary."""
import os
import signal
import subprocess
import tempfile
import time
import unittest

from harness import BrokerTestCase, main, mp
import harness

DIR = tempfile.mkdtemp(prefix="meshmq-auth-")
PASSWORDS = os.path.join(DIR, "passwd")
ACL = os.path.join(DIR, "acl")
SECRET = "s3cret-Pa55word"

ACL_TEXT = """# rules: first match wins
deny subscribe user alice secret/#
allow all user alice alice/#
allow all user alice shared/#
allow all any home/%u/#
allow all any clients/%c/#
allow publish address 127.0.0.0/8 open/#
allow subscribe any open/#
deny all any #
"""


def passwd(*args, password=None):
    return subprocess.run([os.environ["MESHMQ_BIN"], "passwd", *args], input=password,
                          capture_output=True, text=True, timeout=60)


def setUpModule():
    for user, pw in (("alice", SECRET), ("bob", "bob-password")):
        r = passwd(PASSWORDS, user, password=pw + "\n")
        assert r.returncode == 0, r.stderr
    with open(ACL, "w") as f:
        f.write(ACL_TEXT)


class PasswdCommandTest(unittest.TestCase):
    def test_file_is_private_and_holds_no_plaintext(self):
        self.assertEqual(os.stat(PASSWORDS).st_mode & 0o777, 0o600)
        with open(PASSWORDS) as f:
            text = f.read()
        self.assertIn("alice:$pbkdf2-sha512$", text)
        self.assertNotIn(SECRET, text)

    def test_bad_usage_fails_clearly(self):
        r = passwd()
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(r.stderr.strip())


class AuthTest(BrokerTestCase):
    broker_options = {"password_file": PASSWORDS, "acl_file": ACL}

    def connect(self, username=None, password=None, version=5, client_id=None, expect=0):
        r = self.raw(version=version)
        ack = r.connect(client_id or self.cid(), username=username, password=password,
                        expect_reason=None)
        self.assertEqual(ack.reason, expect)
        return r

    def test_good_password_accepted(self):
        self.connect("alice", SECRET)
        self.connect("bob", "bob-password", version=4)

    def test_bad_password_refused(self):
        self.connect("alice", "wrong", expect=0x86)
        self.connect("alice", "wrong", version=4, expect=4)
        self.connect("nobody", "x", expect=0x86)

    def test_anonymous_refused_once_password_file_set(self):
        self.connect(None, None, expect=0x87)
        self.connect(None, None, version=4, expect=5)

    def test_password_never_logged(self):
        self.connect("alice", "wrong-" + SECRET, expect=0x86)
        self.connect("alice", SECRET)
        time.sleep(0.2)
        log = self.broker.read_log()
        self.assertIn("alice", log)  # refusals are logged, by user name
        self.assertNotIn(SECRET, log)

    def subscribe(self, r, topic):
        r.send(mp.subscribe(1, [(topic, 1)], version=r.version))
        ack = r.recv_type(mp.SUBACK)
        return ack.codes[0]

    def test_acl_subscribe(self):
        r = self.connect("alice", SECRET)
        self.assertEqual(self.subscribe(r, "alice/x"), 1)
        self.assertEqual(self.subscribe(r, "secret/plans"), 0x87)  # deny rule first
        self.assertEqual(self.subscribe(r, "bob/x"), 0x87)  # default deny
        self.assertEqual(self.subscribe(r, "home/alice/+"), 1)  # %u
        self.assertEqual(self.subscribe(r, "home/bob/+"), 0x87)
        self.assertEqual(self.subscribe(r, "#"), 1)  # granted, filtered per message (below)
        self.assertEqual(self.subscribe(r, "nobody/+"), 0x87)  # no topic of it is allowed
        self.assertEqual(self.subscribe(r, "$share/g/shared/t"), 1)

    def test_acl_wildcard_subscription_filtered_per_message(self):
        # "#" overlaps allowed and denied topics: it is granted, and each message is checked
        # against alice's subscribe rules, as Mosquitto does (no refusal, no leak).
        alice = self.connect("alice", SECRET)
        self.assertEqual(self.subscribe(alice, "#"), 1)
        bob = self.connect("bob", "bob-password")
        bob.send(mp.publish("home/bob/diary", b"private", qos=1, pid=1))  # bob may publish it
        self.assertEqual(bob.recv_type(mp.PUBACK).pid, 1)
        bob.send(mp.publish("open/news", b"public", qos=1, pid=2))
        self.assertEqual(bob.recv_type(mp.PUBACK).reason, 0)
        got = alice.recv_type(mp.PUBLISH)
        self.assertEqual((got.topic, got.payload), ("open/news", b"public"))

    def test_resumed_session_is_filtered_for_its_new_owner(self):
        # alice's alice/# is granted in full for alice; when bob resumes her session (same client
        # id, clean session off) the subscription is judged again, for bob.
        cid = self.cid()
        alice = self.raw(version=4)
        alice.connect(cid, clean=False, username="alice", password=SECRET)
        self.assertEqual(self.subscribe(alice, "alice/#"), 1)
        self.assertEqual(self.subscribe(alice, "open/#"), 1)
        alice.close()
        bob = self.raw(version=4)
        self.assertEqual(bob.connect(cid, clean=False, username="bob",
                                     password="bob-password").session_present, True)
        pub = self.connect("alice", SECRET)
        pub.send(mp.publish("alice/diary", b"private", qos=1, pid=1))
        pub.recv_type(mp.PUBACK)
        pub.send(mp.publish("open/news", b"public", qos=1, pid=2))
        pub.recv_type(mp.PUBACK)
        got = bob.recv_type(mp.PUBLISH)
        self.assertEqual((got.topic, got.payload), ("open/news", b"public"))

    def test_acl_client_id_substitution(self):
        r = self.connect("bob", "bob-password", client_id="dev42")
        self.assertEqual(self.subscribe(r, "clients/dev42/cmd"), 1)
        self.assertEqual(self.subscribe(r, "clients/dev43/cmd"), 0x87)

    def test_acl_publish_denied_is_dropped_and_acked_0x87(self):
        sub = self.connect("alice", SECRET)
        self.assertEqual(self.subscribe(sub, "open/#"), 1)
        pub = self.connect("bob", "bob-password")
        pub.send(mp.publish("alice/private", b"x", qos=1, pid=7))
        self.assertEqual(pub.recv_type(mp.PUBACK).reason, 0x87)
        pub.send(mp.publish("open/news", b"hello", qos=1, pid=8))  # address rule
        self.assertEqual(pub.recv_type(mp.PUBACK).reason, 0)
        got = sub.recv_type(mp.PUBLISH)
        self.assertEqual((got.topic, got.payload), ("open/news", b"hello"))

    def test_reload_on_sighup(self):
        r = self.connect("alice", SECRET)
        self.assertEqual(self.subscribe(r, "late/topic"), 0x87)
        with open(ACL, "w") as f:
            f.write("allow all user alice late/#\n" + ACL_TEXT)
        self.addCleanup(lambda: open(ACL, "w").write(ACL_TEXT))
        passwd(PASSWORDS, "carol", password="carol-pw\n")
        self.broker.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 5
        while "reloaded" not in self.broker.read_log() and time.time() < deadline:
            time.sleep(0.05)
        r2 = self.connect("alice", SECRET)
        self.assertEqual(self.subscribe(r2, "late/topic"), 1)
        self.connect("carol", "carol-pw")


HIDDEN_ACL = os.path.join(DIR, "acl-hidden")


class HiddenDenialsTest(BrokerTestCase):
    """"hide-denials yes": refusals say 0x80 (MQTT 5 allows not revealing the reason)."""
    broker_options = {"acl_file": HIDDEN_ACL}

    @classmethod
    def setUpClass(cls):
        with open(HIDDEN_ACL, "w") as f:
            f.write("hide-denials yes\ndeny all any test/nosubscribe\nallow all any #\n")
        super().setUpClass()

    def test_denials_carry_unspecified_error(self):
        r = self.raw(version=5)
        r.connect(self.cid())
        r.send(mp.subscribe(1, [("test/nosubscribe", 1), ("test/ok", 1)]))
        self.assertEqual(r.recv_type(mp.SUBACK).codes, [0x80, 1])
        r.send(mp.publish("test/nosubscribe", b"x", qos=1, pid=2))
        self.assertEqual(r.recv_type(mp.PUBACK).reason, 0x80)
        # "#" is granted; the denied topic is filtered out of it.
        r.send(mp.subscribe(3, [("#", 0)]))
        self.assertEqual(r.recv_type(mp.SUBACK).codes, [0])


class AnonymousAllowedTest(BrokerTestCase):
    broker_options = {"password_file": PASSWORDS, "allow_anonymous": "true"}

    def test_explicitly_allowed_anonymous(self):
        r = self.raw()
        self.assertEqual(r.connect(self.cid(), expect_reason=None).reason, 0)
        r2 = self.raw()
        ack = r2.connect(self.cid(), username="alice", password="bad", expect_reason=None)
        self.assertEqual(ack.reason, 0x86)


if __name__ == "__main__":
    main()
