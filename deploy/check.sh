#!/usr/bin/env bash
# Validates everything under deploy/ that can be validated without a container engine:
#   - promtool check config / check rules / test rules (Prometheus 2.42, Debian `prometheus`)
#   - yamllint (deploy/.yamllint, warnings are errors) on every YAML file in deploy/
#   - the Grafana dashboard JSON parses, its queries are valid PromQL and use only
#     recording rules that exist
#   - every alert has a runbook_url whose anchor is a heading in docs/monitoring.md
#   - every command a container or Job runs (Dockerfile, compose.yaml, k8s/) is executed
#     once here, from an empty directory, with the same flags and environment, against
#     the built binaries (deploy/run_commands.py); the compose server's /metrics is
#     scraped on the way
#   - every metric name a dashboard panel queries is in that live scrape or is a
#     recording rule
#   - the runtime image installs the Debian package of every shared library the
#     binaries need
# Runs every check, prints a summary, exits 1 if any failed. Works from any directory.
# Needs the programs built (BIN_DIR, default build/bin).
#
#   bash deploy/check.sh
set -euo pipefail

deploy_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root_dir="$(cd "${deploy_dir}/.." && pwd)"
cd "${root_dir}"

for tool in promtool yamllint python3; do
  if ! command -v "${tool}" >/dev/null 2>&1; then
    echo "check.sh: ${tool} not found (scripts/install-deps installs prometheus and yamllint)" >&2
    exit 2
  fi
done

tmp_dir="$(mktemp -d)"
trap 'rm -rf "${tmp_dir}"' EXIT

passed=()
failed=()

# run NAME CMD...: runs CMD, records NAME as passed or failed; never aborts the script.
run() {
  local name="$1"
  shift
  echo "==> ${name}"
  if "$@"; then
    passed+=("${name}")
  else
    failed+=("${name}")
    echo "FAILED: ${name}" >&2
  fi
  echo
}

