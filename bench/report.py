#!/usr/bin/env python3
"""Turns results.json (from bench/compare.py) into report.md and PNG plots in the same directory.

    python3 bench/report.py docs/benchmarks/<date>

Needs matplotlib for the plots (Debian python3-matplotlib); without it the report is written without plots.
"""

import json
import os
import statistics
import sys

PEERS_ORDER = ["tcp", "nats", "rmq-java", "rmq-rocketrpc", "rmq-rrpc-jresp", "rrpc-broker", "rrpc-broker-acl"]
OURS = ["rmq-rocketrpc", "rmq-rrpc-jresp", "rrpc-broker", "rrpc-broker-acl"]
COLORS = {"tcp": "#555555", "nats": "#2a9d8f", "rmq-java": "#e76f51", "rmq-rocketrpc": "#264653",
          "rmq-rrpc-jresp": "#8ab17d", "rrpc-broker": "#e9c46a", "rrpc-broker-acl": "#f4a261"}


def fmt_us(us):
    if us is None:
        return "-"
    if us >= 10000:
        return f"{us / 1000:.1f} ms"
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    return f"{us:.0f} µs"


def fmt_rate(r):
    if r is None:
        return "-"
    if r >= 100000:
        return f"{r / 1000:.0f} k/s"
    if r >= 10000:
        return f"{r / 1000:.1f} k/s"
    return f"{r:,.0f}/s"


def fmt_bytes(n):
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} B"


def fmt_ratio(x):
    if x is None:
        return "-"
    return f"{x:.2f}×" if x < 10 else f"{x:.1f}×"


def fmt_num(x, unit=""):
    if x is None:
        return "-"
    return f"{x:.1f}{unit}" if x < 10 else f"{x:.0f}{unit}"


class Agg:
    """Median (and min/max) over the repetitions of one (system, K, payload) cell."""

    def __init__(self, recs):
        self.recs = [r for r in recs if r.get("status") == "ok"]
        self.failed = [r for r in recs if r.get("status") != "ok"]
        self.n = len(self.recs)

    def med(self, key):
        vals = [r[key] for r in self.recs if r.get(key) is not None]
        return statistics.median(vals) if vals else None

    def lo(self, key):
        vals = [r[key] for r in self.recs if r.get(key) is not None]
        return min(vals) if vals else None

    def hi(self, key):
        vals = [r[key] for r in self.recs if r.get(key) is not None]
        return max(vals) if vals else None

    def errors(self):
        return sum(r.get("errors", 0) for r in self.recs)


