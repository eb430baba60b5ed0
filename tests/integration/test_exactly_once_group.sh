#!/usr/bin/env bash
# Exactly once with three instances in one group on a 6-partition topic:
# every 1.5 s one of them is killed with SIGKILL and started again (the
# partitions move, are restored from the changelog, and zombies are fenced;
# an instance fenced by a rebalance stops and is started again too). A
# read_committed reader must then see exactly the reference's alerts.
set -euo pipefail
cd "$(dirname "$0")/../.."

source tests/integration/lib.sh
KILLS=${CX_EOS_GROUP_KILLS:-10}
prefix="it-eosg-$$-$(date +%s)"
declare -A pids
deploy/kafka-local.sh create-topic "$prefix.interactions:6" "$prefix.alerts:1" "$prefix.dlq:1" \
  "$prefix.late:1" "$prefix.profiles:1:compact"
build/cxstream-gen --customers 3000 --days 4 --seed 33 -o "$work/events.avro"
"$CXSTREAM" produce --input-file "$work/events.avro" --topic "$prefix.interactions" \
  -X kafka.bootstrap.servers="$BOOTSTRAP"
cx_write_conf exactly_once 100
start() {  # instance number
  "$CXSTREAM" run -c "$work/cxstream.conf" -X kafka.transactional.id="$prefix-$1" \
    2>> "$work/run$1.log" &
  pids[$1]=$!
}
for i in 1 2 3; do start "$i"; done
kills=0
for k in $(seq "$KILLS"); do
  sleep 1.5
  i=$(( k % 3 + 1 ))
  kill -9 "${pids[$i]}" 2>/dev/null && kills=$((kills + 1)) || true
  wait "${pids[$i]}" 2>/dev/null || true
  start "$i"
done
for i in 1 2 3; do kill -0 "${pids[$i]}" 2>/dev/null || start "$i"; done
python3 tests/integration/run_check.py wait "$BOOTSTRAP" "$prefix" "$prefix.interactions" 240 \
  || { tail -20 "$work"/run*.log; exit 1; }
for i in 1 2 3; do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
for i in 1 2 3; do wait "${pids[$i]}" 2>/dev/null || true; pids[$i]=""; done
python3 tests/integration/run_check.py verify-exact "$BOOTSTRAP" "$prefix" schemas \
  "$work/events.avro" "$kills (3 instances)"
