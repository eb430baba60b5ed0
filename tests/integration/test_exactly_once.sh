#!/usr/bin/env bash
# processing.guarantee=exactly_once under kill -9: a journey set goes through
# `cxstream run`, which is killed with SIGKILL at several moments while it
# works and restarted each time; a read_committed reader of the alerts topic
# must then see exactly the alerts an independent reference computes (the
# three exact rules): nothing missing, nothing twice. The state comes back
# from the changelog, which commits in the same transactions as the outputs
# and the offsets.
set -euo pipefail
cd "$(dirname "$0")/../.."

source tests/integration/lib.sh
KILLS=${CX_EOS_KILLS:-6}
prefix="it-eos-$$-$(date +%s)"
pid=""
deploy/kafka-local.sh create-topic "$prefix.interactions:2" "$prefix.alerts:1" "$prefix.dlq:1" \
  "$prefix.late:1" "$prefix.profiles:1:compact"
build/cxstream-gen --customers 3000 --days 4 --seed 31 -o "$work/events.avro"
"$CXSTREAM" produce --input-file "$work/events.avro" --topic "$prefix.interactions" \
  -X kafka.bootstrap.servers="$BOOTSTRAP"
cx_write_conf exactly_once 100

kills=0
for i in $(seq "$KILLS"); do
  "$CXSTREAM" run -c "$work/cxstream.conf" 2>> "$work/run.log" &
  pid=$!
  # let it get going (join, restore, a few transactions), then kill it mid-work
  sleep "$(python3 -c "import random; random.seed($i); print(round(1.5 + random.random() * 2, 2))")"
  kill -9 "$pid" 2>/dev/null && kills=$((kills + 1)) || true
  wait "$pid" 2>/dev/null || true
  pid=""
done
"$CXSTREAM" run -c "$work/cxstream.conf" 2>> "$work/run.log" &
pid=$!
python3 tests/integration/run_check.py wait "$BOOTSTRAP" "$prefix" "$prefix.interactions" 180 \
  || { tail -30 "$work/run.log"; exit 1; }
kill -TERM "$pid"; wait "$pid"; pid=""
grep -q "commit_transaction\|send_offsets_to_transaction" "$work/run.log" \
  && { grep -E "ERROR" "$work/run.log" | tail -5; }
python3 tests/integration/run_check.py verify-exact "$BOOTSTRAP" "$prefix" schemas \
  "$work/events.avro" "$kills"
