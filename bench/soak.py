#!/usr/bin/env python3
"""Soak of rocketrpc-broker (issue 10 item 7); bench/soak.sh is the entry point.

Starts the broker binary on 127.0.0.1 with a temporary store, a `rocketrpc respond` echo responder, then for the
whole duration runs rounds of mixed request-reply load with `rocketrpc request --count N --inflight K --size S
--expect-echo` (a new client process per round: connections come and go), and every --hostile-every seconds a
hostile client: connections that send frame prefixes and stop, clients that pipeline requests and never read
the answers, requests with invalid names and bytes (each must be answered SYSTEM_ERROR). After every round it
records the broker's RSS, open fds, the round's errors and p99. Writes soak.csv, soak.json, soak.png (with
matplotlib) and exits 1 when a check fails:
  - every request of every round completed (errors == 0, ok == count);
  - every invalid-name request was answered with code 1 and the broker kept serving;
  - RSS stays bounded: no sample over --max-rss-mib, and the last third's peak at most --rss-growth-mib over the
    first third's (no steady leak);
  - fds stay bounded: after the hostile clients are gone, the broker's fd count returns to within --fd-slack of
    its count after warm-up.
Standard library only, except the plot (python3-matplotlib).
"""
import argparse
import csv
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

TOPIC = "SoakEcho"
MIX = [(1, 64), (8, 1024), (32, 256), (4, 16384), (16, 128)]  # (inflight, body bytes), round-robin


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


# ---- raw remoting frames (JSON header), for the hostile client and topic creation ------------------------------

_opaque = [1000]


def frame(code, ext=None, body=b""):
    _opaque[0] += 1
    header = {"code": code, "flag": 0, "language": "CPP", "opaque": _opaque[0], "serializeTypeCurrentRPC": "JSON",
              "version": 399}
    if ext:
        header["extFields"] = ext
    h = json.dumps(header).encode()
    return struct.pack(">II", 4 + len(h) + len(body), len(h)) + h + body


def read_frame(sock):
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf
    total, = struct.unpack(">I", exact(4))
    data = exact(total)
    hlen = struct.unpack(">I", data[:4])[0] & 0xFFFFFF
    return json.loads(data[4:4 + hlen].decode("utf-8", "replace"))


def call(port, code, ext=None, body=b"", timeout=10):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(frame(code, ext, body))
        return read_frame(s)


# ---- sampling ---------------------------------------------------------------------------------------------------

