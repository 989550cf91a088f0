#!/usr/bin/python3
"""Writes the results table of `make bench` (scripts/bench.sh).

Reads the measurements of one run (RUN/: floor.json, score_time,
server_cpu.csv, stream_*.json, unary_*.json, python.json, micro/*.json, ...)
and writes OUT/results.md (markdown) and OUT/results.json.

  /usr/bin/python3 bench/python/report.py --run build/bench/run \\
      --out build/bench --customers 950000 --train-customers 100000 --workers 2
"""

import argparse
import glob
import json
import os
import platform
import re
import subprocess


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def text(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def machine():
    model = "unknown"
    for line in text("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in text("/proc/meminfo").splitlines():
        if line.startswith("MemTotal"):
            mem_kb = int(line.split()[1])
    try:
        virt = subprocess.run(["systemd-detect-virt"], capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        virt = ""
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb":
            round(mem_kb / 1e6, 1), "kernel": platform.release(),
            "virtualization": virt or "none"}


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def fmt(v, digits=1):
    if v is None:
        return "n/a"
    return f"{v:,.{digits}f}"


def met(ok):
    return "**met**" if ok else "**not met**"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--run", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--customers", type=int, required=True)
    p.add_argument("--train-customers", type=int, required=True)
    p.add_argument("--workers", type=int, required=True)
    a = p.parse_args()
    run = a.run

    floor = load(f"{run}/floor.json", {})
    python = load(f"{run}/python.json", {})
    server_cpu = {}
    for line in text(f"{run}/server_cpu.csv").splitlines():
        name, seconds = line.split(",")
        server_cpu[name] = float(seconds)
    rows = floor.get("rows_scored", 0)
    floor_cpu_us = floor.get("cpu_us_per_row")
    floor_rps = floor.get("rows_per_second")
    us = floor.get("us_per_row", {})
    # Which evaluator predicted: "forest" (ours) or "xgboost".
    predictor = floor.get("predictor") or "XGBoost"
    predictor = "our forest" if predictor == "forest" else predictor

    # recsys score of the full month.
    wall, user, sys_ = (float(x) for x in
                        (text(f"{run}/score_time", "0 0 0").split()[-3:]))
    score_rps = rows / wall if wall else None
    score_client_us = 1e6 * (user + sys_) / rows if rows else None
    score_server_us = 1e6 * server_cpu.get("score", 0) / rows if rows else None
    cpu_bound_wall = ((user + sys_ + server_cpu.get("score", 0)) / a.workers
                      if rows else None)

    # Streaming before / after.
    variants = {}
    for v in ("noarenas", "arenas"):
        reports = [(load(f), os.path.basename(f)[:-5]) for f in
                   sorted(glob.glob(f"{run}/stream_{v}_*.json"))]
        reports = [(r, n) for r, n in reports if r]
        variants[v] = {
            "rows_per_second": mean([r["rows_per_second"] for r, _ in reports]),
            "client_us": mean([1e6 * r["client_cpu_seconds"] / r["rows_scored"]
                               for r, _ in reports if r["rows_scored"]]),
            "server_us": mean([1e6 * server_cpu.get(n, 0) / r["rows_scored"]
                               for r, n in reports if r["rows_scored"]]),
            "runs": len(reports),
        }

    unary = {}
    for name in ("c1", "c4", "c16", "half", "nobatch_c16", "nobatch_half",
                 "batch_at_nobatch_half"):
        r = load(f"{run}/unary_{name}.json")
        if r:
            r["server_us_per_call"] = (1e6 * server_cpu.get(f"unary_{name}", 0)
                                       / r["calls"] if r["calls"] else None)
            unary[name] = r
    peak = max((unary[c]["rows_per_second"] for c in ("c1", "c4", "c16")
                if c in unary), default=None)
    half = unary.get("half", {}).get("latency_ms", {})
    half_ratio = (half["p99"] / half["p50"]) if half.get("p50") else None

    # C++ vs Python per core (CPU time, one thread each).
    cpp_us = (floor_cpu_us or 0) + us.get("parse", 0)
    py_us = python.get("total_cpu_us_per_row")
    ratio = py_us / cpp_us if py_us and cpp_us else None
    py_parts = python.get("cpu_us_per_row", {})
    cpp_non_xgb = cpp_us - us.get("predict", 0) if cpp_us else None
    py_non_xgb = ((py_parts.get("top_k", 0) + py_parts.get("pandas_read_clean", 0))
                  if py_parts else None)

    stream_ratio = score_rps / floor_rps if score_rps and floor_rps else None
    m = machine()
    load_start = text(f"{run}/loadavg_start").split()[:3]
    load_end = text(f"{run}/loadavg_end").split()[:3]
    train_log = text(f"{a.out}/train.log")
    rounds = re.findall(r"^rounds: (\d+)", train_log, re.M)
    train_time = text(f"{a.out}/train_time").split()

    L = []
    L.append("# Benchmark results (`make bench`)\n")
    L.append(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, "
             f"Linux {m['kernel']} ({m['virtualization']}). Load average "
             f"{' '.join(load_start)} at the start, {' '.join(load_end)} at the "
             f"end (other jobs share the cores: wall-clock figures are lower "
             f"bounds of what an idle machine gives; CPU-time figures are "
             f"less affected, though caches are shared too). Whole run: {text(f'{run}/total_seconds')} s.\n")
    L.append(f"Data: `recsys-data generate --customers {a.customers}`; the test "
             f"month has {rows:,} rows. Model: default config/train.json "
             f"({floor.get('num_rounds') or (rounds[-1] if rounds else '?')} rounds, "
             f"depth 6, 24 classes, "
             f"{floor.get('num_features', '?')} features) trained on "
             f"{a.train_customers:,} generated customers"
             + (f" in {float(train_time[0]):.0f} s" if train_time else "")
             + ", republished with the product history of all full-size "
             "customers (`recsys-rebundle`). Server: "
             f"`recsys-server --workers {a.workers}`; floor: {a.workers} "
             "threads, batches of 256 rows, as `recsys score` sends them.\n")

    L.append("## Targets\n")
    L.append("| target | measured | |")
    L.append("|---|---|---|")
    if stream_ratio is not None:
        L.append(f"| streaming through the server >= 70% of the in-process "
                 f"floor | {fmt(score_rps, 0)} vs {fmt(floor_rps, 0)} rows/s = "
                 f"{100 * stream_ratio:.0f}% | {met(stream_ratio >= 0.7)} |")
    L.append(f"| full test month with `recsys score` <= 30 s | {wall:.1f} s wall "
             f"({fmt(score_rps, 0)} rows/s); CPU needed {fmt(cpu_bound_wall)} s "
             f"on {a.workers} idle cores | {met(wall <= 30)} |")
    for c in ("c1", "c4", "c16"):
        if c in unary:
            lat = unary[c]["latency_ms"]
            L.append(f"| unary p50 / p99, {c[1:]} caller(s) | {lat['p50']:.2f} / "
                     f"{lat['p99']:.2f} ms at {fmt(unary[c]['rows_per_second'], 0)} "
                     f"calls/s | reported |")
    if half_ratio is not None:
        sent = unary["half"].get("send_latency_ms", {})
        sent_text = (f" (timed from the actual send: p50 {sent['p50']:.2f}, p99 "
                     f"{sent['p99']:.2f} ms)" if sent else "")
        wake = load(f"{run}/wakeup.json", {}).get("late_ms", {})
        wake_text = (f"; meanwhile a thread sleeping 1 ms woke up late by p50 "
                     f"{wake['p50']:.2f}, p99 {wake['p99']:.2f} ms" if wake
                     else "")
        L.append(f"| unary at half the peak ({fmt(unary['half']['target_rate'], 0)} "
                 f"calls/s, open loop): p99 < 3x p50 | p50 {half['p50']:.2f} ms, "
                 f"p99 {half['p99']:.2f} ms = {half_ratio:.1f}x{sent_text}"
                 f"{wake_text} | {met(half_ratio < 3)} |")
    for name, what in (("nobatch_half", "without batching, at half its own "
                         "peak"),
                       ("batch_at_nobatch_half", "with batching, at that same "
                        "rate")):
        lat = unary.get(name, {}).get("latency_ms", {})
        if lat.get("p50"):
            L.append(f"| unary {what} ({fmt(unary[name]['target_rate'], 0)} "
                     f"calls/s): p99 < 3x p50 | p50 {lat['p50']:.2f} ms, p99 "
                     f"{lat['p99']:.2f} ms = {lat['p99'] / lat['p50']:.1f}x | "
                     f"{met(lat['p99'] / lat['p50'] < 3)} |")
    if ratio is not None:
        L.append(f"| C++ >= 10x Python rows/s per core, same work | "
                 f"{1e6 / cpp_us:,.0f} vs {1e6 / py_us:,.0f} rows/s per core = "
                 f"{ratio:.2f}x (without XGBoost: {cpp_non_xgb:.1f} vs "
                 f"{py_non_xgb:.1f} us/row = {py_non_xgb / cpp_non_xgb:.1f}x) | "
                 f"{met(ratio >= 10)} |")
    L.append(f"| Python's top-7 = the server's, every row | "
             f"{python.get('rows', 0) - python.get('top7_mismatches', 0):,} / "
             f"{python.get('rows', 0):,} rows identical; server = floor: "
             f"{text(f'{run}/score_identical')} | "
             f"{met(python.get('top7_mismatches', 1) == 0 and python.get('rows', 0) > 0)} |")
    L.append("")

    L.append("## Batch path: cost per row\n")
    L.append("CPU microseconds per row (one core). Client and server: their "
             "CPU time while `recsys score` scored the month. Stages: the "
             "floor's scoring-thread CPU time apportioned by ScoreTimings; "
             "parse and history lookup: single-thread passes of the floor.\n")
    L.append("| stage | us/row | share |")
    L.append("|---|---|---|")
    total = (score_server_us or 0) + (score_client_us or 0)
    parts = [
        ("client: parse CSV + encode + gRPC + decode + write (`recsys score`)",
         score_client_us),
        ("  of which CSV parse (RawReader)", us.get("parse")),
        ("server (in-process floor): featurize incl. history lookup",
         us.get("featurize")),
        ("  of which history lookup", us.get("history_lookup")),
        (f"server: predict ({predictor})", us.get("predict")),
        ("server: rank (top-7)", us.get("rank")),
        ("server: gRPC, proto decode/encode, metrics, threads (server CPU "
         "- floor CPU)",
         (score_server_us - floor_cpu_us) if score_server_us and floor_cpu_us
         else None),
        ("**total CPU per row (client + server)**", total),
    ]
    for name, v in parts:
        share = f"{100 * v / total:.0f}%" if v is not None and total else ""
        L.append(f"| {name} | {fmt(v, 2)} | {share} |")
    L.append("")

    L.append("## Performance pass: client before / after (same run)\n")
    L.append(f"`recsys bench --mode stream --requests N` twice each, "
             f"alternating; before = `--noarenas` (heap messages, a copy of "
             f"every unanswered row, as the client was), after = protobuf "
             f"arenas and serialized pending rows.\n")
    L.append("| client | client CPU us/row | server CPU us/row | rows/s |")
    L.append("|---|---|---|---|")
    for v, label in (("noarenas", "before"), ("arenas", "after")):
        d = variants[v]
        L.append(f"| {label} | {fmt(d['client_us'], 2)} | {fmt(d['server_us'], 2)}"
                 f" | {fmt(d['rows_per_second'], 0)} |")
    L.append("")

    L.append("## Unary Recommend\n")
    L.append("| callers | calls/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors "
             "| client CPU us/call | server CPU us/call |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    labels = {"c1": "1", "c4": "4", "c16": "16", "half": "open loop at {}/s",
              "nobatch_c16": "16, no batching (`--max-unary-batch 1`)",
              "nobatch_half": "open loop at {}/s, no batching",
              "batch_at_nobatch_half": "open loop at {}/s, batching"}
    for c in labels:
        if c not in unary:
            continue
        r, lat = unary[c], unary[c]["latency_ms"]
        label = labels[c].format(fmt(r.get("target_rate"), 0))
        L.append(f"| {label} | {fmt(r['rows_per_second'], 0)} | {lat['p50']:.2f} | "
                 f"{lat['p90']:.2f} | {lat['p99']:.2f} | {lat['p99_9']:.2f} | "
                 f"{r['errors']} | {fmt(1e6 * r['client_cpu_seconds'] / r['calls'], 0)}"
                 f" | {fmt(r['server_us_per_call'], 0)} |")
    L.append("")

    L.append("## C++ vs the Python reference (CPU us per row, one core)\n")
    L.append("| stage | C++ | Python |")
    L.append("|---|---|---|")
    L.append(f"| read + clean the CSV | {fmt(us.get('parse'), 2)} (RawReader; "
             f"cleaning is in featurize) | {fmt(py_parts.get('pandas_read_clean'), 2)}"
             f" (pandas) |")
    L.append(f"| featurize incl. history | {fmt(us.get('featurize'), 2)} | "
             f"(given: our features) |")
    L.append(f"| predict ({predictor} vs XGBoost's Python package), batches of 256 | {fmt(us.get('predict'), 2)} | "
             f"{fmt(py_parts.get('predict'), 2)} |")
    L.append(f"| top-7 | {fmt(us.get('rank'), 2)} | {fmt(py_parts.get('top_k'), 2)}"
             f" (numpy) |")
    L.append(f"| **rows/s per core** | {fmt(1e6 / cpp_us if cpp_us else None, 0)} "
             f"| {fmt(python.get('rows_per_second_per_core'), 0)} |")
    L.append("")

    L.append("## Microbenchmarks (Google Benchmark, one thread)\n")
    L.append("| benchmark | rows/s | time per iteration |")
    L.append("|---|---|---|")
    micro = {}
    for path in sorted(glob.glob(f"{run}/micro/*.json")):
        data = load(path, {})
        for b in data.get("benchmarks", []):
            if b.get("error_occurred"):
                continue
            micro[b["name"]] = b
            ips = b.get("items_per_second")
            L.append(f"| {b['name']} | {fmt(ips, 0)} | "
                     f"{b['real_time']:,.0f} {b['time_unit']} |")
    L.append("")

    md = "\n".join(L)
    with open(f"{a.out}/results.md", "w") as f:
        f.write(md)
    with open(f"{a.out}/results.json", "w") as f:
        json.dump({"machine": m, "floor": floor, "python": python,
                   "score": {"wall_seconds": wall, "client_cpu_seconds":
                             user + sys_, "server_cpu_seconds":
                             server_cpu.get("score"), "rows_per_second":
                             score_rps},
                   "stream": variants, "unary": unary, "micro": micro,
                   "server_cpu_seconds": server_cpu}, f, indent=2)


if __name__ == "__main__":
    main()
