#!/usr/bin/python3
"""How late a sleeping thread wakes up on this machine right now.

Sleeps 1 ms N times and records how much later than asked each sleep ended.
On a machine whose cores other jobs keep busy, a thread that becomes ready
waits for a time slice; that delay bounds the tail latency any server on the
machine can have, so `make bench` reports it next to the unary percentiles.

  /usr/bin/python3 bench/python/wakeup_jitter.py --seconds 3 --json out.json
"""

import argparse
import json
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--json")
    a = p.parse_args()
    late = []
    stop = time.perf_counter() + a.seconds
    while time.perf_counter() < stop:
        t = time.perf_counter()
        time.sleep(0.001)
        late.append(time.perf_counter() - t - 0.001)
    late.sort()

    def pct(q):
        return 1e3 * late[min(len(late) - 1, max(0, int(q * len(late) + 0.5) - 1))]

    result = {"sleeps": len(late), "late_ms": {"p50": pct(0.5), "p90": pct(0.9),
                                               "p99": pct(0.99),
                                               "p99_9": pct(0.999),
                                               "max": 1e3 * late[-1]}}
    print(f"wake-up delay after a 1 ms sleep ({len(late)} sleeps): p50 "
          f"{result['late_ms']['p50']:.3f} ms, p99 {result['late_ms']['p99']:.3f}"
          f" ms, max {result['late_ms']['max']:.3f} ms")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
