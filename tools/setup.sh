#!/usr/bin/env bash
# Installs what geoflux needs to build and test, only when it is missing.
# Usage: tools/setup.sh [build|test]   (test also installs the test readers)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-build}

pkgs=(build-essential cmake pkg-config zlib1g-dev libsqlite3-dev libproj-dev proj-data
      libgeos-dev libgdal-dev gdal-bin)
if [ "$mode" = test ]; then
  pkgs+=(python3-gdal sqlite3 nodejs npm)
fi
[ -f tools/extra-packages.txt ] && [ "$mode" = test ] && mapfile -t -O ${#pkgs[@]} pkgs < <(grep -v '^#' tools/extra-packages.txt | grep .)

missing=()
for p in "${pkgs[@]}"; do
  # node/npm may come from outside Debian: accept the commands when present.
  case $p in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$mode" = test ] && [ -f tests/js/package.json ]; then
  if [ ! -d tests/js/node_modules ] || [ tests/js/package.json -nt tests/js/node_modules ]; then
    echo "setup: npm install in tests/js" >&2
    (cd tests/js && npm install --no-audit --no-fund --loglevel=error >/dev/null)
    touch tests/js/node_modules
  fi
fi
