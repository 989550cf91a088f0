#!/usr/bin/env bash
# Prints a few human lines from a recsys-server /metrics page: the serving model
# version, rows scored, the five largest in-server feature PSIs and the
# prediction-mix PSI (PSI < 0.1: no real shift, 0.1-0.25: moderate, > 0.25: large).
#
#   scripts/print_metrics.sh http://127.0.0.1:9464/metrics
#   scripts/print_metrics.sh --raw http://127.0.0.1:9464/metrics   # the whole page
#
# Uses curl when installed, else bash's /dev/tcp (plain http only).
set -euo pipefail

RAW=0
if [[ "${1:-}" == --raw ]]; then RAW=1; shift; fi
if [[ $# -ne 1 || "$1" == -h || "$1" == --help ]]; then
  echo "usage: $0 [--raw] http://HOST:PORT/metrics   (--raw: the page as it is)" >&2
  exit 2
fi
URL=$1

fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --max-time 10 "$URL"
    return
  fi
  local rest=${URL#http://}
  [[ "$rest" != "$URL" ]] || { echo "only http:// URLs without curl" >&2; return 1; }
  local hostport=${rest%%/*} path="/${rest#*/}"
  [[ "$rest" == */* ]] || path=/metrics
  local host=${hostport%%:*} port=${hostport##*:}
  [[ "$port" != "$hostport" ]] || port=80
  exec 3<>"/dev/tcp/$host/$port" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$host" >&3
  local status
  IFS= read -r status <&3 || return 1
  [[ "$status" == *" 200 "* ]] || { echo "$URL: $status" >&2; exec 3<&-; return 1; }
  sed '1,/^\r\{0,1\}$/d' <&3
  exec 3<&-
}

if ! TEXT=$(fetch); then
  echo "cannot read $URL" >&2
  exit 1
fi
if ((RAW)); then
  printf '%s\n' "$TEXT"
  exit 0
fi

awk '
  function label(line, name,    re, v) {
    re = name "=\"[^\"]*\""
    if (!match(line, re)) return ""
    v = substr(line, RSTART + length(name) + 2, RLENGTH - length(name) - 3)
    return v
  }
  function level(psi) { return psi > 0.25 ? "large shift" : (psi > 0.1 ? "moderate shift" : "ok") }
  /^#/ { next }
  /^recsys_model_info\{/ && $NF == 1 {
    serving = sprintf("%s version %s (feature spec %s)", label($0, "model"),
                      label($0, "version"), label($0, "feature_spec_hash"))
  }
  /^recsys_rows_scored_total / { rows = $NF }
  /^recsys_feature_psi\{/ { psi[label($0, "feature")] = $NF; n++ }
  /^recsys_prediction_psi / { pred = $NF }
  /^recsys_realized_ap_sum\{/ { k = label($0, "month") " version " label($0, "version"); ap[k] += $NF }
  /^recsys_realized_customers_total\{/ { k = label($0, "month") " version " label($0, "version"); cu[k] += $NF }
  /^recsys_challenger_share\{/ { challenger = sprintf("version %s for %.0f%% of customers", label($0, "version"), 100 * $NF) }
  END {
    printf "   serving model:   %s\n", serving == "" ? "none" : serving
    printf "   rows scored:     %d\n", rows
    if (n == 0) {
      print "   feature PSI:     not yet (the drift window holds fewer than --drift_min_rows rows)"
    } else {
      printf "   feature PSI, largest 5 of %d (this replica'"'"'s window):\n", n
      for (shown = 0; shown < 5 && shown < n; shown++) {
        best = ""
        for (f in psi) if (best == "" || psi[f] > psi[best]) best = f
        printf "     %-28s %8.4f  %s\n", best, psi[best], level(psi[best])
        delete psi[best]
      }
    }
    if (pred == "") print "   prediction PSI:  not yet"
    else printf "   prediction PSI:  %.4f  %s (top-1 product mix)\n", pred, level(pred)
    if (challenger != "") printf "   challenger:      %s\n", challenger
    for (k in cu) if (cu[k] > 0) printf "   realized MAP@7:  %s: %.6f over %d customers\n", k, ap[k] / cu[k], cu[k]
  }
' <<<"$TEXT"
