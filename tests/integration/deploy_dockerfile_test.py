"""deploy/Dockerfile, checked without a Docker engine.

- Every package the Dockerfile installs exists in Debian 12 (apt-cache), the build stage installs
  the same -dev packages as scripts/install-deps.sh (minus the test-only GoogleTest/GMock), and
  the runtime stage installs no -dev package.
- Every shared library of the real binary ($MESHMQ_BIN, via ldd) belongs (dpkg -S) to a runtime
  package or to a package apt pulls in with them (their Depends, recursively), or to the base of
  debian:12-slim; and every runtime package provides at least one of those libraries.
- The build context the Dockerfile sees (deploy/Dockerfile.dockerignore) configures with the
  Dockerfile's own CMake flags.
- Image basics: debian:12 / debian:12-slim, uid 10001, ports, entrypoint, binary path.
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import ops_harness as oh

DOCKERFILE = os.path.join(oh.SOURCE_DIR, "deploy", "Dockerfile")
DOCKERIGNORE = DOCKERFILE + ".dockerignore"
INSTALL_DEPS = os.path.join(oh.SOURCE_DIR, "scripts", "install-deps.sh")
# Packages every debian:12-slim image has (libc, and the C++ runtime apt itself links).
SLIM_BASE = {"libc6", "libstdc++6", "libgcc-s1"}
# Build-machine conveniences the image does not need: test frameworks and the compiler cache.
TEST_ONLY = {"libgtest-dev", "libgmock-dev", "ccache"}


def instructions():
    """[(stage, INSTRUCTION, argument text)] with line continuations joined, comments dropped."""
    with open(DOCKERFILE) as f:
        lines = [l for l in f.read().splitlines() if not l.lstrip().startswith("#")]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    args, stage, out = {}, None, []
    for line in text.splitlines():
        if not line.strip():
            continue
        word, _, rest = line.strip().partition(" ")
        word, rest = word.upper(), rest.strip()
        if word == "ARG" and stage is None:
            name, _, value = rest.partition("=")
            args[name] = value
        if word == "FROM":
            rest = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], rest)
            stage = rest.split()[-1] if " AS " in rest.upper() else rest
        out.append((stage, word, rest))
    return out


def from_images():
    return {i[2].split()[-1]: i[2].split()[0] for i in instructions() if i[1] == "FROM"}


def apt_packages(stage):
    pkgs = []
    for st, word, rest in instructions():
        if st == stage and word == "RUN" and "apt-get install" in rest:
            for cmd in rest.split("&&"):
                if "apt-get install" in cmd:
                    tail = cmd.split("install", 1)[1].split()
                    pkgs += [t for t in tail if not t.startswith("-")]
    return pkgs


def install_deps_build_packages():
    with open(INSTALL_DEPS) as f:
        text = f.read()
    block = text.split("# build", 1)[1].split("#", 1)[0]
    return set(block.split())


def packages_of(paths):
    """{path: Debian package owning it}, with one dpkg -S call (the /lib → /usr/lib merge means
    a library may be registered under either spelling)."""
    spellings = {}
    for path in paths:
        for p in {path, os.path.realpath(path)}:
            spellings.setdefault(p, path)
            spellings.setdefault(p[4:] if p.startswith("/usr/") else "/usr" + p, path)
    out = subprocess.run(["dpkg", "-S"] + sorted(spellings), capture_output=True, text=True)
    owners = {}
    for line in out.stdout.splitlines():
        pkgs, _, path = line.partition(": ")
        if path in spellings:
            owners[spellings[path]] = pkgs.split(",")[0].split(":")[0].strip()
    return owners


def depends_closure(packages):
    """The packages plus everything their installed Depends/Pre-Depends pull in."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Depends}, ${Pre-Depends}\n"],
                         capture_output=True, text=True, check=True)
    depends = {}
    for line in out.stdout.splitlines():
        name, _, deps = line.partition("\t")
        depends[name] = [re.sub(r"\(.*?\)", "", alt).strip().split(":")[0]
                         for item in deps.split(",") for alt in item.split("|")]
    seen, todo = set(), list(packages)
    while todo:
        pkg = todo.pop()
        if pkg and pkg not in seen:
            seen.add(pkg)
            todo += depends.get(pkg, [])
    return seen


def ldd_libraries(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True)
    libs = {}
    for line in out.stdout.splitlines():
        if "not found" in line:
            raise AssertionError("ldd: " + line.strip())
        m = re.match(r"\s*(\S+) => (\S+) \(", line)
        if m:
            libs[m.group(1)] = m.group(2)
    return libs


