#!/usr/bin/env bash
# Integration test of `cxstream run` against a real Apache Kafka broker
# (deploy/kafka-local.sh): generated journeys plus hostile messages go into a
# 3-partition topic; cxstream consumes them as a group member; the alerts
# topic must hold exactly the alerts an independent reference computes, the
# dead-letter topic every hostile message with its reason and original
# headers, the late topic the one late event. Then SIGHUP: a bad config is
# refused and the job goes on; a good one disabling long_wait takes effect
# for a second batch of events. SIGTERM must commit and exit 0.
set -euo pipefail
cd "$(dirname "$0")/../.."

source tests/integration/lib.sh
prefix="it-run-$$-$(date +%s)"
pid=""
deploy/kafka-local.sh create-topic "$prefix.interactions:3" "$prefix.alerts:1" \
  "$prefix.dlq:1" "$prefix.late:1" "$prefix.profiles:1:compact"

build/cxstream-gen --customers 1500 --days 3 --seed 11 -o "$work/events.avro"
"$CXSTREAM" produce --input-file "$work/events.avro" --topic "$prefix.interactions" \
  -X kafka.bootstrap.servers="$BOOTSTRAP"
python3 tests/integration/run_check.py seed-bad "$BOOTSTRAP" "$prefix.interactions" schemas

cx_write_conf at_least_once 500 profiles.consent.default=true
"$CXSTREAM" run -c "$work/cxstream.conf" 2>"$work/run.log" &
pid=$!

python3 tests/integration/run_check.py wait "$BOOTSTRAP" "$prefix" "$prefix.interactions" 120 \
  || { tail -30 "$work/run.log"; exit 1; }

# SIGHUP with a broken file: refused, the job keeps its rules and runs on.
cp "$work/cxstream.conf" "$work/good.conf"
echo "rules.long_wait.window=24x" >> "$work/cxstream.conf"
kill -HUP "$pid"
for _ in $(seq 50); do grep -q "reload rejected" "$work/run.log" && break; sleep 0.2; done
grep -q "reload rejected.*rules.long_wait.window" "$work/run.log" \
  || { echo "a bad config on SIGHUP was not refused"; tail "$work/run.log"; exit 1; }
kill -0 "$pid" || { echo "cxstream died on a bad SIGHUP"; exit 1; }
# SIGHUP with a good file disabling long_wait, then more events 60 days later.
{ cat "$work/good.conf"; echo "rules.long_wait.enabled=false"; } > "$work/cxstream.conf"
kill -HUP "$pid"
for _ in $(seq 50); do grep -q "rules reloaded" "$work/run.log" && break; sleep 0.2; done
grep -q "rules reloaded" "$work/run.log" || { echo "SIGHUP did not reload"; exit 1; }
build/cxstream-gen --customers 1500 --days 2 --seed 12 --start 2026-03-10 -o "$work/events2.avro"
"$CXSTREAM" produce --input-file "$work/events2.avro" --topic "$prefix.interactions" \
  -X kafka.bootstrap.servers="$BOOTSTRAP"
python3 tests/integration/run_check.py wait "$BOOTSTRAP" "$prefix" "$prefix.interactions" 120 \
  || { tail -30 "$work/run.log"; exit 1; }
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=""
if [ "$rc" -ne 0 ]; then
  echo "cxstream run exited $rc after SIGTERM (expected 0)"; tail -30 "$work/run.log"; exit 1
fi
grep -q "dead letter" "$work/run.log" || { echo "dead letters were not logged"; exit 1; }
python3 tests/integration/run_check.py verify "$BOOTSTRAP" "$prefix" "$work/events.avro" schemas \
  "$work/events2.avro" long_wait
