#!/usr/bin/env bash
# The records-database ingest benchmark (issue 12): generates a train file of
# BENCH_INGEST_CUSTOMERS customers (default 70,000: about 1.0M rows, 157 MiB;
# 950,000 gives the full 13.6M rows), ingests it into a fresh database with
# `recsys-data ingest`, and prints rows/s (wall and CPU), the database's size
# beside the CSV's, and the time the full 13.6M-row file would take at the
# measured rates. Nothing is left running; the data stays in $OUT for reruns.
#
# Environment: BUILD_DIR [build], OUT [$BUILD_DIR/bench-ingest],
# BENCH_INGEST_CUSTOMERS [70000].
set -euo pipefail
BIN="${BUILD_DIR:-build}/bin"
OUT="${OUT:-${BUILD_DIR:-build}/bench-ingest}"
CUSTOMERS="${BENCH_INGEST_CUSTOMERS:-70000}"
FULL_ROWS=13647309
for tool in recsys-data; do
  [[ -x "$BIN/$tool" ]] || { echo "bench-ingest: $BIN/$tool missing (run make build)"; exit 2; }
done
mkdir -p "$OUT"
if [[ ! -f "$OUT/data-$CUSTOMERS/train_ver2.csv" ]]; then
  "$BIN/recsys-data" generate --customers "$CUSTOMERS" --seed 1 --out "$OUT/data-$CUSTOMERS"
fi
rm -f "$OUT"/records.db "$OUT"/records.db-wal "$OUT"/records.db-shm
/usr/bin/env time -f "%e %U %S" -o "$OUT/time.txt" \
  "$BIN/recsys-data" ingest --db "$OUT/records.db" "$OUT/data-$CUSTOMERS/train_ver2.csv" \
  | tail -1
read -r wall user sys < "$OUT/time.txt"
rows=$("$BIN/recsys-data" months --db "$OUT/records.db" | awk 'NR>1 {s+=$3+$6} END {print s}')
awk -v rows="$rows" -v wall="$wall" -v user="$user" -v sys="$sys" -v full="$FULL_ROWS" \
    -v load="$(cut -d' ' -f1 /proc/loadavg)" -v cores="$(nproc)" 'BEGIN {
  cpu = user + sys
  printf "rows %d; wall %.1f s (%.0f rows/s); CPU %.1f s (%.0f rows/s); load average %s on %d cores\n",
         rows, wall, rows / wall, cpu, rows / cpu, load, cores
  printf "13.6M rows at these rates: %.0f s wall as measured, %.0f s if the CPU time were the wall time\n",
         full / (rows / wall), full / (rows / cpu)
}'
