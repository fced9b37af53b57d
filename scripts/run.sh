#!/usr/bin/env bash
# `make run`: set up, make sure MariaDB/MySQL and Redis answer, migrate, seed the demo data,
# then run every process of the Procfile with honcho until Ctrl-C (or SIGTERM), and check
# that nothing started here is left running afterwards.
#
# Env: HUB_HOST/HUB_PORT (127.0.0.1/8000), HUB_WORKERS (hub processes on that port: one per
# core), WECHAT_SANDBOX_PORT (8100), MYSQL_URL, REDIS_URL,
# ORDERHUB_STATE_DIR (./var), ORDERHUB_READY_TIMEOUT (seconds to wait for /api/health, 180).
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT_DIR"

PY="$ROOT_DIR/.venv/bin/python"
READY_TIMEOUT="${ORDERHUB_READY_TIMEOUT:-180}"
RUN_ID="$$-$(date +%s%N)"
HONCHO_PID=""
WATCHER_PID=""
STOP_REQUESTED_AT=0
INTERRUPTED=0
SEED_OUTPUT=""

# Output may go to a pipe whose reader died (make run | tee, then Ctrl-C): never fail on it.
log() { printf '[orderhub] %s\n' "$*" 2>/dev/null || true; }
die() {
  printf '[orderhub] ERROR: %s\n' "$*" >&2
  exit 1
}

export_defaults() {
  export HUB_HOST="${HUB_HOST:-127.0.0.1}"
  export HUB_PORT="${HUB_PORT:-8000}"
  export WECHAT_SANDBOX_PORT="${WECHAT_SANDBOX_PORT:-8100}"
  # The hub talks to the local sandbox unless told otherwise: follow its port.
  export WECHAT_API_BASE="${WECHAT_API_BASE:-http://127.0.0.1:$WECHAT_SANDBOX_PORT}"
  export WECHAT_PAY_BASE="${WECHAT_PAY_BASE:-http://127.0.0.1:$WECHAT_SANDBOX_PORT}"
  export ORDERHUB_STATE_DIR="${ORDERHUB_STATE_DIR:-$ROOT_DIR/var}"
  export PYTHONUNBUFFERED=1
  mkdir -p "$ORDERHUB_STATE_DIR"
}

hub_url() {
  local host=$HUB_HOST
  [[ $host == 0.0.0.0 || $host == "::" ]] && host=127.0.0.1
  [[ $host == *:* ]] && host="[$host]"
  printf 'http://%s:%s' "$host" "$HUB_PORT"
}

port_in_use() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

check_ports_free() {
  local host=$HUB_HOST
  [[ $host == 0.0.0.0 || $host == "::" ]] && host=127.0.0.1
  if port_in_use "$host" "$HUB_PORT"; then
    die "port $HUB_PORT is already in use (another 'make run'?). Stop it, or pick another: make run HUB_PORT=8001"
  fi
  if port_in_use 127.0.0.1 "$WECHAT_SANDBOX_PORT"; then
    die "port $WECHAT_SANDBOX_PORT (WeChat sandbox) is already in use. Stop it, or pick another: make run WECHAT_SANDBOX_PORT=8101"
  fi
}

migrate_and_seed() {
  log "migrating the database: .venv/bin/python -m hub migrate"
  "$PY" -m hub migrate || die "'python -m hub migrate' failed (see above)"
  log "loading the demo data: .venv/bin/python -m hub seed"
  SEED_OUTPUT="$ORDERHUB_STATE_DIR/seed-output.txt"
  "$PY" -m hub seed | tee "$SEED_OUTPUT" || die "'python -m hub seed' failed (see above)"
}

health_ok() {
  "$PY" - "$1" <<'EOF' 2>/dev/null
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}

print_banner() {
  local url started=$1
  url=$(hub_url)
  printf '\n'
  log "================================================================"
  log "orderhub is up (hub answered after $((SECONDS - started))s)"
  log "  hub             $url  (${HUB_WORKERS:-$(nproc)} processes: HUB_WORKERS)"
  log "  API health      $url/api/health"
  log "  OpenAPI         $url/api/openapi.json"
  log "  metrics         $url/metrics (from this machine; docs/operations.md)"
  log "  backups         daily at ${ORDERHUB_BACKUP_HOUR:-3}:00 UTC into ${ORDERHUB_BACKUP_DIR:-$ORDERHUB_STATE_DIR/backups}"
  log "  WeChat sandbox  http://127.0.0.1:$WECHAT_SANDBOX_PORT"
  if [[ -s $SEED_OUTPUT ]]; then
    log "  demo logins (from 'python -m hub seed'):"
    sed -e 's/^\[orderhub\] //' -e 's/^/[orderhub]     /' "$SEED_OUTPUT"
  fi
  log "Ctrl-C stops everything."
  log "================================================================"
  printf '\n'
}

