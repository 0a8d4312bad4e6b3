#!/usr/bin/env python3
"""Runs the request/reply comparison of bench/compare.sh (which builds everything first).

Every system gets the same closed-loop workloads (K requests in flight, one payload size) from a long-lived
client process driven over stdin/stdout (protocol in bench/common/bench_common.h). Around each measured phase
this script samples /proc/<pid>/stat (utime+stime) and /proc/<pid>/status (VmHWM, reset per cell through
/proc/<pid>/clear_refs) of the client, the server (broker) and the responder processes.

All systems are started first and the cells are interleaved across systems, so a change in background load
hits every system alike. Results go to results.json / results.csv; report.py turns them into the report.
Standard library only (the plots need matplotlib, in report.py).
"""

import argparse
import datetime
import json
import os
import platform
import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")

PAYLOADS = [128, 4096, 65536]
INFLIGHTS = [1, 16, 64, 256, 1024]
# Systems with a Java requester or responder: they get a longer warm-up (JIT compilation).
JVM_SYSTEMS = {"rmq-java", "rmq-rrpc-jresp"}
# Cells repeated --reps times (the others run once): the ones the targets are judged on.
KEY_CELLS = {(1, 128), (64, 128), (256, 128)}

SYSTEMS = [
    # id, label, short name
    ("tcp", "Raw TCP ping-pong, loopback (floor)", "TCP"),
    ("nats", "NATS request-reply (nats-server + nats.c)", "NATS"),
    ("rmq-java", "Apache RocketMQ 4.9 + Java client 4.9.8", "RMQ+Java"),
    ("rmq-rocketrpc", "Apache RocketMQ 4.9 + rocketrpc client", "RMQ+rocketrpc"),
    ("rmq-rrpc-jresp", "Apache RocketMQ 4.9 + rocketrpc requester, Java responder", "RMQ+rocketrpc/JavaResp"),
    ("rrpc-broker", "rocketrpc-broker + rocketrpc client", "rrpc-broker"),
    ("rrpc-broker-acl", "rocketrpc-broker with aclEnable=true + signing rocketrpc client", "rrpc-broker+ACL"),
]

# The account the ACL row signs with (bench only; written to the run directory, never reused elsewhere).
BENCH_ACL_KEY, BENCH_ACL_SECRET = "benchAccess", "benchSecret-not-a-real-secret"


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


# ---------------------------------------------------------------------------------------------- /proc

def proc_cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def proc_status_kb(pid, field):
    """A kB field of /proc/<pid>/status (VmHWM: peak resident set; RssAnon: resident anonymous memory)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_hwm(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------- processes

class Proc:
    """A child process whose stdout lines are read by a thread; stderr goes to a log file."""

    def __init__(self, name, argv, run_dir, env=None):
        self.name = name
        self.log_path = os.path.join(run_dir, f"{name}.log")
        self.logf = open(self.log_path, "w")
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.logf,
                                  text=True, bufsize=1, env=env, cwd=run_dir, start_new_session=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    @property
    def pid(self):
        return self.p.pid

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def expect(self, prefix, timeout):
        """Next stdout line starting with prefix (other lines are logged); None on timeout or exit."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                return None
            if line.startswith(prefix):
                return line
            self.logf.write(f"[stdout] {line}\n")
            self.logf.flush()

    def alive(self):
        return self.p.poll() is None

    def stop(self, grace=10):
        if self.alive():
            try:
                self.send("quit")
                self.p.stdin.close()
            except (OSError, ValueError):
                pass
            try:
                self.p.wait(grace)
            except subprocess.TimeoutExpired:
                self.p.send_signal(signal.SIGTERM)
                try:
                    self.p.wait(5)
                except subprocess.TimeoutExpired:
                    self.p.kill()
                    self.p.wait()
        self.logf.close()

    def log_tail(self, n=15):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class System:
    def __init__(self, sid, label, short):
        self.id, self.label, self.short = sid, label, short
        self.client = None
        self.server_pids = []   # broker / server processes (/proc sampled)
        self.responder_pids = []
        self.owned = []         # Procs to stop
        self.skip_reason = None
        self.notes = []
        self.failures = 0


