#!/usr/bin/env bash
# Install Debian packages the project needs when their binaries are missing.
# Usage: ensure_system_deps.sh graphviz|chromium
set -euo pipefail
package="$1"
case "$package" in
  graphviz) binary=dot ;;
  chromium) binary=chromium ;;
  *) echo "unknown system dependency: $package" >&2; exit 2 ;;
esac
command -v "$binary" >/dev/null 2>&1 && exit 0
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
command -v "$binary" >/dev/null 2>&1 || { echo "error: installing $package did not provide '$binary'" >&2; exit 1; }
