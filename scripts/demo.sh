#!/usr/bin/env bash
# The main job on the embedded default: synthetic data -> inspect (more stages land with later issues).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=build/bin
OUT=${DEMO_DIR:-demo}
CUSTOMERS=${DEMO_CUSTOMERS:-20000}
mkdir -p "$OUT"
echo "== generating synthetic Santander data ($CUSTOMERS customers) into $OUT/data"
"$BIN/recsys-data" generate --customers "$CUSTOMERS" --seed 1 --out "$OUT/data"
echo "== inspecting the generated files"
"$BIN/recsys-data" inspect "$OUT/data/train_ver2.csv" "$OUT/data/test_ver2.csv" | head -60
