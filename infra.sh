#!/usr/bin/env bash
# Provisioning for pinpipe: `./infra.sh --help` prints what it does (the text of `usage` below).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"

# The full help (`./infra.sh --help`).
usage() {
  cat <<'HELP'
Usage: ./infra.sh <local|aws|rehearse> ...   provisioning for pinpipe

  ./infra.sh local up        start MariaDB, Kafka (KRaft) and kinesalite on 127.0.0.1, seed the database
  ./infra.sh local up --kafka-brokers 3   the same with a Kafka cluster of 3 nodes (as on MSK)
  ./infra.sh local down      stop what `up` started (by pid file), nothing else
  ./infra.sh local status    each service: pid, port, health
  ./infra.sh local seed [generate flags]   reload the RDS tables from the generator (default 11,000 rows)
  ./infra.sh local install   fetch what the stack and the tests need (Debian packages, Kafka jars,
                             kinesalite, the PySpark and Airflow venvs, Chromium); skips what is there
  ./infra.sh local with CMD  install, then run CMD with the stack up; stop it after if this call started it
  ./infra.sh local up --aws  the same, and the local AWS endpoint: moto's S3 server on 127.0.0.1:14566
                             (local up's flags go in any order: --kafka-brokers 3 --aws)
  ./infra.sh local aws up|down|status   only the local AWS endpoint (`local down` stops it too)
  ./infra.sh aws synth --out DIR  the CDK app's CloudFormation templates, offline (see docs/aws.md)
  ./infra.sh aws diff --against DIR  what changed in each template since the ones in DIR, offline
  ./infra.sh aws plan|apply|destroy  provision the AWS side, or remove it (see docs/aws.md)
  ./infra.sh rehearse        the AWS run against the local endpoints, end to end (see docs/aws.md)
  ./infra.sh --help          this help

Everything lives under .local/ (data, logs, pids, generated secrets) and
.cache/ (jars, npm packages, Python venvs), both ignored by git. Debian
packages are installed with apt-get when missing (as root).
PINPIPE_LOCAL_DIR and PINPIPE_{MYSQL,KAFKA,KAFKA_CONTROLLER,KINESIS}_PORT
start a second stack beside the first. With N Kafka nodes
(--kafka-brokers N or PINPIPE_KAFKA_BROKERS_COUNT=N, fixed when the storage
is first formatted), node i is broker and controller, on ports
KAFKA_PORT+2(i-1) and KAFKA_CONTROLLER_PORT+2(i-1), a quorum of N. PINPIPE_KINESIS_PATH keeps
kinesalite's streams in that directory (LevelDB) so they outlive a restart (default: in
memory). PINPIPE_KAFKA_ADVERTISED_PORT_<i> makes node i advertise another port (a proxy's). Readiness is a real protocol answer
from the new process, waited for up to PINPIPE_READY_WAIT_S (300) seconds,
as crash recovery needs.

Exit status: 0 done, 1 a failure (named on stderr), 2 bad arguments; `with` exits as CMD.
Every PINPIPE_* variable: docs/configuration.md.
HELP
}
# A bad argument: one line naming it, exit 2 (as the commands' bad flags).
usage_error() { echo "infra.sh: $* (see ./infra.sh --help)" >&2; exit 2; }
case "${1:-}" in
  --help | -h | help) usage; exit 0 ;;
esac
# The settings file (docs/configuration.md): pinpipe.env beside this script, or the file
# PINPIPE_ENV_FILE names; a variable the environment already has wins, as in src/core/env_file.ts.
ENV_FILE=${PINPIPE_ENV_FILE:-$ROOT/pinpipe.env}
if [ -n "${PINPIPE_ENV_FILE:-}" ] && { [ ! -r "$ENV_FILE" ] || [ -d "$ENV_FILE" ]; }; then
  echo "infra.sh: cannot read the settings file $ENV_FILE (PINPIPE_ENV_FILE)" >&2; exit 2