def rss_bytes(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return -1


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


# ---- hostile client ---------------------------------------------------------------------------------------------

def hostile_round(port, prefixes, never_read, hold_s):
    """Returns (invalid-name requests answered with code 1, invalid-name requests sent)."""
    held = []
    for _ in range(prefixes):  # announce a 16 MiB frame, send 8 bytes of it, stop
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(struct.pack(">II", 16 * 1024 * 1024 - 4, 256))  # the largest frame allowed
            held.append(s)
        except OSError:
            pass
    for _ in range(never_read):  # pipeline runtime-info requests and never read the answers
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setblocking(False)
            req = frame(28)
            for _ in range(200):
                try:
                    s.send(req)
                except (BlockingIOError, OSError):
                    break
            held.append(s)
        except OSError:
            pass
    bad = [
        (14, {"consumerGroup": "bad group", "topic": TOPIC, "queueId": "0"}),
        (14, {"consumerGroup": "g", "topic": "t" * 200, "queueId": "0"}),
        (105, {"topic": "no/such topic"}),
        (103, {"clusterName": "c", "brokerAddr": "127.0.0.1:1", "brokerName": "b b\u0001", "brokerId": "0"}),
        (34, {"consumerGroup": "bad|group?", "clientID": "x"}),
    ]
    answered = 0
    for code, ext in bad:
        try:
            r = call(port, code, ext)
            if r.get("code") == 1:
                answered += 1
            else:
                log(f"invalid-name request {code} {ext} answered {r.get('code')} {r.get('remark')}")
        except OSError as e:
            log(f"invalid-name request {code} got no answer: {e}")
    time.sleep(hold_s)
    for s in held:
        try:
            s.close()
        except OSError:
            pass
    return answered, len(bad)


# ---- main -------------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=3)
    ap.add_argument("--broker", required=True, help="rocketrpc-broker binary")
    ap.add_argument("--cli", required=True, help="rocketrpc CLI binary")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--round-requests", type=int, default=2000)
    ap.add_argument("--hostile-every", type=float, default=20, help="seconds between hostile rounds")
    ap.add_argument("--prefixes", type=int, default=200)
    ap.add_argument("--never-read", type=int, default=50)
    ap.add_argument("--max-rss-mib", type=float, default=0,
                    help="cap on any RSS sample (default: the broker's maxReceivingBytes + 50 * 2 * "
                         "maxWriteQueueBytesPerConnection as configured here + 64 MiB)")
    ap.add_argument("--rss-growth-mib", type=float, default=48)
    ap.add_argument("--fd-slack", type=int, default=16)
    args = ap.parse_args()

    os.makedirs(args.out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="rocketrpc_soak_")
    port = free_port()
    # Tighter connection caps than the defaults, so that the RSS bound means something on a small machine.
    max_receiving = 64 * 1024 * 1024
    write_queue = 1024 * 1024
    broker_args = [args.broker, "--port", str(port), "--store", os.path.join(work, "store"),
                   "--set", f"maxReceivingBytes={max_receiving}",
                   "--set", f"maxWriteQueueBytesPerConnection={write_queue}",
                   "--set", "frameReceiveTimeoutMillis=5000", "--set", "writeStallTimeoutMillis=3000",
                   # The soak measures load, not the machine's disk: puts are refused only at 99 % used.
                   "--set", "diskSpaceWarningLevelRatio=99", "--set", "diskMaxUsedSpaceRatio=95"]
    max_rss = args.max_rss_mib * 1024 * 1024 if args.max_rss_mib > 0 else \
        max_receiving + args.never_read * 2 * write_queue + 64 * 1024 * 1024
    procs = []
    failures = []
    samples = []

    def stop_all():
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()

    broker_log = open(os.path.join(work, "broker.log"), "w")
    try:
        broker = subprocess.Popen(broker_args, stdout=broker_log, stderr=subprocess.STDOUT)
        procs.append(broker)
        if not wait_port(port, 30):
            raise RuntimeError("rocketrpc-broker did not listen")
        addr = f"127.0.0.1:{port}"
        r = call(port, 17, {"topic": TOPIC, "readQueueNums": "4", "writeQueueNums": "4", "perm": "6",
                            "topicFilterType": "SINGLE_TAG", "topicSysFlag": "0", "order": "false"})
        if r.get("code") != 0:
            raise RuntimeError(f"creating {TOPIC} failed: {r}")
        responder = subprocess.Popen([args.cli, "respond", "-n", addr, "-t", TOPIC, "-g", "soak_responders"],
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "respond.log"), "w"))
        procs.append(responder)

        t0 = time.time()
        end = t0 + args.minutes * 60
        next_hostile = t0 + args.hostile_every
        hostile_thread = None
        hostile_results = []
        rnd = 0
        warm_fds = None
        while time.time() < end or rnd < 2:
            inflight, size = MIX[rnd % len(MIX)]
            hostile_at_start = hostile_thread is not None and hostile_thread.is_alive()
            count = args.round_requests
            started = time.time()
            out = subprocess.run([args.cli, "request", "-n", addr, "-t", TOPIC, "--count", str(count), "--inflight",
                                  str(inflight), "--size", str(size), "--expect-echo", "--timeout-ms", "15000"],
                                 capture_output=True, text=True, timeout=600)
            stats = dict(kv.split("=", 1) for kv in out.stdout.split() if "=" in kv)
            ok = int(stats.get("ok", 0))
            errors = int(stats.get("errors", count - ok))
            p99 = int(stats.get("p99_us", -1))
            hostile_active = hostile_at_start or (hostile_thread is not None and hostile_thread.is_alive())
            sample = {"t_s": round(started - t0, 1), "round": rnd, "inflight": inflight, "size": size, "ok": ok,
                      "errors": errors, "p99_us": p99, "rss_bytes": rss_bytes(broker.pid),
                      "fds": fd_count(broker.pid), "hostile": int(hostile_active), "rc": out.returncode}
            samples.append(sample)
            if rnd == 1:
                warm_fds = sample["fds"]
            if ok != count or errors != 0:
                failures.append(f"round {rnd} (K={inflight}, {size} B): ok={ok} errors={errors} rc={out.returncode} "
                                f"{out.stderr.strip()[-300:]}")
            if sample["rss_bytes"] > max_rss:
                failures.append(f"round {rnd}: RSS {sample['rss_bytes'] >> 20} MiB over the cap {max_rss >> 20} MiB")
            if broker.poll() is not None:
                failures.append(f"the broker exited with {broker.returncode}")
                break
            if time.time() >= next_hostile and not hostile_active:
                hostile_thread = threading.Thread(
                    target=lambda: hostile_results.append(hostile_round(port, args.prefixes, args.never_read, 4)),
                    daemon=True)
                hostile_thread.start()
                next_hostile = time.time() + args.hostile_every
            log(f"round {rnd} K={inflight} {size} B: ok={ok} errors={errors} p99={p99} us "
                f"rss={sample['rss_bytes'] >> 20} MiB fds={sample['fds']}{' (hostile)' if hostile_active else ''}")
            rnd += 1
        if hostile_thread is not None:
            hostile_thread.join(60)
        # Closed hostile connections are gone once the broker has seen their close.
        settle_end = time.time() + 15
        final_fds = fd_count(broker.pid)
        while warm_fds is not None and final_fds > warm_fds + args.fd_slack and time.time() < settle_end:
            time.sleep(0.5)
            final_fds = fd_count(broker.pid)
        if warm_fds is not None and final_fds > warm_fds + args.fd_slack:
            failures.append(f"fds {final_fds} after the run, {warm_fds} after warm-up (slack {args.fd_slack})")
        for answered, sent in hostile_results:
            if answered != sent:
                failures.append(f"a hostile round had {sent - answered} of {sent} invalid-name requests unanswered")
        if not hostile_results:
            failures.append("no hostile round ran (soak too short)")
        third = max(1, len(samples) // 3)
        first_peak = max(s["rss_bytes"] for s in samples[:third])
        last_peak = max(s["rss_bytes"] for s in samples[-third:])
        if last_peak - first_peak > args.rss_growth_mib * 1024 * 1024:
            failures.append(f"RSS grew: last third's peak {last_peak >> 20} MiB, first third's {first_peak >> 20} MiB")
        summary = {"minutes": args.minutes, "rounds": len(samples), "requests": sum(s["ok"] for s in samples),
                   "errors": sum(s["errors"] for s in samples), "hostile_rounds": len(hostile_results),
                   "rss_first_third_peak_mib": first_peak >> 20, "rss_last_third_peak_mib": last_peak >> 20,
                   "rss_cap_mib": max_rss >> 20, "fds_after_warmup": warm_fds, "fds_final": final_fds,
                   "p99_us_max": max(s["p99_us"] for s in samples), "failures": failures}
    finally:
        stop_all()
        broker_log.close()
    with open(os.path.join(args.out_dir, "soak.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(samples[0].keys()) if samples else ["t_s"])
        w.writeheader()
        w.writerows(samples)
    with open(os.path.join(args.out_dir, "soak.json"), "w") as f:
        json.dump(summary, f, indent=2)
    plot(samples, os.path.join(args.out_dir, "soak.png"), args.minutes)
    log(json.dumps(summary))
    if failures:
        log("FAILED:\n  " + "\n  ".join(failures))
        log(f"broker log kept in {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    log(f"passed: {summary['requests']} requests, 0 errors, {summary['hostile_rounds']} hostile rounds")
    return 0


def plot(samples, path, minutes):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing (python3-matplotlib): no plot")
        return
    t = [s["t_s"] / 60 for s in samples]
    fig, axes = plt.subplots(4, 1, figsize=(9, 9), sharex=True)
    axes[0].plot(t, [s["rss_bytes"] / 2**20 for s in samples])
    axes[0].set_ylabel("broker RSS (MiB)")
    axes[1].plot(t, [s["fds"] for s in samples])
    axes[1].set_ylabel("broker open fds")
    axes[2].plot(t, [s["p99_us"] / 1000 for s in samples], marker=".", linestyle="none")
    axes[2].set_ylabel("round p99 (ms)")
    axes[3].plot(t, [s["errors"] for s in samples])
    axes[3].set_ylabel("errors per round")
    axes[3].set_xlabel("minutes")
    for ax in axes:
        for s in samples:
            if s["hostile"]:
                ax.axvspan(s["t_s"] / 60 - 0.02, s["t_s"] / 60 + 0.02, color="red", alpha=0.08)
        ax.grid(alpha=0.3)
    fig.suptitle(f"rocketrpc-broker soak, {minutes:g} min: mixed request-reply + hostile clients (red)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
