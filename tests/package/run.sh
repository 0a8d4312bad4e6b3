#!/usr/bin/env bash
# Consumer test: installs the build tree given as $1 (default build/debug) into a scratch prefix, then, like a
# user, builds tests/package/echo.cc against that prefix four ways (find_package shared and static, pkg-config
# shared and static) and the README's quick start (examples/quickstart.cc) with find_package, checks what the
# library exports, and runs each program against the installed rocketrpc-broker on 127.0.0.1. Prints
# "N passed, N failed".
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
  local syms leaked
  readelf -d "$LIBDIR/librocketrpc.so" | grep -q 'SONAME.*librocketrpc\.so\.' || { echo "no SONAME"; return 1; }
  syms="$(nm -D --defined-only -C "$LIBDIR/librocketrpc.so")"  # whole, not piped into grep -q (SIGPIPE)
  leaked="$(grep -E ' (T|W|V|B|D|R) ' <<<"$syms" \
            | grep -E 'asio::|nlohmann::|fmt::|YAML::|rocketrpc::(remoting|client|rpc|store|broker|detail)::' \
            | head -5 || true)"
  [ -z "$leaked" ] || { echo "internal symbols exported:"; echo "$leaked"; return 1; }
  grep -q 'rocketrpc::RpcClient::sendSync' <<<"$syms" || { echo "public API missing"; return 1; }
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
# The test brokers do not depend on how full the machine's disk is (by default sends are refused at 90 % used).
DISK_ARGS=(--set diskSpaceWarningLevelRatio=99 --set diskMaxUsedSpaceRatio=95)
"$PREFIX/bin/rocketrpc-broker" --port "$port" --store "$WORK/store" "${DISK_ARGS[@]}" >"$WORK/broker.out" 2>&1 &
broker_pid=$!
for _ in $(seq 100); do grep -qs '^READY' "$WORK/broker.out" && break; sleep 0.1; done
check broker_ready grep -q '^READY' "$WORK/broker.out"
n=0
for exe in "$WORK/cmake-build/echo_shared" "$WORK/cmake-build/echo_static" "$WORK/pc_shared" "$WORK/pc_static"; do
  n=$((n + 1))
  check "run_$(basename "$exe")" "$exe" "127.0.0.1:$port" "PackageEcho$n"
done

# The README's quick start (examples/quickstart.cc, built above with find_package): prints the reply.
quickstart() { "$WORK/cmake-build/quickstart" "127.0.0.1:$port" | tee /dev/stderr | grep -qx 'hello, world'; }
check run_quickstart quickstart

kill "$broker_pid" 2>/dev/null; wait "$broker_pid" 2>/dev/null; broker_pid=""

# Debian packages: the same build configured for /usr with the broker's /etc and systemd files, cpack -G DEB,
# each package unpacked into a scratch root (nothing is installed on this machine), and the packaged broker and
# command line run from there. The build's configuration is put back afterwards.
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
orig_prefix="$(cache_value CMAKE_INSTALL_PREFIX)"
orig_libdir="$(cache_value CMAKE_INSTALL_LIBDIR)"
restore_config() {
  cmake -S "$ROOT" -B "$BUILD" -DROCKETRPC_DEB_LAYOUT=OFF -DCMAKE_INSTALL_PREFIX="$orig_prefix" \
    -DCMAKE_INSTALL_LIBDIR="$orig_libdir" >/dev/null
}
debs() {
  # Debian's multiarch library directory, as a package built for /usr uses.
  cmake -S "$ROOT" -B "$BUILD" -DROCKETRPC_DEB_LAYOUT=ON -DCMAKE_INSTALL_PREFIX=/usr \
    -DCMAKE_INSTALL_LIBDIR="lib/$(gcc -print-multiarch)" >/dev/null || return 1
  (cd "$BUILD" && cpack -G DEB -B "$WORK/deb") || return 1
  local p
  for p in librocketrpc librocketrpc-dev rocketrpc-tools rocketrpc-broker; do
    ls "$WORK"/deb/${p}_*.deb >/dev/null || { echo "no package $p"; return 1; }
    dpkg-deb -x "$WORK"/deb/${p}_*.deb "$WORK/root" || return 1
  done
  local f
  for f in usr/bin/rocketrpc usr/bin/rocketrpc-broker etc/rocketrpc/broker.conf \
           usr/lib/systemd/system/rocketrpc-broker.service usr/include/rocketrpc/rpc.h; do
    [ -e "$WORK/root/$f" ] || { echo "missing /$f"; return 1; }
  done
  ls "$WORK"/root/usr/lib/*/librocketrpc.so.* >/dev/null || { echo "missing librocketrpc.so"; return 1; }
  dpkg-deb -I "$WORK"/deb/rocketrpc-broker_*.deb conffiles | grep -qx /etc/rocketrpc/broker.conf \
    || { echo "broker.conf is not a conffile"; return 1; }
  grep -q 'StateDirectory=rocketrpc' "$WORK/root/usr/lib/systemd/system/rocketrpc-broker.service"
}
check deb_packages debs
restore_config
deb_run() {
  local port root="$WORK/root" out
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  mkdir -p "$root/var/lib/rocketrpc"
  # The packaged configuration, with this test's port and store.
  "$root/usr/bin/rocketrpc-broker" -c "$root/etc/rocketrpc/broker.conf" --port "$port" \
    --store "$root/var/lib/rocketrpc" "${DISK_ARGS[@]}" >"$WORK/deb-broker.out" 2>&1 &
  broker_pid=$!
  for _ in $(seq 100); do grep -q '^READY' "$WORK/deb-broker.out" && break; sleep 0.1; done
  grep -q '^READY' "$WORK/deb-broker.out" || { cat "$WORK/deb-broker.out"; return 1; }
  # A first request creates the topic (auto-create on send); nobody answers it yet.
  "$root/usr/bin/rocketrpc" request -n "127.0.0.1:$port" -t DebEcho --timeout-ms 500 prime >/dev/null 2>&1
  "$root/usr/bin/rocketrpc" respond -n "127.0.0.1:$port" -t DebEcho -g DebEchoService --mode echo \
    >"$WORK/deb-respond.out" 2>&1 &
  local responder=$!
  for _ in $(seq 300); do grep -q '^READY' "$WORK/deb-respond.out" && break; sleep 0.1; done
  grep -q '^READY' "$WORK/deb-respond.out" || { cat "$WORK/deb-respond.out"; kill "$responder"; return 1; }
  out="$("$root/usr/bin/rocketrpc" request -n "127.0.0.1:$port" -t DebEcho --timeout-ms 10000 --count 20 \
         --expect-echo 2>&1)"
  local rc=$?
  kill "$responder" 2>/dev/null; wait "$responder" 2>/dev/null
  echo "$out"
  [ $rc -eq 0 ]
}
check deb_broker_and_cli deb_run

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