# ---------------------------------------------------------------------------------------------- runner

class Runner:
    def __init__(self, args):
        self.args = args
        self.bin = os.path.join(REPO, args.build_dir, "bench")
        self.run_dir = os.path.abspath(args.run_dir)
        os.makedirs(self.run_dir, exist_ok=True)
        self.systems = {sid: System(sid, label, short) for sid, label, short in SYSTEMS}
        self.apache = None  # {"dir":..., "namesrv":..., "pids": [...]}
        self.t0 = args.t0 or time.time()
        self.cells = []
        self.stopping = False

    # ------------------------------------------------------------------ set-up of each system
    def start_all(self):
        only = set(self.args.systems.split(",")) if self.args.systems else None
        for sid, sysm in self.systems.items():
            if only and sid not in only:
                sysm.skip_reason = "not selected (--systems)"
        starters = {"tcp": self.start_tcp, "nats": self.start_nats, "rmq-java": self.start_rmq_java,
                    "rmq-rocketrpc": self.start_rmq_rocketrpc, "rmq-rrpc-jresp": self.start_rmq_rrpc_jresp,
                    "rrpc-broker": self.start_rrpc_broker,
                    "rrpc-broker-acl": lambda sysm: self.start_rrpc_broker(sysm, acl=True)}
        for sid, sysm in self.systems.items():
            if sysm.skip_reason:
                continue
            log(f"[setup {self.elapsed()}] starting {sysm.label}")
            try:
                starters[sid](sysm)
            except Exception as e:  # noqa: BLE001 - any failure skips the system, the run goes on
                sysm.skip_reason = f"start failed: {e}"
                log(f"[setup] {sysm.short}: {sysm.skip_reason}")
                for p in sysm.owned:
                    p.stop(grace=3)
                sysm.owned = []

    def exe(self, name):
        path = os.path.join(self.bin, name)
        if not os.path.exists(path):
            raise RuntimeError(f"{os.path.relpath(path, REPO)} not built")
        return path

    def wait_ready(self, proc, prefix, timeout):
        line = proc.expect(prefix, timeout)
        if line is None:
            raise RuntimeError(f"{proc.name} not ready within {timeout}s: {proc.log_tail(8).strip()}")
        return line

    def start_tcp(self, s):
        server = Proc("tcp-server", [self.exe("bench_tcp_pingpong"), "server", "--port", "0"], self.run_dir)
        s.owned.append(server)
        port = int(self.wait_ready(server, "port ", 10).split()[1])
        s.server_pids = [server.pid]
        s.client = Proc("tcp-client", [self.exe("bench_tcp_pingpong"), "client", "--port", str(port)], self.run_dir)
        s.owned.append(s.client)

    def start_nats(self, s):
        nats_server = shutil.which("nats-server") or ("/usr/sbin/nats-server" if os.path.exists("/usr/sbin/nats-server") else None)
        if not nats_server:
            raise RuntimeError("nats-server not installed")
        exe = self.exe("bench_nats")
        port = free_port()
        conf = os.path.join(self.run_dir, "nats-server.conf")
        with open(conf, "w") as f:
            f.write(f"listen: 127.0.0.1:{port}\nmax_payload: 1048576\nmax_pending: 268435456\n"
                    "write_deadline: \"10s\"\n")
        server = Proc("nats-server", [nats_server, "-c", conf], self.run_dir)
        s.owned.append(server)
        if not wait_port(port, 15):
            raise RuntimeError("nats-server did not listen: " + server.log_tail(5))
        s.server_pids = [server.pid]
        url = f"nats://127.0.0.1:{port}"
        resp = Proc("nats-responder", [exe, "responder", "--url", url], self.run_dir)
        s.owned.append(resp)
        self.wait_ready(resp, "READY", 20)
        s.responder_pids = [resp.pid]
        s.client = Proc("nats-client", [exe, "client", "--url", url], self.run_dir)
        s.owned.append(s.client)
        s.notes.append(self.tool_version([nats_server, "--version"]) + ", nats.c (libnats) with SendAsap")

    def ensure_apache(self):
        if self.apache is not None:
            if "error" in self.apache:
                raise RuntimeError(self.apache["error"])
            return self.apache
        d = os.path.join(self.run_dir, "rocketmq")
        env = dict(os.environ, ROCKETMQ_NAMESRV_PORT="59876", ROCKETMQ_BROKER_PORT="60911",
                   ROCKETMQ_STORE_ROOT=os.path.join(self.run_dir, "rocketmq-store"))
        script = os.path.join(REPO, "scripts", "apache-rocketmq.sh")
        subprocess.run([script, "stop", "--dir", d], env=env, capture_output=True, timeout=60)
        r = subprocess.run([script, "start", "4.9.8", "--dir", d], env=env, capture_output=True, text=True,
                           timeout=300)
        if r.returncode != 0:
            self.apache = {"error": "Apache RocketMQ did not start: " + r.stderr.strip()[-400:]}
            raise RuntimeError(self.apache["error"])
        kv = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
        pids = []
        for name in ("broker-a", "namesrv"):
            with open(os.path.join(d, f"{name}.pid")) as f:
                pids.append(int(f.read().strip()))
        # One topic per client so a responder group never inherits another's backlog.
        t = subprocess.run([script, "topic", "--dir", d, "BenchEchoJava,BenchEchoRrpc,BenchEchoMixed", "4"], env=env,
                           capture_output=True, text=True, timeout=180)
        if t.returncode != 0:
            self.apache = {"error": "topic creation failed: " + t.stderr.strip()[-400:]}
            raise RuntimeError(self.apache["error"])
        self.apache = {"dir": d, "env": env, "namesrv": kv["NAMESRV"], "pids": pids,
                       "version": kv.get("ROCKETMQ_VERSION", "?")}
        log(f"[setup {self.elapsed()}] Apache RocketMQ {self.apache['version']} up, name server {kv['NAMESRV']}")
        return self.apache

    def java_cmd(self, role, namesrv, topic):
        jar_dir = os.path.join(REPO, "bench", "java", "target")
        jar = os.path.join(jar_dir, "bench-java.jar")
        if not os.path.exists(jar):
            raise RuntimeError("bench/java/target/bench-java.jar not built")
        java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
        opens = ["--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
                 "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
                 "--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED",
                 "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
                 "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED"]
        logs = os.path.join(self.run_dir, f"java-{role}-logs")
        return ([java, "-Xms256m", "-Xmx512m", "-XX:+PerfDisableSharedMem"] + opens +
                [f"-Drocketmq.client.logRoot={logs}", "-Drocketmq.client.logLevel=WARN",
                 f"-Duser.home={self.run_dir}", "-cp", f"{jar}{os.pathsep}{os.path.join(jar_dir, 'lib', '*')}",
                 "io.rocketrpc.bench.BenchDriver", role, "--namesrv", namesrv, "--topic", topic])

    def start_rmq_java(self, s):
        a = self.ensure_apache()
        s.server_pids = list(a["pids"])
        resp = Proc("rmq-java-responder", self.java_cmd("responder", a["namesrv"], "BenchEchoJava"), self.run_dir)
        s.owned.append(resp)
        self.wait_ready(resp, "READY", 90)
        s.responder_pids = [resp.pid]
        s.client = Proc("rmq-java-client", self.java_cmd("requester", a["namesrv"], "BenchEchoJava"), self.run_dir)
        s.owned.append(s.client)
        s.notes.append(f"Apache RocketMQ server {a['version']} (4.9.8 server jars are not on Maven Central)")

    def rrpc_header(self):
        """bench_rocketrpc arguments choosing the remoting header encoding (--rrpc-header)."""
        return ["--header", self.args.rrpc_header] if self.args.rrpc_header else []

    def start_rmq_rocketrpc(self, s):
        a = self.ensure_apache()
        exe = self.exe("bench_rocketrpc")
        s.server_pids = list(a["pids"])
        extra = ["--consume-threads", str(self.args.rrpc_consume_threads)] if self.args.rrpc_consume_threads else []
        resp = Proc("rmq-rocketrpc-responder", [exe, "responder", "--namesrv", a["namesrv"], "--topic",
                                                "BenchEchoRrpc"] + extra + self.rrpc_header(), self.run_dir)
        s.owned.append(resp)
        line = self.wait_ready(resp, "READY", 90)
        if "queues=0" in line:
            raise RuntimeError("rocketrpc responder got no queue assigned")
        s.responder_pids = [resp.pid]
        s.client = Proc("rmq-rocketrpc-client", [exe, "client", "--namesrv", a["namesrv"], "--topic",
                                                 "BenchEchoRrpc"] + self.rrpc_header(), self.run_dir)
        s.owned.append(s.client)

    def start_rmq_rrpc_jresp(self, s):
        """rocketrpc requester against the Java responder: the same responder as rmq-java, so only the
        requesting client differs."""
        a = self.ensure_apache()
        exe = self.exe("bench_rocketrpc")
        s.server_pids = list(a["pids"])
        resp = Proc("rmq-rrpc-jresp-responder", self.java_cmd("responder", a["namesrv"], "BenchEchoMixed"),
                    self.run_dir)
        s.owned.append(resp)
        self.wait_ready(resp, "READY", 90)
        s.responder_pids = [resp.pid]
        s.client = Proc("rmq-rrpc-jresp-client", [exe, "client", "--namesrv", a["namesrv"], "--topic",
                                                  "BenchEchoMixed"] + self.rrpc_header(), self.run_dir)
        s.owned.append(s.client)

    def start_rrpc_broker(self, s, acl=False):
        broker_bin = os.path.join(REPO, self.args.build_dir, "tools", "rocketrpc-broker")
        if not os.path.exists(broker_bin):
            s.skip_reason = "rocketrpc-broker not built"
            log(f"[setup] {s.short}: skipped ({s.skip_reason})")
            return
        exe = self.exe("bench_rocketrpc")
        port = free_port()
        # rocketrpc-broker serves the name-server codes on its own port. ROCKETRPC_BROKER_ARGS replaces the
        # arguments ({port} and {dir} are filled in).
        name = "rrpc-broker-acl" if acl else "rrpc-broker"
        store = os.path.join(self.run_dir, name + "-store")
        shutil.rmtree(store, ignore_errors=True)
        args = os.environ.get("ROCKETRPC_BROKER_ARGS", "--port {port} --store {dir}").format(port=port, dir=store)
        env, sign = None, []
        if acl:
            # One account with PUB|SUB on everything the bench uses; every request is signed and checked.
            acl_file = os.path.join(self.run_dir, "bench_plain_acl.yml")
            with open(acl_file, "w") as f:
                f.write("accounts:\n"
                        f"  - accessKey: {BENCH_ACL_KEY}\n"
                        f"    secretKey: {BENCH_ACL_SECRET}\n"
                        "    admin: true\n"
                        "    defaultTopicPerm: PUB|SUB\n"
                        "    defaultGroupPerm: PUB|SUB\n")
            args += f" --set aclEnable=true --set aclFile={acl_file}"
            env = dict(os.environ, ROCKETRPC_SECRET_KEY=BENCH_ACL_SECRET)
            sign = ["--access-key", BENCH_ACL_KEY]
        broker = Proc(name, [broker_bin] + shlex.split(args), self.run_dir)
        s.owned.append(broker)
        if not wait_port(port, 30):
            raise RuntimeError("rocketrpc-broker did not listen on its port: " + broker.log_tail(5))
        s.server_pids = [broker.pid]
        namesrv = f"127.0.0.1:{port}"
        prime = subprocess.run([exe, "prime", "--namesrv", namesrv, "--topic", "BenchEcho"] + sign,
                               capture_output=True, text=True, timeout=60, cwd=self.run_dir, env=env)
        if prime.returncode != 0:
            raise RuntimeError("could not create the topic on rocketrpc-broker: " + prime.stderr.strip()[-300:])
        s.notes.append("broker built from this tree (build/release/tools/rocketrpc-broker)")
        extra = ["--consume-threads", str(self.args.rrpc_consume_threads)] if self.args.rrpc_consume_threads else []
        resp = Proc(name + "-responder", [exe, "responder", "--namesrv", namesrv, "--topic", "BenchEcho"]
                    + extra + self.rrpc_header() + sign, self.run_dir, env=env)
        s.owned.append(resp)
        self.wait_ready(resp, "READY", 60)
        s.responder_pids = [resp.pid]
        s.client = Proc(name + "-client", [exe, "client", "--namesrv", namesrv, "--topic", "BenchEcho"]
                        + self.rrpc_header() + sign, self.run_dir, env=env)
        s.owned.append(s.client)

    def tool_version(self, argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, subprocess.TimeoutExpired, IndexError):
            return "?"

    # ------------------------------------------------------------------ cells
    def elapsed(self):
        e = int(time.time() - self.t0)
        return f"{e // 60}m{e % 60:02d}s"

    def run_cell(self, s, inflight, payload, warmup_ms, duration_ms, measured=True):
        """One cell on one system; returns a result dict (with 'status')."""
        c = s.client
        rec = {"system": s.id, "inflight": inflight, "payload": payload, "duration_ms": duration_ms}
        if not c.alive():
            s.skip_reason = f"client exited: {c.log_tail(5).strip()}"
            return dict(rec, status="failed", reason=s.skip_reason)
        c.send(f"cell {inflight} {payload} {warmup_ms} {duration_ms} {self.args.max_count}")
        if c.expect("ready", warmup_ms / 1000 + 60) is None:
            s.skip_reason = f"no 'ready' from client: {c.log_tail(5).strip()}"
            return dict(rec, status="failed", reason=s.skip_reason)
        pids = {"client": [c.pid], "server": s.server_pids, "responder": s.responder_pids}
        for group in pids.values():
            for pid in group:
                reset_hwm(pid)
        perfs = self.start_perf(s, inflight, payload, duration_ms, pids) if measured else []
        before = {k: [proc_cpu_ticks(p) for p in v] for k, v in pids.items()}
        t_start = time.time()
        c.send("go")
        line = c.expect("result ", duration_ms / 1000 + 60)
        wall = time.time() - t_start
        for pp in perfs:
            pp.wait(60)
        after = {k: [proc_cpu_ticks(p) for p in v] for k, v in pids.items()}
        if line is None:
            s.skip_reason = f"no result from client: {c.log_tail(5).strip()}"
            return dict(rec, status="failed", reason=s.skip_reason)
        res = json.loads(line[len("result "):])
        rec.update(res)
        rec["status"] = "ok" if res["ok"] > 0 else "failed"
        if res["ok"] == 0:
            rec["reason"] = res.get("first_error") or "no request completed"
        rec["wall_s"] = round(wall, 3)
        for role, pl in pids.items():
            if not pl:
                continue
            ticks = [a - b for a, b in zip(after[role], before[role]) if a is not None and b is not None]
            cpu_s = sum(ticks) / CLK_TCK
            rec[f"{role}_cpu_s"] = round(cpu_s, 3)
            rec[f"{role}_cpu_pct"] = round(100.0 * cpu_s / wall, 1) if wall > 0 else None
            rec[f"{role}_cpu_us_per_req"] = round(cpu_s * 1e6 / res["ok"], 1) if res["ok"] else None
            hwm = [proc_status_kb(p, "VmHWM") for p in pl]
            rec[f"{role}_rss_mib"] = round(sum(h for h in hwm if h) / 1024.0, 1)
            anon = [proc_status_kb(p, "RssAnon") for p in pl]
            rec[f"{role}_rss_anon_mib"] = round(sum(h for h in anon if h) / 1024.0, 1)
        return rec

    def start_perf(self, s, inflight, payload, duration_ms, pids):
        """--perf K:PAYLOAD: perf record of the client and responder processes during that measured phase
        (on-CPU samples, or scheduler switches with --perf-offcpu), written under the run directory."""
        if not self.args.perf or f"{inflight}:{payload}" not in self.args.perf.split(","):
            return []
        procs = []
        for role in ("client", "responder", "server"):
            for pid in pids.get(role, []):
                out = os.path.join(self.run_dir, f"perf-{s.id}-{role}-{pid}-K{inflight}-{payload}.data")
                event = ["-e", "sched:sched_switch"] if self.args.perf_offcpu else ["-F", "1999"]
                cmd = ["perf", "record", "-q", *event, "--call-graph", "dwarf,16384", "-p", str(pid), "-o", out,
                       "--", "sleep", str(max(1.0, duration_ms / 1000 - 0.2))]
                procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                log(f"[perf] recording {role} of {s.short} into {os.path.relpath(out, REPO)}")
        time.sleep(0.3)  # let perf attach
        return procs

    def plan(self):
        """Ordered list of (inflight, payload, rep): the full matrix once, then the key cells again."""
        if self.args.matrix:
            only = [tuple(int(x) for x in c.split(":")) for c in self.args.matrix.split(",")]
            return [(k, p, rep) for rep in range(1, self.args.reps + 1) for (k, p) in only]
        cells = [(k, p, 1) for p in PAYLOADS for k in INFLIGHTS]
        for rep in range(2, self.args.reps + 1):
            cells += [(k, p, rep) for p in PAYLOADS for k in INFLIGHTS if (k, p) in KEY_CELLS]
        return cells

    def run(self):
        active = [s for s in self.systems.values() if not s.skip_reason]
        log(f"[warm-up {self.elapsed()}] {len(active)} systems, {self.args.initial_warmup_ms} ms each "
            f"({self.args.jvm_warmup_ms} ms where a JVM client or responder is involved)")
        for s in active:
            ms = self.args.jvm_warmup_ms if s.id in JVM_SYSTEMS else self.args.initial_warmup_ms
            r = self.run_cell(s, 64, 4096, ms, 500, measured=False)
            if (r["status"] != "ok" or r.get("errors", 0) >= max(r.get("ok", 0), 1)) and not s.skip_reason:
                # Nothing came back: the cells would only wait for timeouts.
                s.skip_reason = (f"warm-up failed: {r.get('ok', 0)} replies, {r.get('errors', 0)} errors: "
                                 f"{r.get('reason') or r.get('first_error')}")
            if s.skip_reason:
                log(f"[warm-up] {s.short}: skipped ({s.skip_reason[:200]})")
                self.stop_system(s)
        plan = self.plan()
        total = sum(1 for _ in plan) * len([s for s in active if not s.skip_reason])
        done = 0
        t_cells = time.time()
        for (k, p, rep) in plan:
            if rep > 1 and time.time() - self.t0 > self.args.budget_s:
                log(f"[budget] {self.elapsed()}: over the {self.args.budget_s}s budget, extra repetitions skipped")
                break
            for s in active:
                if s.skip_reason:
                    continue
                if time.time() - self.t0 > self.args.hard_budget_s:
                    self.cells.append({"system": s.id, "inflight": k, "payload": p, "rep": rep,
                                       "status": "skipped", "reason": "time budget"})
                    continue
                duration = self.args.duration_ms
                r = self.run_cell(s, k, p, self.args.warmup_ms, duration)
                r["rep"] = rep
                self.cells.append(r)
                bad = r["status"] != "ok" or r.get("errors", 0) >= max(r.get("ok", 0), 1)
                s.failures = s.failures + 1 if bad else 0
                if s.failures >= 2 and not s.skip_reason:
                    s.skip_reason = ("two cells in a row failed or had more errors than replies: "
                                     f"{(r.get('reason') or r.get('first_error') or '')[:200]}")
                if s.skip_reason:
                    log(f"[{s.short}] stopped: {s.skip_reason}")
                    self.stop_system(s)
                done += 1
                per = (time.time() - t_cells) / done
                eta = int(per * max(total - done, 0))
                if r["status"] == "ok":
                    msg = (f"{r['throughput']:>10,.0f} req/s  p50 {fmt_us(r['p50_us'])}  p99 {fmt_us(r['p99_us'])}"
                           f"  p99.9 {fmt_us(r['p999_us'])}  errors {r['errors']}")
                else:
                    msg = f"FAILED: {r.get('reason', '')[:120]}"
                log(f"[{done:3d}/{total} {self.elapsed()} eta {eta // 60}m{eta % 60:02d}s] {s.short:<14} "
                    f"K={k:<4} {fmt_bytes(p):>6} rep {rep}: {msg}")

    def stop_system(self, s):
        for p in reversed(s.owned):
            p.stop(grace=5)
        s.owned = []

    def stop_all(self):
        for s in self.systems.values():
            for p in reversed(s.owned):
                p.stop(grace=10)
        if self.apache and "dir" in self.apache:
            subprocess.run([os.path.join(REPO, "scripts", "apache-rocketmq.sh"), "stop", "--dir",
                            self.apache["dir"]], env=self.apache["env"], capture_output=True, timeout=120)


