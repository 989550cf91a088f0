#!/usr/bin/env bash
# The main job on the embedded default, end to end, for two months of the monthly cycle
# (docs/monthly.md):
#   synthetic data -> records database -> train through 2016-05 -> serve (gRPC + HTTP/JSON)
#   -> batch-score 2016-06 -> June's records arrive: ingest, publish the history, the server
#   picks it up and scores what it served for June against the truth (realized MAP@7)
#   -> score 2016-07 without retraining -> retrain through 2016-06 as a challenger beside
#   the champion -> score 2016-07 with both -> July's records arrive: realized MAP@7 per
#   version -> metrics.
# The server also serves the web console (GET / on its HTTP port, with customers' records read
# from the records database: --records-db). Run on a terminal, the demo keeps the server (and
# the console) up at the end until Enter or Ctrl-C; otherwise (CI, a pipe, stdin not a
# terminal) it stops the server and exits as before.
# Environment: DEMO_DIR (default demo/), DEMO_CUSTOMERS (default 20000), DEMO_SEED (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/bin
OUT=${DEMO_DIR:-demo}
CUSTOMERS=${DEMO_CUSTOMERS:-20000}
SEED=${DEMO_SEED:-1}
DATA="$OUT/data"
STORE="$OUT/models"
DB="$OUT/records.db"
rm -rf "$OUT"
mkdir -p "$OUT"

step() { printf '\n== %s\n' "$*"; }

step "1/9 generating synthetic Santander data ($CUSTOMERS customers, seed $SEED) into $DATA"
# train_ver2.csv (2015-01..2016-05), test_ver2.csv (2016-06, no products), and the actual
# records of 2016-06 and 2016-07 (train layout, with products), to arrive month by month.
"$BIN/recsys-data" generate --customers "$CUSTOMERS" --seed "$SEED" --extra-months 2 --out "$DATA"
"$BIN/recsys-data" inspect "$DATA/train_ver2.csv" "$DATA/test_ver2.csv" >"$OUT/inspect.txt"
grep -E '^(file|rows|row errors)' "$OUT/inspect.txt" | sed 's/^/   /' || true

step "2/9 ingesting the history into the records database $DB"
"$BIN/recsys-data" ingest --db "$DB" "$DATA/train_ver2.csv" | tail -n 1 | sed 's/^/   /'
"$BIN/recsys-data" months --db "$DB" | sed -n '1p;$p' | sed 's/^/   /'

step "3/9 training through 2016-05 from the database and publishing version 1 into $STORE"
# The whole log goes to train.log; its progress lines (phase, round N/M, ETA, every
# 2 s) are shown here as training goes.
{ "$BIN/recsys-train" --db "$DB" --store "$STORE" --progress-seconds 2 2>&1 1>&3 \
    | tee "$OUT/train.log" | { grep --line-buffered '^\[progress\]' || true; } \
    | sed -u 's/^\[progress\] /   /'; } 3>&1
tail -n 3 "$OUT/train.log" | sed 's/^/   log: /'

step "4/9 starting the prediction server (gRPC and HTTP/JSON over TLS, admin API behind a token)"
# A throw-away CA, server certificate and admin token, made now (docs/security.md).
SECRETS="$OUT/secrets"
bash scripts/make-certs.sh "$SECRETS" | sed 's/^/   /'
TLS=(--tls-ca "$SECRETS/ca.pem")
ADMIN=(--admin-token-file "$SECRETS/admin-token")
SERVER_LOG="$OUT/server.log"
# --served-log keeps what was answered per customer and month, to meet its outcome.
"$BIN/recsys-server" --store "$STORE" --port 0 --http-port 0 --metrics-port 0 \
  --served-log "$OUT/served" --poll-seconds 1 --records-db "$DB" \
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
# A customer of the test month, to open the console on.
CONSOLE_CUSTOMER=$(sed -n '2p' "$DATA/test_ver2.csv" | cut -d, -f2 | tr -d ' ')
CONSOLE_URL="${HTTP_URL/127.0.0.1/localhost}/#$CONSOLE_CUSTOMER"
echo "   web console:   $CONSOLE_URL"
echo "                  (HTTPS with the demo's throw-away CA: import $SECRETS/ca.pem into the browser,"
echo "                  or accept its warning; the console is read-only, see docs/security.md)"
sed 's/^/   /' "$OUT/info.txt"
if command -v curl >/dev/null 2>&1 && [[ -n "$HTTP_URL" ]]; then
  echo "   one customer over HTTP/JSON:"
  echo "   curl --cacert $SECRETS/ca.pem ${HTTP_URL/127.0.0.1/localhost}/v1/models/santander:recommend -d '{\"customer\": {\"ncodpers\": 15889, \"age\": 56}, \"k\": 3}'"
  curl -sS --cacert "$SECRETS/ca.pem" "${HTTP_URL/127.0.0.1/localhost}/v1/models/santander:recommend" \
    -d '{"customer": {"ncodpers": 15889, "age": 56}, "k": 3}' | sed 's/^/   /'
  echo
fi

