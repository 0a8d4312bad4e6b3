#!/usr/bin/env python3
"""Start-up time and idle memory: rocketrpc-broker next to Apache RocketMQ (name server + broker), same run.

    bench/startup.py [--runs 5] [--broker-bin build/release/tools/rocketrpc-broker] [--apache-version 4.9.8]
                     [--idle-s 5] [--out-dir DIR] [--systems rrpc-broker,apache]

Each run starts a fresh server with an empty store on free 127.0.0.1 ports and measures, from the moment the
process is started (exec of rocketrpc-broker; exec of `scripts/apache-rocketmq.sh start`, which starts the Apache
name server and then the broker, as mqnamesrv + mqbroker would):

  route     the first GET_ROUTEINFO_BY_TOPIC(TBW102) answered with a broker: the name server serves and the
            broker is registered with it
  send      then UPDATE_AND_CREATE_TOPIC of a new topic on that broker, its route visible at the name server,
            and the first SEND_MESSAGE to it answered SUCCESS: the broker serves clients
  ready     rocketrpc-broker's READY line / the script's exit (informational: not the same event)

The probe is identical for both systems: one raw TCP connection speaking the remoting protocol (JSON headers),
retried every 10 ms until it succeeds. After the send, the server idles `--idle-s` seconds with that one topic,
then VmRSS, VmHWM and RssAnon are read from /proc/<pid>/status (for Apache: name server and broker JVMs,
separately and summed), and the CPU time used so far from /proc/<pid>/stat. Runs alternate between the systems.

Writes DIR/startup.json (every run, the summary, the settings) and DIR/startup.md (min / median / max per
system, ratios Apache / rocketrpc-broker). Python 3 standard library only; needs Java and Maven for Apache (the
script downloads its jars once). Environment is passed to scripts/apache-rocketmq.sh (ROCKETMQ_*_HEAP,
ROCKETMQ_STATE_ROOT, ...).
"""
import argparse
import datetime
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, "scripts", "apache-rocketmq.sh")

GET_ROUTEINFO_BY_TOPIC = 105
UPDATE_AND_CREATE_TOPIC = 17
SEND_MESSAGE = 10
SUCCESS = 0
PROBE_INTERVAL_S = 0.01
# A server still starting refuses, resets or half-answers: every such failure means "retry".
PROBE_ERRORS = (OSError, ValueError, KeyError, struct.error)