shopt -s nullglob
rule_files=(deploy/prometheus/rules/*.yml)
test_files=(deploy/prometheus/tests/*.yml)
dashboards=(deploy/grafana/dashboards/*.json)
shopt -u nullglob
if ((${#rule_files[@]} == 0 || ${#test_files[@]} == 0 || ${#dashboards[@]} == 0)); then
  echo "check.sh: missing rule, test or dashboard files under deploy/" >&2
  exit 1
fi

check_dashboards() {
  local f
  for f in "${dashboards[@]}"; do
    python3 -m json.tool "${f}" >/dev/null || return 1
  done
  echo "${#dashboards[@]} dashboard(s) parse as JSON"
}

# Writes every dashboard query as a recording rule, so promtool parses it, and checks that
# every recsys:* series a dashboard or alert uses is recorded by the recording rules.
check_queries() {
  python3 - "${tmp_dir}/dashboard_queries.yml" "${dashboards[@]}" <<'PY' || return 1
import json, re, sys, yaml

out, dashboards = sys.argv[1], sys.argv[2:]
recorded = set()
for g in yaml.safe_load(open("deploy/prometheus/rules/recording.yml"))["groups"]:
    recorded.update(r["record"] for r in g["rules"])

def walk(panels):
    for p in panels:
        yield p
        yield from walk(p.get("panels", []))

rules, missing = [], []
for path in dashboards:
    for p in walk(json.load(open(path))["panels"]):
        for t in p.get("targets", []):
            expr = t.get("expr")
            if not expr:
                continue
            # Grafana's interval variables are not PromQL; give them a concrete value.
            expr = re.sub(r"\$__(rate_)?interval|\$__range", "5m", expr)
            rules.append({"record": "dashboard:query_%d:check" % len(rules), "expr": expr})
            missing += ["%s: panel %r uses %s" % (path, p.get("title"), n)
                        for n in re.findall(r"recsys:[a-z0-9_]+:[a-z0-9_]+", expr) if n not in recorded]
alerts = yaml.safe_load(open("deploy/prometheus/rules/alerts.yml"))["groups"]
for g in alerts:
    for r in g["rules"]:
        missing += ["alerts.yml: %s uses %s" % (r["alert"], n)
                    for n in re.findall(r"recsys:[a-z0-9_]+:[a-z0-9_]+", r["expr"]) if n not in recorded]
yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, open(out, "w"))
for m in missing:
    print("not a recording rule:", m)
print("%d dashboard queries extracted, %d unknown recording-rule names" % (len(rules), len(missing)))
sys.exit(1 if missing else 0)
PY
  promtool check rules "${tmp_dir}/dashboard_queries.yml"
}

check_runbooks() {
  python3 - <<'PY'
import re, sys, yaml

doc = open("docs/monitoring.md").read()
# GitHub-style anchors of the markdown headings.
anchors = {re.sub(r"[^a-z0-9 _-]", "", h.strip().lower()).replace(" ", "-")
           for h in re.findall(r"^#+ (.+)$", doc, re.M)}
bad, n = [], 0
for g in yaml.safe_load(open("deploy/prometheus/rules/alerts.yml"))["groups"]:
    for r in g["rules"]:
        n += 1
        a = r.get("annotations", {})
        url, sev = a.get("runbook_url", ""), r.get("labels", {}).get("severity")
        if sev not in ("critical", "warning", "info"):
            bad.append("%s: severity %r" % (r["alert"], sev))
        if not a.get("summary") or not a.get("description"):
            bad.append("%s: summary or description missing" % r["alert"])
        if not url.startswith("docs/monitoring.md#") or url.split("#", 1)[1] not in anchors:
            bad.append("%s: runbook_url %r has no heading in docs/monitoring.md" % (r["alert"], url))
for b in bad:
    print(b)
print("%d alerts, %d problems" % (n, len(bad)))
sys.exit(1 if bad else 0)
PY
}

bin_dir="${BIN_DIR:-${root_dir}/build/bin}"
scrape="${tmp_dir}/scrape.txt"

# Every container and Job command, from an empty directory (deploy/run_commands.py).
check_commands() {
  python3 deploy/run_commands.py "${bin_dir}" "${scrape}"
}

# Every metric name in every dashboard query exists in the live scrape (histogram
# samples by their _bucket/_sum/_count names) or is a recording rule.
check_dashboard_metrics() {
  if [[ ! -s "${scrape}" ]]; then
    echo "no scrape of a running server (the container commands check failed)"
    return 1
  fi
  python3 - "${scrape}" "${dashboards[@]}" <<'PY'
import json, re, sys, yaml

scrape, dashboards = sys.argv[1], sys.argv[2:]
known = {"up"}  # made by Prometheus itself
for line in open(scrape):
    if line and not line.startswith("#"):
        known.add(re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
for g in yaml.safe_load(open("deploy/prometheus/rules/recording.yml"))["groups"]:
    known.update(r["record"] for r in g["rules"])
keywords = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
            "offset", "and", "or", "unless", "inf", "nan", "le",
            # aggregation operators (may be followed by "by (...)" before their "(")
            "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
            "count_values", "bottomk", "topk", "quantile"}

def names(expr):
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)        # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)                    # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)                  # ranges
    expr = re.sub(r"\boffset\s+\w+", "", expr)                # offsets
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
                  r"\1", expr)                               # label lists
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        rest = expr[m.end():].lstrip()
        if rest.startswith("(") or m.group(0) in keywords:
            continue                                          # a function or keyword
        if m.start() > 0 and (expr[m.start() - 1] == "$" or expr[m.start() - 1].isdigit()):
            continue                                          # a Grafana variable, 1e-4
        yield m.group(0)

def walk(panels):
    for p in panels:
        yield p
        yield from walk(p.get("panels", []))

bad, n = [], 0
for path in dashboards:
    d = json.load(open(path))
    for p in walk(d["panels"]):
        for t in p.get("targets", []):
            for name in names(t.get("expr", "")):
                n += 1
                if name not in known:
                    bad.append("%s: panel %r queries %s, which no running server exports "
                               "and no recording rule records" % (path, p.get("title"), name))
    for a in d.get("annotations", {}).get("list", []):
        for name in names(a.get("expr", "")):
            n += 1
            if name not in known:
                bad.append("%s: annotation %r queries %s" % (path, a.get("name"), name))
for b in bad:
    print(b)
print("%d metric names in dashboard queries, %d unknown" % (n, len(bad)))
sys.exit(1 if bad else 0)
PY
}

# Every shared library of the built binaries comes from a package the runtime stage of
# the Dockerfile installs (or from the base image: libc, libstdc++, libgcc, ...).
check_runtime_packages() {
  python3 - "${bin_dir}" <<'PY'
import os, re, subprocess, sys

bin_dir = sys.argv[1]
text = re.sub(r"\\\n", " ", open("deploy/Dockerfile").read())
runtime = text[text.index("AS runtime"):]
installed = set(re.search(r"apt-get install -y --no-install-recommends([^&]*)", runtime)
                .group(1).split())
base = {"libc6", "libstdc++6", "libgcc-s1", "zlib1g", "libssl3", "libzstd1", "liblzma5",
        "libbz2-1.0", "libcrypt1", "libselinux1", "libpcre2-8-0"}

# Direct dependencies of every installed package, from the local dpkg database.
listing = subprocess.run(["dpkg-query", "-W", "-f=${Package}\\t${Depends},${Pre-Depends}\\n"],
                         capture_output=True, text=True).stdout
deps = {}
for line in listing.splitlines():
    name, _, fields = line.partition("\t")
    deps[name] = {dep.split("|")[0].split()[0].split(":")[0]
                  for dep in fields.split(",") if dep.strip()}

def depends(package):
    return deps.get(package, set())

# What apt installs for the runtime stage's list: the list and its dependencies.
pulled, todo = set(), list(installed)
while todo:
    p = todo.pop()
    if p not in pulled:
        pulled.add(p)
        todo.extend(depends(p) - pulled)
needs = {}  # library path (symlinks resolved) -> programs
for program in ("recsys-server", "recsys", "recsys-train", "recsys-data"):
    ldd = subprocess.run(["ldd", "%s/%s" % (bin_dir, program)], capture_output=True,
                         text=True).stdout
    for path in re.findall(r"=> (/\S+)", ldd):
        needs.setdefault(os.path.realpath(path), set()).add(program)
# One dpkg -S for all (it searches every package's file list); Debian 12 lists
# libraries under /lib or /usr/lib (merged /usr), so both spellings are asked.
def spellings(path):
    return {path, path.replace("/usr/lib/", "/lib/", 1) if path.startswith("/usr/lib/")
            else path.replace("/lib/", "/usr/lib/", 1)}
asked = sorted(set().union(*(spellings(p) for p in needs)))
owners = {}
for line in subprocess.run(["dpkg", "-S"] + asked, capture_output=True,
                           text=True).stdout.splitlines():
    package, _, path = line.partition(": ")
    owners[path] = package.split(":")[0]
bad = set()
for path, programs in needs.items():
    package = next((owners[p] for p in spellings(path) if p in owners), "?")
    if package not in pulled and package not in base:
        bad.add("%s need %s from %s, which the runtime stage does not install"
                % (", ".join(sorted(programs)), path, package))
for b in sorted(bad):
    print(b)
print("runtime stage installs %d packages (%d with dependencies); %d libraries missing"
      % (len(installed), len(pulled), len(bad)))
sys.exit(1 if bad else 0)
PY
}

run "promtool check config" promtool check config deploy/prometheus/prometheus.yml
run "promtool check rules" promtool check rules "${rule_files[@]}"
run "promtool test rules" promtool test rules "${test_files[@]}"
run "yamllint" yamllint -c deploy/.yamllint --strict deploy/
run "dashboard json" check_dashboards
run "dashboard queries" check_queries
run "alert runbooks" check_runbooks
run "runtime image packages" check_runtime_packages
run "container and Job commands" check_commands
run "dashboard metrics vs live scrape" check_dashboard_metrics

echo "check.sh: ${#passed[@]} passed, ${#failed[@]} failed"
if ((${#failed[@]} > 0)); then
  printf '  failed: %s\n' "${failed[@]}"
  exit 1
fi