fi
if [ -r "$ENV_FILE" ] && [ ! -d "$ENV_FILE" ]; then
  line_number=0
  while IFS= read -r line || [ -n "$line" ]; do
    line_number=$((line_number + 1))
    [[ $line =~ ^[[:space:]]*(#.*)?$ ]] && continue
    if [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$ ]]; then
      name=${BASH_REMATCH[2]} value=${BASH_REMATCH[3]}
      value=${value%"${value##*[![:space:]]}"}
      if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}
      else value=${value%%[[:space:]]#*}; value=${value%"${value##*[![:space:]]}"}; fi
      [ -n "${!name+set}" ] || export "$name=$value"
    else
      echo "infra.sh: $ENV_FILE:$line_number: not a KEY=value line: \"$line\"" >&2; exit 2
    fi
  done <"$ENV_FILE"
fi
# A second stack (a test's private one) takes its own directory and ports.
LOCAL=${PINPIPE_LOCAL_DIR:-$ROOT/.local}
CACHE="$ROOT/.cache"
KAFKA_VERSION=3.9.1
KINESALITE_VERSION=3.3.3
MYSQL_PORT=${PINPIPE_MYSQL_PORT:-13306}
KAFKA_PORT=${PINPIPE_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${PINPIPE_KAFKA_CONTROLLER_PORT:-19093}
KINESIS_PORT=${PINPIPE_KINESIS_PORT:-14567}
# The flags of `local` actions, in any order; unknown ones refused. `up --kafka-brokers N` asks
# for N Kafka nodes, as the environment variable does; `up --aws` also starts the AWS endpoint.
UP_AWS=0
if [ "${1:-}" = local ]; then
  case "${2:-}" in
    up)
      shift 2
      while [ $# -gt 0 ]; do
        case $1 in
          --help | -h) usage; exit 0 ;;
          --aws) UP_AWS=1 ;;
          --kafka-brokers | --kafka-brokers=*)
            if [ "$1" = --kafka-brokers ]; then
              [ $# -ge 2 ] || usage_error "--kafka-brokers needs a number (1, 3 or 5)"
              value=$2; shift
            else value=${1#*=}; fi
            case $value in 1 | 3 | 5) ;; *) usage_error "--kafka-brokers must be 1, 3 or 5, got \"$value\"" ;; esac
            PINPIPE_KAFKA_BROKERS_COUNT=$value ;;
          *) usage_error "unknown flag for local up: $1" ;;
        esac
        shift
      done
      set -- local up ;;
    down | status | install | aws)
      first=3; [ "$2" = aws ] && first=4
      for arg in "${@:$first}"; do
        case $arg in
          --help | -h) usage; exit 0 ;;
          *) usage_error "unknown argument for local ${*:2:$((first - 2))}: $arg" ;;
        esac
      done ;;
  esac
fi
# How many Kafka nodes: the count the storage was formatted with, else the one asked for, else 1.
KAFKA_NODES_FILE="$LOCAL/kafka/nodes"
KAFKA_NODES=
if [ -f "$KAFKA_NODES_FILE" ]; then KAFKA_NODES=$(cat "$KAFKA_NODES_FILE")
# A one-node stack formatted before the count was kept.
elif [ -f "$LOCAL/kafka/data/meta.properties" ]; then KAFKA_NODES=1
fi
if [ -n "$KAFKA_NODES" ]; then
  if [ -n "${PINPIPE_KAFKA_BROKERS_COUNT:-}" ] && [ "$PINPIPE_KAFKA_BROKERS_COUNT" != "$KAFKA_NODES" ]; then
    echo "infra.sh: this stack's Kafka was made with $KAFKA_NODES node(s), not $PINPIPE_KAFKA_BROKERS_COUNT: ./infra.sh local down, remove $LOCAL/kafka* and up again to change it" >&2
    exit 1
  fi
else
  KAFKA_NODES=${PINPIPE_KAFKA_BROKERS_COUNT:-1}
fi
case $KAFKA_NODES in
  1 | 3 | 5) ;;
  *) echo "infra.sh: Kafka nodes must be 1, 3 or 5 (a controller quorum), not $KAFKA_NODES" >&2; exit 1 ;;
esac
# Node i (1..N): service kafka (i = 1) or kafka<i>, its broker and controller ports.
KAFKA_SERVICES=(kafka)
for ((i = 2; i <= KAFKA_NODES; i++)); do KAFKA_SERVICES+=("kafka$i"); done
kafka_node() { local n=${1#kafka}; echo "${n:-1}"; }
kafka_port() { echo $((KAFKA_PORT + 2 * ($(kafka_node "$1") - 1))); }
kafka_controller_port() { echo $((KAFKA_CONTROLLER_PORT + 2 * ($(kafka_node "$1") - 1))); }
# The port node i tells clients and the other brokers to reach it on: its own, or
# PINPIPE_KAFKA_ADVERTISED_PORT_<i> (a proxy in front of it, as the chaos run puts there).
kafka_advertised_port() {
  local var="PINPIPE_KAFKA_ADVERTISED_PORT_$(kafka_node "$1")"
  echo "${!var:-$(kafka_port "$1")}"
}
KAFKA_BOOTSTRAP=$(for service in "${KAFKA_SERVICES[@]}"; do echo "127.0.0.1:$(kafka_port "$service")"; done | paste -sd,)
# Crash recovery (InnoDB redo, Kafka log recovery) can take far longer than a clean start.
READY_WAIT_S=${PINPIPE_READY_WAIT_S:-300}
SERVICES=(mysql "${KAFKA_SERVICES[@]}" kinesis)

die() { echo "infra.sh: $*" >&2; exit 1; }
note() { echo "infra.sh: $*" >&2; }

deno_bin() {
  if command -v deno >/dev/null 2>&1; then command -v deno
  elif [ -x "$CACHE/deno/node_modules/.bin/deno" ]; then echo "$CACHE/deno/node_modules/.bin/deno"
  else die "deno not found: install it (npm install deno) or run .ci/run"
  fi
}

port_of() { case $1 in mysql) echo $MYSQL_PORT ;; kafka*) kafka_port "$1" ;; kinesis) echo $KINESIS_PORT ;; esac; }
# Every port a service binds: a Kafka node's controller port too.
service_ports() { port_of "$1"; case $1 in kafka*) kafka_controller_port "$1" ;; esac; }
pid_file() { echo "$LOCAL/run/$1.pid"; }

