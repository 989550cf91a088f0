#!/usr/bin/env python3
"""Runs every command a container or Job in deploy/ runs, here, once.

No container engine runs on the build machines, so this is the next best thing: each
command is taken from the file that declares it (Dockerfile ENTRYPOINT and HEALTHCHECK,
compose.yaml entrypoint/command/healthcheck, the Kubernetes Deployment and CronJob
command/args with their ConfigMap and resource environment) and executed with the same
flags and environment, from a new empty working directory, against the built binaries:

  - image paths are mapped: /usr/local/bin/<program> -> BIN_DIR/<program> (and
    make-certs.sh -> scripts/make-certs.sh), each volume mount point (/data, /models,
    /secrets, ...) -> a directory of its own under a temporary folder, shared by the
    services that share the volume, as compose and the PVCs share them;
  - the fixed ports 50051, 8080 and 9464 -> free ports (other jobs share this machine).

Order: compose certs, trainer, server (until its healthcheck passes; /metrics is saved
to SCRAPE_OUT for the dashboard check), monthly; the Kubernetes Deployment (until the
image's HEALTHCHECK passes, and each gRPC probe's health service answers SERVING), the
monthly CronJob (twice: the second run must skip what the first ingested), the training
CronJob (from the records database). Exits 1 naming the first command that failed, with its output.

  python3 deploy/run_commands.py BIN_DIR SCRAPE_OUT

RECSYS_CHECK_QUICK=1 replaces `--customers N` by `--customers 3000` (a quicker run
while developing; the flags are then not exactly the files').
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAMS = ["recsys", "recsys-server", "recsys-train", "recsys-data"]


def fail(message, output=""):
    print("FAILED:", message)
    if output:
        print("  " + output.strip().replace("\n", "\n  "))
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dockerfile_instruction(text, name):
    """The JSON array of the (last) Dockerfile instruction `name` (continuations joined)."""
    joined = re.sub(r"\\\n", " ", text)
    found = None
    for line in joined.splitlines():
        if line.startswith(name + " "):
            found = line[len(name) + 1:]
    if found is None:
        fail("deploy/Dockerfile has no %s" % name)
    if name == "HEALTHCHECK":
        found = found[found.index("CMD ") + 4:]
    return json.loads(found)


class Sandbox:
    def __init__(self, bin_dir):
        self.tmp = tempfile.mkdtemp(prefix="recsys-deploy-")
        self.image_bin = os.path.join(self.tmp, "image-bin")
        os.makedirs(self.image_bin)
        for p in PROGRAMS:
            target = os.path.join(bin_dir, p)
            if not os.access(target, os.X_OK):
                fail("%s is not built (make build)" % target)
            os.symlink(target, os.path.join(self.image_bin, p))
        os.symlink(os.path.join(ROOT, "scripts", "make-certs.sh"),
                   os.path.join(self.image_bin, "make-certs.sh"))
        self.mounts = {}  # container path -> host path
        self.ports = {"50051": str(free_port()), "9464": str(free_port()),
                      "8080": str(free_port())}
        self.runs = 0

    def mount(self, container_path, volume):
        host = os.path.join(self.tmp, "volumes", volume)
        os.makedirs(host, exist_ok=True)
        self.mounts[container_path] = host

    def translate(self, arg):
        # One pass, so that a mapped path (under /tmp) is never mapped again.
        table = dict(self.mounts)
        table["/usr/local/bin"] = self.image_bin
        alternatives = "|".join(re.escape(p) for p in sorted(table, key=len, reverse=True))
        arg = re.sub(r"(?<![\w./-])(%s)(?=$|[/\s:\"'=,;&|])" % alternatives,
                     lambda m: table[m.group(1)], arg)
        for port, mapped in self.ports.items():
            arg = re.sub(r"(?<=:)%s\b|(?<==)%s\b" % (port, port), mapped, arg)
        if os.environ.get("RECSYS_CHECK_QUICK") == "1":
            arg = re.sub(r"--customers[ =]\d+", "--customers 3000", arg)
        return arg

    def env(self, extra=None):
        env = {"PATH": self.image_bin + ":/usr/bin:/bin", "HOME": self.tmp,
               "LANG": "C.UTF-8"}
        env.update(extra or {})
        return env

    def cwd(self):
        self.runs += 1
        d = os.path.join(self.tmp, "work-%d" % self.runs)
        os.makedirs(d)
        return d

    def run(self, what, argv, env=None, timeout=3600):
        argv = [self.translate(a) for a in argv]
        print("==> %s: %s" % (what, " ".join(argv)))
        p = subprocess.run(argv, cwd=self.cwd(), env=self.env(env),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=timeout)
        if p.returncode != 0:
            fail("%s exited %d" % (what, p.returncode), p.stdout[-4000:])
        return p.stdout

    def start(self, what, argv, env=None):
        argv = [self.translate(a) for a in argv]
        print("==> %s (background): %s" % (what, " ".join(argv)))
        log = open(os.path.join(self.tmp, "%s.log" % re.sub(r"\W", "_", what)), "w+")
        p = subprocess.Popen(argv, cwd=self.cwd(), env=self.env(env),
                             stdout=log, stderr=subprocess.STDOUT)
        return p, log

    def wait_healthy(self, what, server, log, argv, seconds=180):
        argv = [self.translate(a) for a in argv]
        print("==> %s: %s" % (what, " ".join(argv)))
        deadline = time.time() + seconds
        last = ""
        while time.time() < deadline:
            if server.poll() is not None:
                log.seek(0)
                fail("%s: the server exited %d" % (what, server.returncode), log.read()[-4000:])
            p = subprocess.run(argv, cwd=self.cwd(), env=self.env(),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            last = p.stdout
            if p.returncode == 0:
                return
            time.sleep(0.5)
        fail("%s never passed" % what, last)

    def stop(self, server):
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main():
    bin_dir = os.path.abspath(sys.argv[1])
    scrape_out = sys.argv[2]
    box = Sandbox(bin_dir)
    dockerfile = open(os.path.join(ROOT, "deploy", "Dockerfile")).read()
    entrypoint = dockerfile_instruction(dockerfile, "ENTRYPOINT")
    image_healthcheck = dockerfile_instruction(dockerfile, "HEALTHCHECK")
    compose = yaml.safe_load(open(os.path.join(ROOT, "deploy", "compose.yaml")))
    services = compose["services"]

    def service_mounts(service):
        for v in services[service].get("volumes", []):
            volume, path = v.split(":")[:2]
            box.mount(path, volume)

    # --- compose: the one-shot services, then the server ---
    def one_shot(name):
        service_mounts(name)
        s = services[name]
        # compose's $$ is a literal $ in the command.
        command = [a.replace("$$", "$") for a in s["command"]]
        return box.run("compose %s" % name, list(s.get("entrypoint", entrypoint)) + command)

    for name in ("certs", "trainer"):
        one_shot(name)
    service_mounts("server")
    s = services["server"]
    server, log = box.start("compose server", entrypoint + list(s["command"]))
    try:
        test = s["healthcheck"]["test"]
        if test[0] != "CMD":
            fail("compose server healthcheck: expected [\"CMD\", ...], got %r" % test[0])
        box.wait_healthy("compose server healthcheck", server, log, test[1:])
        # Traffic first, so that the series that exist only once rows were scored
        # (the drift PSI gauges need a window of rows) are in the scrape.
        box.run("score the test month through the compose server",
                ["recsys", "score", "--server=localhost:50051", "--tls-ca=/secrets/ca.pem",
                 "--input=/data/test_ver2.csv", "--output=submission.csv",
                 "--progress-seconds=-1"])
        url = "http://127.0.0.1:%s/metrics" % box.ports["9464"]
        with urllib.request.urlopen(url, timeout=10) as r, open(scrape_out, "w") as out:
            out.write(r.read().decode())
        print("    scraped %s into %s" % (url, scrape_out))
    finally:
        box.stop(server)
    # The monthly one-shot, after the test month was scored (its history serves 2016-07).
    out = one_shot("monthly")
    if "history/2016-07" not in out:
        fail("compose monthly published no history for 2016-07", out[-3000:])

    # --- Kubernetes: the Deployment's container, then the training CronJob ---
    k8s = {}
    for f in sorted(os.listdir(os.path.join(ROOT, "deploy", "k8s"))):
        for doc in yaml.safe_load_all(open(os.path.join(ROOT, "deploy", "k8s", f))):
            if doc and "kind" in doc and "metadata" in doc:
                k8s[(doc["kind"], doc["metadata"]["name"])] = doc
    claims = {"recsys-models": "models", "recsys-training-data": "data",
              "recsys-records": "k8s-records"}

    def pod_mounts(pod):
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for c in pod["containers"]:
            for m in c.get("volumeMounts", []):
                v = volumes[m["name"]]
                if "persistentVolumeClaim" in v:
                    box.mount(m["mountPath"], claims[v["persistentVolumeClaim"]["claimName"]])
                else:
                    box.mount(m["mountPath"], "k8s-" + m["name"])

    def container_env(c):
        env = {}
        for source in c.get("envFrom", []):
            env.update(k8s[("ConfigMap", source["configMapRef"]["name"])]["data"])
        for e in c.get("env", []):
            if "value" in e:
                env[e["name"]] = e["value"]
            elif "resourceFieldRef" in e["valueFrom"]:
                ref = e["valueFrom"]["resourceFieldRef"]
                kind, resource = ref["resource"].split(".")
                env[e["name"]] = str(c["resources"][kind][resource])
        return {k: str(v) for k, v in env.items()}

    def expand(args, env):  # Kubernetes' $(VAR) in command and args
        return [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in args]

    pod = k8s[("Deployment", "recsys-server")]["spec"]["template"]["spec"]
    pod_mounts(pod)
    # The Secret the Deployment expects (kubectl create secret ... admin-token).
    shutil.copy(os.path.join(box.mounts["/secrets"], "admin-token"),
                box.mounts["/secrets/admin"])
    c = pod["containers"][0]
    env = container_env(c)
    server, log = box.start("k8s Deployment recsys-server",
                            expand(c["command"] + c.get("args", []), env), env)
    try:
        box.wait_healthy("Dockerfile HEALTHCHECK", server, log, image_healthcheck)
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if "grpc" in c[probe]:
                grpc_probe = c[probe]["grpc"]
                box.run("k8s %s (grpc service %r)" % (probe, grpc_probe["service"]),
                        ["recsys", "health", "--server=localhost:%d" % grpc_probe["port"],
                         "--service=" + grpc_probe["service"]])
                continue
            # kubelet's httpGet: any status from 200 to 399 passes.
            get = c[probe]["httpGet"]
            port = box.ports.get(str(get["port"]), str(get["port"]))
            url = "http://127.0.0.1:%s%s" % (port, get["path"])
            print("==> k8s %s: GET %s" % (probe, url))
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if not 200 <= answer.status < 400:
                        fail("k8s %s: GET %s answered %d" % (probe, url, answer.status))
            except urllib.error.URLError as e:
                fail("k8s %s: GET %s failed: %s" % (probe, url, e))
    finally:
        box.stop(server)

    def cronjob(name):
        job = k8s[("CronJob", name)]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        pod_mounts(job)
        c = job["containers"][0]
        env = container_env(c)
        return box.run("k8s CronJob " + name, expand(c["command"] + c.get("args", []), env), env)

    # The monthly job twice: the second run skips the files it ingested (checksum).
    out = cronjob("recsys-monthly")
    for expected in ("rows read =", "2016-06  train", "history/2016-07"):
        if expected not in out:
            fail("k8s CronJob recsys-monthly: no %r in its output" % expected, out[-3000:])
    out = cronjob("recsys-monthly")
    if "skipped, already ingested" not in out or "rows read =" in out:
        fail("k8s CronJob recsys-monthly ingested again on its second run", out[-3000:])
    out = cronjob("recsys-train")
    if "published" not in out:
        fail("k8s CronJob recsys-train published nothing", out[-2000:])
    shutil.rmtree(box.tmp, ignore_errors=True)
    print("every container and Job command ran")


if __name__ == "__main__":
    main()
