#!/usr/bin/env bash
# Installs everything git-autosync and its tests need on Debian: git, git-annex, prosody, ejabberd
# and openssh-server/-client (the tests start their own Prosody, ejabberd and sshd on free loopback
# ports; the system services are not used), man-db (a test opens the man page through
# `git autosync --help`), iproute2 (`ip monitor` wakes the agent when the network comes back; the
# network test brings loopback down and up), e2fsprogs (the drive test's ext4 image, mkfs.ext4 and
# debugfs), and the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for pkg in git git-annex prosody ejabberd openssh-server openssh-client man-db iproute2 e2fsprogs; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#need[@]} -gt 0 ]; then
  # The packages' postinst scripts start their system services (sshd on 22, Prosody and ejabberd on
  # 5222). In a container with no init, starting sshd through its init script can fail and fail the
  # whole install; and the tests want none of these services. A policy-rc.d that answers 101 ("forbidden") makes
  # invoke-rc.d and deb-systemd-invoke skip the start. Only ours is removed again: a machine that
  # already has one (Docker images do) keeps it.
  POLICY=/usr/sbin/policy-rc.d
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# temporary, from git-autosync scripts/setup.sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    trap '$SUDO rm -f "$POLICY"' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# A Prosody or ejabberd installed earlier may be running on 5222; the tests run their own on free
# ports. (A system sshd on 22 may stay: the tests' sshd listens on a free port of its own.)
if command -v systemctl >/dev/null 2>&1; then
  systemctl stop prosody ejabberd >/dev/null 2>&1 || true
  systemctl disable ejabberd >/dev/null 2>&1 || true
fi
# Without systemd (containers), a system ejabberd is stopped through its own control script.
if command -v ejabberdctl >/dev/null 2>&1 && pgrep -u ejabberd beam >/dev/null 2>&1; then
  $SUDO ejabberdctl stop >/dev/null 2>&1 || true
fi
# A node_modules that is a symlink (a git worktree sharing another checkout's) is left alone: npm ci
# would empty the directory it points to, under every other checkout that uses it.
if [ ! -L node_modules ]; then
  [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund
fi