# True when process $1 runs, judged by its state in /proc: a killed server stays a zombie (Z)
# until it is reaped, which a slow init may take a while to do, and `kill -0` still reaches a
# zombie. Only without /proc (not Linux) is a signal asked.
process_running() {
  local stat
  if [ -r /proc/self/stat ]; then
    # Gone, or hidden from this user (a signal then tells what it can). The status is returned
    # explicitly: a bare `return` in the EXIT trap (`with`'s stop) returns the trap's own status.
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { kill -0 "$1" 2>/dev/null && return 0 || return 1; }
    stat=${stat##*) }
    case ${stat:0:1} in Z | X | "") return 1 ;; *) return 0 ;; esac
  fi
  kill -0 "$1" 2>/dev/null
}

# The pid of a service this script started and that still runs, or nothing. A pid file is
# removed only once its process is gone.
running_pid() {
  local file pid
  file=$(pid_file "$1")
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if process_running "$pid"; then echo "$pid"; else rm -f "$file"; fi
}

# Waits (at most $2 tenths of a second) until process $1 no longer runs; false if it still does.
await_gone() {
  local tenths
  for ((tenths = 0; tenths < $2; tenths++)); do
    process_running "$1" || return 0
    sleep 0.1
  done
  ! process_running "$1"
}

# The files a service's process holds locks on while it runs: a new one cannot start until the
# old one's are released.
lock_files() {
  case $1 in
    mysql) echo "$LOCAL/mariadb/data/ibdata1" "$LOCAL/mariadb/data/aria_log_control" ;;
    kafka*) echo "$(kafka_dir "$1")/data/.lock" ;;
    kinesis) [ -z "${PINPIPE_KINESIS_PATH:-}" ] || echo "$PINPIPE_KINESIS_PATH/LOCK" ;;
  esac
}

# The pids holding a lock on file $1, from /proc/locks (matched by device and inode).
lock_holders() {
  [ -e "$1" ] && [ -r /proc/locks ] || return 0
  local dev inode id
  read -r dev inode < <(stat -c '%D %i' "$1")
  dev=$((16#$dev))
  id=$(printf '%02x:%02x:%s' $(((dev >> 8) & 0xfff)) $(((dev & 0xff) | ((dev >> 12) & 0xfff00))) "$inode")
  awk -v id="$id" '{ for (i = 2; i <= NF; i++) if ($i == id) print $(i - 1) }' /proc/locks | sort -u
}

# Waits (at most 60 s) until no process holds the service's lock files, as a killed server's
# locks outlive it until its exit completes; fails naming the holder.
await_locks_free() {
  local service=$1 file holders tenths
  for file in $(lock_files "$service"); do
    for ((tenths = 0; tenths < 600; tenths++)); do
      holders=$(lock_holders "$file")
      [ -n "$holders" ] || break
      sleep 0.1
    done
    [ -z "$holders" ] || die "$service cannot start: $file is locked by pid $(echo $holders) ($(tr '\0' ' ' <"/proc/${holders%%[^0-9]*}/cmdline" 2>/dev/null | cut -c1-120)); stop that process first"
  done
}

# What holds 127.0.0.1:$1, listening or connected, with its process when `ss` can tell.
port_holders() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -Htanp exclude time-wait "( sport = :$1 )" 2>/dev/null | sed 's/  */ /g' | head -5 || true
}

# The lines the service's log got since this script last started it.
latest_log() {
  awk '/^--- infra.sh: starting / { n = 0; delete lines } { lines[++n] = $0 } END { for (i = 1; i <= n; i++) print lines[i] }' \
    "$LOCAL/logs/$1.log" 2>/dev/null
}

# Fails `up` for SERVICE: WHAT went wrong, then the server's own words (the last 40 lines of its
# log since it was started) and what holds its ports if anything does.
start_failed() {
  local service=$1 what=$2 port holders
  {
    echo "infra.sh: $service $what; the last lines of $LOCAL/logs/$service.log:"
    latest_log "$service" | tail -n 40 | sed 's/^/  /' || true
    for port in $(service_ports "$service"); do
      holders=$(port_holders "$port")
      [ -z "$holders" ] || printf 'infra.sh: port %s is held by:\n%s\n' "$port" "$(sed 's/^/  /' <<<"$holders")"
    done
  } >&2
  exit 1
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A Kafka node's health is asked of that node alone.
health() {
  local service=$1; shift
  case $service in
    kafka*) PINPIPE_KAFKA_BROKERS=127.0.0.1:$(kafka_port "$service") \
      "$(deno_bin)" run -A --quiet infra/local/health.ts kafka "$@" ;;
    *) "$(deno_bin)" run -A --quiet infra/local/health.ts "$service" "$@" ;;
  esac
}

