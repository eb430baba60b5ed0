#!/usr/bin/env bash
# Replay output does not depend on the number of processing threads: a
# generated month replayed as 4 partitions on 1, 2 and 3 threads, and as one
# stream on 1 and 2 threads, gives byte-identical JSON lines (alerts and
# profiles) and the same summary. (`run` with threads: tests/integration/test_fault_*.sh.)
set -euo pipefail
cd "$(dirname "$0")/../.."
CXSTREAM=${CXSTREAM:-build/cxstream}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "replay_threads: FAIL: $*"; exit 1; }

build/cxstream-gen --customers 2000 --days 20 --seed 5 -o "$work/events.avro" 2>/dev/null
for threads in 1 2 3; do
  "$CXSTREAM" replay --input-file "$work/events.avro" --partitions 4 --out "$work/p4-$threads.jsonl" \
    -X num.stream.threads=$threads -X profiles.consent.default=true 2> "$work/p4-$threads.log"
  grep -v " s, " "$work/p4-$threads.log" > "$work/p4-$threads.summary"
done
for threads in 1 2; do
  "$CXSTREAM" replay --input-file "$work/events.avro" --out "$work/one-$threads.jsonl" \
    -X num.stream.threads=$threads 2>/dev/null
done
alerts=$(grep -c '"type":"alert"' "$work/p4-1.jsonl")
profiles=$(grep -c '"type":"profile"' "$work/p4-1.jsonl")
[ "$alerts" -gt 1000 ] && [ "$profiles" -gt 1000 ] || fail "too little output to compare ($alerts alerts, $profiles profiles)"
cmp "$work/p4-1.jsonl" "$work/p4-2.jsonl" || fail "2 threads differ from 1"
cmp "$work/p4-1.jsonl" "$work/p4-3.jsonl" || fail "3 threads differ from 1"
cmp "$work/p4-1.summary" "$work/p4-3.summary" || fail "summaries differ"
cmp "$work/one-1.jsonl" "$work/one-2.jsonl" || fail "one stream on 2 threads differs"
echo "replay_threads: PASS: $alerts alerts and $profiles profiles byte-identical on 1, 2 and 3 threads"
