#!/usr/bin/env bash
# Install Debian packages the project needs when their binaries are missing.
# Usage: ensure_system_deps.sh graphviz|chromium
set -euo pipefail
package="$1"
case "$package" in
  graphviz) binaries="dot" ;;
  chromium) binaries="chromium chromedriver" ;;
  *) echo "unknown system dependency: $package" >&2; exit 2 ;;
esac
missing=""
for b in $binaries; do command -v "$b" >/dev/null 2>&1 || missing="$missing $b"; done
[ -z "$missing" ] && exit 0
binary="${missing# }"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: '$binary' not found and apt-get is unavailable; install $package yourself" >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "warning: '$binary' not found; run 'apt-get install $package' as root" >&2; exit 0
  fi
fi
packages="$package"
[ "$package" = chromium ] && packages="chromium chromium-driver"
echo "installing $packages from Debian (for '$binary')..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $packages >/dev/null
for b in $binaries; do
  command -v "$b" >/dev/null 2>&1 || { echo "error: installing $packages did not provide '$b'" >&2; exit 1; }
done
