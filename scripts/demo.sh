#!/usr/bin/env bash
# The demo: installs what it needs (Debian packages), builds rocketrpc, starts rocketrpc-broker (name server +
# broker in one process) on 127.0.0.1 with a store in a temporary directory, serves an echo RpcReceiver with
# `rocketrpc serve`, makes an RPC round trip with `rocketrpc call` and a burst of 2,000 requests with
# `rocketrpc request`, then stops everything. No Java needed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target rocketrpc_cli rocketrpc_broker_bin
CLI="$ROOT/build/release/tools/rocketrpc"
BROKER="$ROOT/build/release/tools/rocketrpc-broker"

WORK="$(mktemp -d)"
BROKER_PID=""
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  [ -n "$BROKER_PID" ] && kill -TERM "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Waits until file $1 has a line matching $2 while process $3 lives (30 s at most).
wait_for_line() {
  for _ in $(seq 1 300); do
    grep -q "$2" "$1" && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

echo "starting rocketrpc-broker on 127.0.0.1 ..."
# A throw-away store: the demo runs on a nearly full disk too (the default refuses sends at 90 % used).
"$BROKER" --port 0 --store "$WORK/store" --set diskSpaceWarningLevelRatio=99 --set diskMaxUsedSpaceRatio=95 >"$WORK/broker.out" 2>"$WORK/broker.log" &
BROKER_PID=$!
wait_for_line "$WORK/broker.out" '^READY ' "$BROKER_PID" || { echo "broker did not start:"; tail -20 "$WORK/broker.log"; exit 1; }
NAMESRV="$(grep '^READY ' "$WORK/broker.out" | head -1 | cut -d' ' -f2)"
echo "name server + broker: $NAMESRV"

cat >"$WORK/rpc.yaml" <<EOF
rocketmq:
  rpc:
    client:
      broker-url: $NAMESRV
      request-topic: DemoEcho
      default-timeout-millis: 3000
    server:
      consumer-group: DemoEchoServer
EOF

"$CLI" serve --config "$WORK/rpc.yaml" --receiver echo >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER_PID=$!
wait_for_line "$WORK/server.out" '^READY' "$SERVER_PID" || { echo "rpc server did not start:"; tail -20 "$WORK/server.log"; exit 1; }
echo "rpc server ready (echo receiver); calling it"

# The server's first rebalance may take a moment after READY: retry the first call briefly.
reply=""
for _ in $(seq 1 30); do
  if reply="$("$CLI" call --config "$WORK/rpc.yaml" "hello from rocketrpc" 2>"$WORK/call.err")"; then break; fi
  reply=""
  sleep 0.2
done
[ -n "$reply" ] || { echo "the call failed:"; cat "$WORK/call.err"; exit 1; }
echo "reply: $reply"
"$CLI" request -n "$NAMESRV" -t DemoEcho --count 2000 --inflight 64 --size 128 --expect-echo
