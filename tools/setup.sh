#!/usr/bin/env bash
# Installs what geoflux needs to build and test, only when it is missing.
# Usage: tools/setup.sh [build|demo|test]
#   build: the compiler and libraries; demo: also node/npm and the map page's
#   npm packages (web/node_modules); test: also the test readers (GDAL's Python
#   bindings, Chromium, the npm packages of tests/js).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-build}

pkgs=(build-essential cmake pkg-config zlib1g-dev libdeflate-dev libxxhash-dev libsqlite3-dev libproj-dev proj-data
      libgeos-dev libgdal-dev gdal-bin libmicrohttpd-dev libjson-c-dev
      # the map page's label glyphs, made at build time (tools/glyphs/gf_glyphs.c):
      # FreeType's SDF renderer and the DejaVu font
      libfreetype-dev fonts-dejavu-core)
case $mode in
  build) ;;
  demo) pkgs+=(nodejs npm) ;;
  # python3-distributed: Dask, for tools/dask_departments.py and its test (tests/cli/merge.sh)
  test) pkgs+=(python3-gdal sqlite3 nodejs npm python3-distributed) ;;
  *) echo "usage: tools/setup.sh [build|demo|test]" >&2; exit 2 ;;
esac
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

# npm packages, from the lock file when there is one; again when package.json changed
npm_dirs=()
case $mode in demo) npm_dirs=(web) ;; test) npm_dirs=(web tests/js) ;; esac
for d in "${npm_dirs[@]}"; do
  [ -f "$d/package.json" ] || continue
  if [ ! -d "$d/node_modules" ] || [ "$d/package.json" -nt "$d/node_modules" ]; then
    echo "setup: npm packages of $d/package.json" >&2
    if [ -f "$d/package-lock.json" ]; then cmd=ci; else cmd=install; fi
    (cd "$d" && npm "$cmd" --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$d/node_modules"
  fi
done
