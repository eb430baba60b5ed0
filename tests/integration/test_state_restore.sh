#!/usr/bin/env bash
# State survives a kill -9 (at least once, state.changelog=true): the first
# two days of journeys go through `cxstream run`, which is killed with
# SIGKILL once the group has committed; the next two days are produced and
# a new process of the same group restores each partition's state from
# <application.id>-state before its first event. The alerts of the three
# exact rules must equal an independent reference over all four days,
# including the alerts whose windows and cooldowns span the restart (the
# data must have such alerts, or the test could not fail).
set -euo pipefail
cd "$(dirname "$0")/../.."

source tests/integration/lib.sh
prefix="it-restore-$$-$(date +%s)"
pid=""
deploy/kafka-local.sh create-topic "$prefix.interactions:2" "$prefix.alerts:1" "$prefix.dlq:1" \
  "$prefix.late:1" "$prefix.profiles:1:compact"

build/cxstream-gen --customers 800 --days 2 --seed 21 --start 2026-01-05 -o "$work/a.avro"
build/cxstream-gen --customers 800 --days 2 --seed 22 --start 2026-01-07 -o "$work/b.avro"
cx_write_conf at_least_once 300

"$CXSTREAM" produce --input-file "$work/a.avro" --topic "$prefix.interactions" \
  -X kafka.bootstrap.servers="$BOOTSTRAP"
"$CXSTREAM" run -c "$work/cxstream.conf" 2> "$work/run1.log" &
pid=$!
python3 tests/integration/run_check.py wait "$BOOTSTRAP" "$prefix" "$prefix.interactions" 120 \
  || { tail -20 "$work/run1.log"; exit 1; }
kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=""

"$CXSTREAM" produce --input-file "$work/b.avro" --topic "$prefix.interactions" \
  -X kafka.bootstrap.servers="$BOOTSTRAP"
"$CXSTREAM" run -c "$work/cxstream.conf" 2> "$work/run2.log" &
pid=$!
python3 tests/integration/run_check.py wait "$BOOTSTRAP" "$prefix" "$prefix.interactions" 120 \
  || { tail -20 "$work/run2.log"; exit 1; }
kill -TERM "$pid"; wait "$pid"; pid=""
grep -q "restored .* [1-9][0-9]* state record" "$work/run2.log" \
  || { grep restored "$work/run2.log"; echo "nothing was restored"; exit 1; }
python3 tests/integration/run_check.py verify-restore "$BOOTSTRAP" "$prefix" schemas \
  "$work/a.avro" "$work/b.avro"
