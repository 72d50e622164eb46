#!/usr/bin/env python3
"""bench/run's summary: reads the runs (one JSON object a line), prints the table and writes
the JSON file with the same rows, the parameters and every run.

    summarize.py RESULTS.jsonl OUT.json [--param key=value ...]
"""
import json
import statistics
import sys
from datetime import datetime, timezone

MTAS = ("actormta", "postfix")

# (row, scenario, unit, value of one run, target). A target is ("ratio", x): the ratio of
# the medians ActorMta / Postfix at least x; or ("max", x): ActorMta's median at most x.
ROWS = [
    ("1 acceptance", "acceptance", "msg/s", lambda r: r["rate"], ("ratio", 1.5)),
    ("2 relay end to end", "relay", "msg/s", lambda r: r["rate"], ("ratio", 1.0)),
    ("3 latency p50", "latency", "ms", lambda r: r["load"]["latency_ms"]["p50"], None),
    ("3 latency p99", "latency", "ms", lambda r: r["load"]["latency_ms"]["p99"], ("max", 50)),
    ("4 idle RSS", "memory", "MB", lambda r: r["idle_rss_mb"], ("max", 150)),
    ("4 RSS, deferred queue", "memory", "MB", lambda r: r["deferred_rss_mb"], ("max", 500)),
    ("4 restart to first retry", "memory", "s", lambda r: r["restart_to_first_retry_seconds"], ("max", 20)),
]


def parse_value(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text, text)


def stats(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def summarize(runs):
    rows = []
    for name, scenario, unit, value, target in ROWS:
        per_mta = {m: stats([value(r) for r in runs if r["scenario"] == scenario and r["mta"] == m]) for m in MTAS}
        a, p = per_mta["actormta"], per_mta["postfix"]
        ratio = a["median"] / p["median"] if a and p and p["median"] else None
        passed = None
        if target and a:
            kind, limit = target
            passed = (ratio is not None and ratio >= limit) if kind == "ratio" else a["median"] <= limit
        rows.append({
            "row": name, "unit": unit, **per_mta, "ratio": None if ratio is None else round(ratio, 3),
            "target": None if not target else {"kind": target[0], "value": target[1]},
            "pass": passed,
        })
    return rows


def number(x):
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}"


def cell(s):
    if not s:
        return "-"
    if s["n"] == 1:
        return number(s["median"])
    return f"{number(s['median'])} ({number(s['min'])}-{number(s['max'])})"


def target_text(t):
    if not t:
        return ""
    return f"ratio >= {t['value']}" if t["kind"] == "ratio" else f"ActorMta <= {t['value']}"


def print_table(rows, runs, params):
    header = ("scenario", "unit", "ActorMta", "Postfix", "ratio", "target", "result")
    lines = [header] + [(
        r["row"], r["unit"], cell(r["actormta"]), cell(r["postfix"]),
        "-" if r["ratio"] is None else f"{r['ratio']:.2f}",
        target_text(r["target"]),
        {True: "pass", False: "FAIL", None: ""}[r["pass"]],
    ) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print()
    for line in lines:
        print("  ".join(text.ljust(w) for text, w in zip(line, widths)).rstrip())
    print()
    print(f"Median (min-max) over {params.get('rounds')} rounds; ratio = ActorMta / Postfix of the medians.")
    print(f"1-3 after a warm-up of {params.get('warmup')} messages per start, unmeasured.")
    print(f"1 and 2: {params.get('messages')} messages of 4 KiB by smtp-source -s 20; 4: "
          f"{params.get('deferred')} deferred, once; Postfix's RSS is the sum over its processes.")
    for mta in MTAS:
        loads = [r["load"] for r in runs if r["scenario"] == "latency" and r["mta"] == mta]
        if loads:
            offered = ", ".join(f"{l['offered_rate']:g}" for l in loads)
            errors = sum(l["errors"] for l in loads)
            behind = max(l["behind_schedule_ms"]["p99"] for l in loads)
            print(f"3 {mta}: offered {offered} msg/s (half of ActorMta's acceptance rate in each round), "
                  f"{errors} errors, behind schedule p99 at most {behind:.1f} ms.")
    memory = {r["mta"]: r for r in runs if r["scenario"] == "memory"}
    if "actormta" in memory:
        r = memory["actormta"]
        print(f"4 ActorMta: restart to listening {r['restart_to_listening_seconds']:.1f} s; "
              f"retry delay {r['retry_seconds']} s; queue filled in {r['fill_seconds']:.0f} s.")
    if "postfix" in memory:
        r = memory["postfix"]
        print(f"4 Postfix: PSS (shared pages divided among processes) idle {r['idle_pss_mb']} MB, "
              f"deferred {r['deferred_pss_mb']} MB; queue filled in {r['fill_seconds']:.0f} s.")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    results, out = argv[1], argv[2]
    params = {}
    rest = argv[3:]
    if rest and rest[0] == "--param":
        params = dict(kv.split("=", 1) for kv in rest[1:])
    params = {k: parse_value(v) for k, v in params.items()}
    with open(results) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    rows = summarize(runs)
    print_table(rows, runs, params)
    document = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "params": params,
        "summary": rows,
        "runs": runs,
    }
    with open(out, "w") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main(sys.argv)
