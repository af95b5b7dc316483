"""The Kubernetes manifests in k8s/: their structure, and their container command run for real.

No Kubernetes exists here, so the test does what the kubelet would do for three pods of the
StatefulSet on one machine: downward-API env from each env entry's fieldPath, $(VAR) expansion
of args exactly as Kubernetes does it, volumes materialized in a temp dir (ConfigMap and Secret
keys as files, the volume claim as an empty dir) and mount paths mapped onto it. Only what one
machine cannot share is changed: each pod gets its own loopback IP (127.0.0.2..4, like a pod IP)
with the same ports, so listen addresses 0.0.0.0 become the pod IP; and the cluster DNS is a
dnsmasq serving the headless Service's name, passed with an extra --dns-server flag.
"""

import glob
import json
import os
import re
import unittest

import yaml

import ops_harness as oh

K8S_DIR = os.path.join(oh.SOURCE_DIR, "k8s")
DOCKERFILE = os.path.join(oh.SOURCE_DIR, "deploy", "Dockerfile")
NAMESPACE = "test"
POD_IPS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
DRAIN_BUDGET_S = 25  # what shutdown_test.py allows meshmq for its drain


def load_manifests():
    """{file name: [documents]} for every YAML file in k8s/."""
    docs = {}
    for path in sorted(glob.glob(os.path.join(K8S_DIR, "*.yaml"))):
        with open(path) as f:
            docs[os.path.basename(path)] = [d for d in yaml.safe_load_all(f) if d]
    return docs


