#!/usr/bin/env bash
# Consumer test: installs the build tree given as $1 (default build/debug) into a scratch prefix, then, like a
# user, builds tests/package/echo.cc against that prefix four ways (find_package shared and static, pkg-config
# shared and static), checks what the library exports, and runs each program against the installed
# rocketrpc-broker on 127.0.0.1. Prints "N passed, N failed".
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${1:-$ROOT/build/debug}"
WORK="$(mktemp -d)"
PREFIX="$WORK/prefix"
passed=0
failed=0
broker_pid=""
cleanup() {
  [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
check() {  # name command...
  local name="$1"; shift
  if "$@" >"$WORK/$name.log" 2>&1; then
    echo "[ PASS ] $name"; passed=$((passed + 1))
  else
    echo "[ FAIL ] $name"; sed 's/^/    /' "$WORK/$name.log" | tail -20; failed=$((failed + 1))
  fi
}

check install cmake --install "$BUILD" --prefix "$PREFIX"
LIBDIR="$(dirname "$(find "$PREFIX" -name 'librocketrpc.so' | head -1)")"

# The ABI: a SONAME, only rocketrpc's public symbols, no asio / nlohmann / fmt instances.
exports() {
  readelf -d "$LIBDIR/librocketrpc.so" | grep -q 'SONAME.*librocketrpc\.so\.' || { echo "no SONAME"; return 1; }
  local leaked
  leaked="$(nm -D --defined-only -C "$LIBDIR/librocketrpc.so" | grep -E ' (T|W|V|B|D|R) ' \
            | grep -E 'asio::|nlohmann::|fmt::|YAML::|rocketrpc::(remoting|client|rpc|store|broker|detail)::' | head -5)"
  [ -z "$leaked" ] || { echo "internal symbols exported:"; echo "$leaked"; return 1; }
  nm -D --defined-only -C "$LIBDIR/librocketrpc.so" | grep -q 'rocketrpc::RpcClient::sendSync' \
    || { echo "public API missing"; return 1; }
}
check exports exports

# Every public header compiles on its own as C++17 and as C++20.
headers() {
  local h std
  for std in 17 20; do
    for h in "$PREFIX"/include/rocketrpc/*.h; do
      printf '#include <rocketrpc/%s>\n' "$(basename "$h")" >"$WORK/h.cc"
      g++ -std=c++$std -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$PREFIX/include" "$WORK/h.cc" \
        || { echo "$(basename "$h") fails as C++$std"; return 1; }
    done
  done
}
check headers_cxx17_cxx20 headers

check cmake_configure cmake -S "$ROOT/tests/package" -B "$WORK/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$PREFIX"
check cmake_build cmake --build "$WORK/cmake-build"
PCDIR="$LIBDIR/pkgconfig"
check pkgconfig_shared sh -c "g++ -std=c++17 '$ROOT/tests/package/echo.cc' -o '$WORK/pc_shared' \
  \$(PKG_CONFIG_PATH='$PCDIR' pkg-config --cflags --libs rocketrpc) -Wl,-rpath,'$LIBDIR'"
# Static through pkg-config: --static adds the private dependencies; -Bstatic picks librocketrpc.a over the .so.
check pkgconfig_static sh -c "g++ -std=c++17 '$ROOT/tests/package/echo.cc' -o '$WORK/pc_static' \
  \$(PKG_CONFIG_PATH='$PCDIR' pkg-config --static --libs rocketrpc \
     | sed 's/-lrocketrpc/-Wl,-Bstatic -lrocketrpc -Wl,-Bdynamic/') \
  \$(PKG_CONFIG_PATH='$PCDIR' pkg-config --cflags rocketrpc)"

# The installed broker on a free port, then every program against it.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$PREFIX/bin/rocketrpc-broker" --port "$port" --store "$WORK/store" >"$WORK/broker.out" 2>&1 &
broker_pid=$!
for _ in $(seq 100); do grep -q '^READY' "$WORK/broker.out" && break; sleep 0.1; done
check broker_ready grep -q '^READY' "$WORK/broker.out"
n=0
for exe in "$WORK/cmake-build/echo_shared" "$WORK/cmake-build/echo_static" "$WORK/pc_shared" "$WORK/pc_static"; do
  n=$((n + 1))
  check "run_$(basename "$exe")" "$exe" "127.0.0.1:$port" "PackageEcho$n"
done

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
