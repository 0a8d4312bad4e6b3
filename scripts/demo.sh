#!/usr/bin/env bash
# The demo: installs what it needs, builds rocketrpc, starts a name server + broker on 127.0.0.1, runs an RPC
# echo round trip (`rocketrpc respond` answering `rocketrpc request`), then stops everything.
# Until rocketrpc-broker lands, the broker is Apache RocketMQ 4.9.8 started from Maven Central jars.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target rocketrpc_cli
CLI="$ROOT/build/release/tools/rocketrpc"

RESPONDER_PID=""
cleanup() {
  [ -n "$RESPONDER_PID" ] && kill "$RESPONDER_PID" 2>/dev/null && wait "$RESPONDER_PID" 2>/dev/null || true
  "$ROOT/scripts/apache-rocketmq.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "starting Apache RocketMQ 4.9.8 on 127.0.0.1 ..."
NAMESRV="$("$ROOT/scripts/apache-rocketmq.sh" start 4.9.8 | grep -E '^NAMESRV=' | tail -1 | cut -d= -f2)"
echo "name server: $NAMESRV"
TOPIC="DemoEcho"

# Creates the topic (the first send auto-creates it), then serves it.
"$CLI" request -n "$NAMESRV" -t "$TOPIC" --timeout-ms 1000 warm-up >/dev/null 2>&1 || true
RESP_LOG="$(mktemp)"
"$CLI" respond -n "$NAMESRV" -t "$TOPIC" -g DemoResponder --mode echo >"$RESP_LOG" &
RESPONDER_PID=$!
for _ in $(seq 1 300); do
  grep -q '^READY$' "$RESP_LOG" && break
  kill -0 "$RESPONDER_PID" 2>/dev/null || break
  sleep 0.2
done
grep -q '^READY$' "$RESP_LOG" || { echo "responder did not start"; exit 1; }
echo "responder ready; sending requests"

# The responder's first rebalance may take a moment: retry the first request briefly.
for _ in $(seq 1 30); do
  if reply="$("$CLI" request -n "$NAMESRV" -t "$TOPIC" --timeout-ms 2000 "hello from rocketrpc")"; then
    break
  fi
done
echo "reply: $reply"
"$CLI" request -n "$NAMESRV" -t "$TOPIC" --count 2000 --inflight 64 --size 128 --expect-echo
