#!/usr/bin/env bash
# Every Kafka client cxstream creates authenticates with what kafka.* says:
# a second local broker (deploy/kafka-local.sh with KAFKA_SASL=1) whose client
# port speaks SASL_PLAINTEXT only (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN).
#   produce (producer + admin CreateTopics)      SCRAM-SHA-512
#   run     (consumer, producer, changelog topic
#            creation and, after a restart, the
#            restore consumer)                  SCRAM-SHA-256, password from ${ENV}
#   replay --topic (its own consumer)            PLAIN over TLS (SASL_SSL), the
#                                                broker's certificate signed by
#                                                a CA generated for the test
# The run's alerts must equal the replay's. With a wrong password produce
# and run fail (exit 1) with a clear authentication error, with another CA a clear TLS
# error, and no password ever appears in a log or in `config dump`. The broker is Kafka 3.9 by default: librdkafka
# before 2.6.1 (Debian's is 2.0.2) cannot log in with SCRAM to Kafka 4.x
# brokers (librdkafka #4895); CX_SASL_KAFKA_VERSION picks another version.
set -euo pipefail
cd "$(dirname "$0")/../.."

source tests/integration/lib.sh
prefix="it-sasl-$$-$(date +%s)"
sasl_dir="$work/kafka-sasl"
# A free port with three free neighbours (controller +1, plaintext +2, TLS +3).
for _ in $(seq 50); do
  sasl_port=$((19200 + RANDOM % 600))
  ss -ltn | grep -qE ":($sasl_port|$((sasl_port + 1))|$((sasl_port + 2))|$((sasl_port + 3))) " || break
done
plain="127.0.0.1:$((sasl_port + 2))"
sasl="127.0.0.1:$sasl_port"
tls="127.0.0.1:$((sasl_port + 3))"
run_pid=""

# A test CA, the broker's certificate for 127.0.0.1 signed by it (PKCS12 for
# the broker), and another CA that must not be trusted.
mkdir -p "$work/tls"
(cd "$work/tls"
 openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj "/CN=cxstream test CA"
 openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=127.0.0.1"
 printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
 openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out broker.pem -days 1 -extfile san.ext
 openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -out broker.p12 -passout pass:keystore-pw-7
 openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other-ca.pem -days 1 -subj "/CN=other CA"
) >/dev/null 2>&1
sasl_env=(env KAFKA_SASL=1 KAFKA_PORT="$sasl_port" KAFKA_INSTANCE_DIR="$sasl_dir"
          KAFKA_TLS_KEYSTORE="$work/tls/broker.p12" KAFKA_TLS_PASSWORD=keystore-pw-7
          KAFKA_VERSION="${CX_SASL_KAFKA_VERSION:-3.9.1}" KAFKA_HEAP_OPTS="-Xms128m -Xmx512m")
sasl_cleanup() {
  if [ -n "$run_pid" ]; then kill -9 "$run_pid" 2>/dev/null || true; fi
  "${sasl_env[@]}" deploy/kafka-local.sh stop >/dev/null 2>&1 || true
  cx_cleanup
}
trap sasl_cleanup EXIT
"${sasl_env[@]}" deploy/kafka-local.sh start

export CX_TEST_SASL_PASSWORD=cxstream-secret
common() {  # mechanism [tls] -> the kafka.* lines of a config file
  if [ "${2:-}" = tls ]; then
    printf 'kafka.bootstrap.servers=%s\nkafka.security.protocol=SASL_SSL\n' "$tls"
    printf 'kafka.ssl.ca.location=%s\n' "$work/tls/ca.pem"
  else
    printf 'kafka.bootstrap.servers=%s\nkafka.security.protocol=SASL_PLAINTEXT\n' "$sasl"
  fi
  cat <<CONF
kafka.sasl.mechanism=$1
kafka.sasl.username=cxstream
kafka.sasl.password=\${CX_TEST_SASL_PASSWORD}
CONF
}
{
  cat <<CONF
application.id=$prefix
input.topics=$prefix.interactions
output.alerts.topic=$prefix.alerts
output.dlq.topic=$prefix.dlq
output.late.topic=$prefix.late
output.profiles.topic=$prefix.profiles
processing.batch.size=500
metrics.listen=127.0.0.1:0
kafka.session.timeout.ms=6000
CONF
  common SCRAM-SHA-256
} > "$work/run.conf"
common SCRAM-SHA-512 > "$work/produce.conf"
{ echo "application.id=$prefix-replay"; common PLAIN tls; } > "$work/replay.conf"

# Outputs exist beforehand (created over the plaintext admin port); the
# input topic and the changelog are created by cxstream over SASL.
KAFKA_PORT=$((sasl_port + 2)) KAFKA_INSTANCE_DIR="$sasl_dir" deploy/kafka-local.sh create-topic \
  "$prefix.alerts:1" "$prefix.dlq:1" "$prefix.late:1" "$prefix.profiles:1:compact" >/dev/null

build/cxstream-gen --customers 400 --days 2 --seed 31 --start 2026-01-05 -o "$work/a.avro" 2>/dev/null
build/cxstream-gen --customers 400 --days 1 --seed 32 --start 2026-01-07 -o "$work/b.avro" 2>/dev/null

"$CXSTREAM" produce -c "$work/produce.conf" --input-file "$work/a.avro" \
  --topic "$prefix.interactions" --partitions 2 2> "$work/produce.log" \
  || { tail -5 "$work/produce.log"; echo "produce over SCRAM-SHA-512 failed"; exit 1; }

