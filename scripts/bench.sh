#!/usr/bin/env bash
# `make bench`: the benchmark suite of issue 6, end to end, in one run:
#   1. generate the full-size month (950,000 customers; the test file has about
#      930,000 rows) and a smaller set to train on (default 100,000 customers),
#   2. train with the DEFAULT config (config/train.json) on the smaller set and
#      republish the model with the product history of the full-size customers
#      (training at full size takes about 30 min on 2 cores),
#   3. microbenchmarks, the in-process floor, `recsys score` of the full test
#      month through recsys-server, streaming with and without the client's
#      arenas (before/after of the performance pass), unary Recommend at 1, 4
#      and 16 callers and at half the peak rate, and the Python reference,
#   4. writes $OUT/results.md (and results.json) and prints the table.
#
# Environment (defaults in brackets):
#   BUILD_DIR [build]           where bin/ is (make bench builds it first)
#   BENCH_DIR [$BUILD_DIR/bench] outputs; generated data and the trained model
#                               are reused on the next run (BENCH_FRESH=1: not)
#   BENCH_CUSTOMERS [950000]    customers of the full-size data
#   BENCH_TRAIN_CUSTOMERS [100000] customers of the training data
#   BENCH_WORKERS [nproc]       server workers = floor threads
#   BENCH_UNARY_SECONDS [10]    length of each unary run
#   BENCH_STREAM_ROWS [300000]  rows of each before/after streaming run
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
BIN=$BUILD/bin
OUT=${BENCH_DIR:-$BUILD/bench}
CUSTOMERS=${BENCH_CUSTOMERS:-950000}
TRAIN_CUSTOMERS=${BENCH_TRAIN_CUSTOMERS:-100000}
WORKERS=${BENCH_WORKERS:-$(nproc)}
UNARY_SECONDS=${BENCH_UNARY_SECONDS:-10}
STREAM_ROWS=${BENCH_STREAM_ROWS:-300000}
PY=/usr/bin/python3  # Debian's python with python3-xgboost/numpy/pandas
FULL="$OUT/data/full"
SMALL="$OUT/data/train-$TRAIN_CUSTOMERS"
STORE="$OUT/models"
RUN="$OUT/run"  # this run's measurements

for tool in recsys recsys-data recsys-train recsys-server recsys-floor recsys-rebundle; do
  [[ -x "$BIN/$tool" ]] || { echo "bench: $BIN/$tool missing (run make build)"; exit 2; }
done
bash scripts/install-deps --bench  # python3-xgboost, -numpy, -pandas; no-op when present
if ! "$PY" -c 'import xgboost, numpy, pandas' 2>/dev/null; then
  echo "bench: $PY lacks xgboost/numpy/pandas: run scripts/install-deps --bench"
  exit 2
fi
# $OUT is also CMake's build folder of bench/: remove only what this script
# made.
if [[ "${BENCH_FRESH:-0}" == 1 ]]; then
  rm -rf "$OUT/data" "$STORE" "$OUT/train.log" "$OUT/train_time"
fi
rm -rf "$RUN"
mkdir -p "$OUT" "$RUN" "$RUN/micro"
START=$(date +%s)
step() { printf '\n== [%4ds] %s\n' "$(($(date +%s) - START))" "$*"; }
# timed TIMEFILE CMD...: runs CMD, writing "wall user sys" to TIMEFILE.
timed() {
  local file=$1
  shift
  local TIMEFORMAT='%R %U %S'
  { time "$@" 2>&3; } 3>&2 2>"$file"
}
cat /proc/loadavg >"$RUN/loadavg_start"

step "1/9 data: $CUSTOMERS customers (full-size month) and $TRAIN_CUSTOMERS to train on"
if [[ ! -f "$FULL/.done" ]]; then
  timed "$RUN/gen_time" "$BIN/recsys-data" generate --customers "$CUSTOMERS" --seed 1 --out "$FULL"
  touch "$FULL/.done"
else
  echo "   reusing $FULL"
fi
if [[ ! -f "$SMALL/.done" ]]; then
  "$BIN/recsys-data" generate --customers "$TRAIN_CUSTOMERS" --seed 1 --out "$SMALL"
  touch "$SMALL/.done"
fi
wc -l "$FULL/test_ver2.csv" | awk '{print "   test month: " $1 - 1 " rows"}'

