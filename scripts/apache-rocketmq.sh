#!/usr/bin/env bash
# shellcheck disable=SC1091  # cluster.env files are written at run time
# Start / stop a local Apache RocketMQ cluster (name server + N brokers) from the
# official Maven jars, for integration tests of rocketrpc against real RocketMQ.
#
#   scripts/apache-rocketmq.sh start [VERSION] [--brokers N] [--dir DIR] [--acl] [--tls MODE]
#        --acl: access control on, with four accounts (see "security" below): 4.9 plain ACL
#        (aclEnable, home/conf/plain_acl.yml), 5.3+ ACL 2.0 (authentication + authorization,
#        users made with mqadmin createUser/createAcl). mqadmin of this script signs as the admin.
#        --tls enforcing|permissive: name server and brokers speak TLS (enforcing: TLS only) with
#        a server certificate for 127.0.0.1 made with openssl by a test CA (<run dir>/tls/ca.pem).
#   scripts/apache-rocketmq.sh stop  [VERSION] [--dir DIR] [--all] [--kill]
#        stops the brokers, then the name server (SIGTERM; SIGKILL after ROCKETMQ_STOP_TIMEOUT,
#        at once with --kill) and deletes the message store. --all: every cluster whose run
#        dir is under .rocketmq/. Without VERSION/--dir: the cluster started last.
#   scripts/apache-rocketmq.sh status [VERSION] [--dir DIR]
#   scripts/apache-rocketmq.sh topic [--dir DIR] NAME[,NAME...] [QUEUES]   (default 4 queues)
#   scripts/apache-rocketmq.sh admin [--dir DIR] MQADMIN-ARGS...   (e.g. admin clusterList)
#        -n is added from the cluster's state. When DIR holds no cluster started here and the
#        arguments give -n (any name server, e.g. rocketrpc-broker's), mqadmin runs on its own
#        with DIR (default .rocketmq/admin) as home and log dir, from the jars of
#        ROCKETMQ_ADMIN_VERSION (default 4.9.8, i.e. 4.9.7).
#   scripts/apache-rocketmq.sh broker [--dir DIR] kill|start NAME   (fault tests)
#        kill: SIGKILL broker NAME (e.g. broker-a) of the cluster, as a crash would, and wait for it
#        to be gone. start: start it again on its port and store, and return once it has registered
#        with the name server again (prints BROKER=NAME=ADDR). Other brokers are not touched.
#   scripts/apache-rocketmq.sh fetch [VERSION]                      (only download the jars)
#   scripts/apache-rocketmq.sh env [--dir DIR]                      (print the cluster's variables)
#
# VERSION: 4.9.8 (default), 4.9, 4.9.7, 5.3, 5.3.3, 5, 5.5, 5.5.0, or another exact version.
#   The 4.9.8 server jars (rocketmq-namesrv, rocketmq-broker) were never published to
#   Maven Central, so every 4.9 alias runs the newest published 4.x server, 4.9.7.
#   5.3 runs 5.3.3 (5.3.4 is only partially published: its rocketmq-client, -remoting,
#   -tools... jars are missing, so it cannot be resolved). 5 and 5.5 run 5.5.0.
#
# `start` prints KEY=VALUE lines; the last line is always NAMESRV=127.0.0.1:<port>.
# Other lines: ROCKETMQ_VERSION, ROCKETMQ_DIR, CLUSTER, BROKERS (name=addr,...); with --acl
# ACL=1 and ACL_<ROLE>_AK / ACL_<ROLE>_SK for ROLE in ADMIN RPC PUBONLY SUBONLY (secrets are
# random per start); with --tls TLS_MODE, TLS_CA (the CA that signed the servers' certificate)
# and TLS_OTHER_CA (an unrelated CA, for tests that must see the server rejected).
#
# Environment (all optional):
#   ROCKETMQ_NAMESRV_PORT   name server port (default 19876)
#   ROCKETMQ_BROKER_PORT    first broker's port (default 20911); broker i uses +1000*i.
#                           A broker also binds port-2 (VIP channel) and port+1 (HA).
#   ROCKETMQ_CLUSTER        brokerClusterName (default DefaultCluster)
#   ROCKETMQ_STORE_ROOT     parent directory of the message store (default /dev/shm when
#                           writable with >= 2 GiB free, else <DIR>/store)
#   ROCKETMQ_START_TIMEOUT  seconds to wait for the brokers to register (default 120)
#   ROCKETMQ_VERIFY_CLUSTERLIST=1  also confirm the registration with mqadmin clusterList
#                           (by default the brokers' own "registered" log lines suffice)
#   ROCKETMQ_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL (default 15)
#   ROCKETMQ_NAMESRV_HEAP / ROCKETMQ_BROKER_HEAP   heap flags (default -Xms64m -Xmx256m / -Xms256m -Xmx512m)
#   ROCKETMQ_JAVA_OPTS      extra JVM flags for the name server and brokers
#   ROCKETMQ_BROKER_CONF_EXTRA  extra key=value lines appended to every broker config (use \n)
#   ROCKETMQ_STATE_ROOT     cache and run-dir root (default <repo>/.rocketmq)
#   JAVA_HOME               Java to use (default: java on PATH); Java 17 is supported.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
TEMPLATE_DIR="$SCRIPT_DIR/apache-rocketmq"
STATE_ROOT=${ROCKETMQ_STATE_ROOT:-$REPO_ROOT/.rocketmq}
JAVA_BIN=${JAVA_HOME:+$JAVA_HOME/bin/}java

DEFAULT_VERSION=4.9.8
NAMESRV_PORT=${ROCKETMQ_NAMESRV_PORT:-19876}
BROKER_PORT=${ROCKETMQ_BROKER_PORT:-20911}
CLUSTER=${ROCKETMQ_CLUSTER:-DefaultCluster}
START_TIMEOUT=${ROCKETMQ_START_TIMEOUT:-120}
STOP_TIMEOUT=${ROCKETMQ_STOP_TIMEOUT:-15}

log() { printf '[apache-rocketmq] %s\n' "$*" >&2; }
die() { printf '[apache-rocketmq] ERROR: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }

usage() {
  sed -n '/^# Start/,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

# ---------------------------------------------------------------------------
# versions and jars
# ---------------------------------------------------------------------------
resolve_version() {
  case "${1:-$DEFAULT_VERSION}" in
    4|4.9|4.9.7|4.9.8) echo 4.9.7 ;;
    5.3|5.3.x|5.3.3) echo 5.3.3 ;;
    5|5.5|5.5.x|5.5.0) echo 5.5.0 ;;
    [0-9]*.[0-9]*.[0-9]*) echo "$1" ;;
    *) die "unknown RocketMQ version '$1' (use 4.9.8, 5.3 or 5.5)" ;;
  esac
}