def load(out_dir):
    with open(os.path.join(out_dir, "results.json")) as f:
        doc = json.load(f)
    cells = {}
    for c in doc["cells"]:
        cells.setdefault((c["system"], c["inflight"], c["payload"]), []).append(c)
    aggs = {k: Agg(v) for k, v in cells.items()}
    return doc, aggs


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def targets(doc, aggs):
    """[(target, value text, met text, note)]"""
    sysinfo = {s["id"]: s for s in doc["systems"]}
    out = []

    def get(sid, k, p, key):
        a = aggs.get((sid, k, p))
        return a.med(key) if a and a.n else None

    # 1. rocketrpc client >= 2x Java client throughput, same Apache broker, 64 in flight.
    for p in doc["config"]["payloads"]:
        r = ratio(get("rmq-rocketrpc", 64, p, "throughput"), get("rmq-java", 64, p, "throughput"))
        primary = p == 128
        out.append({
            "target": "rocketrpc client ≥ 2× Java client throughput, Apache broker, K=64" +
                      ("" if primary else f" (payload {fmt_bytes(p)}, informational)"),
            "payload": p,
            "value": "not measured" if r is None else f"{fmt_ratio(r)} ({fmt_rate(get('rmq-rocketrpc', 64, p, 'throughput'))} vs {fmt_rate(get('rmq-java', 64, p, 'throughput'))})",
            "met": "not measured" if r is None else (("**met**" if r >= 2.0 else "**not met**") if primary
                                                     else ("met" if r >= 2.0 else "not met")),
            "primary": primary,
        })
    r = ratio(get("rmq-rrpc-jresp", 64, 128, "throughput"), get("rmq-java", 64, 128, "throughput"))
    out.append({
        "target": "(same bound, requesters only: rocketrpc vs Java requester, both answered by the Java responder, "
                  "informational)",
        "payload": 128,
        "value": "not measured" if r is None else f"{fmt_ratio(r)} ({fmt_rate(get('rmq-rrpc-jresp', 64, 128, 'throughput'))} vs {fmt_rate(get('rmq-java', 64, 128, 'throughput'))})",
        "met": "not measured" if r is None else ("met" if r >= 2.0 else "not met"),
        "primary": False,
    })
    # 2. rocketrpc-broker + client p50 at K=1 <= 2.5x raw TCP round trip.
    skipped = sysinfo.get("rrpc-broker", {}).get("skipped")
    r = ratio(get("rrpc-broker", 1, 128, "p50_us"), get("tcp", 1, 128, "p50_us"))
    out.append({
        "target": "rocketrpc-broker + client p50 at K=1 ≤ 2.5× raw TCP round trip (128 B)",
        "payload": 128,
        "value": f"not measured ({skipped})" if r is None else f"{fmt_ratio(r)} ({fmt_us(get('rrpc-broker', 1, 128, 'p50_us'))} vs {fmt_us(get('tcp', 1, 128, 'p50_us'))})",
        "met": "not measured" if r is None else ("**met**" if r <= 2.5 else "**not met**"),
        "primary": True,
    })
    r2 = ratio(get("rmq-rocketrpc", 1, 128, "p50_us"), get("tcp", 1, 128, "p50_us"))
    out.append({
        "target": "(same bound, applied to Apache broker + rocketrpc client, informational)",
        "payload": 128,
        "value": "not measured" if r2 is None else f"{fmt_ratio(r2)} ({fmt_us(get('rmq-rocketrpc', 1, 128, 'p50_us'))} vs {fmt_us(get('tcp', 1, 128, 'p50_us'))})",
        "met": "not measured" if r2 is None else ("met" if r2 <= 2.5 else "not met"),
        "primary": False,
    })
    # 3. throughput at K=256 >= NATS request-reply.
    r = ratio(get("rrpc-broker", 256, 128, "throughput"), get("nats", 256, 128, "throughput"))
    out.append({
        "target": "rocketrpc-broker + client throughput at K=256 ≥ NATS request-reply (128 B)",
        "payload": 128,
        "value": f"not measured ({skipped})" if r is None else f"{fmt_ratio(r)} ({fmt_rate(get('rrpc-broker', 256, 128, 'throughput'))} vs {fmt_rate(get('nats', 256, 128, 'throughput'))})",
        "met": "not measured" if r is None else ("**met**" if r >= 1.0 else "**not met**"),
        "primary": True,
    })
    r3 = ratio(get("rmq-rocketrpc", 256, 128, "throughput"), get("nats", 256, 128, "throughput"))
    out.append({
        "target": "(same bound, applied to Apache broker + rocketrpc client, informational)",
        "payload": 128,
        "value": "not measured" if r3 is None else f"{fmt_ratio(r3)} ({fmt_rate(get('rmq-rocketrpc', 256, 128, 'throughput'))} vs {fmt_rate(get('nats', 256, 128, 'throughput'))})",
        "met": "not measured" if r3 is None else ("met" if r3 >= 1.0 else "not met"),
        "primary": False,
    })
    # The cost of ACL signing and checking: the same broker and clients with aclEnable=true, same run.
    for k in (64, 256):
        r4 = ratio(get("rrpc-broker-acl", k, 128, "throughput"), get("rrpc-broker", k, 128, "throughput"))
        out.append({
            "target": f"(ACL on / off on rocketrpc-broker, throughput at K={k}, informational)",
            "payload": 128,
            "value": "not measured" if r4 is None else f"{fmt_ratio(r4)} ({fmt_rate(get('rrpc-broker-acl', k, 128, 'throughput'))} vs {fmt_rate(get('rrpc-broker', k, 128, 'throughput'))})",
            "met": "informational",
            "primary": False,
        })
    return out


