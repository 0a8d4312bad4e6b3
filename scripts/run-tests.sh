#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs dependencies, builds, runs unit tests, the integration and
# interop suites against rocketrpc-broker and against real Apache RocketMQ (4.9.8 one broker, 4.9.8 two
# brokers, 5.3.x, 5.5.0), the security tests against Apache with ACL (4.9.8, 5.5.0) and with TLS enforcing,
# unit + integration tests under ASan+UBSan and under TSan (in-process rocketrpc-broker), and a short libFuzzer
# run of every fuzz target. Every stage prints its duration, and the summary lists them all.
#
#   scripts/run-tests.sh            everything
#   STAGES="unit asan" scripts/run-tests.sh   only some stages
#       (unit package docs rocketrpc soak integration cluster2 apache5 apache55 secure asan tsan fuzz)
#   (rocketrpc = the integration and interop suites against our own rocketrpc-broker; soak = bench/soak.sh 3: three
#   minutes of mixed request-reply load and hostile clients against the rocketrpc-broker binary, asserting that
#   every request completes and RSS and fds stay bounded)
# The integration tests pick their broker through tests/support/test_broker.h: ROCKETRPC_TEST_NAMESRV (an
# external cluster) or ROCKETRPC_TEST_BROKER=inprocess|binary (a rocketrpc-broker per test process).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STAGES="${STAGES:-unit package docs rocketrpc soak integration cluster2 apache5 apache55 secure asan tsan fuzz}"
JOBS="${JOBS:-$(nproc)}"
TOTAL_PASSED=0
TOTAL_FAILED=0
FAILED_STAGES=()

# log TITLE starts a stage: prints the title, and the duration of the stage before it.
STAGE_TITLE=""
STAGE_T0=0
STAGE_TIMES=()
stage_done() {
  if [ -n "$STAGE_TITLE" ]; then
    local secs=$(( $(date +%s) - STAGE_T0 ))
    printf '=== %s: %dm%02ds ===\n' "$STAGE_TITLE" $((secs / 60)) $((secs % 60))
    STAGE_TIMES+=("$(printf '%4dm%02ds  %s' $((secs / 60)) $((secs % 60)) "$STAGE_TITLE")")
    STAGE_TITLE=""
  fi
}
log() {
  stage_done
  printf '\n=== %s ===\n' "$*"
  STAGE_TITLE="$*"
  STAGE_T0=$(date +%s)
}
has_stage() { [[ " $STAGES " == *" $1 "* ]]; }

# Frees the disk a build whose stages are over holds: its object files, or with ROCKETRPC_DISCARD_BUILDS=1 (.ci/run
# sets it: nothing runs after CI) the whole build. A CI disk that fills up fails the build's link or every test
# that writes (the broker refuses puts at 99 % used); the debug build is ~3 GiB with its objects.
free_build() {
  if [ -d "$1" ]; then
    if [ "${ROCKETRPC_DISCARD_BUILDS:-0}" = 1 ]; then rm -rf "$1"; else find "$1" -name '*.o' -delete; fi
  fi
  echo "disk after freeing $1: $(df -h --output=pcent,avail . | tail -1)"
}

# Prints what a build just took of the disk and what is left.
built() {
  echo "$1: $(du -sh "$1" | cut -f1); disk: $(df -h --output=pcent,avail . | tail -1)"
}

# Runs ctest with the given arguments and adds its counts to the totals.
run_ctest() {
  local stage="$1"; shift
  local out
  out="$(mktemp)"
  set +e
  ctest "$@" --output-on-failure 2>&1 | tee "$out"
  local rc=${PIPESTATUS[0]}
  set -e
  local line passed failed total
  line="$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$out" | tail -1 || true)"
  if [ -n "$line" ]; then
    failed="$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")"
    total="$(sed -E 's/.* failed out of ([0-9]+).*/\1/' <<<"$line")"
    passed=$((total - failed))
    TOTAL_PASSED=$((TOTAL_PASSED + passed))
    TOTAL_FAILED=$((TOTAL_FAILED + failed))
  elif [ "$rc" -ne 0 ]; then
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  fi
  rm -f "$out"
  if [ "$rc" -ne 0 ]; then FAILED_STAGES+=("$stage"); fi
}

