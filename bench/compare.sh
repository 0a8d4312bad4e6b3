#!/usr/bin/env bash
# Request/reply comparison: raw TCP, NATS, Apache RocketMQ with the Java client and with rocketrpc's client,
# and rocketrpc-broker (once it is built), over loopback, on the same workloads. One command:
#
#   bench/compare.sh [--quick] [--systems tcp,nats,rmq-java,rmq-rocketrpc,rrpc-broker] [--no-micro] [--no-startup]
#
# It installs what is missing (Debian: nats-server, libnats-dev, python3-matplotlib, the build packages of
# scripts/setup.sh; Maven: rocketmq-client 4.9.8 for bench/java), builds the bench targets of the `release`
# preset, starts every server on 127.0.0.1 (Apache RocketMQ on ports 59876/60911 through
# scripts/apache-rocketmq.sh), runs the cells, stops everything, runs micro_bench, and writes
# docs/benchmarks/<date>/{results.json,results.csv,report.md,*.png,micro.json}.
# --quick: 0.8 s cells and a single repetition, for trying changes (do not record those).
# Then bench/startup.py measures start-up time and idle memory of rocketrpc-broker and Apache RocketMQ
# (startup.json, startup.md in the same directory; about 1.5 minutes; --quick: 2 runs; --no-startup skips it).
#
# Environment: BENCH_OUT (output directory), BENCH_DURATION_MS, BENCH_WARMUP_MS, BENCH_REPS,
# ROCKETRPC_BROKER_ARGS (arguments of tools/rocketrpc-broker, default "--port {port} --store {dir}").
# Needs root or sudo the first time (apt-get). Takes about 8-11 minutes on 2 cores once built.
set -euo pipefail

T0=$(date +%s.%N)
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

log() { printf '[compare] %s\n' "$*" >&2; }

QUICK=0
STARTUP=1
PASS=()
while (($#)); do
  case "$1" in
    --quick) QUICK=1; shift ;;
    --systems) PASS+=(--systems "${2:?--systems needs a list}"); shift 2 ;;
    --systems=*) PASS+=(--systems "${1#*=}"); shift ;;
    --no-micro) PASS+=(--no-micro); shift ;;
    --no-startup) STARTUP=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) log "unknown argument $1"; exit 2 ;;
  esac
done
if ((QUICK)); then
  PASS+=(--duration-ms "${BENCH_DURATION_MS:-800}" --warmup-ms 200 --initial-warmup-ms 1000 --jvm-warmup-ms 3000 --reps 1
         --micro-min-time 0.05)
fi

# ------------------------------------------------------------------------------------------ packages
scripts/setup.sh >&2
extra=()
for p in nats-server libnats-dev python3-matplotlib; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || extra+=("$p")
done
if ((${#extra[@]})); then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO=sudo
  log "installing ${extra[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${extra[@]}" >/dev/null
fi

# ------------------------------------------------------------------------------------------ build
log "building the bench targets (release preset)"
cmake --preset release >/dev/null
targets=(micro_bench bench_tcp_pingpong bench_rocketrpc)
available=$(cmake --build --preset release --target help 2>/dev/null || true)
grep -q '^bench_nats:' <<<"$available" && targets+=(bench_nats)
grep -q '^rocketrpc-broker:' <<<"$available" && targets+=(rocketrpc-broker)
cmake --build --preset release --target "${targets[@]}" >&2

jar=bench/java/target/bench-java.jar
if [[ ! -f $jar || -n $(find bench/java/src bench/java/pom.xml -newer "$jar" -print -quit) ]]; then
  log "building the Java driver (bench/java, rocketmq-client 4.9.8)"
  mvn -q -B -f bench/java/pom.xml package >&2
fi

# ------------------------------------------------------------------------------------------ run
OUT=${BENCH_OUT:-docs/benchmarks/$(date +%F)}
mkdir -p "$OUT"
python3 bench/compare.py --t0 "$T0" --out-dir "$OUT" "${PASS[@]}"

# Start-up time and idle memory next to Apache RocketMQ (needs the release rocketrpc-broker built above).
if ((STARTUP)); then
  if [[ -x build/release/tools/rocketrpc-broker ]]; then
    startup_args=(--out-dir "$OUT" --broker-bin build/release/tools/rocketrpc-broker)
    ((QUICK)) && startup_args+=(--runs 2)
    log "start-up time and idle memory (bench/startup.py)"
    python3 bench/startup.py "${startup_args[@]}" >/dev/null || log "start-up benchmark failed (see above)"
  else
    log "rocketrpc-broker not built: start-up benchmark skipped"
  fi
fi

# The plots need matplotlib: Debian's python3-matplotlib is seen by the system interpreter, which may not be
# the first python3 on PATH.
PY=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import matplotlib' 2>/dev/null; then
    PY=$candidate
    break
  fi
done
if [[ -z $PY ]]; then
  log "matplotlib not found: the report is written without plots"
  PY=python3
fi
"$PY" bench/report.py "$OUT"
log "done in $(python3 -c "import time; print(round(time.time() - $T0))") s: $OUT/report.md"
