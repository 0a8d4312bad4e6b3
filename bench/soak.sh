#!/usr/bin/env bash
# Soak of rocketrpc-broker (issue 10 item 7): mixed request-reply load through the rocketrpc CLI (`respond` and
# rounds of `request --count --inflight --size --expect-echo`) plus a periodic hostile client (200 frame
# prefixes, 50 clients that never read, invalid names), recording the broker's RSS, open fds, errors and p99
# over time (bench/soak.py does the work).
#
#   bench/soak.sh [minutes]        default 3; writes soak.csv, soak.json and soak.png under SOAK_OUT
#
# Environment: SOAK_OUT (output directory, default build/soak), ROCKETRPC_BUILD_DIR (default build/debug: the
# binaries tools/rocketrpc-broker and tools/rocketrpc must be built there), SOAK_ARGS (more bench/soak.py options).
# Exits non-zero when a request failed, an invalid-name request went unanswered, RSS passed its cap or kept
# growing, or fds did not come back after the hostile clients left. CI runs the 3-minute form (stage `soak` of
# scripts/run-tests.sh). The plot needs python3-matplotlib (scripts/setup.sh installs it).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
MINUTES=${1:-3}
BUILD=${ROCKETRPC_BUILD_DIR:-build/debug}
OUT=${SOAK_OUT:-build/soak}
for bin in "$BUILD/tools/rocketrpc-broker" "$BUILD/tools/rocketrpc"; do
  [[ -x $bin ]] || { echo "soak: $bin is not built (cmake --build --preset debug --target rocketrpc-broker rocketrpc)" >&2; exit 2; }
done
# The plot needs matplotlib: prefer a python3 that has it (Debian's, when another python3 comes first on PATH).
PY=python3
if ! python3 -c 'import matplotlib' 2>/dev/null; then
  for p in /usr/bin/python3; do
    if [[ -x $p ]] && "$p" -c 'import matplotlib' 2>/dev/null; then PY=$p; break; fi
  done
fi
# shellcheck disable=SC2086
exec "$PY" bench/soak.py --minutes "$MINUTES" --broker "$BUILD/tools/rocketrpc-broker" --cli "$BUILD/tools/rocketrpc" \
  --out-dir "$OUT" ${SOAK_ARGS:-}