class DockerfileTest(unittest.TestCase):
    def test_stages_user_ports_entrypoint(self):
        images = from_images()
        self.assertEqual(images, {"build": "debian:12", "runtime": "debian:12-slim"})
        runtime = [(w, r) for s, w, r in instructions() if s == "runtime"]
        self.assertIn(("USER", "10001:10001"), runtime)
        exposed = {int(p) for w, r in runtime if w == "EXPOSE" for p in r.split()}
        self.assertEqual(exposed, {1883, 8081, 8082, 8883, 8083})
        self.assertIn(("ENTRYPOINT", '["meshmq"]'), runtime)
        copies = [r for w, r in runtime if w == "COPY"]
        self.assertEqual(copies, ["--from=build /build/src/meshmq /usr/local/bin/meshmq"])
        self.assertEqual([w for w, _ in runtime if w == "HEALTHCHECK"], [])

    def test_packages_exist_and_build_matches_install_deps(self):
        build, runtime = apt_packages("build"), apt_packages("runtime")
        self.assertEqual(set(build), install_deps_build_packages() - TEST_ONLY)
        self.assertEqual([p for p in runtime if p.endswith("-dev")], [])
        # One apt-cache call: each call reloads the package cache (seconds on a busy machine).
        out = subprocess.run(["apt-cache", "show", "--no-all-versions"] + build + runtime,
                             capture_output=True, text=True, timeout=90)
        known = set(re.findall(r"^Package: (\S+)$", out.stdout, re.M))
        self.assertEqual(set(build + runtime) - known, set(), "not Debian 12 packages")

    def test_runtime_packages_cover_every_library(self):
        runtime = set(apt_packages("runtime"))
        provided = depends_closure(runtime | SLIM_BASE)
        libs = ldd_libraries(oh.binary())
        self.assertGreater(len(libs), 10)
        by_path = packages_of(libs.values())
        owners = {}
        for soname, path in libs.items():
            self.assertIn(path, by_path, "no Debian package owns %s" % path)
            pkg = by_path[path]
            owners.setdefault(pkg, []).append(soname)
            self.assertIn(pkg, provided, "%s (%s) is not installed by the runtime stage"
                          % (soname, pkg))
        unused = runtime - set(owners)
        self.assertEqual(unused, set(), "runtime packages the binary does not load")
        print("runtime stage: %d libraries from %d packages" % (len(libs), len(owners)))

    def test_build_context_configures(self):
        cmake = next(r for s, w, r in instructions() if s == "build" and w == "RUN"
                     and r.startswith("cmake "))
        flags = cmake.split("&&")[0].split()
        self.assertIn("-DMESHMQ_TESTS=OFF", flags)
        self.assertIn("-DCMAKE_BUILD_TYPE=Release", flags)
        with open(os.path.join(oh.SOURCE_DIR, "CMakeLists.txt")) as f:
            options = set(re.findall(r"^option\((\w+)", f.read(), re.M))
        for flag in flags:
            m = re.match(r"-D(MESHMQ_\w+)=", flag)
            if m:
                self.assertIn(m.group(1), options)
        with open(DOCKERIGNORE) as f:
            allowed = [l[1:].rstrip("/") for l in f.read().split() if l.startswith("!")]
        with tempfile.TemporaryDirectory(prefix="meshmq-docker-ctx-") as tmp:
            context = os.path.join(tmp, "src")
            os.makedirs(context)
            sources = [r.split()[0] for s, w, r in instructions() if s == "build" and w == "COPY"]
            for src in sources:
                name = src.rstrip("/")
                self.assertIn(name, allowed, "%s is excluded from the build context" % src)
            for name in allowed:
                path = os.path.join(oh.SOURCE_DIR, name)
                if os.path.isdir(path):
                    shutil.copytree(path, os.path.join(context, name),
                                    ignore=shutil.ignore_patterns("node_modules"))
                else:
                    shutil.copy(path, context)
            args = ["-S", context, "-B", os.path.join(tmp, "build")]
            args += [f for f in flags[1:] if f.startswith("-D") or f in ("-G", "Ninja")]
            out = subprocess.run(["cmake"] + args, capture_output=True, text=True, timeout=100)
            self.assertEqual(out.returncode, 0, out.stdout[-3000:] + out.stderr[-3000:])


if __name__ == "__main__":
    unittest.main()
