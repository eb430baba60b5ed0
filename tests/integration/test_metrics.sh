#!/usr/bin/env bash
# /metrics, /healthz and /readyz of `cxstream run` against the real broker,
# with two processing threads: every consumed message is counted exactly once
# in cxstream_events_total (per partition it equals the partition's end
# offset), dead letters by reason and late events are what was sent, alerts
# and profiles equal what is on their topics, and state, lag and latency are
# there. A restart restores the state: /readyz is 503 until every
# partition's state is restored, and 200 after (what it says while a restore
# is open, "restoring state", is tests/test_metrics.c's: a restore of these
# records takes ~25 ms a partition, too short to be caught reliably here).
set -euo pipefail
cd "$(dirname "$0")/../.."

source tests/integration/lib.sh
prefix="it-metrics-$$-$(date +%s)"
run_pid=""
deploy/kafka-local.sh create-topic "$prefix.interactions:3" "$prefix.alerts:1" "$prefix.dlq:1" \
  "$prefix.late:1" "$prefix.profiles:1:compact" >/dev/null

build/cxstream-gen --customers 30000 --days 2 --seed 41 --start 2026-01-05 -o "$work/a.avro" 2>/dev/null
cat > "$work/run.conf" <<CONF
application.id=$prefix
input.topics=$prefix.interactions
output.alerts.topic=$prefix.alerts
output.dlq.topic=$prefix.dlq
output.late.topic=$prefix.late
output.profiles.topic=$prefix.profiles
profiles.consent.default=true
num.stream.threads=2
metrics.listen=127.0.0.1:0
kafka.bootstrap.servers=$BOOTSTRAP
kafka.statistics.interval.ms=500
kafka.session.timeout.ms=6000
CONF
"$CXSTREAM" produce --input-file "$work/a.avro" --topic "$prefix.interactions" \
  -X kafka.bootstrap.servers="$BOOTSTRAP" 2>/dev/null
python3 tests/integration/run_check.py seed-bad "$BOOTSTRAP" "$prefix.interactions" schemas

# The port comes from the log line of the endpoint (metrics.listen port 0).
port_of() {
  local log=$1 port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/.*serving \/metrics, \/healthz and \/readyz on .* (port \([0-9]*\)).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { cat "$log"; echo "no endpoint port in the log"; exit 1; }
  echo "$port"
}

"$CXSTREAM" run -c "$work/run.conf" 2> "$work/run1.log" &
run_pid=$!
port=$(port_of "$work/run1.log")
python3 tests/integration/run_check.py wait "$BOOTSTRAP" "$prefix" "$prefix.interactions" 180 \
  || { tail -20 "$work/run1.log"; exit 1; }
# Scraped once steady: a statistics interval or two for the lag, and every
# partition assigned (a thread that joins after the input was done moves a
# partition: an ASan run was scraped in that rebalance, 2 of 3 assigned).
sleep 1
for _ in $(seq 60); do
  curl -sf "http://127.0.0.1:$port/metrics" > "$work/metrics1.txt" || true
  steady=$(awk -v topic="topic=\"$prefix.interactions\"" '
    /^cxstream_partitions_assigned/ { assigned += $2 }
    /^cxstream_consumer_lag\{/ && index($0, topic) { lags++; lag += $2 }
    END { print (assigned == 3 && lags == 3 && lag == 0) ? "yes" : "no" }' "$work/metrics1.txt")
  [ "$steady" = yes ] && break
  sleep 0.5
done
healthz=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
readyz=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")
kill -TERM "$run_pid"; wait "$run_pid"; run_pid=""
for family in $(awk '/^# TYPE/ {print $3}' "$work/metrics1.txt"); do
  grep -qF "| \`$family\` |" README.md || { echo "README does not document $family"; exit 1; }
done
[ "$healthz" = 200 ] && [ "$readyz" = 200 ] || { echo "healthz $healthz, readyz $readyz while consuming"; exit 1; }

alerts=$(kcat -b "$BOOTSTRAP" -C -t "$prefix.alerts" -e -q -f '%k\n' | grep -c . || true)
profiles=$(kcat -b "$BOOTSTRAP" -C -t "$prefix.profiles" -e -q -f '%k\n' | grep -c . || true)
python3 - "$work/metrics1.txt" "$BOOTSTRAP" "$prefix.interactions" "$alerts" "$profiles" <<'PY'
import re, sys
from confluent_kafka import Consumer, TopicPartition
path, bootstrap, topic, alerts, profiles = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
series = {}
for line in open(path):
    if line.startswith("#") or not line.strip():
        continue
    m = re.match(r'^([a-z_]+)(\{(.*)\})? (\S+)$', line.strip())
    assert m, line
    labels = dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
    series.setdefault(m.group(1), []).append((labels, float(m.group(4))))
def total(name, **match):
    return sum(v for l, v in series.get(name, []) if all(l.get(k) == w for k, w in match.items()))
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "metrics-check"})
md = c.list_topics(topic, timeout=10)
ends = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in md.topics[topic].partitions}
c.close()
problems = []
for p, end in ends.items():
    counted = total("cxstream_events_total", topic=topic, partition=str(p))
    if counted != end:
        problems.append(f"partition {p}: {counted} counted, end offset {end}")