cleanup() {
  "$ROOT/scripts/apache-rocketmq.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

# start_cluster VERSION [start options]: exports ROCKETRPC_TEST_NAMESRV and, for --acl / --tls, the accounts and
# CA files the start printed (ACL_* / TLS_* lines) as ROCKETRPC_TEST_ACL_* / ROCKETRPC_TEST_TLS_*. Secrets are
# not echoed.
start_cluster() {
  local out line
  out="$("$ROOT/scripts/apache-rocketmq.sh" start "$@")"
  echo "$out" | grep -vE '_SK=' | tail -8
  ROCKETRPC_TEST_NAMESRV="$(echo "$out" | grep -E '^NAMESRV=' | tail -1 | cut -d= -f2)"
  export ROCKETRPC_TEST_NAMESRV
  [ -n "$ROCKETRPC_TEST_NAMESRV" ] || { echo "cluster did not start"; return 1; }
  while IFS= read -r line; do
    [[ $line =~ ^(ACL|TLS)_[A-Z_]+=.*$ ]] && export "ROCKETRPC_TEST_$line"
  done <<<"$out"
  return 0
}

stop_cluster() {  # kills the cluster started last (its store is deleted anyway) and forgets its variables
  "$ROOT/scripts/apache-rocketmq.sh" stop --kill
  local v
  for v in $(compgen -e ROCKETRPC_TEST_ACL_) $(compgen -e ROCKETRPC_TEST_TLS_); do unset "$v"; done
  unset ROCKETRPC_TEST_NAMESRV
}

log "setup"
echo "disk: $(df -h --output=pcent,avail . | tail -1)"
bash "$ROOT/scripts/setup.sh"
# setup.sh installed promtool: the metrics tests fail instead of skipping its check when it is missing.
export ROCKETRPC_REQUIRE_PROMTOOL=1

log "build (debug)"
cmake --preset debug >/dev/null
cmake --build --preset debug -j "$JOBS"
built build/debug
export ROCKETRPC_CLI="$ROOT/build/debug/tools/rocketrpc"

if has_stage unit; then
  log "unit tests"
  run_ctest unit --test-dir build/debug -L unit -j "$JOBS" --timeout 120
fi

if has_stage package; then
  # Install the debug build into a scratch prefix and build a user's program against it (find_package shared and
  # static, pkg-config shared and static), then run it against the installed rocketrpc-broker.
  log "installed package: find_package, pkg-config, exported symbols, C++17/C++20 headers"
  pkg_out="$(mktemp)"
  set +e
  bash "$ROOT/tests/package/run.sh" "$ROOT/build/debug" 2>&1 | tee "$pkg_out"
  pkg_rc=${PIPESTATUS[0]}
  set -e
  pkg_line="$(grep -E '^package: [0-9]+ passed, [0-9]+ failed' "$pkg_out" | tail -1 || true)"
  if [ -n "$pkg_line" ]; then
    TOTAL_PASSED=$((TOTAL_PASSED + $(sed -E 's/^package: ([0-9]+) passed.*/\1/' <<<"$pkg_line")))
    TOTAL_FAILED=$((TOTAL_FAILED + $(sed -E 's/.* ([0-9]+) failed$/\1/' <<<"$pkg_line")))
  elif [ "$pkg_rc" -ne 0 ]; then
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
  fi
  rm -f "$pkg_out"
  if [ "$pkg_rc" -ne 0 ]; then FAILED_STAGES+=("package"); fi
fi

if has_stage docs; then
  # The API reference (fails on any Doxygen warning, an undocumented public symbol included), the configuration
  # reference generated from the code's option tables (docs/configuration.md must match it), and the README's
  # quick start (must be examples/quickstart.cc, which the package stage builds and runs): three tests.
  log "docs: API reference (no Doxygen warning), configuration reference, README quick start"
  for check in "cmake --build --preset debug --target docs" \
               "python3 $ROOT/scripts/gen-configuration.py --build $ROOT/build/debug --check" \
               "python3 $ROOT/scripts/check-quickstart.py"; do
    if $check; then
      TOTAL_PASSED=$((TOTAL_PASSED + 1))
    else
      echo "FAILED: $check"
      TOTAL_FAILED=$((TOTAL_FAILED + 1))
      [[ " ${FAILED_STAGES[*]} " == *" docs "* ]] || FAILED_STAGES+=("docs")
    fi
  done
fi

if has_stage rocketrpc || has_stage integration || has_stage cluster2 || has_stage apache5 || has_stage apache55 ||
   has_stage secure || has_stage asan || has_stage tsan; then
  log "java peer"
  mvn -q -B -f "$ROOT/java-peer/pom.xml" package -DskipTests
  export ROCKETRPC_JAVA_PEER_JAR="$ROOT/java-peer/target/java-peer.jar"
  log "go peer"  # rocketmq-client-go from the Go module proxy (go-peer/go.sum pins it)
  (cd "$ROOT/go-peer" && go build -buildvcs=false -o "$ROOT/build/go-peer/go-peer" .)
  export ROCKETRPC_GO_PEER_BIN="$ROOT/build/go-peer/go-peer"
fi

export ROCKETRPC_BROKER_BIN="$ROOT/build/debug/tools/rocketrpc-broker"
if has_stage rocketrpc; then
  # Every test process starts its own rocketrpc-broker binary on 127.0.0.1 (tests/support/test_broker.h).
  log "integration + interop: rocketrpc-broker (binary, one per test process)"
  unset ROCKETRPC_TEST_NAMESRV
  ROCKETRPC_TEST_BROKER=binary run_ctest rocketrpc --test-dir build/debug -L 'integration|interop' -E 'TwoBroker' \
    -j "$JOBS" --timeout 300
fi

if has_stage soak; then
  log "soak: rocketrpc-broker, 3 minutes of mixed request-reply load + hostile clients"
  if SOAK_OUT="$ROOT/build/soak" ROCKETRPC_BUILD_DIR="$ROOT/build/debug" bash "$ROOT/bench/soak.sh" 3; then
    TOTAL_PASSED=$((TOTAL_PASSED + 1))
  else
    TOTAL_FAILED=$((TOTAL_FAILED + 1))
    FAILED_STAGES+=("soak")
  fi
fi

if has_stage integration; then
  log "integration + interop: Apache RocketMQ 4.9.8, one broker"
  start_cluster 4.9.8
  run_ctest integration --test-dir build/debug -L 'integration|interop' -E 'TwoBroker|SecureApache' --timeout 300
  "$ROOT/scripts/apache-rocketmq.sh" stop
fi

if has_stage cluster2; then
  log "two-broker cluster: Apache RocketMQ 4.9.8"
  start_cluster 4.9.8 --brokers 2
  # TwoBrokerFailover* (label fault) kills and restarts one broker through the script.
  ROCKETRPC_TEST_BROKERS=2 ROCKETRPC_APACHE_SCRIPT="$ROOT/scripts/apache-rocketmq.sh" \
    run_ctest cluster2 --test-dir build/debug -R 'TwoBroker' --timeout 300
  "$ROOT/scripts/apache-rocketmq.sh" stop
fi

if has_stage apache5; then
  # Every integration and interop suite but the two-broker ones, the in-process rocketrpc-broker tests (Broker*)
  # and the fail-fast test of a server that left: RocketMQ 5.3.x cannot tell that one (docs/design/rpc.md).
  log "integration + interop: Apache RocketMQ 5.3.x, one broker"
  start_cluster 5.3
  run_ctest apache5 --test-dir build/debug -L 'integration|interop' \
    -E 'TwoBroker|Broker(RoundTrip|Durability|SubscriptionGroup|TopicAdmin|RestartRpc|Acl|Tls|Faults)|ServerThatLeft|SecureApache' \
    --timeout 300
  "$ROOT/scripts/apache-rocketmq.sh" stop
fi

if has_stage apache55; then
  # The apache5 selection against 5.5.0, with the server-that-left test: 5.5.0 files a subscribing consumer
  # under its group in ConsumerManager.registerConsumer (5.3.x filed the topic), so code 300 tells.
  log "integration + interop: Apache RocketMQ 5.5.0, one broker"
  start_cluster 5.5
  run_ctest apache55 --test-dir build/debug -L 'integration|interop' \
    -E 'TwoBroker|Broker(RoundTrip|Durability|SubscriptionGroup|TopicAdmin|RestartRpc|Acl|Tls|Faults)|SecureApache' --timeout 300
  stop_cluster
fi

if has_stage secure; then
  # Only the SecureApache* tests, against each secured setup in turn (tests/integration/secure_apache_test.cc:
  # the ACL tests skip without ROCKETRPC_TEST_ACL_*, the TLS tests without ROCKETRPC_TEST_TLS_CA).
  for setup in "4.9.8 --acl" "5.5 --acl" "4.9.8 --tls enforcing"; do
    log "secure: Apache RocketMQ $setup"
    # shellcheck disable=SC2086  # the setup is a word list
    start_cluster $setup
    run_ctest secure --test-dir build/debug -R '^SecureApache' --timeout 300
    stop_cluster
  done
fi

# Under the sanitizers the integration suites run against an in-process rocketrpc-broker, so broker and client
# code are checked together.
if has_stage asan; then
  log "unit + integration tests under ASan+UBSan (in-process rocketrpc-broker)"
  free_build build/debug
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$JOBS" --target all
  built build/asan
  unset ROCKETRPC_TEST_NAMESRV
  ROCKETRPC_CLI="$ROOT/build/asan/tools/rocketrpc" ROCKETRPC_BROKER_BIN="$ROOT/build/asan/tools/rocketrpc-broker" \
    ROCKETRPC_TEST_BROKER=inprocess run_ctest asan --test-dir build/asan -L 'unit|integration|interop' \
    -E 'TwoBroker' -j "$JOBS" --timeout 300
fi

if has_stage tsan; then
  log "unit + integration tests under TSan (in-process rocketrpc-broker)"
  free_build build/asan
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan -j "$JOBS" --target all
  built build/tsan
  unset ROCKETRPC_TEST_NAMESRV
  ROCKETRPC_CLI="$ROOT/build/tsan/tools/rocketrpc" ROCKETRPC_BROKER_BIN="$ROOT/build/tsan/tools/rocketrpc-broker" \
    ROCKETRPC_TEST_BROKER=inprocess TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    run_ctest tsan --test-dir build/tsan -L 'unit|integration|interop' -E 'TwoBroker' -j "$JOBS" --timeout 300
fi

if has_stage fuzz; then
  log "fuzz smoke runs"
  free_build build/tsan
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$JOBS"
  built build/fuzz
  run_ctest fuzz --test-dir build/fuzz -L fuzz
fi

stage_done
echo
echo "stage durations:"
printf '%s\n' "${STAGE_TIMES[@]}"
if [ ${#FAILED_STAGES[@]} -gt 0 ]; then
  echo "failed stages: ${FAILED_STAGES[*]}"
fi
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
[ ${#FAILED_STAGES[@]} -eq 0 ] && [ "$TOTAL_FAILED" -eq 0 ]