# Runs in the background: print the banner once /api/health answers.
watch_ready() {
  local started=$SECONDS health
  health="$(hub_url)/api/health"
  while ((SECONDS - started < READY_TIMEOUT)); do
    kill -0 "$HONCHO_PID" 2>/dev/null || return 0
    if health_ok "$health"; then
      print_banner "$started"
      return 0
    fi
    sleep 1
  done
  log "WARNING: $health did not answer within ${READY_TIMEOUT}s; see the hub's output above"
}

start_processes() {
  log "starting the Procfile's processes with honcho (hub on $(hub_url), WeChat sandbox on port $WECHAT_SANDBOX_PORT)"
  # Every process started from here on carries ORDERHUB_RUN_ID: that is how strays are found.
  ORDERHUB_RUN_ID="$RUN_ID" "$ROOT_DIR/.venv/bin/honcho" start -f "$ROOT_DIR/Procfile" &
  HONCHO_PID=$!
  watch_ready &
  WATCHER_PID=$!
}

on_signal() {
  INTERRUPTED=1
  ((STOP_REQUESTED_AT > 0)) || STOP_REQUESTED_AT=$SECONDS
  kill -s "$1" "$HONCHO_PID" 2>/dev/null || true
}

# Wait for honcho to end; if it has not 15 s after Ctrl-C/SIGTERM (honcho itself stops its
# processes within 5 s), stop every process of this run directly. Returns honcho's status.
wait_for_honcho() {
  local rc=0
  while kill -0 "$HONCHO_PID" 2>/dev/null; do
    if ((STOP_REQUESTED_AT > 0 && SECONDS - STOP_REQUESTED_AT > 15)); then
      log "honcho did not stop within 15s: terminating the processes of this run directly"
      terminate_marked
      break
    fi
    sleep 0.5
  done
  wait "$HONCHO_PID" 2>/dev/null || rc=$?
  kill "$WATCHER_PID" 2>/dev/null || true
  wait "$WATCHER_PID" 2>/dev/null || true
  return "$rc"
}

# PIDs of the processes that carry this run's ORDERHUB_RUN_ID (the hub, the sandbox, Ray's
# processes and anything they started), except this script.
marked_pids() {
  local file pid
  for file in /proc/[0-9]*/environ; do
    pid=${file#/proc/}
    pid=${pid%/environ}
    [[ $pid == "$$" ]] && continue
    if grep -qsz -x "ORDERHUB_RUN_ID=$RUN_ID" "$file" 2>/dev/null; then
      printf '%s\n' "$pid"
    fi
  done
}

describe_pids() {
  local pid
  for pid in "$@"; do
    printf '%s: %s\n' "$pid" "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)"
  done
}

# SIGTERM what carries this run's marker, then SIGKILL what is left after 3 s.
terminate_marked() {
  local pids
  mapfile -t pids < <(marked_pids)
  ((${#pids[@]} > 0)) || return 0
  describe_pids "${pids[@]}" | sed 's/^/[orderhub]   /' 2>/dev/null || true
  kill -TERM "${pids[@]}" 2>/dev/null || true
  sleep 3
  mapfile -t pids < <(marked_pids)
  if ((${#pids[@]} > 0)); then
    kill -KILL "${pids[@]}" 2>/dev/null || true
    log "killed (SIGKILL): ${pids[*]}"
  fi
}

# Give what is left a few seconds to go; true when nothing of this run is left at all.
verify_no_strays() {
  local pids deadline=$((SECONDS + 10))
  mapfile -t pids < <(marked_pids)
  while ((${#pids[@]} > 0 && SECONDS < deadline)); do
    sleep 0.5
    mapfile -t pids < <(marked_pids)
  done
  if ((${#pids[@]} == 0)); then
    log "verified: no process of this run is left"
    return 0
  fi
  log "WARNING: still running after the stop, terminating:"
  terminate_marked
  return 1
}

main() {
  export_defaults
  "$ROOT_DIR/scripts/setup_venv.sh"
  "$ROOT_DIR/scripts/ensure_services.sh"
  check_ports_free
  migrate_and_seed

  trap 'on_signal INT' INT
  trap 'on_signal TERM' TERM
  trap '' PIPE
  local rc=0
  start_processes
  wait_for_honcho || rc=$?
  log "honcho stopped (exit status $rc); checking that nothing is left running"
  verify_no_strays || rc=1
  if ((INTERRUPTED == 1 && (rc == 130 || rc == 143))); then
    rc=0
  fi
  log "stopped"
  return "$rc"
}

main "$@"
