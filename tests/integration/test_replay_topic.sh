#!/usr/bin/env bash
# Integration test of `cxstream replay --topic` against a real Apache Kafka
# broker (deploy/kafka-local.sh): January of the bank data goes into a
# 4-partition topic (produce --partitions 4); a replay of 1999-01-10 ..
# 1999-01-20 from the topic must give the same alert lines as the same range
# replayed from the file, and the same bytes as the file replayed with
# --partitions 4 (whole month too); two topic replays with different
# processing.batch.size must give the same bytes; a production group's
# committed offsets on the topic must not move; a prefix that names a
# production topic (or an empty one) must be refused; --out-topic-prefix
# writes the alerts to P + output.alerts.topic.
set -euo pipefail
cd "$(dirname "$0")/../.."

source tests/integration/lib.sh
prefix="it-replay-$$-$(date +%s)"
topic="$prefix.interactions"
group="prod-$$"
X=(-X kafka.bootstrap.servers="$BOOTSTRAP" -X application.id="$prefix"
   -X input.topics="$topic" -X output.alerts.topic="$prefix.alerts"
   -X output.profiles.topic="$prefix.profiles" -X output.dlq.topic="$prefix.dlq"
   -X output.late.topic="$prefix.late" -X profiles.consent.default=true)

"$CXSTREAM" import anonbank ../shared/data/anonbank/01_January.txt -o "$work/jan.avro"
"$CXSTREAM" produce --input-file "$work/jan.avro" --topic "$topic" --partitions 4 "${X[@]}"
partitions=$(kcat -b "$BOOTSTRAP" -L -t "$topic" | grep -c "partition [0-9]")
[ "$partitions" = 4 ] || { echo "produce --partitions 4 made $partitions partition(s)"; exit 1; }

# A production group with committed offsets on the topic.
python3 - "$BOOTSTRAP" "$topic" "$group" commit > "$work/offsets-before" <<'PY'
import sys
from confluent_kafka import Consumer, TopicPartition
bootstrap, topic, group, action = sys.argv[1:5]
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
parts = [TopicPartition(topic, p) for p in range(4)]
if action == "commit":
    c.commit(offsets=[TopicPartition(topic, p, 100 + 10 * p) for p in range(4)], asynchronous=False)
for tp in c.committed(parts, timeout=10):
    print(tp.partition, tp.offset)
c.close()
PY
[ "$(wc -l < "$work/offsets-before")" = 4 ] || { echo "could not commit the production offsets"; exit 1; }

range=(--from 1999-01-10 --to 1999-01-20)
"$CXSTREAM" replay --input-file "$work/jan.avro" "${range[@]}" --out "$work/file.jsonl" "${X[@]}"
"$CXSTREAM" replay --topic "$topic" "${range[@]}" --out "$work/topic-a.jsonl" "${X[@]}" \
  -X processing.batch.size=7 2> "$work/replay-a.log"
"$CXSTREAM" replay --topic "$topic" "${range[@]}" --out "$work/topic-b.jsonl" "${X[@]}" \
  -X processing.batch.size=100000 2> "$work/replay-b.log"
cat "$work/replay-a.log"

alerts=$(grep -c '"type":"alert"' "$work/file.jsonl")
[ "$alerts" -gt 100 ] || { echo "only $alerts alerts in the range from the file"; exit 1; }
cmp <(grep '"type":"alert"' "$work/file.jsonl" | sort) \
    <(grep '"type":"alert"' "$work/topic-a.jsonl" | sort) \
  || { echo "topic replay and file replay differ in their alerts"; exit 1; }
cmp <(sort "$work/file.jsonl") <(sort "$work/topic-a.jsonl") \
  || { echo "topic replay and file replay differ in their profiles"; exit 1; }
cmp "$work/topic-a.jsonl" "$work/topic-b.jsonl" \
  || { echo "topic replays with batch sizes 7 and 100000 differ"; exit 1; }
"$CXSTREAM" replay --topic "$topic" "${range[@]}" --out "$work/topic-t3.jsonl" "${X[@]}" \
  -X num.stream.threads=3 2>/dev/null
cmp "$work/topic-a.jsonl" "$work/topic-t3.jsonl" \
  || { echo "topic replays on 1 and 3 threads differ"; exit 1; }
"$CXSTREAM" replay --input-file "$work/jan.avro" "${range[@]}" --partitions 4 \
  --out "$work/file-p4.jsonl" "${X[@]}" 2>/dev/null
cmp "$work/file-p4.jsonl" "$work/topic-a.jsonl" \
  || { echo "file replay --partitions 4 and topic replay are not byte-identical"; exit 1; }
grep -q "replay: $alerts alerts" "$work/replay-a.log" || { echo "summary lacks the alerts"; exit 1; }
if grep -q $'\r' "$work/replay-a.log"; then echo "progress line printed although stderr is a file"; exit 1; fi

# --from-offsets: from offset 0 of every partition is the whole topic.
"$CXSTREAM" replay --topic "$topic" --from-offsets 0:0,1:0,2:0,3:0 --out "$work/all.jsonl" \
  "${X[@]}" 2> "$work/replay-all.log"