# Waits until `recsys info` shows the history serving month $1.
wait_history() {
  for _ in $(seq 1 300); do
    if "$BIN/recsys" info --server "$ADDR" "${TLS[@]}" | grep -q "serving history *$1"; then return 0; fi
    sleep 0.1
  done
  echo "the server did not pick up the history for $1:"; tail -n 20 "$SERVER_LOG"; exit 1
}
# Prints realized MAP@7 per version for month $1, once the server has computed it.
realized() {
  local sums=""
  for _ in $(seq 1 300); do
    sums=$(bash scripts/print_metrics.sh --raw "http://$METRICS/metrics" \
      | grep -E "^recsys_realized_(ap_sum|customers_total)\{.*month=\"$1\"" || true)
    [[ -n "$sums" ]] && break
    sleep 0.1
  done
  [[ -n "$sums" ]] || { echo "no realized MAP@7 for $1 in the metrics"; tail -n 20 "$SERVER_LOG"; exit 1; }
  awk '{ match($0, /version="[^"]*"/); v = substr($0, RSTART + 9, RLENGTH - 10)
         if ($0 ~ /^recsys_realized_ap_sum/) s[v] += $2; else n[v] += $2 }
       END { for (v in s) { printf "   version %s: realized MAP@7 %.6f over %d customers\n", v, s[v] / n[v], n[v]
                            S += s[v]; N += n[v] }
             printf "   all versions: realized MAP@7 %.6f over %d customers\n", S / N, N }' <<<"$sums"
  grep "realized $1" "$SERVER_LOG" | sed 's/^/   log: /' || true
}

step "5/9 batch-scoring 2016-06 through the server"
"$BIN/recsys" score --server "$ADDR" "${TLS[@]}" --input "$DATA/test_ver2.csv" \
  --output "$OUT/submission_2016-06.csv" --errors "$OUT/errors_2016-06.csv"
head -n 3 "$OUT/submission_2016-06.csv" | sed 's/^/   /'

step "6/9 June's records arrive: ingest them, publish the history for 2016-07 (no retraining)"
"$BIN/recsys-data" ingest --db "$DB" "$DATA/train_2016-06.csv" | tail -n 1 | sed 's/^/   /'
"$BIN/recsys-data" history --db "$DB" --store "$STORE" | sed 's/^/   /'
wait_history 2016-07
echo "   the running server now serves the history for 2016-07 and scored June's answers:"
realized 2016-06
echo "   the same submission evaluated offline against the database (recsys evaluate):"
"$BIN/recsys" evaluate --submission "$OUT/submission_2016-06.csv" --db "$DB" --month 2016-06 | sed 's/^/   /'

step "7/9 scoring 2016-07 with version 1, without retraining"
"$BIN/recsys" score --server "$ADDR" "${TLS[@]}" --input "$DATA/train_2016-07.csv" \
  --output "$OUT/submission_2016-07.csv" --errors "$OUT/errors_2016-07.csv"

step "8/9 retraining through 2016-06 and publishing it as the challenger for half the customers"
"$BIN/recsys" pin --version 1 --server "$ADDR" "${TLS[@]}" "${ADMIN[@]}" | sed 's/^/   /'
"$BIN/recsys-train" --db "$DB" --through 2016-06 --store "$STORE" --progress-seconds -1 >"$OUT/train2.log" 2>&1
tail -n 1 "$OUT/train2.log" | sed 's/^/   log: /'
for _ in $(seq 1 300); do
  if "$BIN/recsys" challenger set 2 --share 0.5 --server "$ADDR" "${TLS[@]}" "${ADMIN[@]}" >"$OUT/challenger.txt" 2>&1; then break; fi
  sleep 0.2  # until the server has found version 2 in the store
done
sed 's/^/   /' "$OUT/challenger.txt"
"$BIN/recsys" versions --server "$ADDR" "${TLS[@]}" "${ADMIN[@]}" | sed 's/^/   /'
echo "   scoring 2016-07 again: each customer's last answer counts, half of them now from version 2"
"$BIN/recsys" score --server "$ADDR" "${TLS[@]}" --input "$DATA/train_2016-07.csv" \
  --output "$OUT/submission_2016-07.csv" --errors "$OUT/errors_2016-07.csv"

step "9/9 July's records arrive: the champion and the challenger meet their outcome"
"$BIN/recsys-data" ingest --db "$DB" "$DATA/train_2016-07.csv" | tail -n 1 | sed 's/^/   /'
"$BIN/recsys-data" history --db "$DB" --store "$STORE" | sed 's/^/   /'
wait_history 2016-08
realized 2016-07
"$BIN/recsys" evaluate --submission "$OUT/submission_2016-07.csv" --db "$DB" --month 2016-07 | sed 's/^/   /'

printf '\n== live metrics\n'
bash scripts/print_metrics.sh "http://$METRICS/metrics" || true

if [[ -t 0 && -t 1 ]]; then
  printf '\n== the web console stays up: %s\n' "$CONSOLE_URL"
  printf '   press Enter (or Ctrl-C) to stop the server and end the demo\n'
  read -r _ || true
fi

printf '\n== stopping the server (SIGTERM drains in-flight calls)\n'
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" && echo "   server stopped cleanly"
trap - EXIT
echo
echo "Files: $OUT/ (data, records.db, models, served, secrets, submission_2016-0{6,7}.csv, train.log, server.log)"
