#!/usr/bin/env bash
# Make sure MariaDB/MySQL (MYSQL_URL) and Redis (REDIS_URL) answer.
#
# - a server that already answers is used as it is;
# - a local one (127.x, localhost, ::1) that is installed but stopped is started:
#   with systemctl when systemd is PID 1, else directly (start-stop-daemon / redis-server);
# - a local one that is missing is installed with apt-get when running as root,
#   otherwise this stops with the exact command to run;
# - a remote one is only checked: nothing is started or installed for it.
#
# Env: MYSQL_URL, REDIS_URL (the hub's defaults when unset), ORDERHUB_SERVICE_TIMEOUT
# (seconds to wait for a server to answer, default 60), ORDERHUB_STATE_DIR (Redis' files
# when it has to be started by a non-root user).
set -euo pipefail

readonly DEFAULT_MYSQL_URL="mysql://root@127.0.0.1:3306/orderhub"
readonly DEFAULT_REDIS_URL="redis://127.0.0.1:6379/0"
readonly DAEMON_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TIMEOUT="${ORDERHUB_SERVICE_TIMEOUT:-60}"
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${ORDERHUB_STATE_DIR:-$ROOT_DIR/var}"

MYSQL_INSTALLED_NOW=0
APT_UPDATED=0

log() { printf '[orderhub] %s\n' "$*"; }
warn() { printf '[orderhub] WARNING: %s\n' "$*" >&2; }
die() {
  printf '[orderhub] ERROR: %s\n' "$*" >&2
  exit 1
}

is_root() { [[ $(id -u) -eq 0 ]]; }
has_systemd() { [[ $(cat /proc/1/comm 2>/dev/null || true) == systemd ]]; }

# "sudo " when not root, so printed commands can be pasted as they are.
sudo_prefix() { is_root || printf 'sudo '; }

url_decode() { printf '%b' "${1//%/\\x}"; }

# parse_url URL DEFAULT_PORT: sets U_SCHEME U_USER U_PASS U_HOST U_PORT.
parse_url() {
  local url=$1 re='^([A-Za-z0-9+.-]+)://(([^:@/]*)(:([^@/]*))?@)?(\[[^]/]*\]|[^:/?#]*)(:([0-9]+))?(/[^?#]*)?'
  [[ $url =~ $re ]] || die "cannot parse URL: ${url//:*@/:***@}"
  U_SCHEME=${BASH_REMATCH[1]}
  U_USER=$(url_decode "${BASH_REMATCH[3]}")
  U_PASS=$(url_decode "${BASH_REMATCH[5]}")
  U_HOST=${BASH_REMATCH[6]}
  U_PORT=${BASH_REMATCH[8]:-$2}
  U_HOST=${U_HOST#[}
  U_HOST=${U_HOST%]}
  [[ -n $U_HOST ]] || U_HOST=127.0.0.1
}

is_local_host() {
  case $1 in
    localhost | localhost.localdomain | ::1 | 127.*) return 0 ;;
    *) return 1 ;;
  esac
}

# tcp_talk HOST PORT DATA NBYTES: connect (3 s limit), send DATA, print the first NBYTES of the reply.
tcp_talk() {
  # shellcheck disable=SC2016  # $0..$3 are the child bash's arguments
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; printf "%s" "$2" >&3; head -c "$3" <&3' \
    "$@" 2>/dev/null
}

# A MySQL/MariaDB server speaks first: its greeting packet carries protocol version 10.
mysql_answers() {
  local hex
  hex=$(tcp_talk "$1" "$2" "" 5 | od -An -tx1 | tr -d ' \n') || return 1
  [[ ${hex:8:2} == 0a ]]
}

# Redis answers PING with +PONG (or -NOAUTH when it wants a password: it still answers).
redis_answers() {
  local reply
  reply=$(tcp_talk "$1" "$2" $'PING\r\n' 7) || return 1
  [[ $reply == +PONG* || $reply == -NOAUTH* ]]
}

# TLS Redis (rediss://) cannot be PINGed from bash: an open port is all we can check.
port_open() { tcp_talk "$1" "$2" "" 0 >/dev/null; }

# wait_for SECONDS COMMAND...: true once COMMAND succeeds, false after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

