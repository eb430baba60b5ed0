# Sourced by the integration tests, from the repository root: the binary
# under test, the broker's address, a work directory, and a broker started
# only when none runs (then stopped on exit). On exit, processes the test
# left running in the background are killed and the work directory removed
# (kept with CX_KEEP_WORK=1, for a look at the logs).
CXSTREAM=${CXSTREAM:-build/cxstream}
BOOTSTRAP=127.0.0.1:${KAFKA_PORT:-9092}
work=$(mktemp -d)
cx_started_broker=0

cx_cleanup() {
  local job
  for job in $(jobs -p); do kill -9 "$job" 2>/dev/null || true; done
  if [ "$cx_started_broker" = 1 ]; then deploy/kafka-local.sh stop >/dev/null 2>&1 || true; fi
  if [ "${CX_KEEP_WORK:-0}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cx_cleanup EXIT

if ! deploy/kafka-local.sh status >/dev/null 2>&1; then
  deploy/kafka-local.sh start
  cx_started_broker=1
fi

# cx_write_conf GUARANTEE BATCH [key=value ...]: $work/cxstream.conf for a
# job on the topics $prefix.{interactions,alerts,dlq,late,profiles}: group
# $prefix, the broker under test, 6 s sessions (quick rebalances after a
# kill), no metrics endpoint (several instances share the host), and the
# extra keys given.
cx_write_conf() {
  local guarantee=$1 batch=$2
  shift 2
  {
    echo "application.id=$prefix"
    echo "input.topics=$prefix.interactions"
    echo "output.alerts.topic=$prefix.alerts"
    echo "output.dlq.topic=$prefix.dlq"
    echo "output.late.topic=$prefix.late"
    echo "output.profiles.topic=$prefix.profiles"
    echo "processing.guarantee=$guarantee"
    echo "processing.batch.size=$batch"
    echo "kafka.bootstrap.servers=$BOOTSTRAP"
    echo "kafka.session.timeout.ms=6000"
    echo "metrics.listen="
    for line in "$@"; do echo "$line"; done
  } > "$work/cxstream.conf"
}
