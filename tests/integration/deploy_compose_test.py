"""docker-compose-cluster.yaml: validated by docker-compose, and its services run for real.

Debian's docker-compose 1.29 validates and normalizes a Compose file without a Docker engine
(`docker-compose config`). The normalized output is checked (3 services built from
deploy/Dockerfile, host ports, node ids, static peers, the secret file), then each service's
environment and command run locally: the compose network's DNS names node1..3 become loopback
IPs 127.0.0.5..7 (one per container, same ports), /run/secrets/<name> the secret's file, and
listen addresses the container IP. The three nodes must form a cluster and route a message.
"""

import os
import subprocess
import tempfile
import unittest

import yaml

import ops_harness as oh

COMPOSE_FILE = os.path.join(oh.SOURCE_DIR, "docker-compose-cluster.yaml")
# Not 127.0.0.2..4: deploy_k8s_test.py uses those with the same ports, and CTest may run both
# at once.
IPS = {"node1": "127.0.0.5", "node2": "127.0.0.6", "node3": "127.0.0.7"}
HOST_PORTS = {"node1": (1883, 8082), "node2": (1884, 8092), "node3": (1885, 8102)}
CONTAINER_PORTS = {"mqtt": 1883, "cluster": 8081, "http": 8082}


def compose_config(extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESHMQ_CLUSTER_SECRET")}
    env.update(extra_env or {})
    out = subprocess.run(["docker-compose", "-f", COMPOSE_FILE, "config"], cwd=oh.SOURCE_DIR,
                         env=env, capture_output=True, text=True, timeout=60)
    return out


class ComposeConfigTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        out = compose_config()
        if out.returncode != 0:
            raise AssertionError("docker-compose config failed: " + out.stderr)
        cls.config = yaml.safe_load(out.stdout)

    def test_three_services_from_the_dockerfile(self):
        services = self.config["services"]
        self.assertEqual(sorted(services), ["node1", "node2", "node3"])
        for name, svc in services.items():
            self.assertEqual(svc["build"]["dockerfile"], "deploy/Dockerfile", name)
            self.assertEqual(os.path.realpath(svc["build"]["context"]),
                             os.path.realpath(oh.SOURCE_DIR))
            self.assertTrue(os.path.isfile(os.path.join(svc["build"]["context"],
                                                        svc["build"]["dockerfile"])))

    def test_published_ports(self):
        for name, (mqtt, http) in HOST_PORTS.items():
            ports = {int(p["published"]): int(p["target"])
                     for p in self.config["services"][name]["ports"]}
            self.assertEqual(ports, {mqtt: 1883, http: 8082}, name)

    def test_node_ids_peers_and_secret(self):
        for name, svc in self.config["services"].items():
            cmd, env = svc["command"], svc["environment"]
            self.assertEqual(cmd[cmd.index("--node-id") + 1], name)
            self.assertEqual(cmd[cmd.index("--cluster-advertise") + 1], name + ":8081")
            self.assertEqual(env["MESHMQ_DISCOVERY"], "static")
            self.assertEqual(sorted(env["MESHMQ_PEERS"].split(",")),
                             ["node1:8081", "node2:8081", "node3:8081"])
            self.assertEqual([s["source"] for s in svc["secrets"]], ["cluster_secret"])
            self.assertEqual(env["MESHMQ_CLUSTER_SECRET_FILE"], "/run/secrets/cluster_secret")
            self.assertNotIn("MESHMQ_CLUSTER_SECRET", env, "secret belongs in a file")
            self.assertEqual(svc["stop_grace_period"], "30s")
        secret = self.config["secrets"]["cluster_secret"]["file"]
        with open(secret) as f:
            self.assertTrue(f.read().strip())

    def test_secret_file_is_overridable(self):
        with tempfile.NamedTemporaryFile("w", suffix=".secret") as f:
            out = compose_config({"MESHMQ_CLUSTER_SECRET_FILE": f.name})
            self.assertEqual(out.returncode, 0, out.stderr)
            config = yaml.safe_load(out.stdout)
            self.assertEqual(config["secrets"]["cluster_secret"]["file"], f.name)


class ComposeRunTest(unittest.TestCase):
    """Each service's environment + command, run as if in its container."""

    def setUp(self):
        out = compose_config()
        self.assertEqual(out.returncode, 0, out.stderr)
        self.config = yaml.safe_load(out.stdout)
        self.procs = oh.Processes()
        self.addCleanup(self.procs.kill_all)
        ips = list(IPS.values())
        self.ports = {k: (p if all(oh.port_free(ip, p) for ip in ips) else oh.free_port(ips))
                      for k, p in CONTAINER_PORTS.items()}

    def localize(self, text, secret_file):
        """Compose DNS names → container IPs, container ports → the ports used here."""
        text = text.replace("/run/secrets/cluster_secret", secret_file)
        for name, ip in IPS.items():
            text = text.replace(name + ":8081", "%s:%d" % (ip, self.ports["cluster"]))
        return text

    def service_node(self, name):
        svc = self.config["services"][name]
        secret = self.config["secrets"]["cluster_secret"]["file"]
        ip = IPS[name]
        data = os.path.join(self.procs.dir, name + "-data")
        os.makedirs(data)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOSTNAME": svc["hostname"]}
        env.update({k: self.localize(str(v), secret) for k, v in svc["environment"].items()})
        env["MESHMQ_DATA_DIR"] = data
        args = [self.localize(a, secret) for a in svc["command"]]
        # The container listens on 0.0.0.0; here each "container" has its own loopback IP.
        args += ["--mqtt-listen", "%s:%d" % (ip, self.ports["mqtt"]),
                 "--http-listen", "%s:%d" % (ip, self.ports["http"]),
                 "--cluster-listen", "%s:%d" % (ip, self.ports["cluster"])]
        return oh.Node(self.procs, name, ip, self.ports["mqtt"], self.ports["http"],
                       self.ports["cluster"], args, env)

    def test_services_form_a_cluster_and_route(self):
        nodes = [self.service_node(n) for n in sorted(IPS)]
        for n in nodes:
            n.start()
        self.assertTrue(oh.wait_cluster_formed(nodes, 30), self.procs.logs())
        for n in nodes:
            self.assertIn('meshmq_build_info{version="', n.get("/metrics")[1])
            self.assertIn('node="%s"' % n.node_id, n.get("/metrics")[1])
        got = oh.route_message(self, nodes[2], nodes[0], "compose/route")
        self.assertIn(b"hello", got, self.procs.logs())


if __name__ == "__main__":
    unittest.main()