# fetch_jars VERSION -> prints the lib dir; downloads with Maven once, then reuses the cache.
fetch_jars() {
  local ver=$1 lib="$STATE_ROOT/lib-$1"
  if [[ -f $lib/.complete ]]; then echo "$lib"; return 0; fi
  mkdir -p "$STATE_ROOT"
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to download the RocketMQ $ver jars"
  (
    flock 9
    if [[ ! -f $lib/.complete ]]; then
      log "downloading Apache RocketMQ $ver jars with Maven into ${lib#"$REPO_ROOT"/} (once)"
      rm -rf "$lib.tmp"
      local out mvn_cmd=(mvn -q -B -f "$TEMPLATE_DIR/pom.xml" -Drocketmq.version="$ver"
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib.tmp")
      # a transient download failure is cached by Maven: retry once with -U
      if ! out=$("${mvn_cmd[@]}" 2>&1) && ! out=$("${mvn_cmd[@]}" -U 2>&1); then
        printf '%s\n' "$out" | tail -n 30 >&2
        rm -rf "$lib.tmp"
        die "could not resolve org.apache.rocketmq:rocketmq-{namesrv,broker,tools}:$ver with Maven"
      fi
      rm -rf "$lib"
      mv "$lib.tmp" "$lib"
      touch "$lib/.complete"
    fi
  ) 9>"$STATE_ROOT/.lib-$ver.lock"
  echo "$lib"
}

# ---------------------------------------------------------------------------
# JVM flags
# ---------------------------------------------------------------------------
# Opens/exports that RocketMQ 4.9.x/5.x and their Netty need on Java 9+ (mmap cleaning,
# direct buffers, reflection on JDK internals). Harmless on the version that needs fewer.
JDK_OPENS=(
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports=java.base/sun.nio.ch=ALL-UNNAMED
  --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports=java.management/sun.management=ALL-UNNAMED
)

# common_jvm_opts PROCESS-NAME -> fills array JVM_OPTS (uses RUN_DIR)
common_jvm_opts() {
  local proc=$1 conf
  case "$proc" in
    namesrv) conf=logback_namesrv.xml ;;
    tools) conf=logback_tools.xml ;;
    *) conf=logback_broker.xml ;;
  esac
  JVM_OPTS=(
    "${JDK_OPENS[@]}"
    -Dfile.encoding=UTF-8
    -Djava.awt.headless=true
    -Djava.net.preferIPv4Stack=true
    -XX:+PerfDisableSharedMem
    -XX:-OmitStackTraceInFastThrow
    "-Duser.home=$RUN_DIR/home"
    "-Drocketmq.home.dir=$RUN_DIR/home"
    "-Drmq.logback.configurationFile=$RUN_DIR/home/conf/$conf"
    "-Drmq.log.file=$RUN_DIR/logs/$proc.log"
    "-Drocketmq.client.logRoot=$RUN_DIR/logs"
    -Drocketmq.client.logUseSlf4j=true
    -Drocketmq.broker.diskSpaceWarningLevelRatio=0.98
    -Drocketmq.broker.diskSpaceCleanForciblyRatio=0.97
  )
  tls_jvm_opts
}

# tls_jvm_opts: appends the TLS flags of the cluster (RMQ_TLS, from `start --tls` or cluster.env) to
# JVM_OPTS. Apache reads them as system properties (TlsSystemConfig), then lets tls.config.file
# override them: that file is ours (the same values), so a /etc/rocketmq/tls.properties on the
# machine cannot change a test cluster.
tls_jvm_opts() {
  local mode=${RMQ_TLS:-disabled} d=$RUN_DIR/tls
  if [[ $mode == disabled ]]; then
    # TLS "permissive" (Apache's default) generates a self-signed RSA certificate at start-up:
    # seconds of CPU on a small machine. Plain clusters speak plain TCP only.
    JVM_OPTS+=(-Dtls.server.mode=disabled -Dtls.enable=false "-Dtls.config.file=$RUN_DIR/conf/tls-none.properties")
    return 0
  fi
  # Servers present server.pem (signed by ca.pem); their own client side (a broker registering
  # with the name server, mqadmin) speaks TLS too (tls.enable) and checks the server against
  # ca.pem (tls.client.authServer; Netty checks the chain, not the host name).
  JVM_OPTS+=(
    "-Dtls.server.mode=$mode"
    -Dtls.enable=true
    -Dtls.test.mode.enable=false
    "-Dtls.server.certPath=$d/server.pem"
    "-Dtls.server.keyPath=$d/server.key"
    "-Dtls.server.trustCertPath=$d/ca.pem"
    -Dtls.server.need.client.auth=none
    -Dtls.client.authServer=true
    "-Dtls.client.trustCertPath=$d/ca.pem"
    "-Dtls.config.file=$RUN_DIR/conf/tls.properties"
  )
}

# ---------------------------------------------------------------------------
# run-dir state
# ---------------------------------------------------------------------------
abspath() { # works for not-yet-existing paths
  case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$PWD" "$1" ;; esac
}

# select_run_dir DIR VERSION: explicit --dir, else run dir of VERSION, else the last started.
select_run_dir() {
  local dir=$1 ver=$2
  if [[ -n $dir ]]; then abspath "$dir"; return; fi
  if [[ -n $ver ]]; then echo "$STATE_ROOT/run-$(resolve_version "$ver")"; return; fi
  if [[ -f $STATE_ROOT/current ]]; then cat "$STATE_ROOT/current"; return; fi
  echo "$STATE_ROOT/run-$(resolve_version "$DEFAULT_VERSION")"
}

load_env() { # load_env RUN_DIR
  RUN_DIR=$1
  [[ -f $RUN_DIR/cluster.env ]] || die "no cluster state in $RUN_DIR (not started with 'start'?)"
  # shellcheck disable=SC1091
  source "$RUN_DIR/cluster.env"
}

