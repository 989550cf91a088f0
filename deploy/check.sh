#!/usr/bin/env bash
# Validates everything under deploy/ that can be validated without a container engine:
#   - promtool check config / check rules / test rules (Prometheus 2.42, Debian `prometheus`)
#   - yamllint (deploy/.yamllint, warnings are errors) on every YAML file in deploy/
#   - the Grafana dashboard JSON parses, its queries are valid PromQL and use only
#     recording rules that exist
#   - every alert has a runbook_url whose anchor is a heading in docs/monitoring.md
# Runs every check, prints a summary, exits 1 if any failed. Works from any directory.
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

run "promtool check config" promtool check config deploy/prometheus/prometheus.yml
run "promtool check rules" promtool check rules "${rule_files[@]}"
run "promtool test rules" promtool test rules "${test_files[@]}"
run "yamllint" yamllint -c deploy/.yamllint --strict deploy/
run "dashboard json" check_dashboards
run "dashboard queries" check_queries
run "alert runbooks" check_runbooks

echo "check.sh: ${#passed[@]} passed, ${#failed[@]} failed"
if ((${#failed[@]} > 0)); then
  printf '  failed: %s\n' "${failed[@]}"
  exit 1
fi