def fmt_us(us):
    if us is None:
        return "-"
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    return f"{us:.0f} us"


def fmt_bytes(n):
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} B"


def machine_info():
    info = {"nproc": os.cpu_count(), "kernel": platform.release(), "arch": platform.machine()}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
            info["cpu_model"] = m.group(1).strip() if m else "?"
    except OSError:
        info["cpu_model"] = "?"
    try:
        with open("/proc/meminfo") as f:
            m = re.search(r"^MemTotal:\s*(\d+)", f.read(), re.M)
            info["mem_gib"] = round(int(m.group(1)) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        with open("/etc/os-release") as f:
            m = re.search(r'^PRETTY_NAME="?([^"\n]+)', f.read(), re.M)
            info["os"] = m.group(1) if m else "?"
    except OSError:
        info["os"] = "?"
    return info


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def run_micro(args, out_dir):
    exe = os.path.join(REPO, args.build_dir, "bench", "micro_bench")
    if not os.path.exists(exe):
        log("[micro] micro_bench not built, skipped")
        return None
    out = os.path.join(out_dir, "micro.json")
    log("[micro] running micro_bench")
    r = subprocess.run([exe, f"--benchmark_min_time={args.micro_min_time}", "--benchmark_format=console",
                        f"--benchmark_out={out}", "--benchmark_out_format=json"],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        log("[micro] failed: " + r.stderr[-500:])
        return None
    # Keep the machine's paths out of the recorded file.
    with open(out) as f:
        data = json.load(f)
    data.get("context", {})["executable"] = os.path.relpath(exe, REPO)
    with open(out, "w") as f:
        json.dump(data, f, indent=1)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default="build/release")
    ap.add_argument("--run-dir", default="build/release/bench-run")
    ap.add_argument("--out-dir", default=None, help="default docs/benchmarks/<date>")
    ap.add_argument("--systems", default="", help="comma-separated subset of: " + ",".join(s[0] for s in SYSTEMS))
    ap.add_argument("--duration-ms", type=int, default=int(os.environ.get("BENCH_DURATION_MS", 2500)))
    ap.add_argument("--warmup-ms", type=int, default=int(os.environ.get("BENCH_WARMUP_MS", 400)))
    ap.add_argument("--initial-warmup-ms", type=int, default=5000,
                    help="warm-up of each system before the first cell (broker caches, connections)")
    ap.add_argument("--jvm-warmup-ms", type=int, default=15000,
                    help="the same for systems with a Java client or responder (JIT compilation)")
    ap.add_argument("--max-count", type=int, default=2000000)
    ap.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_REPS", 3)))
    ap.add_argument("--budget-s", type=int, default=720, help="no extra repetitions after this (since t0)")
    ap.add_argument("--hard-budget-s", type=int, default=820, help="no cells at all after this (since t0)")
    ap.add_argument("--t0", type=float, default=None, help="start time of the whole command (epoch seconds)")
    ap.add_argument("--micro-min-time", default="0.2")
    ap.add_argument("--no-micro", action="store_true")
    ap.add_argument("--perf", default="", help="profile these cells with perf record, e.g. 64:128,1:128")
    ap.add_argument("--perf-offcpu", action="store_true", help="record scheduler switches instead of CPU samples")
    ap.add_argument("--rrpc-consume-threads", type=int, default=0,
                    help="consume_threads of the rocketrpc responders, on Apache and on rocketrpc-broker "
                         "(0: library default)")
    ap.add_argument("--rrpc-header", choices=["json", "binary"], default=None,
                    help="remoting header encoding of the rocketrpc requesters and responders "
                         "(default: the library's)")
    ap.add_argument("--matrix", default="", help="only these cells, e.g. 64:128,1:128 (development)")
    args = ap.parse_args()

    date = datetime.date.today().isoformat()
    out_dir = os.path.abspath(args.out_dir or os.path.join(REPO, "docs", "benchmarks", date))
    os.makedirs(out_dir, exist_ok=True)
    info = machine_info()
    load_before = loadavg()
    log(f"[bench] {info['nproc']} CPUs ({info['cpu_model']}), {info.get('mem_gib')} GiB, kernel {info['kernel']}; "
        f"load average {load_before}")

    runner = Runner(args)
    started = datetime.datetime.now().isoformat(timespec="seconds")

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    interrupted = False
    try:
        runner.start_all()
        runner.run()
    except KeyboardInterrupt:
        interrupted = True
        log("[bench] interrupted: writing what was measured")
    finally:
        runner.stop_all()

    micro = None if args.no_micro or interrupted else run_micro(args, out_dir)
    load_after = loadavg()
    doc = {
        "date": date,
        "started": started,
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
        "elapsed_s": round(time.time() - runner.t0, 1),
        "machine": info,
        "load_before": load_before,
        "load_after": load_after,
        "config": {"duration_ms": args.duration_ms, "warmup_ms": args.warmup_ms,
                   "initial_warmup_ms": args.initial_warmup_ms, "jvm_warmup_ms": args.jvm_warmup_ms,
                   "reps": args.reps, "max_count": args.max_count,
                   "payloads": PAYLOADS, "inflights": INFLIGHTS, "key_cells": sorted(KEY_CELLS),
                   "interrupted": interrupted},
        "systems": [{"id": s.id, "label": s.label, "short": s.short, "skipped": s.skip_reason, "notes": s.notes}
                    for s in runner.systems.values()],
        "cells": runner.cells,
        "micro_json": os.path.basename(micro) if micro else None,
    }
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(doc, f, indent=1)
    cols = ["system", "inflight", "payload", "rep", "status", "ok", "errors", "elapsed_s", "throughput", "p50_us",
            "p99_us", "p999_us", "mean_us", "max_us", "request_leg_p50_us", "request_leg_p99_us", "reply_leg_p50_us",
            "reply_leg_p99_us", "duplicates", "client_cpu_pct", "client_cpu_us_per_req", "client_rss_mib",
            "client_rss_anon_mib", "server_cpu_pct", "server_cpu_us_per_req", "server_rss_mib", "server_rss_anon_mib",
            "responder_cpu_pct", "responder_cpu_us_per_req", "responder_rss_mib", "responder_rss_anon_mib", "reason"]
    with open(os.path.join(out_dir, "results.csv"), "w") as f:
        f.write(",".join(cols) + "\n")
        for c in runner.cells:
            f.write(",".join(csv_field(c.get(k)) for k in cols) + "\n")
    log(f"[bench] results in {os.path.relpath(out_dir, REPO)}/results.json and results.csv "
        f"({runner.elapsed()}); load average now {load_after}")
    return 130 if interrupted else 0


def csv_field(v):
    if v is None:
        return ""
    s = str(v)
    if any(ch in s for ch in ',"\n'):
        s = '"' + s.replace('"', '""').replace("\n", " ") + '"'
    return s


if __name__ == "__main__":
    sys.exit(main())
