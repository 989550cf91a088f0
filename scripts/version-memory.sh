#!/usr/bin/env bash
# Measures the resident memory one more loaded model version costs the server (README.md, "Model versions in
# memory"): trains one bundle on synthetic data (the demo's size), starts recsys-server on it, publishes copies of
# the bundle as versions 2, 3, ... one at a time (each becomes the champion; older ones stay in memory up to
# --max-loaded-versions), and prints the server's VmRSS (/proc/PID/status) after each reload, once it is idle.
# The RSS grows by one version's cost per publish until the bound, then stays flat.
# Environment: BIN (default build/bin), DIR (work directory, default /tmp/recsys-version-memory; reused when it
# holds a trained store), CUSTOMERS (default 20000), MAX (--max-loaded-versions, default 3), VERSIONS (how many
# to publish in all, default MAX + 2).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
DIR=${DIR:-/tmp/recsys-version-memory}
CUSTOMERS=${CUSTOMERS:-20000}
MAX=${MAX:-3}
VERSIONS=${VERSIONS:-$((MAX + 2))}
STORE="$DIR/models"
mkdir -p "$DIR"
if [[ ! -f "$STORE/santander/1/manifest.json" ]]; then
  "$BIN/recsys-data" generate --customers "$CUSTOMERS" --seed 1 --out "$DIR/data" >/dev/null
  "$BIN/recsys-train" --data "$DIR/data" --store "$STORE" --progress-seconds -1 >"$DIR/train.log" 2>&1
fi
# Only version 1 at start, and the policy of a previous run forgotten.
find "$STORE/santander" -mindepth 1 -maxdepth 1 ! -name 1 -exec rm -rf {} +
TOKEN="$DIR/admin-token"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TOKEN"
chmod 600 "$TOKEN"
LOG="$DIR/server.log"
"$BIN/recsys-server" --store "$STORE" --port 0 --metrics-port 0 --poll-seconds 3600 \
  --max-loaded-versions "$MAX" --admin-token-file "$TOKEN" 2>"$LOG" &
PID=$!
trap 'kill "$PID" 2>/dev/null || true' EXIT
ADDR=""
for _ in $(seq 1 300); do
  ADDR=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$LOG" | head -n1)
  if [[ -n "$ADDR" ]] && "$BIN/recsys" info --server "$ADDR" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
rss() { sleep 2; awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
loaded() {
  "$BIN/recsys" versions --server "$ADDR" --admin-token-file "$TOKEN" |
    awk '/SERVING|READY|CHALLENGER/ {printf "%s ", $1}'
}
echo "bundle: $(du -k "$STORE/santander/1/model.ubj" | cut -f1) KiB model.ubj," \
  "$(du -k "$STORE/santander/1/history.bin" | cut -f1) KiB history.bin; --max-loaded-versions $MAX"
FIRST=$(rss)
echo "versions published 1: RSS $FIRST KiB (loaded: $(loaded))"
for v in $(seq 2 "$VERSIONS"); do
  staging="$STORE/santander/.staging-$v"
  rm -rf "$staging"
  cp -r "$STORE/santander/1" "$staging"
  python3 - "$staging/manifest.json" "$v" <<'PY'
import json, sys
path, version = sys.argv[1], int(sys.argv[2])
manifest = json.load(open(path))
manifest["version"] = version
json.dump(manifest, open(path, "w"))
PY
  mv "$staging" "$STORE/santander/$v"
  "$BIN/recsys" reload --server "$ADDR" --admin-token-file "$TOKEN" >/dev/null
  echo "versions published $v: RSS $(rss) KiB (loaded: $(loaded))"
done