def write_report(out_dir, doc, aggs, plots):
    cfg = doc["config"]
    m = doc["machine"]
    systems = [s for s in sorted(doc["systems"], key=lambda s: PEERS_ORDER.index(s["id"]))]
    active = [s for s in systems if not s["skipped"]]
    short = {s["id"]: s["short"] for s in systems}
    L = []
    L.append(f"# Request/reply comparison — {doc['date']}")
    L.append("")
    L.append("Generated by `bench/compare.sh` (tables by `bench/report.py` from `results.json`; the same data flat in "
             "`results.csv`). Method, how to read the numbers and the analysis of the targets: "
             "[../README.md](../README.md).")
    L.append("")
    L.append("## Machine and run")
    L.append("")
    L.append(f"- CPU: {m.get('nproc')} × {m.get('cpu_model')}; memory {m.get('mem_gib')} GiB; kernel {m.get('kernel')} "
             f"({m.get('arch')}); {m.get('os')}")
    lb, la = doc["load_before"], doc["load_after"]
    L.append(f"- Load average (1/5/15 min) before: {lb[0]:.2f} / {lb[1]:.2f} / {lb[2]:.2f}; after: "
             f"{la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f}" +
             (" — **the machine was shared with other builds and tests: treat absolute numbers as noisy**"
              if max(lb[0], la[0]) > 1.5 * (m.get("nproc") or 1) * 0.5 else ""))
    L.append(f"- Started {doc['started']}, finished {doc['finished']} ({doc['elapsed_s'] / 60:.1f} min including "
             "start-up of the brokers and the micro-benchmarks)")
    if cfg.get("initial_warmup_ms"):
        L.append(f"- Before the first cell each system ran {cfg['initial_warmup_ms']} ms at K=64, 4 KiB "
                 f"({cfg.get('jvm_warmup_ms', cfg['initial_warmup_ms'])} ms for the systems with a JVM client or "
                 "responder), discarded")
    L.append(f"- Each cell: {cfg['warmup_ms']} ms warm-up (discarded), then {cfg['duration_ms']} ms measured "
             f"(or {cfg['max_count']:,} requests), closed loop with K requests in flight. The whole "
             f"payload × in-flight matrix ran once; the cells the targets use "
             f"({', '.join(f'K={k}/{fmt_bytes(p)}' for k, p in cfg['key_cells'])}) ran {cfg['reps']} times "
             "(median shown, [min–max] of throughput and p50 beside it when repeated). Cells were interleaved across systems.")
    if cfg.get("interrupted"):
        L.append("- **The run was interrupted: some cells are missing.**")
    L.append("")
    L.append("| system | status |")
    L.append("|---|---|")
    for s in systems:
        status = f"skipped: {s['skipped']}" if s["skipped"] else "measured"
        notes = "; ".join(s.get("notes") or [])
        L.append(f"| {s['label']} | {status}{(' — ' + notes) if notes else ''} |")
    L.append("")

    L.append("## Targets")
    L.append("")
    L.append("| target | measured | result |")
    L.append("|---|---|---|")
    for t in targets(doc, aggs):
        L.append(f"| {t['target']} | {t['value']} | {t['met']} |")
    L.append("")

    def get(sid, k, p, key):
        a = aggs.get((sid, k, p))
        return a.med(key) if a and a.n else None

    L.append("## Ratios against each peer")
    L.append("")
    L.append("Throughput ratio = ours / peer (above 1: ours is faster); p50 ratio = ours / peer (below 1: ours "
             "answers sooner).")
    L.append("")
    for ours in OURS:
        if ours not in {s["id"] for s in active}:
            continue
        peers = [s["id"] for s in active if s["id"] not in (ours,) and s["id"] not in OURS]
        L.append(f"### {short[ours]}")
        L.append("")
        head = "| K | payload | " + " | ".join(f"thr / {short[p]}" for p in peers) + " | " + \
               " | ".join(f"p50 / {short[p]}" for p in peers) + " |"
        L.append(head)
        L.append("|---|---|" + "---|" * (2 * len(peers)))
        for p in cfg["payloads"]:
            for k in cfg["inflights"]:
                thr = [fmt_ratio(ratio(get(ours, k, p, "throughput"), get(peer, k, p, "throughput"))) for peer in peers]
                lat = [fmt_ratio(ratio(get(ours, k, p, "p50_us"), get(peer, k, p, "p50_us"))) for peer in peers]
                L.append(f"| {k} | {fmt_bytes(p)} | " + " | ".join(thr) + " | " + " | ".join(lat) + " |")
        L.append("")

    L.append("## Where the time and the CPU go (128 B)")
    L.append("")
    L.append("CPU time per request of each process (µs, from utime+stime over the measured phase) and the two legs "
             "of the p50 round trip: *request leg* = requester → (broker →) responder's handler, *reply leg* = "
             "handler → requester's callback, from CLOCK_MONOTONIC stamps the requester and the responder write "
             "into the payload.")
    L.append("")
    L.append("| system | K | throughput | client µs/req | server µs/req | responder µs/req | all µs/req | "
             "request leg p50 | reply leg p50 |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for k in (1, 64, 256):
        for s_ in active:
            a = aggs.get((s_["id"], k, 128))
            if not a or not a.n:
                continue
            parts = [a.med(f"{r}_cpu_us_per_req") for r in ("client", "server", "responder")]
            total = sum(x for x in parts if x is not None)
            L.append(f"| {s_['short']} | {k} | {fmt_rate(a.med('throughput'))} | " +
                     " | ".join(fmt_num(x) for x in parts) + f" | {fmt_num(total)} | "
                     f"{fmt_us(a.med('request_leg_p50_us'))} | {fmt_us(a.med('reply_leg_p50_us'))} |")
    L.append("")

    L.append("## All cells")
    L.append("")
    L.append("CPU is the share of one core used during the measured phase (utime+stime from /proc/<pid>/stat) and "
             "the CPU time per request; RSS is the peak resident set (VmHWM, reset before each cell through "
             "/proc/<pid>/clear_refs) in MiB, with the anonymous part at the end of the cell (RssAnon) in brackets: "
             "the Apache broker maps its commit log, so its peak grows with the data written. *server* is the "
             "broker process (Apache: broker + name server JVMs; NATS: nats-server; TCP: the echo server), "
             "*responder* the process answering the requests.")
    L.append("")
    for p in cfg["payloads"]:
        L.append(f"### Payload {fmt_bytes(p)}")
        L.append("")
        L.append("| system | K | throughput | p50 | p99 | p99.9 | p50 legs: request / reply | client CPU | client RSS |"
                 " server CPU | server RSS | responder CPU | responder RSS | errors |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for k in cfg["inflights"]:
            for s in active:
                a = aggs.get((s["id"], k, p))
                if not a:
                    continue
                if not a.n:
                    reason = (a.failed[0].get("reason") or "failed")[:80] if a.failed else "failed"
                    L.append(f"| {s['short']} | {k} | failed: {reason} | | | | | | | | | | | |")
                    continue
                thr = fmt_rate(a.med("throughput"))
                p50 = fmt_us(a.med("p50_us"))
                if a.n > 1:
                    thr += f" [{fmt_rate(a.lo('throughput'))}–{fmt_rate(a.hi('throughput'))}]"
                    p50 += f" [{fmt_us(a.lo('p50_us'))}–{fmt_us(a.hi('p50_us'))}]"

                def cpu(role):
                    pct, per = a.med(f"{role}_cpu_pct"), a.med(f"{role}_cpu_us_per_req")
                    if pct is None:
                        return "-"
                    return f"{pct:.0f}% ({per:.0f} µs/req)" if per is not None else f"{pct:.0f}%"

                def rss(role):
                    v, anon = a.med(f"{role}_rss_mib"), a.med(f"{role}_rss_anon_mib")
                    if v is None:
                        return "-"
                    return f"{v:.0f} ({anon:.0f})" if anon is not None else f"{v:.0f}"

                legs = "-"
                if a.med("request_leg_p50_us") is not None:
                    legs = f"{fmt_us(a.med('request_leg_p50_us'))} / {fmt_us(a.med('reply_leg_p50_us'))}"
                L.append(f"| {s['short']} | {k} | {thr} | {p50} | {fmt_us(a.med('p99_us'))} | "
                         f"{fmt_us(a.med('p999_us'))} | {legs} | {cpu('client')} | {rss('client')} | {cpu('server')} | "
                         f"{rss('server')} | {cpu('responder')} | {rss('responder')} | {a.errors()} |")
        L.append("")

    if plots:
        L.append("## Plots")
        L.append("")
        for title, name in plots:
            L.append(f"![{title}]({name})")
            L.append("")

    micro = load_micro(out_dir, doc)
    if micro:
        L.append("## Micro-benchmarks (`micro_bench`, Google Benchmark)")
        L.append("")
        L.append("| benchmark | time per iteration | CPU per iteration | rate |")
        L.append("|---|---|---|---|")
        for b in micro:
            L.append(f"| `{b['name']}` | {b['real']} | {b['cpu']} | {b['rate']} |")
        L.append("")

    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write("\n".join(L))


def load_micro(out_dir, doc):
    name = doc.get("micro_json")
    if not name or not os.path.exists(os.path.join(out_dir, name)):
        return None
    with open(os.path.join(out_dir, name)) as f:
        data = json.load(f)
    rows = []
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate":
            continue
        unit = b.get("time_unit", "ns")

        def t(v):
            ns = v * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[unit]
            return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"

        rate = []
        if "bytes_per_second" in b:
            rate.append(f"{b['bytes_per_second'] / 2**20:,.0f} MiB/s")
        if "items_per_second" in b:
            rate.append(f"{b['items_per_second'] / 1e6:,.2f} M items/s")
        name = b["name"] + (f" ({b['label']})" if b.get("label") else "")
        rows.append({"name": name, "real": t(b["real_time"]), "cpu": t(b["cpu_time"]), "rate": ", ".join(rate)})
    return rows


def make_plots(out_dir, doc, aggs):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.stderr.write("report: matplotlib not available, no plots\n")
        return []
    cfg = doc["config"]
    systems = [s for s in sorted(doc["systems"], key=lambda s: PEERS_ORDER.index(s["id"])) if not s["skipped"]]
    plots = []

    def get(sid, k, p, key):
        a = aggs.get((sid, k, p))
        return a.med(key) if a and a.n else None

    # Latency against in-flight, one panel per payload: p50 solid, p99 dashed.
    fig, axes = plt.subplots(1, len(cfg["payloads"]), figsize=(5.2 * len(cfg["payloads"]), 4.4), sharey=True)
    for ax, p in zip(axes, cfg["payloads"]):
        for s in systems:
            ks = [k for k in cfg["inflights"] if get(s["id"], k, p, "p50_us")]
            if not ks:
                continue
            c = COLORS.get(s["id"])
            ax.plot(ks, [get(s["id"], k, p, "p50_us") / 1000 for k in ks], "o-", color=c, label=f"{s['short']} p50")
            ax.plot(ks, [get(s["id"], k, p, "p99_us") / 1000 for k in ks], "x--", color=c, alpha=0.7,
                    label=f"{s['short']} p99")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(cfg["inflights"])
        ax.set_xticklabels([str(k) for k in cfg["inflights"]])
        ax.set_title(f"payload {fmt_bytes(p)}")
        ax.set_xlabel("requests in flight (K)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("latency (ms)")
    axes[-1].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Request/reply latency against in-flight requests ({doc['date']}, {doc['machine']['nproc']} CPUs)")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "latency_vs_inflight.png"), dpi=110)
    plt.close(fig)
    plots.append(("latency against in-flight", "latency_vs_inflight.png"))

    # Throughput against payload, one panel per in-flight level.
    ks = cfg["inflights"]
    fig, axes = plt.subplots(1, len(ks), figsize=(3.6 * len(ks), 4.0), sharey=True)
    for ax, k in zip(axes, ks):
        for s in systems:
            ps = [p for p in cfg["payloads"] if get(s["id"], k, p, "throughput")]
            if not ps:
                continue
            ax.plot(ps, [get(s["id"], k, p, "throughput") for p in ps], "o-", color=COLORS.get(s["id"]),
                    label=s["short"])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(cfg["payloads"])
        ax.set_xticklabels([fmt_bytes(p) for p in cfg["payloads"]])
        ax.set_title(f"K = {k}")
        ax.set_xlabel("payload")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("requests per second")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Request/reply throughput against payload ({doc['date']})")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "throughput_vs_payload.png"), dpi=110)
    plt.close(fig)
    plots.append(("throughput against payload", "throughput_vs_payload.png"))
    return plots


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    out_dir = sys.argv[1]
    doc, aggs = load(out_dir)
    plots = make_plots(out_dir, doc, aggs)
    write_report(out_dir, doc, aggs, plots)
    sys.stderr.write(f"report: wrote {os.path.join(out_dir, 'report.md')}" +
                     (f" and {len(plots)} plots\n" if plots else "\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