# run_check.py seed-bad: six hostile messages and one late event.
want = {"bad_magic_byte": 1, "malformed_avro": 2, "unknown_schema_id": 1, "missing_customer_id": 1, "bad_timestamp": 1}
for reason, n in want.items():
    if total("cxstream_dead_letters_total", reason=reason) != n:
        problems.append(f"dead letters {reason}: {total('cxstream_dead_letters_total', reason=reason)}, want {n}")
if total("cxstream_events_total", channel="undecodable") != 6:
    problems.append("undecodable events: %s, want 6" % total("cxstream_events_total", channel="undecodable"))
if total("cxstream_late_events_total") != 1:
    problems.append(f"late events: {total('cxstream_late_events_total')}, want 1")
if total("cxstream_alerts_total") != alerts or alerts == 0:
    problems.append(f"alerts: {total('cxstream_alerts_total')} counted, {alerts} on the topic")
if total("cxstream_profiles_total") != profiles or profiles == 0:
    problems.append(f"profiles: {total('cxstream_profiles_total')} counted, {profiles} on the topic")
if total("cxstream_state_customers") <= 0 or total("cxstream_state_bytes") <= 0:
    problems.append("no state gauges")
lags = [(l, v) for l, v in series.get("cxstream_consumer_lag", []) if l.get("topic") == topic]
if sorted(int(l["partition"]) for l, _ in lags) != sorted(ends) or any(v != 0 for _, v in lags):
    problems.append(f"consumer lag after everything was committed: {lags}")
for h in ("cxstream_event_latency_seconds_count", "cxstream_commit_latency_seconds_count",
          "cxstream_processing_latency_seconds_count"):
    if total(h) <= 0:
        problems.append(f"{h} is 0")
if total("cxstream_rebalances_total", type="assign") < 2:
    problems.append("fewer assignments than threads")
if total("cxstream_partitions_assigned") != len(ends):
    problems.append(f"partitions assigned: {total('cxstream_partitions_assigned')}")
if problems:
    sys.exit("\n".join(problems))
print(f"metrics: {sum(ends.values())} messages counted once over {len(ends)} partitions, "
      f"{alerts} alerts, {profiles} profiles, 6 dead letters, 1 late")
PY

# Restart: poll /readyz from before the process starts (a port chosen
# here, the poller already knocking): it must be 503 before it is 200, and
# when it first says 200, every partition's restore must be logged (a
# thread's restores end, and are logged, before its assignment counts as
# done). Started after the process, the poller once saw 200 first: a clean
# rejoin and ~25 ms restores can be done before Python is.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
python3 - "$port" "$work/run2.log" "$prefix.interactions" 3 "$work/polling" <<'PY' &
import os, re, sys, time, urllib.request, urllib.error
port, log, topic, partitions, polling = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
seen = []
restored_at_ready = None
deadline = time.time() + 60
while time.time() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            state = (r.status, r.read().decode().strip())
    except urllib.error.HTTPError as e:
        state = (e.code, e.read().decode().strip())
    except (urllib.error.URLError, ConnectionError):
        state = None  # not listening yet
    if not os.path.exists(polling):
        open(polling, "w").close()  # knocking: the process may start
    if state and (not seen or seen[-1] != state):
        seen.append(state)
    if state and state[0] == 200:
        restored_at_ready = {int(p) for p in re.findall(
            r"restored " + re.escape(topic) + r" \[(\d+)\]", open(log).read())}
        break
    time.sleep(0.002)
print("readyz:", seen); print([l[:200] for l in open(log) if "restored" in l])
assert seen and seen[0][0] == 503, f"/readyz was not 503 first: {seen}"
assert seen[-1][0] == 200, f"/readyz never became ready: {seen}"
assert restored_at_ready == set(range(partitions)), \
    f"/readyz said ok with the restores of partitions {sorted(restored_at_ready)} logged, " \
    f"not all {partitions}: {seen}"
PY
poller=$!
for _ in $(seq 200); do [ -e "$work/polling" ] && break; sleep 0.05; done
"$CXSTREAM" run -c "$work/run.conf" -X metrics.listen="127.0.0.1:$port" 2> "$work/run2.log" &
run_pid=$!
wait "$poller"
restored=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^cxstream_restore_records_total/ {s += $2} END {print s + 0}')
kill -TERM "$run_pid"; wait "$run_pid"; run_pid=""
[ "$restored" -gt 0 ] || { echo "cxstream_restore_records_total is $restored"; exit 1; }
echo "metrics match what was sent; /readyz 503 until $restored state records of every partition were restored, 200 after"