grep -q "replay: 13200 events read, 13200 processed" "$work/replay-all.log" \
  || { cat "$work/replay-all.log"; echo "--from-offsets 0:0,... did not read all 13200 events"; exit 1; }
"$CXSTREAM" replay --input-file "$work/jan.avro" --partitions 4 --out "$work/file-all.jsonl" \
  "${X[@]}" 2>/dev/null
cmp "$work/file-all.jsonl" "$work/all.jsonl" \
  || { echo "the whole month: file replay --partitions 4 and topic replay differ"; exit 1; }
rc=0; "$CXSTREAM" replay --topic "$topic" --from-offsets 9:0 --out "$work/x.jsonl" "${X[@]}" \
  2> "$work/bad-spec.log" || rc=$?
[ "$rc" = 2 ] && grep -q "has no partition 9" "$work/bad-spec.log" \
  || { cat "$work/bad-spec.log"; echo "--from-offsets 9:0 was not refused (exit $rc)"; exit 1; }

# Prefixes that give production names are refused, naming the flag.
rc=0; "$CXSTREAM" replay --topic "$topic" --out-topic-prefix "" "${X[@]}" 2> "$work/empty.log" || rc=$?
[ "$rc" = 2 ] && grep -q -- "--write-production-topics" "$work/empty.log" \
  || { cat "$work/empty.log"; echo "an empty prefix was not refused (exit $rc)"; exit 1; }
rc=0; "$CXSTREAM" replay --topic "$topic" --out-topic-prefix "$prefix." "${X[@]}" \
  -X output.alerts.topic=alerts -X output.profiles.topic=profiles -X output.dlq.topic="$prefix.dlq" \
  -X output.late.topic="$prefix.alerts" 2> "$work/prod.log" || rc=$?
[ "$rc" = 2 ] && grep -q "production topic" "$work/prod.log" \
  || { cat "$work/prod.log"; echo "a prefix giving a production name was not refused (exit $rc)"; exit 1; }

# To prefixed topics: the alerts topic holds the range's alerts, keyed by customer.
"$CXSTREAM" replay --topic "$topic" "${range[@]}" --out-topic-prefix "replay-$prefix-" "${X[@]}" \
  2> "$work/replay-topics.log"
written=$(kcat -b "$BOOTSTRAP" -C -t "replay-$prefix-$prefix.alerts" -e -q -f '%k\n' | grep -c .)
[ "$written" = "$alerts" ] \
  || { cat "$work/replay-topics.log"; echo "$written alerts on the output topic, expected $alerts"; exit 1; }

python3 - "$BOOTSTRAP" "$topic" "$group" check > "$work/offsets-after" <<'PY'
import sys
from confluent_kafka import Consumer, TopicPartition
bootstrap, topic, group, action = sys.argv[1:5]
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
for tp in c.committed([TopicPartition(topic, p) for p in range(4)], timeout=10):
    print(tp.partition, tp.offset)
c.close()
PY
cmp "$work/offsets-before" "$work/offsets-after" \
  || { echo "the production group's offsets moved"; diff "$work/offsets-before" "$work/offsets-after"; exit 1; }
# A late event (a known customer, a year before the rest) appended to the
# topic goes to P + output.late.topic of a prefixed replay, as in production.
python3 - "$BOOTSTRAP" "$topic" <<'PY'
import io, json, struct, sys
import fastavro
from confluent_kafka import Producer
schema = fastavro.parse_schema(json.load(open("schemas/interaction_event.avsc")))
event = {"event_id": "late-1", "customer_id": "53902169", "occurred_at": 883612800000,
         "channel": "PHONE", "type": "CONTACT", "outcome": None, "case_id": None, "topic": None,
         "agent_id": None, "wait_ms": None, "handle_ms": None, "sentiment": None, "csat": None,
         "nps": None, "attributes": {}}
body = io.BytesIO()
fastavro.schemaless_writer(body, schema, event)
producer = Producer({"bootstrap.servers": sys.argv[1], "partitioner": "murmur2_random"})
producer.produce(sys.argv[2], key=b"53902169", value=b"\0" + struct.pack(">i", 1) + body.getvalue(),
                 timestamp=917740800000)  # message time 1999-01-31; occurred_at 1998
assert producer.flush(30) == 0
PY
"$CXSTREAM" replay --topic "$topic" --out-topic-prefix "late-$prefix-" "${X[@]}" \
  2> "$work/replay-late.log"
late=$(kcat -b "$BOOTSTRAP" -C -t "late-$prefix-$prefix.late" -e -q -f '%k\n' | grep -c . || true)
[ "$late" = 1 ] || { cat "$work/replay-late.log"; echo "$late late events on the prefixed late topic, expected 1"; exit 1; }

echo "replay --topic: $alerts alerts as from the file, byte-identical to the file replayed with" \
     "--partitions 4 (range and whole month), same bytes for batch sizes 7 and 100000" \
     "and for 1 and 3 threads," \
     "production offsets unchanged, production prefixes refused, late event on P + late"
