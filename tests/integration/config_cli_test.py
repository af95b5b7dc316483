#!/usr/bin/python3
"""The meshmq binary's configuration command line: --version, --help, --print-config and errors.

Every case here makes meshmq exit before it starts serving, so no ports are opened.
"""

import json
import os
import subprocess
import tempfile
import unittest

MESHMQ_BIN = os.environ.get("MESHMQ_BIN", "meshmq")


def run(*args, env=None):
    """Runs meshmq with the caller's environment minus MESHMQ_* (CTest sets some), plus `env`."""
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("MESHMQ_")}
    clean_env.update(env or {})
    return subprocess.run([MESHMQ_BIN, *args], env=clean_env, capture_output=True, text=True,
                          timeout=30, check=False)


class ConfigCliTest(unittest.TestCase):
    def test_version(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^meshmq \d+\.\d+\.\d+\S*\n$")
        self.assertEqual(r.stderr, "")

    def test_help_lists_flags_env_and_precedence(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        for text in ("--mqtt-listen", "MESHMQ_MQTT_LISTEN", "\"mqtt_listen\"", "--cluster-secret",
                     "--peers", "--http-listen", "--print-config", "--config FILE",
                     "default: 0.0.0.0:1883", "command-line flags"):
            self.assertIn(text, r.stdout)

    def test_print_config_is_json_with_effective_values_and_hidden_secret(self):
        r = run("--print-config", "--workers=3", "--cluster-secret=hunter2",
                env={"MESHMQ_LOG_LEVEL": "debug", "HOSTNAME": "pod-9"})
        self.assertEqual(r.returncode, 0, r.stderr)
        config = json.loads(r.stdout)
        self.assertEqual(config["workers"], 3)
        self.assertEqual(config["log_level"], "debug")
        self.assertEqual(config["node_id"], "pod-9")
        self.assertEqual(config["cluster_secret"], "***")
        self.assertNotIn("hunter2", r.stdout + r.stderr)

    def test_precedence_file_env_flag(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"workers": 1, "max_inflight": 10, "cluster_name": "from-file"}, f)
        self.addCleanup(os.unlink, f.name)
        r = run("--print-config", "--config", f.name, "--workers=3",
                env={"MESHMQ_WORKERS": "2", "MESHMQ_MAX_INFLIGHT": "20"})
        self.assertEqual(r.returncode, 0, r.stderr)
        config = json.loads(r.stdout)
        self.assertEqual(config["workers"], 3)
        self.assertEqual(config["max_inflight"], 20)
        self.assertEqual(config["cluster_name"], "from-file")

    def test_bad_flag_value_exits_2_with_message_on_stderr(self):
        r = run("--max-inflight", "0")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertEqual(r.stderr.strip(), "meshmq: --max-inflight: value 0 out of range [1, 65535]")

    def test_bad_environment_value(self):
        r = run(env={"MESHMQ_LOG_LEVEL": "loud"})
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr.strip(),
                         "meshmq: MESHMQ_LOG_LEVEL: \"loud\" is not one of "
                         "trace|debug|info|warn|error")

    def test_unknown_flag(self):
        r = run("--mqtt-lisen=:1883")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown flag --mqtt-lisen", r.stderr)

    def test_unknown_config_key(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write('{"mqtt_lisen": ":1883"}')
        self.addCleanup(os.unlink, f.name)
        for args, env in (((f"--config={f.name}",), {}), ((), {"MESHMQ_CONFIG": f.name})):
            r = run(*args, env=env)
            self.assertEqual(r.returncode, 2)
            self.assertEqual(r.stderr.strip(),
                             f"meshmq: config file {f.name}: unknown key \"mqtt_lisen\"")

    def test_secret_not_leaked_by_bad_config_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write('{"cluster_secret": "hunter2')
        self.addCleanup(os.unlink, f.name)
        r = run("--config", f.name)
        self.assertEqual(r.returncode, 2)
        self.assertIn("invalid JSON", r.stderr)
        self.assertNotIn("hunter2", r.stderr + r.stdout)


if __name__ == "__main__":
    unittest.main()
