#!/usr/bin/env bash
# Installs what rocketrpc needs to build and test, from Debian packages only (prometheus: for promtool, which
# the metrics tests run on every scrape; its service is not started). Safe to re-run: packages
# already present are not reinstalled. Needs root (or sudo) the first time.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libasio-dev nlohmann-json3-dev libyaml-cpp-dev libfmt-dev libspdlog-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev libssl-dev openssl
  clang libclang-rt-14-dev doxygen
  python3 python3-matplotlib
  prometheus
  default-jdk-headless maven golang-go
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A JDK and Maven installed outside Debian (e.g. a preinstalled JDK 17) are fine too, and so is a Go toolchain.
if command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in default-jdk-headless|maven) ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]}")
fi
if command -v go >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do
    [ "$p" = golang-go ] || filtered+=("$p")
  done
  missing=("${filtered[@]}")
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
