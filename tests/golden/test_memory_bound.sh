#!/usr/bin/env bash
# Bounded memory: CX_MEMORY_IDS events (default 2M; make test-memory: 50M),
# each for a different customer and all within one day (so no customer is
# idle long enough to be evicted as idle), are replayed with
# state.max.customers=CX_MEMORY_LIMIT. The replay must evict exactly
# IDS - LIMIT customers and its peak resident memory (/usr/bin/time) must stay
# under 32 MiB plus 256 B per customer of the limit (here a customer costs
# about 230 B: a 128-byte record, an 80-byte log of one contact, its recency
# links and table slot; the process itself about 10 MiB); without the bound
# the state would hold every id. With the ASan
# build ($CXSTREAM under build/asan) the run is smaller and only the counts are
# checked: sanitizer memory says nothing about ours. Run from the repository
# root after `make`. Exits 0 on pass; the last line gives the figures.
set -euo pipefail
cd "$(dirname "$0")/../.."

cxstream="${CXSTREAM:-build/cxstream}"
asan=0
case "$cxstream" in *asan*) asan=1 ;; esac
if [ "$asan" = 1 ]; then
  ids="${CX_MEMORY_IDS_ASAN:-300000}"; limit="${CX_MEMORY_LIMIT_ASAN:-20000}"
else
  ids="${CX_MEMORY_IDS:-2000000}"; limit="${CX_MEMORY_LIMIT:-100000}"
fi

fail() {
  echo "test_memory_bound: FAIL: $*"
  exit 1
}

[[ -x "$cxstream" ]] || fail "no $cxstream: run make first"
[[ -x /usr/bin/time ]] || fail "no /usr/bin/time (Debian package time; make deps installs it)"
[[ -x build/cx-distinct-ids ]] || make -s build/cx-distinct-ids >/dev/null

tmp="$(mktemp -d "${TMPDIR:-/tmp}/test_memory_bound.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

build/cx-distinct-ids "$ids" "$tmp/ids.avro"
/usr/bin/time -f 'max_rss_kb=%M elapsed_s=%e' -o "$tmp/time.txt" \
  "$cxstream" replay --input-file "$tmp/ids.avro" --out "$tmp/out.jsonl" \
  -X state.max.customers="$limit" 2>"$tmp/replay.err" \
  || { tail -5 "$tmp/replay.err"; fail "replay exited non-zero"; }

processed=$(sed -n 's/^replay: [0-9]* events read, \([0-9]*\) processed.*/\1/p' "$tmp/replay.err")
evicted=$(sed -n 's/^replay: \([0-9]*\) customers evicted at state.max.customers=.*/\1/p' "$tmp/replay.err")
rss_kb=$(sed -n 's/^max_rss_kb=\([0-9]*\).*/\1/p' "$tmp/time.txt")
elapsed=$(sed -n 's/.*elapsed_s=\([0-9.]*\).*/\1/p' "$tmp/time.txt")
[ "$processed" = "$ids" ] || fail "processed $processed events, expected $ids"
[ "$evicted" = $((ids - limit)) ] || fail "evicted $evicted customers, expected $((ids - limit))"

bound_kb=$((32 * 1024 + limit / 4))
figures="$ids distinct ids, state.max.customers=$limit, $evicted evicted, max RSS $((rss_kb / 1024)) MiB, ${elapsed}s"
if [ "$asan" = 1 ]; then
  echo "test_memory_bound (asan, counts only): $figures"
  exit 0
fi
[ "$rss_kb" -lt "$bound_kb" ] || fail "$figures: over the bound of $((bound_kb / 1024)) MiB"
echo "test_memory_bound: $figures (bound $((bound_kb / 1024)) MiB)"