# The local users' passwords: from the environment when set there (as src/core/config.ts reads them
# first), else random ones generated once into .local/stack.env (git-ignored).
ensure_secrets() {
  mkdir -p "$LOCAL"
  if [ ! -f "$LOCAL/stack.env" ]; then
    (
      umask 077
      echo "PINPIPE_MYSQL_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
      echo "PINPIPE_MYSQL_ADMIN_USER=pinpipe_admin"
      echo "PINPIPE_MYSQL_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
    ) >"$LOCAL/stack.env"
    chmod 600 "$LOCAL/stack.env"
  fi
  local name value
  while IFS='=' read -r name value; do
    [ -n "$name" ] || continue
    # An exported value wins over the file's, as it does in src/core/config.ts.
    [ -n "${!name:-}" ] || export "$name=$value"
  done <"$LOCAL/stack.env"
}

require() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

APT_UPDATED=0

# Installs the Debian packages named, those missing only; `apt-get update` once per run.
apt_install() {
  [ $# -gt 0 ] || return 0
  [ "$(id -u)" = 0 ] || die "missing Debian packages and not root: apt-get install $*"
  if [ $APT_UPDATED = 0 ]; then
    note "apt-get update"
    apt-get update -qq || die "apt-get update failed"
    APT_UPDATED=1
  fi
  note "installing Debian $* (apt-get, may take a few minutes)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || die "apt-get install $* failed"
}

# The Debian packages the servers need that are missing, one per line.
stack_packages() {
  command -v mariadbd >/dev/null 2>&1 || echo mariadb-server
  command -v java >/dev/null 2>&1 || echo openjdk-17-jre-headless
  command -v node >/dev/null 2>&1 || echo nodejs
  command -v npm >/dev/null 2>&1 || echo npm
  # Maven only resolves the Kafka jars: not needed once they are cached.
  [ -f "$CACHE/kafka/libs/kafka_2.13-$KAFKA_VERSION.jar" ] || command -v mvn >/dev/null 2>&1 || echo maven
}

# The Python the venvs are made with: 3.11 (what MWAA runs) when there, else python3.
venv_python() { command -v python3.11 || command -v python3 || echo python3; }

# True when any of the commands named is on PATH.
on_path() {
  local name
  for name; do command -v "$name" >/dev/null 2>&1 && return 0; done
  return 1
}

# The Debian packages the tests need beyond the servers that are missing, one per line.
test_packages() {
  local python
  python=$(venv_python)
  command -v "$python" >/dev/null 2>&1 || echo python3
  # Debian splits venv (ensurepip) out of python3.
  "$python" -c 'import ensurepip, venv' >/dev/null 2>&1 || echo python3-venv
  # The report test's headless browser, unless one is named or on PATH (as tests/support/browser.ts looks).
  [ -n "${PINPIPE_CHROMIUM:-}" ] || on_path chromium chromium-browser google-chrome google-chrome-stable \
    || echo chromium
}

# The jars and npm packages the servers run from, into .cache/.
fetch_stack() {
  if [ ! -f "$CACHE/kafka/libs/kafka_2.13-$KAFKA_VERSION.jar" ]; then
    note "resolving Apache Kafka $KAFKA_VERSION jars from Maven Central"
    require mvn "install Maven (apt-get install maven)"
    mvn -q -B -f infra/local/kafka/pom.xml dependency:copy-dependencies \
      -DoutputDirectory="$CACHE/kafka/libs" -Dmaven.repo.local="$CACHE/m2" >/dev/null
  fi
  if [ ! -f "$CACHE/kinesalite/node_modules/kinesalite/package.json" ]; then
    note "installing kinesalite $KINESALITE_VERSION from npm"
    require npm "install Node.js and npm"
    mkdir -p "$CACHE/kinesalite"
    npm install --silent --no-audit --no-fund --prefix "$CACHE/kinesalite" "kinesalite@$KINESALITE_VERSION" >/dev/null
  fi
}

# What the servers need: `up` runs this.
install_stack() {
  # shellcheck disable=SC2046 # one package name per word
  apt_install $(stack_packages)
  fetch_stack
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# A venv at $1 with the pinned requirements $2, made once and made again when the file changes:
# the file's sha256 is stamped in the venv, written last, so a half-made venv is made again.
make_venv() {
  local venv=$1 requirements=$2 stamp began=$SECONDS
  stamp="$venv/.requirements.sha"
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(sha_of "$requirements")" ]; then
    return 0
  fi
  note "making ${venv#"$ROOT/"} from $requirements (pip, may take a few minutes)"
  rm -rf "$venv"
  "$(venv_python)" -m venv "$venv" || die "python -m venv $venv failed"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements" \
    || die "pip install -r $requirements failed"
  sha_of "$requirements" >"$stamp"
  note "${venv#"$ROOT/"} ready in $((SECONDS - began)) s"
}

# The venvs the tests run Python in: PySpark for the parity test, Airflow for the DAG tests, moto
# for the local S3 endpoint and CloudFormation, cfn-lint for the templates.
# Made side by side: most of the time goes to downloads.
make_venvs() {
  local spark airflow moto cfnlint status=0
  make_venv "$CACHE/venv-spark" tests/warehouse/parity/requirements.txt &
  spark=$!
  make_venv "$CACHE/venv-airflow" dags/requirements.txt &
  airflow=$!
  make_moto_venv &
  moto=$!
  make_venv "$CACHE/venv-cfnlint" infra/aws/cfnlint_requirements.txt &
  cfnlint=$!
  wait $cfnlint || status=1
  wait $spark || status=1
  wait $airflow || status=1
  wait $moto || status=1
  [ $status = 0 ] || die "a venv could not be made (see above)"
}

# --- The local AWS endpoint: moto's S3 server (kinesalite and the broker are the stack's own). ---
# PINPIPE_MOTO_PORT starts a second one beside the first (the tests' private ones).
MOTO_PORT=${PINPIPE_MOTO_PORT:-14566}
MOTO_VENV="$CACHE/venv-moto"

make_moto_venv() { make_venv "$MOTO_VENV" infra/local/stand_ins/moto_requirements.txt; }

moto_pid_file() { echo "$LOCAL/run/moto-$MOTO_PORT.pid"; }

# The pid of the moto server this script started on MOTO_PORT and that still runs, or nothing.
moto_pid() {
  local file pid
  file=$(moto_pid_file)
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if process_running "$pid"; then echo "$pid"; else rm -f "$file"; fi
}

# True when moto answers S3 ListBuckets with 200 (asked with the venv's Python: no curl needed).
moto_answers() {
  "$MOTO_VENV/bin/python" -c "import sys, urllib.request
sys.exit(urllib.request.urlopen('http://127.0.0.1:$MOTO_PORT/', timeout=2).status != 200)" 2>/dev/null
}

moto_up() {
  make_moto_venv
  mkdir -p "$LOCAL/run" "$LOCAL/logs"
  if [ -z "$(moto_pid)" ]; then
    port_busy "$MOTO_PORT" && die "port $MOTO_PORT for moto is busy (another process listens there); stop it or set PINPIPE_MOTO_PORT"
    setsid "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >>"$LOCAL/logs/moto-$MOTO_PORT.log" 2>&1 </dev/null &
    echo $! >"$(moto_pid_file)"
  fi
  local began=$SECONDS
  until moto_answers; do
    [ -n "$(moto_pid)" ] || die "moto exited at start, see $LOCAL/logs/moto-$MOTO_PORT.log"
    [ $((SECONDS - began)) -lt "$READY_WAIT_S" ] || die "moto did not answer in $READY_WAIT_S s, see $LOCAL/logs/moto-$MOTO_PORT.log"
    sleep 0.3
  done
  moto_status
}

moto_down() {
  local pid
  pid=$(moto_pid)
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  if ! await_gone "$pid" 50; then kill -KILL "$pid" 2>/dev/null || true; fi
  await_gone "$pid" 50 || die "moto (pid $pid) still runs after SIGKILL; its pid file is kept"
  rm -f "$(moto_pid_file)"
  note "moto stopped"
}

moto_status() {
  local pid
  pid=$(moto_pid)
  if [ -z "$pid" ]; then printf '%-8s stopped   127.0.0.1:%s\n' moto "$MOTO_PORT"; return 1; fi
  if moto_answers; then
    printf '%-8s up        127.0.0.1:%-6s pid %-8s S3 (moto) answers\n' moto "$MOTO_PORT" "$pid"
  else
    printf '%-8s unhealthy 127.0.0.1:%-6s pid %-8s no S3 answer\n' moto "$MOTO_PORT" "$pid"; return 1
  fi
}

# What the stack and the tests need: `install` and `with` run this.
install_all() {
  local tests
  # Two installs at once would make one venv twice, each deleting what the other writes: the
  # second waits for the first (and then finds everything made). The lock is let go when the
  # install is done, so that what runs after it (the servers, the tests `with` runs, an
  # install of their own) does not hold it.
  mkdir -p "$CACHE"
  exec {install_lock}>"$CACHE/.install.lock"
  if command -v flock >/dev/null && ! flock -n "$install_lock"; then
    note "another install is running; waiting for it to finish"
    flock "$install_lock"
  fi
  tests=$(test_packages)
  if [ "$(id -u)" = 0 ]; then
    # shellcheck disable=SC2046,SC2086 # one package name per word
    apt_install $(stack_packages) $tests
  else
    # shellcheck disable=SC2046 # one package name per word
    apt_install $(stack_packages)
    # Without root the servers can still run; the tests that need these fail, naming them.
    [ -z "$tests" ] || note "not root, so not installing $(echo $tests) (apt-get install them as root)"
  fi
  fetch_stack
  make_venvs
  exec {install_lock}>&-
}

# Starts a detached process with its own session, output to a log, pid to a file.
spawn() {
  local name=$1; shift
  mkdir -p "$LOCAL/run" "$LOCAL/logs"
  # A mark, so that a failed start reports this start's lines only.
  echo "--- infra.sh: starting $name at $(date -u +%FT%TZ)" >>"$LOCAL/logs/$name.log"
  setsid "$@" >>"$LOCAL/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$(pid_file "$name")"
}

check_port_free() {
  local port holders
  for port in $(service_ports "$1"); do
    port_busy "$port" || continue
    holders=$(ss -Hltnp "( sport = :$port )" 2>/dev/null | sed 's/  */ /g' | head -3 || true)
    die "port $port for $1 is busy (another process listens there${holders:+: $holders}); stop it or change the port"
  done
}

# The services this `up` started, space-separated with spaces around.
STARTED=" "

# Starts a service once the process it replaces and that process's locks are gone.
start_service() {
  local service=$1
  await_locks_free "$service"
  check_port_free "$service"
  case $service in
    kafka*) start_kafka_node "$service" ;;
    *) "start_$service" ;;
  esac
  STARTED+="$service "
}