# pid_alive PIDFILE -> true if the pid in the file is a live java process of this run dir
pid_alive() {
  local f=$1 pid
  [[ -f $f ]] || return 1
  pid=$(cat "$f" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-Duser.home=$RUN_DIR/home" || return 1
  # zombies count as dead
  [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]
}

# proc_running PID: exists and is not a zombie (for our own children during start-up)
proc_running() {
  [[ -r /proc/$1/stat ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

show_log_tail() { # show_log_tail NAME
  local n=$1 f
  for f in "$RUN_DIR/logs/$n.out" "$RUN_DIR/logs/$n.log"; do
    if [[ -s $f ]]; then
      printf -- '----- tail of %s -----\n' "$f" >&2
      tail -n 25 "$f" >&2
    fi
  done
}

# Process control; only pids recorded in RUN_DIR whose command line names RUN_DIR are touched.
term_procs() { # term_procs NAME...: SIGTERM
  local n
  for n in "$@"; do
    if pid_alive "$RUN_DIR/$n.pid"; then kill -TERM "$(cat "$RUN_DIR/$n.pid")" 2>/dev/null || true; fi
  done
}

wait_procs() { # wait_procs TENTHS NAME...: true once all are gone, false on timeout
  local tenths=$1 n waited=0 live
  shift
  while :; do
    live=0
    for n in "$@"; do pid_alive "$RUN_DIR/$n.pid" && live=1; done
    ((live == 0)) && return 0
    ((waited >= tenths)) && return 1
    sleep 0.1
    waited=$((waited + 1))
  done
}

kill_remaining() { # kill_remaining NAME...: SIGKILL what is still alive, forget the pid files
  local n pid
  for n in "$@"; do
    if pid_alive "$RUN_DIR/$n.pid"; then
      pid=$(cat "$RUN_DIR/$n.pid")
      ((STOP_TIMEOUT == 0)) || log "$n (pid $pid) did not stop after ${STOP_TIMEOUT}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  # a SIGKILLed JVM with large mappings can take seconds to go (and to free its ports) on a loaded machine
  wait_procs 150 "$@" || true
  for n in "$@"; do rm -f "$RUN_DIR/$n.pid"; done
}

kill_procs() { # kill_procs NAME...: SIGTERM, wait up to STOP_TIMEOUT, SIGKILL
  term_procs "$@"
  wait_procs $((STOP_TIMEOUT * 10)) "$@" || true
  kill_remaining "$@"
}

# ---------------------------------------------------------------------------
# mqadmin
# ---------------------------------------------------------------------------
# admin_launcher_dir: compiles scripts/apache-rocketmq/AdminLauncher.java once (cached by
# content); prints its class dir, or nothing when no javac is available.
admin_launcher_dir() {
  local src="$TEMPLATE_DIR/AdminLauncher.java" sum dir javac_bin=${JAVA_HOME:+$JAVA_HOME/bin/}javac
  command -v "$javac_bin" >/dev/null 2>&1 || return 0
  sum=$(cksum <"$src" | awk '{print $1}')
  dir="$STATE_ROOT/admin-launcher-$sum"
  if [[ ! -f $dir/AdminLauncher.class ]]; then
    mkdir -p "$dir.tmp.$$"
    # Test processes run mqadmin in parallel: the first rename wins (mv -T fails onto an existing non-empty
    # dir) and nobody removes a dir another process may be running from.
    if "$javac_bin" -nowarn -d "$dir.tmp.$$" "$src" >/dev/null 2>&1; then
      mv -T "$dir.tmp.$$" "$dir" 2>/dev/null || true
    fi
    rm -rf "$dir.tmp.$$"
  fi
  [[ -f $dir/AdminLauncher.class ]] && echo "$dir"
  return 0
}

# run_mqadmin ARGS... [--next ARGS...] (needs RUN_DIR, RMQ_LIB): mqadmin command(s) in one JVM
run_mqadmin() {
  common_jvm_opts tools
  local jvm=("$JAVA_BIN" -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k "${JVM_OPTS[@]}")
  local launcher
  launcher=$(admin_launcher_dir)
  if [[ -n $launcher ]]; then
    "${jvm[@]}" -cp "$launcher:$RMQ_LIB/*" AdminLauncher "$@"
  else
    # no javac: one JVM per command, each paying Netty's 2 s shutdown
    local one=() a
    for a in "$@" --next; do
      if [[ $a == --next ]]; then
        if ((${#one[@]})); then
          "${jvm[@]}" -cp "$RMQ_LIB/*" org.apache.rocketmq.tools.command.MQAdminStartup "${one[@]}"
        fi
        one=()
      else
        one+=("$a")
      fi
    done
  fi
}

has_n_option() {
  local a
  for a in "$@"; do
    case "$a" in -n|--namesrvAddr|-n*|--namesrvAddr=*) return 0 ;; esac
  done
  return 1
}

# ---------------------------------------------------------------------------
# security: --acl, --tls
# ---------------------------------------------------------------------------
# Accounts of `start --acl` (user names are fixed, secrets are random per start and printed as
# ACL_<ROLE>_AK / ACL_<ROLE>_SK):
#   ADMIN    rrpcadmin    4.9: admin: true; 5.x: the super user (initAuthenticationUser), also the
#                         broker's own inner-client credentials and mqadmin's (home/conf/tools.yml)
#   RPC      rocketrpc    PUB and SUB on every topic and group
#   PUBONLY  rrpcpubonly  PUB on every topic, nothing on groups (cannot consume)
#   SUBONLY  rrpcsubonly  SUB on every topic and group, no PUB (cannot send or reply)
ACL_ROLES=(ADMIN RPC PUBONLY SUBONLY)
declare -A ACL_USER=([ADMIN]=rrpcadmin [RPC]=rocketrpc [PUBONLY]=rrpcpubonly [SUBONLY]=rrpcsubonly)

gen_secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# acl_secrets: fills RMQ_ACL_<ROLE>_SK with fresh random secrets
acl_secrets() {
  local r
  for r in "${ACL_ROLES[@]}"; do printf -v "RMQ_ACL_${r}_SK" '%s' "$(gen_secret)"; done
}

acl_sk() { local v="RMQ_ACL_${1}_SK"; printf '%s' "${!v}"; }

# write_acl_files: mqadmin's credentials (both versions read ROCKETMQ_HOME/conf/tools.yml) and,
# for 4.9, the plain ACL file the broker reads from ROCKETMQ_HOME/conf/plain_acl.yml. No global
# white list: every test client comes from 127.0.0.1 and must be checked.
write_acl_files() {
  local conf=$RUN_DIR/home/conf
  {
    echo "accessKey: ${ACL_USER[ADMIN]}"
    echo "secretKey: $(acl_sk ADMIN)"
  } >"$conf/tools.yml"
  chmod 600 "$conf/tools.yml"
  [[ ${RMQ_VERSION%%.*} == 4 ]] || return 0
  {
    echo "# written by scripts/apache-rocketmq.sh start --acl"
    echo "globalWhiteRemoteAddresses: []"
    echo "accounts:"
    echo "  - accessKey: ${ACL_USER[ADMIN]}"
    echo "    secretKey: $(acl_sk ADMIN)"
    echo "    admin: true"
    echo "  - accessKey: ${ACL_USER[RPC]}"
    echo "    secretKey: $(acl_sk RPC)"
    echo "    admin: false"
    echo "    defaultTopicPerm: PUB|SUB"
    echo "    defaultGroupPerm: PUB|SUB"
    echo "  - accessKey: ${ACL_USER[PUBONLY]}"
    echo "    secretKey: $(acl_sk PUBONLY)"
    echo "    admin: false"
    echo "    defaultTopicPerm: PUB"
    echo "    defaultGroupPerm: DENY"
    echo "  - accessKey: ${ACL_USER[SUBONLY]}"
    echo "    secretKey: $(acl_sk SUBONLY)"
    echo "    admin: false"
    echo "    defaultTopicPerm: SUB"
    echo "    defaultGroupPerm: SUB"
  } >"$conf/plain_acl.yml"
  chmod 600 "$conf/plain_acl.yml"
}

# acl_broker_conf: broker config lines of --acl
acl_broker_conf() {
  if [[ ${RMQ_VERSION%%.*} == 4 ]]; then
    echo "aclEnable=true"
    return
  fi
  # ACL 2.0 (5.3+): users and ACLs live in RocksDB under <storePathRootDir>/config; the super
  # user is created at start-up, the other users by mqadmin once the broker is up (create_acl_users).
  local p=org.apache.rocketmq.auth
  echo "authenticationEnabled=true"
  echo "authenticationProvider=$p.authentication.provider.DefaultAuthenticationProvider"
  echo "authenticationMetadataProvider=$p.authentication.provider.LocalAuthenticationMetadataProvider"
  echo "authorizationEnabled=true"
  echo "authorizationProvider=$p.authorization.provider.DefaultAuthorizationProvider"
  echo "authorizationMetadataProvider=$p.authorization.provider.LocalAuthorizationMetadataProvider"
  echo "initAuthenticationUser={\"username\":\"${ACL_USER[ADMIN]}\",\"password\":\"$(acl_sk ADMIN)\"}"
  echo "innerClientAuthenticationCredentials={\"accessKey\":\"${ACL_USER[ADMIN]}\",\"secretKey\":\"$(acl_sk ADMIN)\"}"
}

# create_acl_users NS NBROKERS: 5.x only: the Normal users and their ACLs on every broker of the cluster
create_acl_users() {
  local ns=$1 nbrokers=$2 r u args=()
  local -A res=([RPC]="Topic:*,Group:*" [PUBONLY]="Topic:*" [SUBONLY]="Topic:*,Group:*")
  # Get: a consumer asks for queue offsets (GET_MAX_OFFSET...), which 5.x authorises as Get on the topic
  local -A act=([RPC]="Pub,Sub,Get" [PUBONLY]="Pub" [SUBONLY]="Sub,Get")
  for r in RPC PUBONLY SUBONLY; do
    u=${ACL_USER[$r]}
    args+=(createUser -n "$ns" -c "$CLUSTER" -u "$u" -p "$(acl_sk "$r")" -t Normal --next)
    args+=(createAcl -n "$ns" -c "$CLUSTER" -s "User:$u" -r "${res[$r]}" -a "${act[$r]}" -d Allow --next)
  done
  local out got
  out=$(run_mqadmin "${args[@]}" 2>&1) || true
  # each of the 6 commands prints one "... success." per broker
  got=$(grep -ci 'success' <<<"$out" || true)
  if ((got < 6 * nbrokers)); then
    printf '%s\n' "$out" | grep -v '^[[:space:]]*$' | tail -n 30 >&2
    return 1
  fi
}

# make_tls_files DIR: a test CA, a server certificate it signs for 127.0.0.1 / localhost (EC P-256,
# keys in PKCS#8 as Netty wants them) and an unrelated CA (other-ca.pem) for negative tests.
make_tls_files() {
  local d=$1
  command -v openssl >/dev/null 2>&1 || die "--tls needs the openssl command"
  rm -rf "$d"
  mkdir -p "$d"
  printf '%s\n' \
    '[req]' 'distinguished_name = dn' 'prompt = no' '[dn]' 'CN = rocketrpc test' \
    '[ca_ext]' 'basicConstraints = critical, CA:TRUE' 'keyUsage = critical, keyCertSign, cRLSign' \
    'subjectKeyIdentifier = hash' \
    '[server_ext]' 'basicConstraints = critical, CA:FALSE' 'keyUsage = critical, digitalSignature' \
    'extendedKeyUsage = serverAuth, clientAuth' 'subjectAltName = IP:127.0.0.1, DNS:localhost' \
    'authorityKeyIdentifier = keyid' >"$d/openssl.cnf"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes) out
  if ! out=$({
    openssl req -x509 -config "$d/openssl.cnf" -extensions ca_ext "${ec[@]}" -days 30 \
      -subj "/CN=rocketrpc test CA" -keyout "$d/ca.key" -out "$d/ca.pem" &&
    openssl req -new -config "$d/openssl.cnf" "${ec[@]}" -subj "/CN=127.0.0.1" \
      -keyout "$d/server.key" -out "$d/server.csr" &&
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 30 \
      -extfile "$d/openssl.cnf" -extensions server_ext -out "$d/server.pem" &&
    openssl req -x509 -config "$d/openssl.cnf" -extensions ca_ext "${ec[@]}" -days 30 \
      -subj "/CN=rocketrpc unrelated test CA" -keyout "$d/other-ca.key" -out "$d/other-ca.pem"
  } 2>&1); then
    printf '%s\n' "$out" >&2
    die "could not make the test certificates with openssl"
  fi
  chmod 600 "$d"/*.key
  # the same settings as the -Dtls.* flags (tls_jvm_opts), for Apache's tls.config.file
  {
    echo "# written by scripts/apache-rocketmq.sh start --tls"
    echo "tls.server.need.client.auth=none"
    echo "tls.server.certPath=$d/server.pem"
    echo "tls.server.keyPath=$d/server.key"
    echo "tls.server.trustCertPath=$d/ca.pem"
    echo "tls.client.authServer=true"
    echo "tls.client.trustCertPath=$d/ca.pem"
  } >"$RUN_DIR/conf/tls.properties"
}

# security_env_lines: the ACL_* / TLS_* lines of `start` and `env` (from RMQ_ACL, RMQ_TLS)
security_env_lines() {
  local r
  if [[ ${RMQ_ACL:-0} == 1 ]]; then
    echo "ACL=1"
    for r in "${ACL_ROLES[@]}"; do
      echo "ACL_${r}_AK=${ACL_USER[$r]}"
      echo "ACL_${r}_SK=$(acl_sk "$r")"
    done
  fi
  if [[ ${RMQ_TLS:-disabled} != disabled ]]; then
    echo "TLS_MODE=$RMQ_TLS"
    echo "TLS_CA=$RUN_DIR/tls/ca.pem"
    echo "TLS_OTHER_CA=$RUN_DIR/tls/other-ca.pem"
  fi
}

# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------
cmd_fetch() {
  local ver
  ver=$(resolve_version "${1:-}")
  fetch_jars "$ver" >/dev/null
  echo "ROCKETMQ_LIB=$STATE_ROOT/lib-$ver"
}

cmd_start() {
  local req="" nbrokers=1 dir="" arg
  RMQ_ACL=0 RMQ_TLS=disabled
  while (($#)); do
    arg=$1; shift
    case "$arg" in
      --acl) RMQ_ACL=1 ;;
      --tls) RMQ_TLS=${1:?--tls needs a mode: enforcing or permissive}; shift ;;
      --tls=*) RMQ_TLS=${arg#*=} ;;
      --brokers) nbrokers=${1:?--brokers needs a number}; shift ;;
      --brokers=*) nbrokers=${arg#*=} ;;
      --dir) dir=${1:?--dir needs a directory}; shift ;;
      --dir=*) dir=${arg#*=} ;;
      -h|--help) usage 0 ;;
      -*) die "start: unknown option $arg" ;;
      *) [[ -z $req ]] || die "start: unexpected argument $arg"; req=$arg ;;
    esac
  done
  if ! [[ $nbrokers =~ ^[1-9][0-9]*$ ]] || ((nbrokers > 20)); then die "--brokers must be 1..20"; fi
  case "$RMQ_TLS" in enforcing|permissive|disabled) ;; *) die "--tls must be enforcing, permissive or disabled" ;; esac
  [[ $req == 4.9.8 || -z $req ]] && log "note: 4.9.8 server jars are not on Maven Central; running 4.9.7 (same 4.9 protocol)"
  local ver t0
  t0=$(now_ms)
  ver=$(resolve_version "$req")
  RMQ_VERSION=$ver
  if ((RMQ_ACL)); then
    case "$ver" in
      4.9.*|5.[3-9].*|5.[1-9][0-9].*|[6-9].*) ;;
      *) die "--acl supports 4.9.x (plain ACL) and 5.3+ (ACL 2.0), not $ver" ;;
    esac
  fi
  RUN_DIR=$(abspath "${dir:-$STATE_ROOT/run-$ver}")
  mkdir -p "$RUN_DIR"
  RUN_DIR=$(cd "$RUN_DIR" && pwd)

  # refuse to start twice in the same run dir
  if [[ -f $RUN_DIR/cluster.env ]]; then
    local n running=0
    for n in namesrv $(. "$RUN_DIR/cluster.env"; echo "${RMQ_BROKERS:-}"); do
      if pid_alive "$RUN_DIR/$n.pid"; then running=1; fi
    done
    ((running == 0)) || die "a cluster is already running in $RUN_DIR; run '$0 stop --dir $RUN_DIR' first"
    cleanup_store "$RUN_DIR"
  fi

  local lib
  lib=$(fetch_jars "$ver")
  RMQ_LIB=$lib
  local t_jars
  t_jars=$(now_ms)

  # ports
  local names=() addrs=() ports=() i p name letters=abcdefghijklmnopqrstuvwxyz
  for ((i = 0; i < nbrokers; i++)); do
    name="broker-${letters:i:1}"
    p=$((BROKER_PORT + 1000 * i))
    names+=("$name"); ports+=("$p"); addrs+=("127.0.0.1:$p")
  done
  # a cluster stopped just before may still be releasing its ports: wait up to 10 s for them
  local port_wait_end=$(( $(date +%s) + 10 ))
  free_or_die() { # free_or_die PORT MESSAGE
    while port_in_use "$1"; do
      (($(date +%s) < port_wait_end)) || die "$2"
      sleep 0.2
    done
  }
  free_or_die "$NAMESRV_PORT" "port $NAMESRV_PORT (name server) is already in use; set ROCKETMQ_NAMESRV_PORT"
  for p in "${ports[@]}"; do
    for q in $((p - 2)) "$p" $((p + 1)); do
      free_or_die "$q" "port $q (broker $p, VIP $((p - 2)), HA $((p + 1))) is already in use; set ROCKETMQ_BROKER_PORT"
    done
  done

  # store location
  local store_parent store
  store_parent=${ROCKETMQ_STORE_ROOT:-}
  if [[ -z $store_parent ]]; then
    if [[ -d /dev/shm && -w /dev/shm ]] && (($(df -Pk /dev/shm 2>/dev/null | awk 'NR==2{print $4}' || echo 0) > 2097152)); then
      store_parent=/dev/shm
    else
      store_parent=$RUN_DIR/store
    fi
  fi
  mkdir -p "$store_parent"
  store=$(mktemp -d "$store_parent/rocketrpc-rmq-$ver-$NAMESRV_PORT.XXXXXX")

  # layout: home/conf (logback), conf/*.properties, logs/
  rm -rf "${RUN_DIR:?}/home" "${RUN_DIR:?}/conf"
  mkdir -p "$RUN_DIR/home/conf" "$RUN_DIR/conf" "$RUN_DIR/logs"
  cp "$TEMPLATE_DIR"/conf/logback_*.xml "$RUN_DIR/home/conf/"
  # old logs of a previous run would confuse the readiness checks
  rm -f "$RUN_DIR"/logs/*.log "$RUN_DIR"/logs/*.out
  rm -rf "${RUN_DIR:?}/tls"
  if ((RMQ_ACL)); then
    acl_secrets
    write_acl_files
  fi
  [[ $RMQ_TLS == disabled ]] || make_tls_files "$RUN_DIR/tls"

  {
    echo "# written by scripts/apache-rocketmq.sh"
    echo "listenPort=$NAMESRV_PORT"
    echo "bindAddress=127.0.0.1"
    echo "kvConfigPath=$RUN_DIR/home/namesrv/kvConfig.json"
    echo "configStorePath=$RUN_DIR/home/namesrv/namesrv.properties"
  } >"$RUN_DIR/conf/namesrv.properties"

  for ((i = 0; i < nbrokers; i++)); do
    name=${names[i]}; p=${ports[i]}
    {
      echo "# written by scripts/apache-rocketmq.sh"
      echo "brokerClusterName=$CLUSTER"
      echo "brokerName=$name"
      echo "brokerId=0"
      echo "brokerRole=ASYNC_MASTER"
      echo "flushDiskType=ASYNC_FLUSH"
      echo "brokerIP1=127.0.0.1"
      echo "brokerIP2=127.0.0.1"
      echo "namesrvAddr=127.0.0.1:$NAMESRV_PORT"
      echo "listenPort=$p"
      echo "bindAddress=127.0.0.1"
      echo "haListenPort=$((p + 1))"
      echo "storePathRootDir=$store/$name"
      echo "storePathCommitLog=$store/$name/commitlog"
      echo "mappedFileSizeCommitLog=67108864"
      echo "mappedFileSizeConsumeQueue=600000"
      # the index file is sized for 20 M entries (~420 MiB, touched at random) by default
      echo "maxHashSlotNum=100000"
      echo "maxIndexNum=400000"
      echo "autoCreateTopicEnable=true"
      echo "autoCreateSubscriptionGroup=true"
      echo "deleteWhen=04"
      echo "fileReservedTime=48"
      echo "diskMaxUsedSpaceRatio=95"
      echo "diskSpaceWarningLevelRatio=98"
      echo "diskSpaceCleanForciblyRatio=97"
      # a shared 2-core CI machine is slow: do not reject sends after 200 ms in the queue
      echo "waitTimeMillsInSendQueue=3000"
      echo "osPageCacheBusyTimeOutMills=5000"
      echo "warmMapedFileEnable=false"
      echo "transientStorePoolEnable=false"
      echo "fetchNamesrvAddrByAddressServer=false"
      echo "traceTopicEnable=false"
      # 5.x: plain broker, no timer wheel, no controller, no slave acting master
      echo "timerWheelEnable=false"
      echo "enableControllerMode=false"
      echo "enableSlaveActingMaster=false"
      echo "enableDLegerCommitLog=false"
      if ((RMQ_ACL)); then acl_broker_conf; fi
      if [[ -n ${ROCKETMQ_BROKER_CONF_EXTRA:-} ]]; then printf '%b\n' "$ROCKETMQ_BROKER_CONF_EXTRA"; fi
    } >"$RUN_DIR/conf/$name.properties"
  done

  local brokers_csv=""
  for ((i = 0; i < nbrokers; i++)); do brokers_csv+="${brokers_csv:+,}${names[i]}=${addrs[i]}"; done
  {
    echo "RMQ_VERSION=$ver"
    echo "RMQ_REQUESTED=${req:-$DEFAULT_VERSION}"
    echo "RMQ_LIB='$lib'"
    echo "RMQ_NAMESRV=127.0.0.1:$NAMESRV_PORT"
    echo "RMQ_CLUSTER='$CLUSTER'"
    echo "RMQ_BROKERS='${names[*]}'"
    echo "RMQ_BROKER_ADDRS='${addrs[*]}'"
    echo "RMQ_BROKERS_CSV='$brokers_csv'"
    echo "RMQ_STORE='$store'"
    echo "RMQ_ACL=$RMQ_ACL"
    echo "RMQ_TLS=$RMQ_TLS"
    local r
    if ((RMQ_ACL)); then
      for r in "${ACL_ROLES[@]}"; do echo "RMQ_ACL_${r}_SK=$(acl_sk "$r")"; done
    fi
  } >"$RUN_DIR/cluster.env"
  chmod 600 "$RUN_DIR/cluster.env"
  echo "$RUN_DIR" >"$STATE_ROOT/current"

  # name server
  local heap_ns heap_br
  read -r -a heap_ns <<<"${ROCKETMQ_NAMESRV_HEAP:--Xms64m -Xmx256m}"
  read -r -a heap_br <<<"${ROCKETMQ_BROKER_HEAP:--Xms256m -Xmx512m}"
  local extra=()
  [[ -n ${ROCKETMQ_JAVA_OPTS:-} ]] && read -r -a extra <<<"$ROCKETMQ_JAVA_OPTS"

  common_jvm_opts namesrv
  (cd "$RUN_DIR" && exec setsid "$JAVA_BIN" "${heap_ns[@]}" -XX:+UseSerialGC -XX:MaxDirectMemorySize=128m \
    "${JVM_OPTS[@]}" "${extra[@]+"${extra[@]}"}" -cp "$lib/*" \
    org.apache.rocketmq.namesrv.NamesrvStartup -c "$RUN_DIR/conf/namesrv.properties" \
    </dev/null >"$RUN_DIR/logs/namesrv.out" 2>&1) &
  echo $! >"$RUN_DIR/namesrv.pid"

  fail_start() {
    log "$1"
    local n
    show_log_tail namesrv
    for n in "${names[@]}"; do show_log_tail "$n"; done
    kill_procs "${names[@]}" namesrv
    cleanup_store "$RUN_DIR"
    rm -f "$RUN_DIR/cluster.env"
    die "RocketMQ $ver failed to start (logs: $RUN_DIR/logs)"
  }

  local deadline=$(( $(date +%s) + START_TIMEOUT ))
  until port_in_use "$NAMESRV_PORT"; do
    proc_running "$(cat "$RUN_DIR/namesrv.pid")" || fail_start "name server exited during start-up"
    (($(date +%s) < deadline)) || fail_start "name server did not listen on $NAMESRV_PORT within ${START_TIMEOUT}s"
    sleep 0.1
  done
  local t_ns
  t_ns=$(now_ms)

  # brokers, started together
  common_jvm_opts broker
  for ((i = 0; i < nbrokers; i++)); do
    name=${names[i]}
    local bopts=("${JVM_OPTS[@]}")
    bopts=("${bopts[@]/#-Drmq.log.file=*/-Drmq.log.file=$RUN_DIR/logs/$name.log}")
    (cd "$RUN_DIR" && exec setsid "$JAVA_BIN" "${heap_br[@]}" -XX:+UseSerialGC -XX:MaxDirectMemorySize=512m \
      "${bopts[@]}" "${extra[@]+"${extra[@]}"}" -cp "$lib/*" \
      org.apache.rocketmq.broker.BrokerStartup -c "$RUN_DIR/conf/$name.properties" \
      </dev/null >"$RUN_DIR/logs/$name.out" 2>&1) &
    echo $! >"$RUN_DIR/$name.pid"
  done

  # Wait for "boot success" and for the broker's own log line confirming that the name server
  # accepted its registration (4.9: "register broker[0]to name server <ns> OK", 5.x:
  # "Registering current broker to name server completed. TargetHost=<ns>"); cheaper than an
  # mqadmin JVM. 4.9 registers synchronously before "boot success". 5.x only registers with
  # name servers its background scan has already found reachable, so the registration made
  # during start-up is silently skipped when the broker starts faster than that scan, and the
  # next one comes 10 s later: when the line is missing 0.5 s after boot, touch the broker
  # config (brokerPermission, unchanged) with mqadmin, which re-registers at once.
  local ns_addr="127.0.0.1:$NAMESRV_PORT"
  local reg_re="(register broker\\[[0-9]+\\] ?to name server ${ns_addr//./\\.} OK|Registering current broker to name server completed\\. TargetHost=${ns_addr//./\\.})"
  local -A addr_of=() booted_at=() nudged=()
  for ((i = 0; i < nbrokers; i++)); do addr_of[${names[i]}]=${addrs[i]}; done
  local pending=("${names[@]}") left registered=1 nudge_args nudge_names now
  while ((${#pending[@]} > 0)); do
    left=()
    nudge_args=()
    nudge_names=()
    now=$(now_ms)
    for name in "${pending[@]}"; do
      if grep -q 'boot success' "$RUN_DIR/logs/$name.out" 2>/dev/null; then
        grep -qE "$reg_re" "$RUN_DIR/logs/$name.log" 2>/dev/null && continue
        [[ -n ${booted_at[$name]:-} ]] || booted_at[$name]=$now
        if [[ -z ${nudged[$name]:-} ]] && ((now - booted_at[$name] >= 500)); then
          nudged[$name]=1
          nudge_names+=("$name")
          nudge_args+=(updateBrokerConfig -n "$ns_addr" -b "${addr_of[$name]}" -k brokerPermission -v 6 --next)
        fi
        # still no line 15 s after boot (other log configuration?): ask the name server itself
        if ((now - booted_at[$name] >= 15000)); then registered=0; fi
      fi
      proc_running "$(cat "$RUN_DIR/$name.pid")" || fail_start "broker $name exited during start-up"
      left+=("$name")
    done
    pending=("${left[@]+"${left[@]}"}")
    ((${#pending[@]} == 0 || registered == 0)) && break
    if ((${#nudge_args[@]})); then
      log "${nudge_names[*]}: boot registration skipped by the broker (5.x name-server scan race); re-registering"
      run_mqadmin "${nudge_args[@]}" >/dev/null 2>&1 || true
    fi
    (($(date +%s) < deadline)) || fail_start "broker(s) ${pending[*]} not up within ${START_TIMEOUT}s"
    sleep 0.1
  done
  local t_boot
  t_boot=$(now_ms)

  # confirm with mqadmin clusterList when the logs did not tell (or when asked to)
  if ((registered == 0)) || [[ ${ROCKETMQ_VERIFY_CLUSTERLIST:-0} == 1 ]]; then
    local out missing
    while :; do
      out=$(run_mqadmin clusterList -n "$ns_addr" 2>&1) || true
      missing=()
      for a in "${addrs[@]}"; do
        grep -qF "$a" <<<"$out" || missing+=("$a")
      done
      ((${#missing[@]} == 0)) && break
      for name in "${names[@]}"; do proc_running "$(cat "$RUN_DIR/$name.pid")" || fail_start "broker $name exited"; done
      (($(date +%s) < deadline)) || { printf '%s\n' "$out" >&2; fail_start "broker(s) ${missing[*]} not registered in the name server within ${START_TIMEOUT}s"; }
      sleep 1
    done
  fi
  if ((RMQ_ACL)) && [[ ${ver%%.*} != 4 ]]; then
    create_acl_users "$ns_addr" "$nbrokers" || fail_start "could not create the ACL users with mqadmin"
  fi
  local t_end
  t_end=$(now_ms)
  local sec=""
  ((RMQ_ACL)) && sec+=" ACL"
  [[ $RMQ_TLS == disabled ]] || sec+=" TLS $RMQ_TLS"
  log "RocketMQ $ver${sec:+ (${sec# })} up in $((t_end - t0))ms (jars $((t_jars - t0))ms, namesrv $((t_ns - t_jars))ms, brokers $((t_boot - t_ns))ms, check $((t_end - t_boot))ms); logs in $RUN_DIR/logs"
  echo "ROCKETMQ_VERSION=$ver"
  echo "ROCKETMQ_DIR=$RUN_DIR"
  echo "CLUSTER=$CLUSTER"
  echo "BROKERS=$brokers_csv"
  security_env_lines
  echo "NAMESRV=127.0.0.1:$NAMESRV_PORT"
}

cleanup_store() { # cleanup_store RUN_DIR: delete the store recorded in cluster.env
  local d=$1 s
  [[ -f $d/cluster.env ]] || return 0
  s=$(. "$d/cluster.env"; echo "${RMQ_STORE:-}")
  # only ever delete directories this script created
  if [[ -n $s && -d $s && $(basename "$s") == rocketrpc-rmq-* ]]; then
    rm -rf "$s"
  fi
}

parse_dir_opts() { # sets OPT_DIR, OPT_VER, OPT_ALL, REST
  OPT_DIR=""; OPT_VER=""; OPT_ALL=0; REST=()
  while (($#)); do
    case "$1" in
      --dir) OPT_DIR=${2:?--dir needs a directory}; shift 2 ;;
      --dir=*) OPT_DIR=${1#*=}; shift ;;
      --all) OPT_ALL=1; shift ;;
      --kill) STOP_TIMEOUT=0; shift ;;
      -h|--help) usage 0 ;;
      -*) die "unknown option $1" ;;
      *) if [[ -z $OPT_VER ]]; then OPT_VER=$1; shift; else die "unexpected argument $1"; fi ;;
    esac
  done
}

stop_dir() {
  RUN_DIR=$1
  if [[ ! -f $RUN_DIR/cluster.env ]]; then
    log "nothing to stop in $RUN_DIR"
    return 0
  fi
  local brokers
  brokers=$(. "$RUN_DIR/cluster.env"; echo "${RMQ_BROKERS:-}")
  # Brokers first (they unregister from the name server); the name server gets its SIGTERM
  # 2 s later while the brokers are still busy with their slow graceful shutdown (5-10 s).
  local -a bs
  read -r -a bs <<<"$brokers"
  term_procs "${bs[@]+"${bs[@]}"}"
  if ((STOP_TIMEOUT > 0)); then
    wait_procs 20 "${bs[@]+"${bs[@]}"}" || true
  fi
  term_procs namesrv
  wait_procs $((STOP_TIMEOUT * 10)) "${bs[@]+"${bs[@]}"}" namesrv || true
  kill_remaining "${bs[@]+"${bs[@]}"}" namesrv
  cleanup_store "$RUN_DIR"
  rm -f "$RUN_DIR/cluster.env"
  if [[ -f $STATE_ROOT/current && $(cat "$STATE_ROOT/current") == "$RUN_DIR" ]]; then rm -f "$STATE_ROOT/current"; fi
  log "stopped cluster in $RUN_DIR"
}

cmd_stop() {
  parse_dir_opts "$@"
  if ((OPT_ALL)); then
    local d
    for d in "$STATE_ROOT"/*/ ${OPT_DIR:+"$(abspath "$OPT_DIR")"}; do
      [[ -f $d/cluster.env ]] && stop_dir "$(cd "$d" && pwd)"
    done
    return 0
  fi
  local d
  d=$(select_run_dir "$OPT_DIR" "$OPT_VER")
  [[ -d $d ]] || { log "nothing to stop in $d"; return 0; }
  stop_dir "$(cd "$d" && pwd)"
}

cmd_status() {
  parse_dir_opts "$@"
  local d
  d=$(select_run_dir "$OPT_DIR" "$OPT_VER")
  if [[ ! -f $d/cluster.env ]]; then echo "not running ($d)"; return 3; fi
  load_env "$(cd "$d" && pwd)"
  local n pid rss state rc=0
  echo "RocketMQ $RMQ_VERSION, cluster $RMQ_CLUSTER, run dir $RUN_DIR, store $RMQ_STORE"
  for n in namesrv $RMQ_BROKERS; do
    if pid_alive "$RUN_DIR/$n.pid"; then
      pid=$(cat "$RUN_DIR/$n.pid")
      rss=$(awk '/^VmRSS/{printf "%d MiB", $2/1024}' "/proc/$pid/status" 2>/dev/null || echo "?")
      state="running pid=$pid rss=$rss"
    else
      state="NOT running"; rc=3
    fi
    echo "$n: $state"
  done
  echo "BROKERS=$RMQ_BROKERS_CSV"
  echo "NAMESRV=$RMQ_NAMESRV"
  return $rc
}

cmd_env() {
  parse_dir_opts "$@"
  local d
  d=$(select_run_dir "$OPT_DIR" "$OPT_VER")
  load_env "$d"
  echo "ROCKETMQ_VERSION=$RMQ_VERSION"
  echo "ROCKETMQ_DIR=$RUN_DIR"
  echo "CLUSTER=$RMQ_CLUSTER"
  echo "BROKERS=$RMQ_BROKERS_CSV"
  security_env_lines
  echo "NAMESRV=$RMQ_NAMESRV"
}

# leading --dir DIR for admin/topic
take_dir_prefix() {
  PREFIX_DIR=""
  while (($#)); do
    case "$1" in
      --dir) PREFIX_DIR=${2:?--dir needs a directory}; shift 2 ;;
      --dir=*) PREFIX_DIR=${1#*=}; shift ;;
      *) break ;;
    esac
  done
  REST=("$@")
}

cmd_admin() {
  take_dir_prefix "$@"
  ((${#REST[@]} > 0)) || die "admin: give mqadmin arguments, e.g. 'admin clusterList'"
  local d
  d=$(select_run_dir "$PREFIX_DIR" "")
  if [[ ! -f $d/cluster.env ]] && has_n_option "${REST[@]}"; then
    # No cluster of ours in DIR, but -n names one (another name server, e.g. rocketrpc-broker):
    # mqadmin from the ROCKETMQ_ADMIN_VERSION jars, with DIR as its home and log directory.
    RUN_DIR=$(abspath "${PREFIX_DIR:-$STATE_ROOT/admin}")
    RMQ_LIB=$(fetch_jars "$(resolve_version "${ROCKETMQ_ADMIN_VERSION:-}")")
    mkdir -p "$RUN_DIR/home/conf" "$RUN_DIR/logs"
    [[ -f $RUN_DIR/home/conf/logback_tools.xml ]] || cp "$TEMPLATE_DIR/conf/logback_tools.xml" "$RUN_DIR/home/conf/"
    run_mqadmin "${REST[@]}"
    return
  fi
  load_env "$d"
  if has_n_option "${REST[@]}"; then
    run_mqadmin "${REST[@]}"
  else
    run_mqadmin "${REST[@]}" -n "$RMQ_NAMESRV"
  fi
}

cmd_topic() {
  take_dir_prefix "$@"
  set -- "${REST[@]+"${REST[@]}"}"
  local topics=${1:-} queues=${2:-4} t
  [[ -n $topics ]] || die "usage: topic NAME[,NAME...] [QUEUES]"
  [[ $queues =~ ^[1-9][0-9]*$ ]] || die "QUEUES must be a positive number"
  load_env "$(select_run_dir "$PREFIX_DIR" "")"
  local args=() names=()
  IFS=, read -r -a names <<<"$topics"
  for t in "${names[@]}"; do
    [[ $t =~ ^[%|a-zA-Z0-9_-]{1,127}$ ]] || die "invalid topic name '$t'"
    args+=(updateTopic -n "$RMQ_NAMESRV" -c "$RMQ_CLUSTER" -t "$t" -r "$queues" -w "$queues" --next)
  done
  # one JVM for all topics; mqadmin prints "create topic to <addr> success." per broker
  local out a missing=() n_ok
  out=$(run_mqadmin "${args[@]}" 2>&1) || true
  for a in $RMQ_BROKER_ADDRS; do
    n_ok=$(grep -cF "create topic to $a success" <<<"$out" || true)
    ((n_ok >= ${#names[@]})) || missing+=("$a")
  done
  if ((${#missing[@]} > 0)); then
    printf '%s\n' "$out" >&2
    die "topic(s) $topics not created on every broker (missing on ${missing[*]})"
  fi
  for t in "${names[@]}"; do
    echo "TOPIC=$t queues=$queues brokers=${RMQ_BROKER_ADDRS// /,}"
  done
}

# broker [--dir DIR] kill|start NAME: crash or restart one broker of a running cluster.
cmd_broker() {
  take_dir_prefix "$@"
  set -- "${REST[@]+"${REST[@]}"}"
  local action=${1:-} name=${2:-}
  [[ ($action == kill || $action == start) && -n $name ]] || die "usage: broker [--dir DIR] kill|start NAME"
  load_env "$(select_run_dir "$PREFIX_DIR" "")"
  [[ " $RMQ_BROKERS " == *" $name "* ]] || die "no broker $name in this cluster (brokers: $RMQ_BROKERS)"
  RMQ_LIB=${RMQ_LIB:?}
  if [[ $action == kill ]]; then
    pid_alive "$RUN_DIR/$name.pid" || die "broker $name is not running"
    local pid
    pid=$(cat "$RUN_DIR/$name.pid")
    kill -KILL "$pid" 2>/dev/null || true
    wait_procs 300 "$name" || die "broker $name (pid $pid) still alive 30 s after SIGKILL"
    rm -f "$RUN_DIR/$name.pid"
    log "broker $name (pid $pid) killed"
    return 0
  fi
  pid_alive "$RUN_DIR/$name.pid" && die "broker $name is already running"
  local addr="" a
  for a in ${RMQ_BROKERS_CSV//,/ }; do [[ ${a%%=*} == "$name" ]] && addr=${a#*=}; done
  local port=${addr##*:} q deadline
  # a SIGKILLed broker's ports may take a moment to be released
  deadline=$(( $(date +%s) + 30 ))
  for q in $((port - 2)) "$port" $((port + 1)); do
    while port_in_use "$q"; do
      (($(date +%s) < deadline)) || die "port $q of broker $name is still in use"
      sleep 0.2
    done
  done
  # readiness is read from the log lines written after this point
  local out_from=1 log_from=1
  [[ -f $RUN_DIR/logs/$name.out ]] && out_from=$(($(wc -l <"$RUN_DIR/logs/$name.out") + 1))
  [[ -f $RUN_DIR/logs/$name.log ]] && log_from=$(($(wc -l <"$RUN_DIR/logs/$name.log") + 1))
  local heap_br extra=()
  read -r -a heap_br <<<"${ROCKETMQ_BROKER_HEAP:--Xms256m -Xmx512m}"
  [[ -n ${ROCKETMQ_JAVA_OPTS:-} ]] && read -r -a extra <<<"$ROCKETMQ_JAVA_OPTS"
  common_jvm_opts broker
  local bopts=("${JVM_OPTS[@]}")
  bopts=("${bopts[@]/#-Drmq.log.file=*/-Drmq.log.file=$RUN_DIR/logs/$name.log}")
  (cd "$RUN_DIR" && exec setsid "$JAVA_BIN" "${heap_br[@]}" -XX:+UseSerialGC -XX:MaxDirectMemorySize=512m \
    "${bopts[@]}" "${extra[@]+"${extra[@]}"}" -cp "$RMQ_LIB/*" \
    org.apache.rocketmq.broker.BrokerStartup -c "$RUN_DIR/conf/$name.properties" \
    </dev/null >>"$RUN_DIR/logs/$name.out" 2>&1) &
  echo $! >"$RUN_DIR/$name.pid"
  local ns_addr=$RMQ_NAMESRV booted_at="" nudged=0 now
  local reg_re="(register broker\\[[0-9]+\\] ?to name server ${ns_addr//./\\.} OK|Registering current broker to name server completed\\. TargetHost=${ns_addr//./\\.})"
  deadline=$(( $(date +%s) + START_TIMEOUT ))
  while :; do
    proc_running "$(cat "$RUN_DIR/$name.pid")" || { show_log_tail "$name"; die "broker $name exited during start-up"; }
    if tail -n +"$out_from" "$RUN_DIR/logs/$name.out" 2>/dev/null | grep -q 'boot success'; then
      tail -n +"$log_from" "$RUN_DIR/logs/$name.log" 2>/dev/null | grep -qE "$reg_re" && break
      now=$(now_ms)
      [[ -n $booted_at ]] || booted_at=$now
      # 5.x may skip its boot registration (see cmd_start): touch its config to re-register
      if ((nudged == 0 && now - booted_at >= 500)); then
        nudged=1
        run_mqadmin updateBrokerConfig -n "$ns_addr" -b "$addr" -k brokerPermission -v 6 >/dev/null 2>&1 || true
      fi
    fi
    (($(date +%s) < deadline)) || { show_log_tail "$name"; die "broker $name not registered within ${START_TIMEOUT}s"; }
    sleep 0.1
  done
  log "broker $name restarted and registered"
  echo "BROKER=$name=$addr"
}

main() {
  local cmd=${1:-}
  (($#)) && shift
  case "$cmd" in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env "$@" ;;
    admin) cmd_admin "$@" ;;
    topic) cmd_topic "$@" ;;
    fetch) cmd_fetch "$@" ;;
    broker) cmd_broker "$@" ;;
    -h|--help|help) usage 0 ;;
    *) usage 2 ;;
  esac
}

main "$@"