def log(msg):
    print("[startup] " + msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- remoting client
class Remoting:
    """One connection speaking RocketMQ's remoting protocol with JSON headers; answers decoded in both formats."""

    def __init__(self, addr, timeout_s=2.0):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.opaque = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _read(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed")
            buf += chunk
        return bytes(buf)

    def call(self, code, ext, body=b""):
        """Returns (code, remark, extFields, body) of the response."""
        self.opaque += 1
        header = json.dumps({"code": code, "flag": 0, "language": "JAVA", "opaque": self.opaque,
                             "serializeTypeCurrentRPC": "JSON", "version": 409,
                             "extFields": {k: str(v) for k, v in ext.items()}}).encode()
        self.sock.sendall(struct.pack(">II", 4 + len(header) + len(body), len(header)) + header + body)
        while True:
            (length,) = struct.unpack(">I", self._read(4))
            frame = self._read(length)
            kind, hlen = frame[0], struct.unpack(">I", b"\0" + frame[1:4])[0]
            raw, rbody = frame[4:4 + hlen], frame[4 + hlen:]
            h = json.loads(raw) if kind == 0 else decode_binary_header(raw)
            if h.get("opaque") == self.opaque and int(h.get("flag", 0)) & 1:
                return int(h["code"]), h.get("remark") or "", h.get("extFields") or {}, rbody


def decode_binary_header(raw):
    code, _lang, _ver, opaque, flag = struct.unpack(">hbhii", raw[:13])
    pos = 13
    (rlen,) = struct.unpack(">i", raw[pos:pos + 4])
    pos += 4
    remark = raw[pos:pos + rlen].decode("utf-8", "replace") if rlen > 0 else ""
    pos += max(rlen, 0)
    (elen,) = struct.unpack(">i", raw[pos:pos + 4])
    pos += 4
    ext, end = {}, pos + elen
    while pos < end:
        (klen,) = struct.unpack(">h", raw[pos:pos + 2])
        pos += 2
        key = raw[pos:pos + klen].decode()
        pos += klen
        (vlen,) = struct.unpack(">i", raw[pos:pos + 4])
        pos += 4
        ext[key] = raw[pos:pos + vlen].decode("utf-8", "replace")
        pos += vlen
    return {"code": code, "opaque": opaque, "flag": flag, "remark": remark, "extFields": ext}


def master_addrs(route_body):
    """Broker master addresses in a TopicRouteData body (fastjson may write {0:"addr"} without quotes)."""
    text = route_body.decode("utf-8", "replace")
    return re.findall(r'"brokerAddrs"\s*:\s*\{\s*"?0"?\s*:\s*"([^"]+)"', text)


class Probe:
    """Retries each step until it succeeds (or the deadline passes); records when each step first succeeded."""

    def __init__(self, namesrv, t0, deadline, check_alive=None):
        """check_alive(): raises (with the server's log tail) once the server under test has exited, so a
        server that died fails the run at once instead of after the whole timeout."""
        self.namesrv, self.t0, self.deadline = namesrv, t0, deadline
        self.check_alive = check_alive or (lambda: None)
        self.conns = {}

    def close(self):
        for c in self.conns.values():
            c.close()

    def _call(self, addr, code, ext, body=b""):
        conn = self.conns.get(addr)
        if conn is None:
            conn = Remoting(addr)
            self.conns[addr] = conn
        try:
            return conn.call(code, ext, body)
        except PROBE_ERRORS:
            conn.close()
            self.conns.pop(addr, None)
            raise

    def until(self, what, step):
        while True:
            self.check_alive()
            try:
                result = step()
                if result is not None:
                    return result, (time.monotonic() - self.t0) * 1000.0
            except PROBE_ERRORS:
                pass
            if time.monotonic() > self.deadline:
                raise TimeoutError("timed out waiting for " + what)
            time.sleep(PROBE_INTERVAL_S)

    def route(self, topic):
        code, _, _, body = self._call(self.namesrv, GET_ROUTEINFO_BY_TOPIC, {"topic": topic})
        addrs = master_addrs(body) if code == SUCCESS else []
        return addrs[0] if addrs else None

    def run(self, topic):
        """route(TBW102) -> create topic on the broker -> its route -> first send. Returns the three times (ms)."""
        broker, t_route = self.until("the route of TBW102", lambda: self.route("TBW102"))

        def create():
            code, remark, _, _ = self._call(broker, UPDATE_AND_CREATE_TOPIC, {
                "topic": topic, "defaultTopic": "TBW102", "readQueueNums": 4, "writeQueueNums": 4, "perm": 6,
                "topicFilterType": "SINGLE_TAG", "topicSysFlag": 0, "order": "false"})
            return True if code == SUCCESS else None

        self.until("topic creation", create)
        self.until("the route of " + topic, lambda: self.route(topic))

        def send():
            code, _, _, _ = self._call(broker, SEND_MESSAGE, {
                "producerGroup": "startup_bench", "topic": topic, "defaultTopic": "TBW102",
                "defaultTopicQueueNums": 4, "queueId": 0, "sysFlag": 0,
                "bornTimestamp": int(time.time() * 1000), "flag": 0,
                "properties": "WAIT\x01true\x02", "reconsumeTimes": 0, "unitMode": "false", "batch": "false"},
                b"startup probe")
            return True if code == SUCCESS else None

        _, t_send = self.until("the first send", send)
        return t_route, t_send, broker


# ------------------------------------------------------------------------------------------------- /proc
def proc_memory(pid):
    """VmRSS, VmHWM, RssAnon of pid in KiB."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon"):
                out[key + "_kib"] = int(value.split()[0])
    return out


def proc_cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


# -------------------------------------------------------------------------------------------------- ports
def port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ephemeral_low():
    """Lowest port the kernel hands out to outgoing connections: ports chosen below it cannot be taken by a
    client socket between our check and the server's bind (what made an Apache name server fail to bind)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_apache_ports():
    """Name-server port and broker port p with p-2 (VIP) and p+1 (HA) free too, all below the ephemeral range."""
    rng = random.Random()
    top = max(12000, ephemeral_low() - 2)
    for _ in range(400):
        ns, br = rng.randrange(10000, top), rng.randrange(10002, top)
        if abs(ns - br) < 4:
            continue
        if all(port_free(p) for p in (ns, br - 2, br, br + 1)):
            return ns, br
    raise RuntimeError("no free ports for Apache RocketMQ below the ephemeral range")


def log_tail(path, lines=15):
    try:
        with open(path, "rb") as f:
            data = f.read()[-8192:].decode("utf-8", "replace")
        return "\n".join(data.splitlines()[-lines:])
    except OSError as e:
        return "(no log: %s)" % e


# ------------------------------------------------------------------------------------------------ systems
def run_rocketrpc(args, work, run_no):
    store = os.path.join(work, "rrpc-store-%d" % run_no)
    os.makedirs(store)
    port = free_port()
    ready = {}
    err = open(os.path.join(work, "rrpc-%d.log" % run_no), "wb")
    t0 = time.monotonic()
    proc = subprocess.Popen([args.broker_bin, "--port", str(port), "--store", store],
                            stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)

    def reader():
        for line in proc.stdout:
            if line.startswith(b"READY ") and "t" not in ready:
                ready["t"] = (time.monotonic() - t0) * 1000.0
    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    def alive():
        if proc.poll() is not None:
            err.flush()
            raise RuntimeError("rocketrpc-broker exited with code %s during start-up:\n%s"
                               % (proc.returncode, log_tail(err.name)))
    probe = Probe("127.0.0.1:%d" % port, t0, t0 + args.timeout_s, alive)
    try:
        t_route, t_send, _ = probe.run("startup_bench_%d" % run_no)
        time.sleep(args.idle_s)
        if proc.poll() is not None:
            raise RuntimeError("rocketrpc-broker exited (code %s)" % proc.returncode)
        mem = proc_memory(proc.pid)
        cpu = proc_cpu_s(proc.pid)
    finally:
        probe.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        thread.join(5)
        err.close()
        shutil.rmtree(store, ignore_errors=True)
    return {"system": "rrpc-broker", "run": run_no, "route_ms": t_route, "send_ms": t_send,
            "ready_ms": ready.get("t"), "memory": {"rocketrpc-broker": mem}, "cpu_s": round(cpu, 3)}


def run_apache(args, work, run_no):
    run_dir = os.path.join(work, "rmq-%d" % run_no)
    ns_port, br_port = free_apache_ports()
    env = dict(os.environ, ROCKETMQ_NAMESRV_PORT=str(ns_port), ROCKETMQ_BROKER_PORT=str(br_port),
               ROCKETMQ_STORE_ROOT=os.path.join(work, "rmq-store"))
    os.makedirs(env["ROCKETMQ_STORE_ROOT"], exist_ok=True)
    out = open(os.path.join(work, "rmq-%d.out" % run_no), "wb")
    t0 = time.monotonic()
    script = subprocess.Popen(["bash", SCRIPT, "start", args.apache_version, "--dir", run_dir],
                              stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    exited = {}

    def watch():
        script.wait()
        exited["t"] = (time.monotonic() - t0) * 1000.0
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    def alive():
        # The script returns 0 once the broker registered and stays up; any other exit is a failed start.
        if script.poll() is not None and script.returncode != 0:
            out.flush()
            raise RuntimeError("scripts/apache-rocketmq.sh start failed (code %s):\n%s"
                               % (script.returncode, log_tail(out.name)))
        for name in ("namesrv", "broker-a"):
            pid_file = os.path.join(run_dir, name + ".pid")
            try:
                with open(pid_file) as f:
                    pid = int(f.read().strip())
            except (OSError, ValueError):
                continue
            if not os.path.exists("/proc/%d" % pid):
                raise RuntimeError("Apache RocketMQ %s exited during start-up:\n%s"
                                   % (name, log_tail(os.path.join(run_dir, "logs", name + ".out"))))
    probe = Probe("127.0.0.1:%d" % ns_port, t0, t0 + args.timeout_s, alive)
    try:
        t_route, t_send, _ = probe.run("startup_bench_%d" % run_no)
        watcher.join(max(1.0, t0 + args.timeout_s - time.monotonic()))
        if watcher.is_alive():
            raise RuntimeError("scripts/apache-rocketmq.sh start did not return")
        rc = script.returncode
        t_script = exited["t"]
        if rc != 0:
            raise RuntimeError("scripts/apache-rocketmq.sh start failed (see %s)" % out.name)
        # the script returns after the broker registered; idle counts from the first send, as for rocketrpc
        left = args.idle_s - (time.monotonic() - t0 - t_send / 1000.0)
        if left > 0:
            time.sleep(left)
        pids = {}
        for name in ("namesrv", "broker-a"):
            with open(os.path.join(run_dir, name + ".pid")) as f:
                pids[name] = int(f.read().strip())
        mem = {name: proc_memory(pid) for name, pid in pids.items()}
        cpu = sum(proc_cpu_s(pid) for pid in pids.values())
    finally:
        probe.close()
        if script.poll() is None:
            script.wait()
        subprocess.run(["bash", SCRIPT, "stop", "--dir", run_dir, "--kill"], env=env,
                       stdout=subprocess.DEVNULL, stderr=out, stdin=subprocess.DEVNULL, check=False)
        out.close()
    return {"system": "apache", "run": run_no, "route_ms": t_route, "send_ms": t_send, "ready_ms": t_script,
            "memory": {"namesrv": mem["namesrv"], "broker": mem["broker-a"]}, "cpu_s": round(cpu, 3)}


# ------------------------------------------------------------------------------------------------ summary
def mem_total(run, key):
    return sum(m[key] for m in run["memory"].values())


METRICS = [
    # (json key, label, unit, value of a run)
    ("route_ms", "start -> first route answer (TBW102 routed)", "ms", lambda r: r["route_ms"]),
    ("send_ms", "start -> first send accepted", "ms", lambda r: r["send_ms"]),
    ("ready_ms", "start -> READY line / script returned", "ms", lambda r: r["ready_ms"]),
    ("rss_mib", "idle VmRSS, all processes", "MiB", lambda r: mem_total(r, "VmRSS_kib") / 1024.0),
    ("hwm_mib", "peak VmHWM, all processes", "MiB", lambda r: mem_total(r, "VmHWM_kib") / 1024.0),
    ("anon_mib", "idle RssAnon, all processes", "MiB", lambda r: mem_total(r, "RssAnon_kib") / 1024.0),
    ("cpu_ms", "CPU time until the idle sample, 10 ms ticks", "ms", lambda r: r["cpu_s"] * 1000.0),
]
APACHE_PARTS = [
    ("namesrv", "Apache name server"),
    ("broker", "Apache broker"),
]


def stats(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def summarize(runs):
    summary = {}
    for system in ("rrpc-broker", "apache"):
        rs = [r for r in runs if r["system"] == system]
        if not rs:
            continue
        s = {key: stats([fn(r) for r in rs]) for key, _, _, fn in METRICS}
        if system == "apache":
            for part, _ in APACHE_PARTS:
                for mkey, name in (("VmRSS_kib", "rss"), ("VmHWM_kib", "hwm"), ("RssAnon_kib", "anon")):
                    s[part + "_" + name + "_mib"] = stats([r["memory"][part][mkey] / 1024.0 for r in rs])
        summary[system] = s
    return summary


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "ms":
        return "%.0f" % v
    if unit == "s":
        return "%.2f" % v
    return "%.1f" % v


def triple(s, unit):
    if not s:
        return "-"
    return "%s / %s / %s" % (fmt(s["min"], unit), fmt(s["median"], unit), fmt(s["max"], unit))


def ratio(a, b):
    if not a or not b:
        return "-"
    return " / ".join("x%.1f" % (a[k] / b[k]) if b[k] else "-" for k in ("min", "median", "max"))


def markdown(result):
    meta, summary = result["settings"], result["summary"]
    rr, ap = summary.get("rrpc-broker"), summary.get("apache")
    lines = [
        "## Start-up time and idle memory",
        "",
        "%d run(s) per system, alternating; min / median / max; ratio = Apache / rocketrpc-broker (min / median / "
        "max). Started %s on %d cores, load average %s before, %s after." % (
            meta["runs"], meta["started_utc"], meta["cores"], " ".join("%.2f" % x for x in meta["loadavg_before"]),
            " ".join("%.2f" % x for x in meta["loadavg_after"])),
        "",
        "| metric | rocketrpc-broker | Apache RocketMQ %s (name server + broker) | ratio |" % meta["apache_version"],
        "|---|---|---|---|",
    ]
    for key, label, unit, _ in METRICS:
        a = ap.get(key) if ap else None
        r = rr.get(key) if rr else None
        lines.append("| %s (%s) | %s | %s | %s |" % (label, unit, triple(r, unit), triple(a, unit),
                                                   "-" if key == "ready_ms" else ratio(a, r)))
    if ap:
        for part, name in APACHE_PARTS:
            for mkey, mlabel in (("rss", "idle VmRSS"), ("hwm", "peak VmHWM"), ("anon", "idle RssAnon")):
                lines.append("| %s, %s (MiB) | | %s | |" % (name, mlabel, triple(ap.get("%s_%s_mib" % (part, mkey)),
                                                                                "MiB")))
    lines += [
        "",
        "Start = exec of `%s --port <free> --store <new dir>` / of `scripts/apache-rocketmq.sh start %s` (name "
        "server, then broker; jars already cached; heaps %s / %s). Route and send are probed the same way for both: "
        "one TCP connection with JSON remoting headers, retried every %d ms: GET_ROUTEINFO_BY_TOPIC(TBW102) "
        "answered with a broker address; then UPDATE_AND_CREATE_TOPIC of a new topic, its route, and the first "
        "SEND_MESSAGE answered SUCCESS. \"READY / script returned\" is not the same event for both (rocketrpc-broker "
        "prints READY once serving; the script returns after the broker's registration log line) and gets no ratio. "
        "Memory: /proc/<pid>/status after %g s idle with that one topic (Apache: both JVMs summed, and each below); "
        "CPU: utime+stime from exec to that sample." % (
            meta["broker_bin_display"], meta["apache_version"], meta["apache_namesrv_heap"],
            meta["apache_broker_heap"], int(PROBE_INTERVAL_S * 1000), meta["idle_s"]),
        "",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="start-ups per system (default 5)")
    ap.add_argument("--broker-bin", default=os.path.join(REPO, "build", "release", "tools", "rocketrpc-broker"))
    ap.add_argument("--apache-version", default="4.9.8", help="scripts/apache-rocketmq.sh version (default 4.9.8)")
    ap.add_argument("--idle-s", type=float, default=5.0, help="idle time before the memory sample (default 5)")
    ap.add_argument("--timeout-s", type=float, default=180.0, help="limit for one start-up (default 180)")
    ap.add_argument("--systems", default="rrpc-broker,apache", help="rrpc-broker,apache (default both)")
    ap.add_argument("--out-dir", default=None, help="where startup.json and startup.md go (default: stdout only)")
    args = ap.parse_args()
    systems = [s for s in args.systems.split(",") if s]
    for s in systems:
        if s not in ("rrpc-broker", "apache"):
            ap.error("unknown system " + s)
    if args.runs < 1:
        ap.error("--runs must be >= 1")
    args.broker_bin = os.path.abspath(args.broker_bin)
    if "rrpc-broker" in systems and not os.access(args.broker_bin, os.X_OK):
        ap.error("%s is not built (cmake --build --preset release --target rocketrpc-broker)" % args.broker_bin)

    if "apache" in systems:
        log("fetching the Apache RocketMQ %s jars (cached after the first time)" % args.apache_version)
        subprocess.run(["bash", SCRIPT, "fetch", args.apache_version], check=True, stdout=subprocess.DEVNULL)

    work = tempfile.mkdtemp(prefix="rocketrpc-startup-")
    bin_display = os.path.relpath(args.broker_bin, REPO) if args.broker_bin.startswith(REPO + os.sep) else \
        os.path.basename(args.broker_bin)
    settings = {
        "started_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "runs": args.runs, "idle_s": args.idle_s, "systems": systems, "cores": os.cpu_count(),
        "kernel": platform.release(), "loadavg_before": loadavg(), "broker_bin_display": bin_display,
        "apache_version": args.apache_version,
        "apache_namesrv_heap": os.environ.get("ROCKETMQ_NAMESRV_HEAP", "-Xms64m -Xmx256m"),
        "apache_broker_heap": os.environ.get("ROCKETMQ_BROKER_HEAP", "-Xms256m -Xmx512m"),
        "probe_interval_ms": int(PROBE_INTERVAL_S * 1000),
    }
    runs = []
    try:
        for i in range(1, args.runs + 1):
            order = systems if i % 2 else list(reversed(systems))
            for system in order:
                r = run_rocketrpc(args, work, i) if system == "rrpc-broker" else run_apache(args, work, i)
                log("%s run %d: route %.0f ms, send %.0f ms, VmRSS %.1f MiB" % (
                    system, i, r["route_ms"], r["send_ms"], mem_total(r, "VmRSS_kib") / 1024.0))
                runs.append(r)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    settings["loadavg_after"] = loadavg()
    result = {"settings": settings, "runs": runs, "summary": summarize(runs)}
    md = markdown(result)
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)
        with open(os.path.join(args.out_dir, "startup.json"), "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
        with open(os.path.join(args.out_dir, "startup.md"), "w") as f:
            f.write(md)
        log("wrote %s/startup.json and startup.md" % args.out_dir)
    print(md)


if __name__ == "__main__":
    main()