start_mysql() {
  require mariadbd "install Debian mariadb-server (./infra.sh local install)"
  local dir="$LOCAL/mariadb"
  if [ ! -d "$dir/data/mysql" ]; then
    mkdir -p "$dir/data"
    mariadb-install-db --no-defaults --datadir="$dir/data" --user="$(id -un)" \
      --auth-root-authentication-method=socket --skip-test-db >"$LOCAL/logs/mariadb-install.log" 2>&1 \
      || die "mariadb-install-db failed, see $LOCAL/logs/mariadb-install.log"
  fi
  spawn mysql mariadbd --no-defaults --datadir="$dir/data" --port=$MYSQL_PORT --bind-address=127.0.0.1 \
    --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" --user="$(id -un)" \
    --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 --max-allowed-packet=64M \
    --skip-name-resolve --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci
}

# A value as a MariaDB string literal's contents: backslashes and quotes doubled.
sql_text() { local text=${1//\\/\\\\}; printf '%s' "${text//\'/\'\'}"; }

# True when the server behind the socket answers a query (a stale socket file from a killed
# server refuses connections, so its mere presence proves nothing).
mysql_answers() {
  mariadb --no-defaults --socket="$LOCAL/mariadb/mysqld.sock" -u root --connect-timeout=2 \
    -N -e "SELECT 1" >/dev/null 2>&1
}

# Creates the database, its tables, a read-only user and an admin user (idempotent).
setup_mysql() {
  local sock="$LOCAL/mariadb/mysqld.sock"
  local reader admin admin_user
  reader=$(sql_text "$PINPIPE_MYSQL_PASSWORD")
  admin=$(sql_text "$PINPIPE_MYSQL_ADMIN_PASSWORD")
  admin_user=$(sql_text "$PINPIPE_MYSQL_ADMIN_USER")
  await_ready mysql mysql_answers
  {
    echo "CREATE DATABASE IF NOT EXISTS pinterest_data CHARACTER SET utf8mb4;"
    echo "USE pinterest_data;"
    cat infra/local/rds_schema.sql
    echo "CREATE USER IF NOT EXISTS 'pinpipe_reader'@'127.0.0.1' IDENTIFIED BY '$reader';"
    echo "ALTER USER 'pinpipe_reader'@'127.0.0.1' IDENTIFIED BY '$reader';"
    echo "GRANT SELECT ON pinterest_data.* TO 'pinpipe_reader'@'127.0.0.1';"
    echo "CREATE USER IF NOT EXISTS '$admin_user'@'127.0.0.1' IDENTIFIED BY '$admin';"
    echo "ALTER USER '$admin_user'@'127.0.0.1' IDENTIFIED BY '$admin';"
    echo "GRANT ALL ON pinterest_data.* TO '$admin_user'@'127.0.0.1';"
  } | mariadb --no-defaults --socket="$sock" -u root \
    || die "could not set up the pinterest_data database, see $LOCAL/logs/mysql.log"
}

# The KRaft settings of one node: with several, each is broker and controller, and the internal
# topics are replicated to 3 with 2 in sync, as on MSK.
kafka_properties() {
  local service=$1 dir=$2 node voters="" replicas=1 min_isr=1 other
  node=$(kafka_node "$service")
  for other in "${KAFKA_SERVICES[@]}"; do
    voters+="${voters:+,}$(kafka_node "$other")@127.0.0.1:$(kafka_controller_port "$other")"
  done
  if [ "$KAFKA_NODES" -ge 3 ]; then replicas=3; min_isr=2; fi
  cat <<PROPS
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(kafka_port "$service"),CONTROLLER://127.0.0.1:$(kafka_controller_port "$service")
advertised.listeners=PLAINTEXT://127.0.0.1:$(kafka_advertised_port "$service")
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=$replicas
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$replicas
transaction.state.log.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
message.max.bytes=1048588
PROPS
}

# Node 1 keeps its data in $LOCAL/kafka (as a one-node stack always did), node i in $LOCAL/kafka<i>.
kafka_dir() { echo "$LOCAL/$1"; }

start_kafka_node() {
  require java "install a Java 17 runtime"
  local service=$1 dir
  dir=$(kafka_dir "$service")
  mkdir -p "$dir" "$LOCAL/kafka"
  kafka_properties "$service" "$dir" >"$dir/server.properties"
  cat >"$dir/log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, stdout
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=WARN
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
  local cp="$CACHE/kafka/libs/*"
  [ -f "$CACHE/kafka/libs/kafka_2.13-$KAFKA_VERSION.jar" ] || die "Kafka jars missing: run ./infra.sh local install"
  if [ ! -f "$dir/data/meta.properties" ]; then
    # --cluster-id=ID, not -t ID: a random id may begin with "-", which would read as a flag.
    # Every node of a cluster is formatted with the one cluster id, kept beside node 1.
    [ -f "$LOCAL/kafka/cluster.id" ] ||
      head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' >"$LOCAL/kafka/cluster.id"
    java -cp "$cp" -Dlog4j.configuration="file:$dir/log4j.properties" kafka.tools.StorageTool format \
      --cluster-id="$(cat "$LOCAL/kafka/cluster.id")" -c "$dir/server.properties" >"$LOCAL/logs/$service-format.log" 2>&1 \
      || die "formatting Kafka storage failed, see $LOCAL/logs/$service-format.log"
    echo "$KAFKA_NODES" >"$KAFKA_NODES_FILE"
  fi
  spawn "$service" java -Xms256m -Xmx768m -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Djava.awt.headless=true -Dlog4j.configuration="file:$dir/log4j.properties" \
    -cp "$cp" kafka.Kafka "$dir/server.properties"
}

start_kinesis() {
  local module="$CACHE/kinesalite/node_modules/kinesalite"
  [ -f "$module/index.js" ] || die "kinesalite missing: run ./infra.sh local install"
  require node "install Node.js"
  spawn kinesis node infra/local/kinesalite_server.cjs "$module" $KINESIS_PORT "${PINPIPE_KINESIS_PATH:-}"
}

# Waits until CHECK (a command) succeeds for SERVICE, saying every 10 s what it waits for; fails
# at once when the process has exited, and after READY_WAIT_S seconds.
await_ready() {
  local service=$1 check=$2 began=$SECONDS said=$SECONDS
  until "$check" "$service"; do
    if [ -z "$(running_pid "$service")" ]; then
      # One that ran when `up` began and is gone now was dying then (killed a moment before):
      # started now like any other that was down.
      if [[ $STARTED != *" $service "* ]]; then
        note "$service is gone (it was still exiting); starting it"
        start_service "$service"
        continue
      fi
      start_failed "$service" "exited at start"
    fi
    if [ $((SECONDS - began)) -ge "$READY_WAIT_S" ]; then
      start_failed "$service" "did not answer its health check in $READY_WAIT_S s"
    fi
    if [ $((SECONDS - said)) -ge 10 ]; then
      note "waiting for $service (pid $(running_pid "$service")) to answer: $((SECONDS - began)) s (recovering after a crash can take minutes)"
      said=$SECONDS
    fi
    sleep 0.5
  done
}

answers_health() { health "$1" --wait-ms 5000 >/dev/null 2>&1; }

local_up() {
  local started=0 began=$SECONDS
  install_stack
  ensure_secrets
  mkdir -p "$LOCAL/run" "$LOCAL/logs"
  for service in "${SERVICES[@]}"; do
    if [ -n "$(running_pid "$service")" ]; then continue; fi
    start_service "$service"
    started=1
  done
  [ -z "$(running_pid mysql)" ] || setup_mysql
  for service in "${SERVICES[@]}"; do await_ready "$service" answers_health; done
  local rows
  rows=$(mariadb --no-defaults --socket="$LOCAL/mariadb/mysqld.sock" -u root -N -e \
    "SELECT COUNT(*) FROM pinterest_data.pinterest_data")
  if [ "$rows" = 0 ]; then local_seed; fi
  [ $started = 1 ] && note "stack up in $((SECONDS - began)) s"
  local_status
}

local_down() {
  local service pid pids=() failed=0
  # Every service is asked to stop at once: Kafka nodes stopped one by one would leave the last
  # without a controller quorum, stuck in its controlled shutdown.
  for service in "${SERVICES[@]}"; do
    pid=$(running_pid "$service")
    [ -n "$pid" ] || continue
    kill -TERM "$pid" 2>/dev/null || true
    pids+=("$service:$pid")
  done
  for entry in ${pids[@]+"${pids[@]}"}; do
    service=${entry%%:*} pid=${entry#*:}
    if ! await_gone "$pid" 150; then note "$service (pid $pid) did not stop in 15 s, killing it"; kill -KILL "$pid" 2>/dev/null || true; fi
    # The pid file goes only with the process: one that outlives SIGKILL is still the stack's.
    if await_gone "$pid" 100; then rm -f "$(pid_file "$service")"; note "$service stopped"
    else note "$service (pid $pid) still runs after SIGKILL; its pid file is kept"; failed=1; fi
  done
  return $failed
}

local_status() {
  local service pid down=0 answer
  ensure_secrets
  for service in "${SERVICES[@]}"; do
    pid=$(running_pid "$service")
    if [ -z "$pid" ]; then
      printf '%-8s stopped   127.0.0.1:%s\n' "$service" "$(port_of "$service")"; down=1; continue
    fi
    if answer=$(health "$service" 2>&1); then
      printf '%-8s up        127.0.0.1:%-6s pid %-8s %s\n' "$service" "$(port_of "$service")" "$pid" "$answer"
    else
      printf '%-8s unhealthy 127.0.0.1:%-6s pid %-8s %s\n' "$service" "$(port_of "$service")" "$pid" "$answer"; down=1
    fi
  done
  return $down
}

local_seed() {
  ensure_secrets
  [ -n "$(running_pid mysql)" ] || die "mysql is not running: ./infra.sh local up"
  "$(deno_bin)" run -A main.ts generate --to mysql "$@"
}

# Installs what the tests need, then runs a command with the stack up; stops the stack after only
# if this call started any of it.
local_with() {
  [ $# -gt 0 ] || usage_error "usage: ./infra.sh local with CMD [ARGS...]"
  local was_up=1 service
  install_all >&2
  for service in "${SERVICES[@]}"; do [ -n "$(running_pid "$service")" ] || was_up=0; done
  if [ $was_up = 0 ]; then trap local_down EXIT; fi
  local_up >&2
  local status=0
  "$@" || status=$?
  return $status
}

case "${1:-}" in
  local)
    # What `local` starts is what its health checks, the seed and `with`'s command talk to
    # (only here: `aws` must see the user's own settings, unset ones included).
    export PINPIPE_MYSQL_HOST=127.0.0.1 PINPIPE_MYSQL_PORT=$MYSQL_PORT
    export PINPIPE_KAFKA_BROKERS=$KAFKA_BOOTSTRAP PINPIPE_KINESIS_ENDPOINT=http://127.0.0.1:$KINESIS_PORT
    case "${2:-}" in
      up) local_up; if [ $UP_AWS = 1 ]; then moto_up; fi ;;
      down) local_down; moto_down ;;
      status) local_status ;;
      aws)
        case "${3:-}" in
          up) moto_up ;; down) moto_down ;; status) moto_status ;;
          *) usage_error "usage: ./infra.sh local aws up|down|status" ;;
        esac ;;
      seed) shift 2; local_seed "$@" ;;
      install) install_all ;;
      with) shift 2; local_with "$@" ;;
      *) usage_error "usage: ./infra.sh local up [--aws] [--kafka-brokers N]|down|status|seed|install|with CMD|aws up|down|status" ;;
    esac ;;
  aws)
    shift
    exec "$(deno_bin)" run -A infra/aws/command.ts "$@" ;;
  rehearse)
    shift
    exec "$(deno_bin)" run -A infra/aws/rehearse.ts "$@" ;;
  *) usage_error "usage: ./infra.sh local up [--aws] [--kafka-brokers N]|down|status|seed|install|with CMD | aws synth|diff|plan|apply|destroy | rehearse" ;;
esac