first_executable() {
  local candidate path
  for candidate in "$@"; do
    path=$candidate
    [[ $candidate == */* ]] || path=$(command -v "$candidate" 2>/dev/null) || continue
    if [[ -f $path && -x $path ]]; then
      printf '%s\n' "$path"
      return 0
    fi
  done
  return 1
}

mysql_server_bin() { first_executable /usr/sbin/mariadbd /usr/sbin/mysqld mariadbd mysqld; }
redis_server_bin() { first_executable /usr/bin/redis-server redis-server; }

# Daemons get a clean environment: they must not inherit this shell's variables.
run_clean() { env -i PATH="$DAEMON_PATH" LANG=C.UTF-8 "$@"; }

# ---------------------------------------------------------------- installing

apt_install() {
  local cmd="apt-get update && apt-get install -y $*" sudo_cmd="sudo apt-get update && sudo apt-get install -y $*"
  if ! command -v apt-get >/dev/null 2>&1; then
    die "missing: $*. Install MariaDB 10.11+ (or MySQL 8) and Redis 7 with your package manager, start them, and run this again."
  fi
  if ! is_root; then
    die "missing: $*. Install with:  $sudo_cmd   (then run this again)"
  fi
  log "installing $* with apt-get (running as root): $cmd"
  if ((APT_UPDATED == 0)); then
    DEBIAN_FRONTEND=noninteractive apt-get update -q || die "apt-get update failed"
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" </dev/null ||
    die "apt-get install -y $* failed"
}

# ---------------------------------------------------------------- MariaDB / MySQL

mysql_unit() {
  local unit
  for unit in mariadb mysql; do
    if systemctl list-unit-files "$unit.service" 2>/dev/null | grep -q "^$unit.service"; then
      printf '%s\n' "$unit"
      return 0
    fi
  done
  printf 'mariadb\n'
}

# The local server's pid file, from its own defaults (Debian: /run/mysqld/mysqld.pid), or
# nothing. start-stop-daemon matching by --exec alone takes any mariadbd for it: a private one
# (the fault drills', tests/drill_stores.py) or one in a container, and then never starts it.
mysql_pidfile() {
  "$1" --print-defaults 2>/dev/null | tr ' ' '\n' | sed -n 's/^--pid-file=//p' | tail -n 1
}

# start-stop-daemon's arguments that select the local server.
mysql_match() {
  local bin=$1 pidfile
  pidfile=$(mysql_pidfile "$bin")
  if [[ -n $pidfile ]]; then
    printf -- '--pidfile %s --exec %s' "$pidfile" "$bin"
  else
    printf -- '--exec %s' "$bin"
  fi
}

mysql_running() {
  local bin=$1
  if command -v start-stop-daemon >/dev/null 2>&1; then
    # shellcheck disable=SC2046 # word splitting wanted: paths without spaces
    start-stop-daemon --status $(mysql_match "$bin") >/dev/null 2>&1
  else
    pidof "$(basename "$bin")" >/dev/null 2>&1
  fi
}

# The command that starts the local server, as it would be typed.
mysql_start_command() {
  local bin=$1
  if has_systemd; then
    printf '%ssystemctl start %s' "$(sudo_prefix)" "$(mysql_unit)"
  elif command -v start-stop-daemon >/dev/null 2>&1; then
    printf '%sstart-stop-daemon --start --oknodo --background %s' "$(sudo_prefix)" "$(mysql_match "$bin")"
  else
    printf '%smysqld_safe &' "$(sudo_prefix)"
  fi
}

start_mysql_daemon() {
  local bin=$1
  if has_systemd; then
    systemctl start "$(mysql_unit)"
    return
  fi
  # /run is a tmpfs: after a reboot the socket/pid directory is gone.
  if id mysql >/dev/null 2>&1; then
    install -d -o mysql -g mysql -m 0755 /run/mysqld
  fi
  if command -v start-stop-daemon >/dev/null 2>&1; then
    # shellcheck disable=SC2046 # word splitting wanted: paths without spaces
    run_clean start-stop-daemon --start --oknodo --background $(mysql_match "$bin")
  elif command -v mysqld_safe >/dev/null 2>&1; then
    run_clean setsid mysqld_safe </dev/null >/dev/null 2>&1 &
  else
    run_clean setsid "$bin" --user=mysql </dev/null >/dev/null 2>&1 &
  fi
}

# Start the local server; start it again (at most 3 times) whenever it is not even running:
# a server still shutting down when we first looked makes start-stop-daemon do nothing.
start_and_wait_mysql() {
  local bin=$1 host=$2 port=$3 deadline=$((SECONDS + TIMEOUT)) started_at=$SECONDS tries=0
  log "MariaDB/MySQL: not answering on $host:$port; starting it: $(mysql_start_command "$bin")"
  until mysql_answers "$host" "$port"; do
    if ((SECONDS >= deadline)); then
      die "MariaDB/MySQL did not answer on $host:$port within ${TIMEOUT}s. Look at /var/log/mysql/error.log (or run $bin in the foreground to see why), or start it yourself: $(mysql_start_command "$bin")"
    fi
    if ((tries < 3)) && ! mysql_running "$bin"; then
      tries=$((tries + 1))
      start_mysql_daemon "$bin" || warn "starting MariaDB/MySQL failed (try $tries)"
    fi
    sleep 1
  done
  log "MariaDB/MySQL: started; answering on $host:$port after $((SECONDS - started_at))s"
}

# A fresh Debian/Ubuntu server lets root in only through the unix socket (unix_socket /
# auth_socket plugin): the hub connects over TCP. Fix that on a server we just installed.
# SQL that lets USER log in with PASS over TCP. TCP from 127.0.0.1 is 'user'@'localhost'
# unless the server skips name resolution, hence both accounts.
mysql_login_fix_sql() {
  local client=$1 user=$2 pass=$3 sql=""
  if [[ $user == root ]]; then
    if "$client" --version 2>/dev/null | grep -qi mariadb; then
      sql="ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('$pass');"
    else
      sql="ALTER USER 'root'@'localhost' IDENTIFIED BY '$pass';"
    fi
  else
    sql="CREATE USER IF NOT EXISTS '$user'@'localhost' IDENTIFIED BY '$pass';"
    sql+=" GRANT ALL PRIVILEGES ON *.* TO '$user'@'localhost';"
  fi
  sql+=" CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$pass';"
  sql+=" GRANT ALL PRIVILEGES ON *.* TO '$user'@'127.0.0.1'"
  [[ $user == root ]] && sql+=" WITH GRANT OPTION"
  printf '%s;' "$sql"
}

check_mysql_login() {
  local host=$1 port=$2 user=$3 pass=$4 client out fix
  client=$(first_executable mariadb mysql) || return 0
  if out=$(MYSQL_PWD=$pass "$client" --protocol=tcp -h "$host" -P "$port" -u "$user" \
    --connect-timeout=5 -e 'SELECT 1' 2>&1 >/dev/null); then
    log "MariaDB/MySQL: user '$user' can log in over TCP"
    return 0
  fi
  [[ $out == *"Access denied"* ]] || {
    warn "MariaDB/MySQL login check failed: $out"
    return 0
  }
  fix=$(mysql_login_fix_sql "$client" "$user" "$pass")
  if ((MYSQL_INSTALLED_NOW == 1)) && is_root && [[ $user == root && -z $pass ]] && "$client" -uroot -e "$fix"; then
    log "MariaDB/MySQL: fresh server: root may now log in over TCP too ($fix)"
    return 0
  fi
  [[ -z $pass ]] || fix=$(mysql_login_fix_sql "$client" "$user" '<password>')
  die "MariaDB/MySQL answers but refuses '$user' over TCP ($out). Fix with:  $(sudo_prefix)$client -uroot -e \"$fix\"   or set MYSQL_URL to an account that can log in."
}

ensure_mysql() {
  local url=${MYSQL_URL:-$DEFAULT_MYSQL_URL} bin
  parse_url "$url" 3306
  local host=$U_HOST port=$U_PORT user=${U_USER:-root} pass=$U_PASS
  [[ $U_SCHEME == mysql* ]] || die "MYSQL_URL must start with mysql:// (got $U_SCHEME://)"

  if mysql_answers "$host" "$port"; then
    log "MariaDB/MySQL: answering on $host:$port (already running)"
  elif ! is_local_host "$host"; then
    die "MariaDB/MySQL at $host:$port (MYSQL_URL) does not answer. It is not local, so nothing is started or installed: start it, or point MYSQL_URL elsewhere."
  elif [[ $port != 3306 ]]; then
    die "nothing answers on $host:$port (MYSQL_URL). Only the system server on port 3306 is started automatically: start yours on port $port, or use port 3306."
  else
    if ! bin=$(mysql_server_bin); then
      apt_install mariadb-server
      MYSQL_INSTALLED_NOW=1
      bin=$(mysql_server_bin) || die "mariadb-server was installed but no mariadbd/mysqld binary was found"
    fi
    if ! is_root; then
      die "MariaDB/MySQL is installed but not running on $host:$port. Start it with:  $(mysql_start_command "$bin")"
    fi
    start_and_wait_mysql "$bin" "$host" "$port"
  fi
  if is_local_host "$host"; then
    check_mysql_login "$host" "$port" "$user" "$pass"
  fi
}

# ---------------------------------------------------------------- Redis

redis_start_args() {
  local host=$1 port=$2 dir log_dir version bind="127.0.0.1"
  if is_root && [[ -d /var/lib/redis ]]; then dir=/var/lib/redis; else dir=$STATE_DIR/redis; fi
  if is_root && [[ -d /var/log/redis ]]; then log_dir=/var/log/redis; else log_dir=$STATE_DIR/redis; fi
  version=$("$REDIS_BIN" --version 2>/dev/null | sed -n 's/.*v=\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  # "-::1" (bind if available) exists since Redis 6.2.
  if [[ $host == ::1 ]]; then
    bind="::1 127.0.0.1"
  elif read -r major minor <<<"$version" && ((major > 6 || (major == 6 && minor >= 2))); then
    bind="127.0.0.1 -::1"
  fi
  REDIS_DIR=$dir
  # shellcheck disable=SC2206  # the bind list is split on purpose
  REDIS_ARGS=(--daemonize yes --bind $bind --port "$port" --save "" --appendonly no
    --dir "$dir" --logfile "$log_dir/redis-server.log")
}

redis_start_command() {
  local host=$1 port=$2
  if has_systemd; then
    printf '%ssystemctl start redis-server' "$(sudo_prefix)"
  else
    redis_start_args "$host" "$port"
    printf '%s' "$REDIS_BIN"
    printf ' %q' "${REDIS_ARGS[@]}"
  fi
}

start_redis_daemon() {
  local host=$1 port=$2
  if has_systemd; then
    systemctl start redis-server
    return
  fi
  redis_start_args "$host" "$port"
  mkdir -p "$REDIS_DIR" "$(dirname "${REDIS_ARGS[-1]}")"
  run_clean "$REDIS_BIN" "${REDIS_ARGS[@]}"
}

ensure_redis() {
  local url=${REDIS_URL:-$DEFAULT_REDIS_URL} started_at
  parse_url "$url" 6379
  local host=$U_HOST port=$U_PORT probe=redis_answers
  case $U_SCHEME in
    redis) ;;
    rediss) probe=port_open ;;
    *) die "REDIS_URL must start with redis:// or rediss:// (got $U_SCHEME://)" ;;
  esac

  if "$probe" "$host" "$port"; then
    log "Redis: answering on $host:$port (already running)"
    return 0
  fi
  if ! is_local_host "$host"; then
    die "Redis at $host:$port (REDIS_URL) does not answer. It is not local, so nothing is started or installed: start it, or point REDIS_URL elsewhere."
  fi
  if ! REDIS_BIN=$(redis_server_bin); then
    apt_install redis-server
    REDIS_BIN=$(redis_server_bin) || die "redis-server was installed but not found"
    # The package may have started it already.
    if wait_for 5 "$probe" "$host" "$port"; then
      log "Redis: installed and answering on $host:$port"
      return 0
    fi
  fi
  if has_systemd && ! is_root; then
    die "Redis is installed but not running on $host:$port. Start it with:  $(redis_start_command "$host" "$port")"
  fi
  started_at=$SECONDS
  log "Redis: not answering on $host:$port; starting it: $(redis_start_command "$host" "$port")"
  start_redis_daemon "$host" "$port" || die "starting Redis failed: $(redis_start_command "$host" "$port")"
  wait_for "$TIMEOUT" "$probe" "$host" "$port" ||
    die "Redis did not answer on $host:$port within ${TIMEOUT}s. Look at its log ($(redis_start_args "$host" "$port"; printf '%s' "${REDIS_ARGS[-1]}")), or start it yourself: $(redis_start_command "$host" "$port")"
  log "Redis: started; answering on $host:$port after $((SECONDS - started_at))s"
}

# Install both servers in one apt-get call when both are missing locally.
preinstall_missing() {
  local missing=() mysql_url=${MYSQL_URL:-$DEFAULT_MYSQL_URL} redis_url=${REDIS_URL:-$DEFAULT_REDIS_URL}
  parse_url "$mysql_url" 3306
  if is_local_host "$U_HOST" && ! mysql_answers "$U_HOST" "$U_PORT" && ! mysql_server_bin >/dev/null; then
    missing+=(mariadb-server)
  fi
  parse_url "$redis_url" 6379
  if is_local_host "$U_HOST" && ! port_open "$U_HOST" "$U_PORT" && ! redis_server_bin >/dev/null; then
    missing+=(redis-server)
  fi
  if ((${#missing[@]} == 2)); then
    apt_install "${missing[@]}"
    MYSQL_INSTALLED_NOW=1
  fi
}

# The console's browser tests (tests/test_console_*.py) drive Debian's chromium; a CJK font
# makes the Chinese UI readable in their screenshots (without one it renders as boxes).
ensure_chromium() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  if command -v fc-list >/dev/null 2>&1 && [[ -z $(fc-list :lang=zh 2>/dev/null) ]]; then
    missing+=(fonts-wqy-microhei)
  elif ! command -v fc-list >/dev/null 2>&1 && ((${#missing[@]})); then
    missing+=(fonts-wqy-microhei)
  fi
  ((${#missing[@]})) || return 0
  if is_root && command -v apt-get >/dev/null 2>&1; then
    apt_install "${missing[@]}"
  else
    warn "missing for the console's browser tests: ${missing[*]}. Install with: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  fi
}

main() {
  preinstall_missing
  ensure_mysql
  ensure_redis
  ensure_chromium
}

main "$@"