step "2/9 training (default config/train.json) on $TRAIN_CUSTOMERS customers"
if [[ ! -f "$SMALL/models/.done" ]]; then
  rm -rf "$SMALL/models"
  timed "$OUT/train_time" "$BIN/recsys-train" --data "$SMALL" --store "$SMALL/models" \
    --config config/train.json >"$OUT/train.log" 2>&1
  touch "$SMALL/models/.done"
else
  echo "   reusing $SMALL/models"
fi
tail -n 4 "$OUT/train.log" | sed 's/^/   /'
if [[ ! -f "$STORE/.done" ]]; then
  rm -rf "$STORE"
  "$BIN/recsys-rebundle" --bundle "$SMALL/models/santander/1" \
    --train "$FULL/train_ver2.csv" --store "$STORE" 2>&1 | sed 's/^/   /'
  touch "$STORE/.done"
fi
BUNDLE="$STORE/santander/1"

step "3/9 microbenchmarks"
for b in parse_bench featurize_bench scoring_bench metrics_bench; do
  [[ -x "$BIN/$b" ]] || { echo "   ($b not built: RECSYS_BUILD_BENCH=OFF?)"; continue; }
  RECSYS_BENCH_BUNDLE="$BUNDLE" RECSYS_BENCH_INPUT="$FULL/test_ver2.csv" \
    "$BIN/$b" --benchmark_min_time=0.3 --benchmark_out="$RUN/micro/$b.json" \
    --benchmark_out_format=json >"$RUN/micro/$b.txt" 2>&1 || echo "   $b failed"
  echo "   $b done"
done

step "4/9 in-process floor: $WORKERS threads, batches of 256"
"$BIN/recsys-floor" --bundle "$BUNDLE" --input "$FULL/test_ver2.csv" --threads "$WORKERS" \
  --batch_rows 256 --json "$RUN/floor.json" --submission "$RUN/floor.csv" \
  --dump "$RUN/features" | sed 's/^/   /'

