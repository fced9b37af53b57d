#!/usr/bin/env bash
# Issue #15's figures, before and after, back to back and twice (docs/benchmarks.md, 2026-11-29):
#   the ramp (most providers online at a 4 s cadence with p99 location → watcher < 100 ms)
#   and `make bench` (hub vs the bare relay), for the hub of commit BEFORE and of this checkout.
#
#   MYSQL_URL=mysql://root@127.0.0.1:3306/orderhub_scratch REDIS_URL=redis://127.0.0.1:6379/9 \
#   ORDERHUB_STATE_DIR=/tmp/st_scratch scripts/city_scale_figures.sh [BEFORE] [PROVIDERS] [RAMP]
#
# BEFORE: the commit to compare with (default b97f84f, the hub before the city-scale work);
# it is checked out with `git worktree add --detach` in $ORDERHUB_STATE_DIR/before (nothing in
# this checkout changes). PROVIDERS (5000) and RAMP (5m): the ramp's size and length.
# HUB_WORKERS=1 for both hubs: the comparison is per hub process (set HUB_WORKERS to override).
# The ramp runs on the scratch database and Redis db above (providers signed up once, reused);
# the bench starts its own throw-away hub (Redis db 13). Each step prints the load average:
# on a shared machine compare only figures taken back to back.
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${1:-b97f84f}
PROVIDERS=${2:-5000}
RAMP=${3:-5m}
export HUB_WORKERS=${HUB_WORKERS:-1}
PY=$PWD/.venv/bin/python
STATE=${ORDERHUB_STATE_DIR:?set MYSQL_URL, REDIS_URL and ORDERHUB_STATE_DIR to scratch stores}
OLD=$STATE/before
if [ ! -d "$OLD" ]; then
  git worktree add --detach "$OLD" "$BEFORE"
fi
echo "[figures] before: $(git -C "$OLD" log --oneline -1 | cut -c1-80)"
echo "[figures] after:  $(git log --oneline -1 | cut -c1-80)"

ramp() {  # $1: label, $2: checkout
  echo "[figures] ramp $1 — $(uptime)"
  $PY scripts/profile_hub.py --providers "$PROVIDERS" --ramp "$RAMP" --hub-root "$2" \
    --hub-env "HUB_WORKERS=$HUB_WORKERS" 2>&1 |
    grep -E '^\[|^== |^  (double|events lost|offers never|acknowledged|paid in|ledger|refunds above|location|ramp|most|hub stalls|cpu:)' || true
}

bench() {  # $1: label, $2: checkout (its own load code and hub)
  echo "[figures] bench $1 — $(uptime)"
  local log=$STATE/bench-$1.log
  (cd "$2" && $PY -m load bench --report-dir "$STATE/bench-$1" >"$log" 2>&1) || true
  grep -E '^== ' "$log" || true
  sed -n '/^bench: /,$p' "$log"
  echo "[figures] bench $1 done — $(uptime)"
}

for round in 1 2; do
  echo "[figures] round $round"
  ramp before "$OLD"
  ramp after "$PWD"
done
for round in 1 2; do
  echo "[figures] round $round"
  bench before "$OLD"
  bench after "$PWD"
done
