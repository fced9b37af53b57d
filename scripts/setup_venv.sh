#!/usr/bin/env bash
# Create .venv and `pip install -e '.[dev]'` into it; skip the install when pyproject.toml
# (and the Python) are the same as at the last successful install (stamp file in .venv).
#
# Env: PYTHON (interpreter to build the venv from; default: the newest python3.X >= 3.11),
#      VENV (default .venv).
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT_DIR/.venv}"
STAMP="$VENV/.orderhub-installed"

log() { printf '[orderhub] %s\n' "$*"; }
die() {
  printf '[orderhub] ERROR: %s\n' "$*" >&2
  exit 1
}

is_root() { [[ $(id -u) -eq 0 ]]; }

python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

find_python() {
  local candidate
  for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
      command -v "$candidate"
      return 0
    fi
  done
  die "Python 3.11+ not found. Install it (Debian 12: apt-get install -y python3 python3-venv; Ubuntu 22.04: apt-get install -y python3.11 python3.11-venv) or set PYTHON=/path/to/python3.11"
}

# Debian/Ubuntu split venv's ensurepip into python3.X-venv.
install_venv_package() {
  local py=$1 pkg
  pkg="python$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv"
  if ! command -v apt-get >/dev/null 2>&1; then
    die "'$py -m venv' failed: install your distribution's venv/ensurepip package for $py"
  fi
  if ! is_root; then
    die "'$py -m venv' failed (ensurepip missing). Install with:  sudo apt-get update && sudo apt-get install -y $pkg"
  fi
  log "installing $pkg with apt-get (running as root)"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" </dev/null
}

create_venv() {
  local py
  py=$(find_python)
  log "creating $VENV with $py ($("$py" --version 2>&1))"
  rm -rf "$VENV"
  if ! "$py" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    install_venv_package "$py"
    "$py" -m venv "$VENV" || die "'$py -m venv $VENV' failed"
  fi
}

# What the install depends on: pyproject.toml's content, where the project is (the install
# is editable) and the venv's Python.
fingerprint() {
  {
    sha256sum <"$ROOT_DIR/pyproject.toml"
    printf '%s\n' "$ROOT_DIR"
    "$VENV/bin/python" -c 'import sys; print(sys.version)'
  } | sha256sum | cut -d' ' -f1
}

pip_install() {
  local progress=()
  [[ -t 1 ]] || progress=(--progress-bar off)
  log "installing the project: pip install -e '.[dev]' (first time: a few minutes, Ray is large)"
  (cd "$ROOT_DIR" && "$VENV/bin/python" -m pip install --disable-pip-version-check \
    "${progress[@]}" -e '.[dev]') || die "pip install -e '.[dev]' failed (see above)"
}

main() {
  if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1 || ! python_ok "$VENV/bin/python"; then
    create_venv
  fi
  local want
  want=$(fingerprint)
  if [[ -f $STAMP && $(cat "$STAMP") == "$want" ]]; then
    log "venv up to date ($VENV; pyproject.toml unchanged since the last install)"
    return 0
  fi
  rm -f "$STAMP"
  pip_install
  printf '%s\n' "$want" >"$STAMP"
  log "venv ready ($VENV)"
}

main "$@"