step "5/9 starting recsys-server (--workers $WORKERS)"
# start_server LOG [FLAGS...]: starts recsys-server on free ports and waits
# until it answers; sets SERVER_PID and ADDR.
start_server() {
  local log=$1
  shift
  "$BIN/recsys-server" --store "$STORE" --port 0 --metrics-port 0 --workers "$WORKERS" \
    "$@" 2>"$log" &
  SERVER_PID=$!
  ADDR=""
  for _ in $(seq 1 600); do
    ADDR=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$log" | head -n1)
    if [[ -n "$ADDR" ]] && "$BIN/recsys" info --server "$ADDR" >/dev/null 2>&1; then return; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited:"; cat "$log"; exit 1; }
    sleep 0.1
  done
}
SERVER_LOG="$RUN/server.log"
start_server "$SERVER_LOG"
cleanup() { kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT
echo "   $ADDR"
TICKS=$(getconf CLK_TCK)
server_cpu() { awk -v t="$TICKS" '{printf "%.2f", ($14 + $15) / t}' "/proc/$SERVER_PID/stat"; }
# phase NAME CMD...: runs CMD and appends "NAME,server CPU seconds" to server_cpu.csv.
phase() {
  local name=$1 before after
  shift
  before=$(server_cpu)
  "$@"
  after=$(server_cpu)
  echo "$name,$(awk -v a="$after" -v b="$before" 'BEGIN {printf "%.2f", a - b}')" >>"$RUN/server_cpu.csv"
}
# Warm-up: connections, the history pages, the allocator.
"$BIN/recsys" bench --server "$ADDR" --mode stream --input "$FULL/test_ver2.csv" \
  --requests 20000 >/dev/null

step "6/9 recsys score of the full test month (wall time)"
phase score timed "$RUN/score_time" "$BIN/recsys" score --server "$ADDR" \
  --input "$FULL/test_ver2.csv" --output "$RUN/server.csv" --errors "$RUN/server.errors.csv" \
  --noprogress
cat "$RUN/score_time" | awk '{print "   wall " $1 " s, client CPU " $2 + $3 " s"}'
if cmp -s "$RUN/server.csv" "$RUN/floor.csv"; then
  echo same >"$RUN/score_identical"
  echo "   submission identical to the in-process floor's"
else
  echo different >"$RUN/score_identical"
  echo "   WARNING: the server's submission differs from the floor's"
fi

step "7/9 streaming, $STREAM_ROWS rows: client before (--noarenas) / after the performance pass"
for round in 1 2; do
  for variant in noarenas arenas; do
    phase "stream_${variant}_$round" "$BIN/recsys" bench --server "$ADDR" --mode stream \
      --input "$FULL/test_ver2.csv" --requests "$STREAM_ROWS" --"$variant" \
      --json "$RUN/stream_${variant}_$round.json" | head -n 2 | sed "s/^/   $variant: /"
  done
done

step "8/9 unary Recommend: 1, 4, 16 callers, then half the peak rate"
PEAK=0
for c in 1 4 16; do
  phase "unary_c$c" "$BIN/recsys" bench --server "$ADDR" --mode unary --concurrency "$c" \
    --input "$FULL/test_ver2.csv" --duration-seconds "$UNARY_SECONDS" \
    --json "$RUN/unary_c$c.json" | sed "s/^/   c=$c: /"
  PEAK=$("$PY" -c "import json,sys; print(max($PEAK, json.load(open('$RUN/unary_c$c.json'))['rows_per_second']))")
done
HALF=$("$PY" -c "print(round($PEAK / 2))")
# An open loop (at most 64 calls in flight); meanwhile, how late a sleeping
# thread wakes up on this machine (the floor under any tail latency).
(sleep 1 && "$PY" bench/python/wakeup_jitter.py --seconds 3 --json "$RUN/wakeup.json" |
  sed 's/^/   /') &
JITTER_PID=$!
phase unary_half "$BIN/recsys" bench --server "$ADDR" --mode unary --concurrency 64 --rate "$HALF" \
  --input "$FULL/test_ver2.csv" --duration-seconds "$UNARY_SECONDS" \
  --json "$RUN/unary_half.json" | sed "s/^/   $HALF calls\/s: /"
wait "$JITTER_PID" || true
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true

# Before / after the unary batching (server/scoring_engine.h), same run: a
# server that scores every call alone, at its own peak and half of it; then
# the batching server again at that same lower rate.
step "8b/9 unary without batching (--max-unary-batch 1), and with it at the same rate"
start_server "$RUN/server_nobatch.log" --max-unary-batch 1
phase unary_nobatch_c16 "$BIN/recsys" bench --server "$ADDR" --mode unary --concurrency 16 \
  --input "$FULL/test_ver2.csv" --duration-seconds "$UNARY_SECONDS" \
  --json "$RUN/unary_nobatch_c16.json" | sed "s/^/   no batching, c=16: /"
HALF_NB=$("$PY" -c "import json; print(round(json.load(open('$RUN/unary_nobatch_c16.json'))['rows_per_second'] / 2))")
phase unary_nobatch_half "$BIN/recsys" bench --server "$ADDR" --mode unary --concurrency 64 \
  --rate "$HALF_NB" --input "$FULL/test_ver2.csv" --duration-seconds "$UNARY_SECONDS" \
  --json "$RUN/unary_nobatch_half.json" | sed "s/^/   no batching, $HALF_NB calls\/s: /"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
start_server "$RUN/server_batch2.log"
phase unary_batch_at_nobatch_half "$BIN/recsys" bench --server "$ADDR" --mode unary \
  --concurrency 64 --rate "$HALF_NB" --input "$FULL/test_ver2.csv" \
  --duration-seconds "$UNARY_SECONDS" --json "$RUN/unary_batch_at_nobatch_half.json" |
  sed "s/^/   batching, $HALF_NB calls\/s: /"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
trap - EXIT

step "9/9 Python reference (xgboost $("$PY" -c 'import xgboost; print(xgboost.__version__)'), numpy, pandas)"
"$PY" bench/python/reference.py --dump "$RUN/features" --model "$BUNDLE/model.ubj" \
  --submission "$RUN/server.csv" --test "$FULL/test_ver2.csv" --json "$RUN/python.json" \
  | sed 's/^/   /' || echo "   WARNING: Python's top-7 differs (see above)"
rm -f "$RUN"/features.*.npy

cat /proc/loadavg >"$RUN/loadavg_end"
echo "$(($(date +%s) - START))" >"$RUN/total_seconds"
"$PY" bench/python/report.py --run "$RUN" --out "$OUT" --train-customers "$TRAIN_CUSTOMERS" \
  --customers "$CUSTOMERS" --workers "$WORKERS"
echo
cat "$OUT/results.md"
