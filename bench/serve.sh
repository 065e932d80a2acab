#!/usr/bin/env bash
# geoflux serve under load: /search with typed queries (bench/gen_geocode_queries.py:
# abbreviations, lost accents, typos, postcode missing in one out of six),
# one query per request, at 64 connections for 20 s on loopback, with wrk
# (Debian package wrk). Prints requests/s, p50/p99 latency and every error
# (socket errors, non-2xx answers); the server must exit 0 on SIGTERM after.
# The issue's target (issue 17): >= 20,000 req/s and p99 <= 10 ms on 2 cores
# with a 1M-address index. Then /search/csv of GF_BENCH_SERVE_CSV_ROWS typed
# queries (default 1,000,000; target <= 10 s) with curl: seconds, rows/s,
# every row out, and the server's peak RSS (VmHWM) after both.
# Env: GF (binary), GF_BENCH_EXTRACT (BAN-format CSV), set by bench/run;
# GF_BENCH_SERVE_SECONDS (20), GF_BENCH_SERVE_CONNS (64), GF_BENCH_SERVE_THREADS
# (server threads, default: all cores), GF_BENCH_QUERIES (10000 distinct
# queries). Timings need a quiet machine; wrk and the server share its cores.
set -euo pipefail
cd "$(dirname "$0")/.."
GF=${GF:-build/geoflux}
IN=${GF_BENCH_EXTRACT:?run through bench/run}
command -v wrk >/dev/null || { echo "bench/serve.sh: wrk missing (apt-get install wrk, or tools/setup.sh test)" >&2; exit 2; }
O=bench/out/serve; rm -rf "$O"; mkdir -p "$O"
SECS=${GF_BENCH_SERVE_SECONDS:-20}
CONNS=${GF_BENCH_SERVE_CONNS:-64}
THREADS=${GF_BENCH_SERVE_THREADS:-$(nproc)}
N=${GF_BENCH_QUERIES:-10000}
CSV_ROWS=${GF_BENCH_SERVE_CSV_ROWS:-1000000}
for v in "$SECS" "$CONNS" "$THREADS" "$N" "$CSV_ROWS"; do
  case $v in ''|*[!0-9]*|0) echo "bench/serve.sh: positive integers expected in GF_BENCH_SERVE_*/GF_BENCH_QUERIES" >&2; exit 2;; esac
done

/usr/bin/python3 bench/gen_geocode_queries.py "$IN" "$N" "$O/queries.csv"
# the queries as URL paths, one per line, read by the wrk script
/usr/bin/python3 - "$O/queries.csv" "$O/paths.txt" <<'PY'
import csv, sys, urllib.parse
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], "w") as o:
    for r in csv.DictReader(f):
        q = " ".join(x for x in (r["adresse"], r["postcode"], r["city"]) if x)
        o.write("/search?" + urllib.parse.urlencode({"q": q[:200], "limit": 1}) + "\n")
PY
cat > "$O/search.lua" <<LUA
-- each wrk thread walks the query list from its own offset
local paths = {}
for line in io.lines("$PWD/$O/paths.txt") do paths[#paths + 1] = line end
local counter = 0
function setup(thread) counter = counter + 1; thread:set("offset", counter * 7919) end
local i = 0
function request()
  i = i + 1
  return wrk.format("GET", paths[(offset + i) % #paths + 1])
end
LUA

"$GF" index build "$IN" -o "$O/ix.idx" -q
"$GF" serve --index "$O/ix.idx" --port 0 -j "$THREADS" --max-upload 2G -q >"$O/server.out" 2>"$O/server.err" &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do grep -q 'serving on' "$O/server.out" 2>/dev/null && break; sleep 0.1; done
B=$(sed -n 's|^geoflux: serving on \(http://[^ ]*\)/$|\1|p' "$O/server.out")
[ -n "$B" ] || { cat "$O/server.err" >&2; exit 1; }
# one answer checked before the load: a FeatureCollection with a result
first=$(head -1 "$O/paths.txt")
curl -sf "$B$first" | grep -q '"features":\[{' || { echo "bench/serve.sh: $first gave no result" >&2; exit 1; }

wrk -t 2 -c "$CONNS" -d "${SECS}s" --latency -s "$O/search.lua" "$B" >"$O/wrk.txt"
# the batch endpoint: one upload of CSV_ROWS queries
/usr/bin/python3 bench/gen_geocode_queries.py "$IN" "$CSV_ROWS" "$O/batch.csv"
csv_s=$(curl -s -o "$O/batch_out.csv" -w '%{time_total}' -F data=@"$O/batch.csv" -F columns=adresse \
  -F postcode=postcode -F columns=city "$B/search/csv")
csv_in=$(($(wc -l < "$O/batch.csv") - 1)); csv_out=$(($(wc -l < "$O/batch_out.csv") - 1))
hwm=$(awk '/^VmHWM:/ {print int($2 / 1024)}' /proc/$pid/status)
kill -TERM $pid; wait $pid; rc=$?
trap - EXIT

rows=$(($(wc -l < "$IN") - 1))
rps=$(awk '/^Requests\/sec:/ {print $2}' "$O/wrk.txt")
p50=$(awk '$1 == "50%" {print $2}' "$O/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$O/wrk.txt")
total=$(awk '/requests in/ {print $1}' "$O/wrk.txt")
non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$O/wrk.txt"); non2xx=${non2xx:-0}
sockerr=$(awk '/Socket errors:/ {print $0}' "$O/wrk.txt")
printf "%-60s %s\n" "geoflux serve /search ($rows addresses, $CONNS connections, ${SECS} s, $THREADS server threads)" ""
printf "  %-30s %s\n" "requests" "$total" "requests/s" "$rps" "latency p50" "$p50" "latency p99" "$p99" \
  "non-2xx answers" "$non2xx" "socket errors" "${sockerr:-none}"
printf "%-60s %s\n" "geoflux serve /search/csv ($csv_in rows, one upload)" ""
printf "  %-30s %s\n" "seconds" "$csv_s" "rows/s" "$(echo "$csv_in / $csv_s" | bc -l | xargs printf '%.0f')" \
  "rows out" "$csv_out" "server peak RSS (MB)" "$hwm" "server exit on SIGTERM" "$rc"
[ "$non2xx" = 0 ] && [ -z "$sockerr" ] || { echo "!!! errors under load (see $O/wrk.txt)"; exit 1; }
[ "$csv_out" = "$csv_in" ] && [ "$rc" = 0 ] || { echo "!!! /search/csv: $csv_out rows out of $csv_in, or exit $rc"; exit 1; }