def expand(text, env):
    """Kubernetes $(VAR) expansion: $$ is a literal $, unknown $(VAR) is left as written."""
    def repl(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", repl, text)


def labels_match(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


class Manifests:
    def __init__(self):
        self.files = load_manifests()
        self.by_kind = {}
        for docs in self.files.values():
            for d in docs:
                self.by_kind.setdefault(d["kind"], []).append(d)

    def one(self, kind, name=None):
        items = [d for d in self.by_kind.get(kind, [])
                 if name is None or d["metadata"]["name"] == name]
        assert len(items) == 1, "want one %s %s, found %d" % (kind, name or "", len(items))
        return items[0]

    @property
    def statefulset(self):
        return self.one("StatefulSet")

    @property
    def pod_spec(self):
        return self.statefulset["spec"]["template"]["spec"]

    @property
    def container(self):
        containers = self.pod_spec["containers"]
        assert len(containers) == 1
        return containers[0]

    def port(self, name_or_number):
        if isinstance(name_or_number, int):
            return name_or_number
        for p in self.container["ports"]:
            if p["name"] == name_or_number:
                return p["containerPort"]
        raise AssertionError("container has no port named %r" % name_or_number)


def arg_after(args, flag):
    i = args.index(flag)
    return args[i + 1]


class StructureTest(unittest.TestCase):
    def setUp(self):
        self.m = Manifests()

    def test_kustomization_lists_every_manifest(self):
        kust = self.m.one("Kustomization")
        files = set(self.m.files) - {"kustomization.yaml"}
        self.assertEqual(set(kust["resources"]), files)
        self.assertEqual(len(kust["resources"]), len(files), "duplicates in resources")
        kinds = sorted(k for k in self.m.by_kind for _ in self.m.by_kind[k])
        self.assertEqual(kinds, ["ConfigMap", "Kustomization", "PodDisruptionBudget", "Secret",
                                 "Service", "Service", "StatefulSet"])

    def test_services(self):
        sts = self.m.statefulset
        pod_labels = sts["spec"]["template"]["metadata"]["labels"]
        headless = self.m.one("Service", sts["spec"]["serviceName"])
        self.assertEqual(headless["spec"]["clusterIP"], "None")
        self.assertIs(headless["spec"]["publishNotReadyAddresses"], True)
        self.assertTrue(labels_match(headless["spec"]["selector"], pod_labels))
        ports = {p["name"]: p for p in headless["spec"]["ports"]}
        self.assertEqual(ports["cluster"]["port"], 8081)
        self.assertEqual(self.m.port(ports["cluster"]["targetPort"]), 8081)

        client = [s for s in self.m.by_kind["Service"] if s is not headless]
        self.assertEqual(len(client), 1)
        spec = client[0]["spec"]
        self.assertNotEqual(spec.get("clusterIP"), "None")
        self.assertFalse(spec.get("publishNotReadyAddresses", False),
                         "clients must only reach ready pods")
        self.assertTrue(labels_match(spec["selector"], pod_labels))
        by_port = {p["port"]: self.m.port(p["targetPort"]) for p in spec["ports"]}
        self.assertEqual(by_port, {1883: 1883, 8082: 8082})

    def test_statefulset_and_pdb(self):
        sts = self.m.statefulset
        spec = sts["spec"]
        self.assertEqual(spec["replicas"], 3)
        pod_labels = spec["template"]["metadata"]["labels"]
        self.assertTrue(labels_match(spec["selector"]["matchLabels"], pod_labels))
        pdb = self.m.one("PodDisruptionBudget")
        self.assertEqual(pdb["apiVersion"], "policy/v1")
        self.assertEqual(pdb["spec"]["maxUnavailable"], 1)
        self.assertTrue(labels_match(pdb["spec"]["selector"]["matchLabels"], pod_labels))
        anti = self.m.pod_spec["affinity"]["podAntiAffinity"]
        term = anti["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]
        self.assertEqual(term["topologyKey"], "kubernetes.io/hostname")
        self.assertTrue(labels_match(term["labelSelector"]["matchLabels"], pod_labels))

    def test_probes(self):
        c = self.m.container
        ready, live = c["readinessProbe"]["httpGet"], c["livenessProbe"]["httpGet"]
        self.assertEqual((ready["path"], self.m.port(ready["port"])), ("/readyz", 8082))
        self.assertEqual((live["path"], self.m.port(live["port"])), ("/healthz", 8082))

    def test_downward_api_and_args(self):
        c = self.m.container
        fields = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in c["env"]}
        self.assertEqual(fields, {"POD_NAME": "metadata.name",
                                  "POD_NAMESPACE": "metadata.namespace",
                                  "POD_IP": "status.podIP"})
        args = c["args"]
        self.assertEqual(arg_after(args, "--node-id"), "$(POD_NAME)")
        self.assertEqual(arg_after(args, "--cluster-advertise"), "$(POD_IP):8081")
        self.assertEqual(arg_after(args, "--discovery"), "dns")
        self.assertEqual(arg_after(args, "--dns-name"),
                         "%s.$(POD_NAMESPACE).svc.cluster.local"
                         % self.m.statefulset["spec"]["serviceName"])
        self.assertNotIn("--cluster-secret", args, "secrets belong in files, not in `ps`")

    def test_volumes_back_every_path_in_args(self):
        c, pod = self.m.container, self.m.pod_spec
        mounts = {v["mountPath"]: v["name"] for v in c["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        claims = {t["metadata"]["name"] for t in self.m.statefulset["spec"]["volumeClaimTemplates"]}
        data_dir = arg_after(c["args"], "--data-dir")
        self.assertIn(mounts[data_dir], claims)
        self.assertEqual(arg_after(c["args"], "--storage"), "rocksdb",
                         "the volume claim is only useful to the on-disk store")
        config = arg_after(c["args"], "--config")
        vol = volumes[mounts[os.path.dirname(config)]]
        cm = self.m.one("ConfigMap", vol["configMap"]["name"])
        json.loads(cm["data"][os.path.basename(config)])
        secret_file = arg_after(c["args"], "--cluster-secret-file")
        vol = volumes[mounts[os.path.dirname(secret_file)]]
        secret = self.m.one("Secret", vol["secret"]["secretName"])
        self.assertIn(os.path.basename(secret_file), secret["stringData"])

    def test_grace_period_covers_prestop_and_drain(self):
        pre = self.m.container["lifecycle"]["preStop"]["exec"]["command"]
        self.assertEqual(pre[0], "sleep")
        sleep_s = int(pre[1])
        self.assertGreaterEqual(sleep_s, 2, "endpoints need a few seconds to update")
        grace = self.m.pod_spec["terminationGracePeriodSeconds"]
        self.assertGreaterEqual(grace, sleep_s + DRAIN_BUDGET_S)

    def test_security_and_resources(self):
        pod_sc, c = self.m.pod_spec["securityContext"], self.m.container
        self.assertIs(pod_sc["runAsNonRoot"], True)
        with open(DOCKERFILE) as f:
            user = re.findall(r"^USER\s+(\d+)", f.read(), re.M)
        self.assertEqual(user, [str(pod_sc["runAsUser"])], "pod uid must match the image's USER")
        sc = c["securityContext"]
        self.assertIs(sc["readOnlyRootFilesystem"], True)
        self.assertIs(sc["allowPrivilegeEscalation"], False)
        for kind in ("requests", "limits"):
            self.assertEqual(set(c["resources"][kind]), {"cpu", "memory"})


class PodsTest(unittest.TestCase):
    """Three simulated pods run the StatefulSet's container spec and form a cluster."""

    def setUp(self):
        self.m = Manifests()
        self.procs = oh.Processes()
        self.addCleanup(self.procs.kill_all)
        headless = self.m.statefulset["spec"]["serviceName"]
        self.dns_name = "%s.%s.svc.cluster.local" % (headless, NAMESPACE)
        self.dns = oh.Dnsmasq(self.procs, "cluster.local",
                              [(self.dns_name, ip) for ip in POD_IPS]).start()
        # Same ports on every pod, as in Kubernetes; only if another process on this machine
        # holds one on a pod IP, a common free port stands in for it.
        self.ports = {}
        for p in self.m.container["ports"]:
            port = p["containerPort"]
            if not all(oh.port_free(ip, port) for ip in POD_IPS):
                self.ports[port] = oh.free_port(POD_IPS)

    def local_port(self, port):
        return self.ports.get(port, port)

    def materialize_volumes(self, pod_dir):
        """{mountPath: local dir} with the ConfigMap/Secret keys written as files."""
        volumes = {v["name"]: v for v in self.m.pod_spec["volumes"]}
        mounts = {}
        for vm in self.m.container["volumeMounts"]:
            local = os.path.join(pod_dir, vm["name"])
            os.makedirs(local)
            vol = volumes.get(vm["name"])
            files = {}
            if vol and "configMap" in vol:
                files = self.m.one("ConfigMap", vol["configMap"]["name"])["data"]
            elif vol and "secret" in vol:
                files = self.m.one("Secret", vol["secret"]["secretName"])["stringData"]
            for key, text in files.items():
                with open(os.path.join(local, key), "w") as f:
                    f.write(text)
            mounts[vm["mountPath"]] = local
        return mounts

    def rewrite_listen(self, value, pod_ip):
        host, port = value.rsplit(":", 1)
        if host == "0.0.0.0":
            host = pod_ip
        return "%s:%d" % (host, self.local_port(int(port)))

    def pod_command(self, index):
        name, ip = "%s-%d" % (self.m.statefulset["metadata"]["name"], index), POD_IPS[index]
        pod_dir = os.path.join(self.procs.dir, name)
        mounts = self.materialize_volumes(pod_dir)
        downward = {"metadata.name": name, "metadata.namespace": NAMESPACE, "status.podIP": ip}
        env = {}
        for e in self.m.container["env"]:
            if "valueFrom" in e:
                env[e["name"]] = downward[e["valueFrom"]["fieldRef"]["fieldPath"]]
            else:
                env[e["name"]] = expand(e["value"], env)
        args = [expand(a, env) for a in self.m.container["args"]]
        for i, a in enumerate(args):
            for mount, local in mounts.items():
                if a == mount or a.startswith(mount + "/"):
                    args[i] = local + a[len(mount):]
            m = re.fullmatch(r"(%s):(\d+)" % re.escape(ip), args[i])
            if m:
                args[i] = "%s:%d" % (ip, self.local_port(int(m.group(2))))
        config_path = arg_after(args, "--config")
        with open(config_path) as f:
            config = json.load(f)
        for key in ("mqtt_listen", "http_listen", "cluster_listen"):
            config[key] = self.rewrite_listen(config[key], ip)
        with open(config_path, "w") as f:
            json.dump(config, f)
        args += ["--dns-server", self.dns.server]
        process_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOSTNAME": name}
        process_env.update(env)
        node = oh.Node(self.procs, name, ip, self.local_port(1883), self.local_port(8082),
                       self.local_port(8081), args, process_env)
        node.config = config
        return node

    def test_three_pods_form_a_cluster_and_route(self):
        pods = [self.pod_command(i) for i in range(3)]
        for p in pods:
            p.start()
        self.assertTrue(oh.wait_cluster_formed(pods, 40), self.procs.logs())
        for p in pods:
            doc = p.json("/api/v1/nodes")
            by_id = {n["node_id"]: n for n in doc["nodes"]}
            self.assertEqual(set(by_id), {"meshmq-0", "meshmq-1", "meshmq-2"})
            self.assertTrue(by_id[p.node_id]["self"])
            for other in pods:
                self.assertEqual(by_id[other.node_id]["address"],
                                 "%s:%d" % (other.host, other.cluster_port))
            # The probes exactly as the kubelet sends them.
            for probe in ("readinessProbe", "livenessProbe"):
                get = self.m.container[probe]["httpGet"]
                port = self.local_port(self.m.port(get["port"]))
                self.assertEqual(oh.http_get(p.host, port, get["path"])[0], 200, probe)
        got = oh.route_message(self, pods[1], pods[0], "k8s/route")
        self.assertIn(b"hello", got, self.procs.logs())


if __name__ == "__main__":
    unittest.main()
