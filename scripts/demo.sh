#!/usr/bin/env bash
# The main job on the embedded default, end to end:
#   synthetic data -> inspect -> train + publish -> serve -> batch score -> evaluate -> metrics.
# Environment: DEMO_DIR (default demo/), DEMO_CUSTOMERS (default 20000), DEMO_SEED (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/bin
OUT=${DEMO_DIR:-demo}
CUSTOMERS=${DEMO_CUSTOMERS:-20000}
SEED=${DEMO_SEED:-1}
DATA="$OUT/data"
STORE="$OUT/models"
rm -rf "$OUT"
mkdir -p "$OUT"

step() { printf '\n== %s\n' "$*"; }

step "1/6 generating synthetic Santander data ($CUSTOMERS customers, seed $SEED) into $DATA"
"$BIN/recsys-data" generate --customers "$CUSTOMERS" --seed "$SEED" --out "$DATA"

step "2/6 inspecting the raw files (row errors would be listed here)"
"$BIN/recsys-data" inspect "$DATA/train_ver2.csv" "$DATA/test_ver2.csv" >"$OUT/inspect.txt"
grep -E '^(file|layout|rows|customers|months|row errors)' "$OUT/inspect.txt" || true

step "3/6 training and publishing a model version into $STORE"
# The whole log goes to train.log; its progress lines (phase, round N/M, ETA, every
# 2 s) are shown here as training goes.
{ "$BIN/recsys-train" --data "$DATA" --store "$STORE" --progress-seconds 2 2>&1 1>&3 \
    | tee "$OUT/train.log" | { grep --line-buffered '^\[progress\]' || true; } \
    | sed -u 's/^\[progress\] /   /'; } 3>&1
tail -n 3 "$OUT/train.log" | sed 's/^/   log: /'

step "4/6 starting the prediction server (gRPC over TLS, admin API behind a token)"
# A throw-away CA, server certificate and admin token, made now (docs/security.md).
SECRETS="$OUT/secrets"
bash scripts/make-certs.sh "$SECRETS" | sed 's/^/   /'
TLS=(--tls-ca "$SECRETS/ca.pem")
ADMIN=(--admin-token-file "$SECRETS/admin-token")
SERVER_LOG="$OUT/server.log"
# The drift window holds the whole test month, so PSI compares the month, not its tail.
"$BIN/recsys-server" --store "$STORE" --port 0 --http-port 0 --metrics-port 0 --drift-window 50000 \
  --tls-cert "$SECRETS/server.pem" --tls-key "$SECRETS/server.key" \
  --admin-token-file "$SECRETS/admin-token" 2>"$SERVER_LOG" &
SERVER_PID=$!
cleanup() { kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT
ADDR="" METRICS=""
for _ in $(seq 1 300); do
  ADDR=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$SERVER_LOG" | head -n1)
  METRICS=$(sed -n 's/.*metrics on \([0-9.:]*\).*/\1/p' "$SERVER_LOG" | head -n1)
  if [[ -n "$ADDR" ]] && "$BIN/recsys" info --server "$ADDR" "${TLS[@]}" >"$OUT/info.txt" 2>/dev/null; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "server exited:"; cat "$SERVER_LOG"; exit 1; fi
  sleep 0.1
done
HTTP_URL=$(sed -n 's/.*HTTP\/JSON on \(https*:\/\/[0-9.:]*\).*/\1/p' "$SERVER_LOG" | head -n1)
echo "   gRPC server:   $ADDR"
echo "   HTTP/JSON:     $HTTP_URL (same TLS certificate; POST /v1/models/santander:recommend)"
echo "   metrics:       http://$METRICS/metrics"
sed 's/^/   /' "$OUT/info.txt"
echo "   admin API (needs the token; without it: UNAUTHENTICATED):"
"$BIN/recsys" versions --server "$ADDR" "${TLS[@]}" "${ADMIN[@]}" | sed 's/^/   /'

if command -v curl >/dev/null 2>&1 && [[ -n "$HTTP_URL" ]]; then
  echo "   one customer over HTTP/JSON:"
  echo "   curl --cacert $SECRETS/ca.pem ${HTTP_URL/127.0.0.1/localhost}/v1/models/santander:recommend -d '{\"customer\": {\"ncodpers\": 15889, \"age\": 56}, \"k\": 3}'"
  curl -sS --cacert "$SECRETS/ca.pem" "${HTTP_URL/127.0.0.1/localhost}/v1/models/santander:recommend" \
    -d '{"customer": {"ncodpers": 15889, "age": 56}, "k": 3}' | sed 's/^/   /'
  echo
fi

step "5/6 batch-scoring the test month through the server"
"$BIN/recsys" score --server "$ADDR" "${TLS[@]}" --input "$DATA/test_ver2.csv" \
  --output "$OUT/submission.csv" --errors "$OUT/errors.csv"
head -n 4 "$OUT/submission.csv" | sed 's/^/   /'

step "6/6 evaluating the submission against the generated truth (Kaggle's MAP@7)"
"$BIN/recsys" evaluate --submission "$OUT/submission.csv" --truth "$DATA/test_truth.csv"

printf '\n== live metrics\n'
bash scripts/print_metrics.sh "http://$METRICS/metrics" || true

printf '\n== stopping the server (SIGTERM drains in-flight calls)\n'
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" && echo "   server stopped cleanly"
trap - EXIT
echo
echo "Files: $OUT/ (data, models, secrets, submission.csv, errors.csv, train.log, server.log)"
