#!/usr/bin/env bash
# Hostile messages through a real broker (README "Hostile input"): a 1 MB
# customer id, NaN sentiment, occurred_at at INT64_MIN and INT64_MAX, 20,000
# tiny attributes and a 1,045,000-byte message (over input.message.max.bytes=
# 1040000) are produced with a valid event and a valid event keyed by 1 MB; a
# 2 MB message must be refused by the broker itself. `cxstream replay --topic`
# must name each dead letter with its reason, in order, and process the two
# valid events (the Kafka key is never parsed). (A 100 MB message cannot
# reach cxstream through a broker with default limits; the codec's handling
# of one is tested in tests/test_adversarial.c.)
set -euo pipefail
cd "$(dirname "$0")/../.."

source tests/integration/lib.sh
topic="it-hostile-$$-$(date +%s)"
deploy/kafka-local.sh create-topic "$topic:1" >/dev/null

python3 tests/integration/hostile_messages.py "$BOOTSTRAP" "$topic" > "$work/produce.log" \
  || { cat "$work/produce.log"; echo "test_hostile_messages: FAIL: producing"; exit 1; }

"$CXSTREAM" replay --topic "$topic" --out "$work/out.jsonl" \
  -X kafka.bootstrap.servers="$BOOTSTRAP" -X input.message.max.bytes=1040000 \
  2> "$work/replay.log" || { tail "$work/replay.log"; echo "test_hostile_messages: FAIL: replay"; exit 1; }

expected="bad_value: customer_id of 1000000 bytes exceeds input.max.id.bytes=4096
bad_value: sentiment is not a number from -1 to 1
bad_timestamp: occurred_at -9223372036854775808 is before 1970
bad_timestamp: occurred_at 9223372036854775807 is
limit_exceeded:
message_too_large:"
actual=$(sed -n 's/^cxstream replay: dead letter [^ ]* \[[0-9]*\] offset [0-9]*: //p' "$work/replay.log")
i=0
while IFS= read -r want; do
  i=$((i + 1))
  got=$(sed -n "${i}p" <<<"$actual")
  case "$got" in
    "$want"*) ;;
    *) echo "test_hostile_messages: FAIL: dead letter $i is '${got:0:120}', expected '$want...'"; exit 1 ;;
  esac
done <<<"$expected"
[ "$(wc -l <<<"$actual")" -eq 6 ] || { echo "test_hostile_messages: FAIL: $(wc -l <<<"$actual") dead letters, expected 6"; exit 1; }
grep -q "8 events read, 2 processed, 0 late, 6 dead letters" "$work/replay.log" \
  || { grep "events read" "$work/replay.log"; echo "test_hostile_messages: FAIL: summary"; exit 1; }
echo "test_hostile_messages: PASS: 6 hostile messages dead-lettered with their reasons, two valid ones (one keyed by 1 MB) processed, 2 MB refused by the broker"
