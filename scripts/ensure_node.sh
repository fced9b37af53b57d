#!/usr/bin/env bash
# Make sure Node.js (18 or newer: jest 30's floor) and npm are there for the JS test suites
# (miniprogram/). Missing or too old: installed with apt-get when running as root, otherwise
# this stops with the exact command to run.
set -euo pipefail

readonly MIN_NODE_MAJOR=18

log() { printf '[orderhub] %s\n' "$*"; }
die() {
  printf '[orderhub] ERROR: %s\n' "$*" >&2
  exit 1
}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

node_ok() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && [[ $(node_major) -ge $MIN_NODE_MAJOR ]]
}

if node_ok; then
  exit 0
fi

if command -v node >/dev/null 2>&1 && [[ $(node_major) -lt $MIN_NODE_MAJOR ]]; then
  log "Node.js $(node --version) is older than $MIN_NODE_MAJOR"
fi

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  log "installing Node.js and npm: apt-get update && apt-get install -y nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y nodejs npm
  node_ok || die "Node.js $MIN_NODE_MAJOR+ and npm are still missing after apt-get (node: $(node --version 2>/dev/null || echo none)); install them from https://nodejs.org"
  log "Node.js $(node --version), npm $(npm --version)"
  exit 0
fi

die "Node.js $MIN_NODE_MAJOR+ and npm are needed for the mini program's tests. Run:
  sudo apt-get update && sudo apt-get install -y nodejs npm"