"$CXSTREAM" run -c "$work/run.conf" 2> "$work/run1.log" &
run_pid=$!
python3 tests/integration/run_check.py wait "$plain" "$prefix" "$prefix.interactions" 120 \
  || { tail -20 "$work/run1.log"; echo "run over SCRAM-SHA-256 did not commit"; exit 1; }
kill -TERM "$run_pid"; wait "$run_pid"; run_pid=""

# A restart restores the state over SASL, then takes the third day.
"$CXSTREAM" produce -c "$work/produce.conf" --input-file "$work/b.avro" \
  --topic "$prefix.interactions" 2>> "$work/produce.log"
"$CXSTREAM" run -c "$work/run.conf" 2> "$work/run2.log" &
run_pid=$!
python3 tests/integration/run_check.py wait "$plain" "$prefix" "$prefix.interactions" 120 \
  || { tail -20 "$work/run2.log"; echo "the restarted run did not commit"; exit 1; }
kill -TERM "$run_pid"; wait "$run_pid"; run_pid=""
grep -q "restored .* [1-9][0-9]* state record" "$work/run2.log" \
  || { grep restored "$work/run2.log" || true; echo "no state was restored over SASL"; exit 1; }

"$CXSTREAM" replay -c "$work/replay.conf" --topic "$prefix.interactions" \
  --out "$work/replay.jsonl" 2> "$work/replay.log" \
  || { tail -5 "$work/replay.log"; echo "replay over PLAIN and TLS failed"; exit 1; }
replayed=$(grep -c '"type":"alert"' "$work/replay.jsonl" || true)
written=$(kcat -b "$plain" -C -t "$prefix.alerts" -e -q -f '%k\n' | grep -c . || true)
[ "$replayed" -gt 0 ] && [ "$replayed" = "$written" ] \
  || { echo "run wrote $written alerts over SASL, the replay found $replayed"; exit 1; }

# A wrong password: a clear error, exit 1, the password nowhere.
CX_TEST_SASL_PASSWORD=wrong-password-9 timeout 90 "$CXSTREAM" produce -c "$work/produce.conf" \
  --input-file "$work/a.avro" --topic "$prefix.other" --partitions 1 2> "$work/wrong.log" \
  && { echo "produce with a wrong password succeeded"; exit 1; }
grep -q "Kafka authentication failed" "$work/wrong.log" \
  && grep -q "invalid credentials with SASL mechanism SCRAM-SHA-512" "$work/wrong.log" \
  || { tail -5 "$work/wrong.log"; echo "no clear authentication error"; exit 1; }

# run with a wrong password: not ready while it tries, then exit 1 with the
# error once and what to check (the changelog's metadata cannot be read).
CX_TEST_SASL_PASSWORD=wrong-password-9 timeout 90 "$CXSTREAM" run -c "$work/run.conf" \
  -X application.id="$prefix-wrong" 2> "$work/wrong-run.log" &
run_pid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -n 's/.*serving \/metrics, \/healthz and \/readyz on .* (port \([0-9]*\)).*/\1/p' "$work/wrong-run.log")
  [ -n "$port" ] && break
  sleep 0.05
done
readyz=$(curl -s "http://127.0.0.1:$port/readyz" || true)
rc=0; wait "$run_pid" || rc=$?; run_pid=""
[ "$rc" = 1 ] || { tail -5 "$work/wrong-run.log"; echo "run with a wrong password exited $rc, expected 1"; exit 1; }
grep -q "Kafka authentication failed.*check kafka.security.protocol" "$work/wrong-run.log" \
  || { tail -5 "$work/wrong-run.log"; echo "run: no clear authentication error"; exit 1; }
[ "$(grep -c "Kafka authentication failed" "$work/wrong-run.log")" = 1 ] \
  || { echo "run: the authentication error was not logged once"; exit 1; }
case "$readyz" in "not ok: waiting for the first partition assignment"*) ;;
  *) echo "run with a wrong password: /readyz said '$readyz'"; exit 1 ;; esac

# Another CA: the broker's certificate is refused, clearly.
timeout 90 "$CXSTREAM" produce -c "$work/replay.conf" -X kafka.ssl.ca.location="$work/tls/other-ca.pem" \
  --input-file "$work/a.avro" --topic "$prefix.other" --partitions 1 2> "$work/wrong-ca.log" \
  && { echo "produce trusting another CA succeeded"; exit 1; }
grep -q "certificate verify failed" "$work/wrong-ca.log" \
  || { tail -5 "$work/wrong-ca.log"; echo "no clear TLS error"; exit 1; }

"$CXSTREAM" config dump -c "$work/run.conf" > "$work/dump.txt"
grep -q "^kafka.sasl.password=\*\*\*\*\*\*\*\*$" "$work/dump.txt" || { echo "dump does not mask"; exit 1; }
for secret in cxstream-secret wrong-password-9; do
  if grep -l -- "$secret" "$work"/*.log "$work/dump.txt"; then
    echo "the password $secret appears in the files above"; exit 1
  fi
done
echo "SASL: produce (SCRAM-SHA-512), run + restore (SCRAM-SHA-256), replay (PLAIN over TLS, test CA): $written alerts both ways; wrong password and wrong CA refused clearly; no secret in logs or dump"
