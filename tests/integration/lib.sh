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
