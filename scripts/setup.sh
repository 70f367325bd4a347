#!/usr/bin/env bash
# Installs everything git-autosync and its tests need on Debian: git, git-annex, prosody (the tests
# start their own Prosody on loopback; the system service is not used), and the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for pkg in git git-annex prosody; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian package starts a system Prosody on 5222; the tests run their own on free ports.
if command -v systemctl >/dev/null 2>&1; then systemctl stop prosody >/dev/null 2>&1 || true; fi
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
