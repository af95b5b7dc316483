"""A real Prometheus scrapes a 3-node meshmq cluster.

Checks that deploy/prometheus.yml is a valid Prometheus config (promtool), that Prometheus,
using that file's meshmq job with the targets pointed at three local nodes, sees every node up,
and that a PromQL query returns one series per node. Each node's /metrics also passes
`promtool check metrics` with no warnings.
"""

import json
import os
import subprocess
import time
import unittest
import urllib.parse

import yaml

import ops_harness as oh

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
EXAMPLE = os.path.join(oh.SOURCE_DIR, "deploy", "prometheus.yml")


class PrometheusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.procs = oh.Processes()
        try:
            cls.nodes = oh.static_cluster(cls.procs)
            for n in cls.nodes:
                n.start()
            if not oh.wait_cluster_formed(cls.nodes):
                raise AssertionError("cluster did not form\n" + cls.procs.logs())
        except BaseException:
            cls.procs.kill_all()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.procs.kill_all()

    def test_example_config_is_valid(self):
        out = subprocess.run([PROMTOOL, "check", "config", EXAMPLE], capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

    def test_promtool_check_metrics_on_every_node(self):
        for n in self.nodes:
            status, text = n.get("/metrics")
            self.assertEqual(status, 200)
            out = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                                 text=True, timeout=30)
            self.assertEqual(out.returncode, 0, "%s: %s%s" % (n.node_id, out.stdout, out.stderr))
            self.assertEqual((out.stdout + out.stderr).strip(), "", n.node_id)
            self.assertIn('meshmq_cluster_ready 1', text)

    def write_config(self):
        """deploy/prometheus.yml's compose job, retargeted at the local nodes, 1 s interval."""
        with open(EXAMPLE) as f:
            config = yaml.safe_load(f)
        job = next(j for j in config["scrape_configs"] if j["job_name"] == "meshmq")
        job["static_configs"] = [{"targets": ["%s:%d" % (n.host, n.http_port)
                                              for n in self.nodes]}]
        job["scrape_interval"] = "1s"
        job["scrape_timeout"] = "1s"
        config["scrape_configs"] = [job]
        path = os.path.join(self.procs.dir, "prometheus.yml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        return path

    def query(self, port, promql):
        status, body = oh.http_get("127.0.0.1", port, "/api/v1/query?query="
                                   + urllib.parse.quote(promql))
        if status != 200:
            return None
        doc = json.loads(body)
        return doc["data"]["result"] if doc.get("status") == "success" else None

    def test_prometheus_scrapes_every_node(self):
        port = oh.free_port()
        tsdb = os.path.join(self.procs.dir, "tsdb")
        prom = self.procs.start("prometheus", [
            PROMETHEUS, "--config.file=" + self.write_config(), "--storage.tsdb.path=" + tsdb,
            "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"])
        started = time.monotonic()
        ready = oh.wait_until(lambda: oh.http_get("127.0.0.1", port, "/-/ready")[0] == 200, 60,
                              0.2)
        self.assertTrue(ready, "prometheus not ready\n" + self.procs.log(prom))

        instances = {"%s:%d" % (n.host, n.http_port): n.node_id for n in self.nodes}

        def all_up():
            result = self.query(port, 'up{job="meshmq"}')
            if not result or len(result) != 3:
                return None
            return result if all(r["value"][1] == "1" for r in result) else None
        up = oh.wait_until(all_up, 30, 0.3)
        self.assertIsNotNone(up, "targets not up: %s\n%s" % (
            oh.http_get("127.0.0.1", port, "/api/v1/targets")[1], self.procs.log(prom)))
        self.assertEqual({r["metric"]["instance"] for r in up}, set(instances))

        # One series per node, and the node label matches the node scraped at that address.
        build = self.query(port, "meshmq_build_info")
        self.assertEqual(len(build), 3, build)
        for series in build:
            labels = series["metric"]
            self.assertEqual(labels["node"], instances[labels["instance"]], labels)
            self.assertEqual(series["value"][1], "1")
        connections = self.query(port, 'meshmq_connections_open{listener="mqtt"}')
        self.assertEqual({s["metric"]["instance"] for s in connections}, set(instances))
        # Each node knows its two peers as alive.
        alive = self.query(port, 'meshmq_cluster_nodes{state="alive"}')
        self.assertEqual(sorted(s["value"][1] for s in alive), ["2", "2", "2"], alive)
        print("prometheus: 3 targets up, one series per node after %.1fs"
              % (time.monotonic() - started))


if __name__ == "__main__":
    unittest.main()
