#!/usr/bin/env bash
# kafka-local.sh — a real Apache Kafka broker on this machine, for development,
# integration tests and benchmarks of cxstream. No Docker, no tarball download:
# the broker, the storage tool and the topic tool are installed as jars from
# Maven Central with `mvn` into a cache folder (default <repo>/.cache/kafka),
# once; later starts reuse them.
#
# The broker is a single KRaft node (combined broker + controller) that listens
# on 127.0.0.1 only:  PLAINTEXT 127.0.0.1:$KAFKA_PORT (default 9092) and the
# controller on 127.0.0.1:$KAFKA_PORT+1. Its settings suit tests (replication
# factor 1 everywhere, transactions work, no automatic topic creation, no
# rebalance delay). Each `start` begins with an empty data directory.
#
# Run `deploy/kafka-local.sh` without arguments for the usage.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"

KAFKA_LOCAL_DIR="${KAFKA_LOCAL_DIR:-$REPO_ROOT/.cache/kafka}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
# Versions tried in order; KAFKA_VERSION pins one.
KAFKA_VERSIONS="${KAFKA_VERSION:-4.1.1 4.1.0 4.0.1 4.2.0}"
LOG4J_VERSION="2.24.3"
# Bundled with Kafka 4.x is slf4j-api 1.7.x, hence log4j-slf4j-impl (not the slf4j2 one).
LOG4J_SLF4J_ARTIFACT="log4j-slf4j-impl"

BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
# KAFKA_SASL=1 (opt-in, for the security tests): the client listener on
# $KAFKA_PORT speaks SASL_PLAINTEXT (SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN)
# for one user, and a PLAINTEXT listener on $KAFKA_PLAIN_PORT serves the
# broker itself, the readiness check and the topic commands of this script.
KAFKA_SASL="${KAFKA_SASL:-0}"
KAFKA_SASL_USER="${KAFKA_SASL_USER:-cxstream}"
KAFKA_SASL_PASSWORD="${KAFKA_SASL_PASSWORD:-cxstream-secret}"
KAFKA_PLAIN_PORT="${KAFKA_PLAIN_PORT:-$((KAFKA_PORT + 2))}"
# With KAFKA_SASL=1 and KAFKA_TLS_KEYSTORE (a PKCS12 file holding the broker's
# key and certificate, password KAFKA_TLS_PASSWORD), a SASL_SSL listener on
# $KAFKA_TLS_PORT as well.
KAFKA_TLS_KEYSTORE="${KAFKA_TLS_KEYSTORE:-}"
KAFKA_TLS_PASSWORD="${KAFKA_TLS_PASSWORD:-}"
KAFKA_TLS_PORT="${KAFKA_TLS_PORT:-$((KAFKA_PORT + 3))}"
if [[ "$KAFKA_SASL" == 1 ]]; then
    SASL_BOOTSTRAP="$BOOTSTRAP"
    BOOTSTRAP="127.0.0.1:$KAFKA_PLAIN_PORT"
fi
# One broker's own files (pid, data, logs, conf); a second broker on another
# port sets its own KAFKA_INSTANCE_DIR and shares the jar cache.
KAFKA_INSTANCE_DIR="${KAFKA_INSTANCE_DIR:-$KAFKA_LOCAL_DIR}"
PID_FILE="$KAFKA_INSTANCE_DIR/kafka.pid"
DATA_DIR="$KAFKA_INSTANCE_DIR/data"
LOG_DIR="$KAFKA_INSTANCE_DIR/logs"
SERVER_LOG="$LOG_DIR/server.log"
STDOUT_LOG="$LOG_DIR/kafka.out"
CONF_DIR="$KAFKA_INSTANCE_DIR/conf"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA="java"; fi

usage() {
    cat <<EOF
Usage: deploy/kafka-local.sh COMMAND [ARGS]

A single-node Apache Kafka 4.x (KRaft) on 127.0.0.1:\$KAFKA_PORT, installed
from Maven Central jars into \$KAFKA_LOCAL_DIR, for development and tests.

Commands:
  start                 install when missing, then start the broker in the
                        background with an empty data dir; waits until it
                        answers requests (timeout ${KAFKA_START_TIMEOUT}s). Already running: says so, exit 0.
  stop                  stop the broker (SIGTERM, SIGKILL after ${KAFKA_STOP_TIMEOUT}s); no-op when stopped.
  status                print running/stopped; exit 0 when running, 3 when stopped.
  create-topic NAME [PARTITIONS] [--compact]
  create-topic SPEC [SPEC...] [--compact]
                        create topics (replication 1), idempotent: an existing
                        topic is fine. SPEC is NAME[:PARTITIONS[:compact]], e.g.
                          create-topic events:3 alerts profiles:1:compact
                        A bare number after a name sets its partitions (default 1);
                        --compact sets cleanup.policy=compact on every topic of the call.
                        All topics of one call are created in one round trip.
  delete-topic NAME [NAME...]
                        delete topics; a missing topic is fine.
  list-topics           print the topic names.
  logs [-f | LINES]     print the log file's path and its last LINES (100)
                        lines, or follow it with -f.
  install               only download the jars (start does it when needed).
  cluster-id [N]        print N (1) new cluster ids, as start formats with.

Environment:
  KAFKA_LOCAL_DIR   cache, data and logs (default <repo>/.cache/kafka; now $KAFKA_LOCAL_DIR)
  KAFKA_INSTANCE_DIR this broker's pid, data, logs and conf (default \$KAFKA_LOCAL_DIR);
                    with KAFKA_PORT, runs a second broker beside the first
  KAFKA_PORT        client port (default 9092); controller on KAFKA_PORT+1
                    (or KAFKA_CONTROLLER_PORT)
  KAFKA_VERSION     Kafka version from Maven Central (default: first of 4.1.1 4.1.0 4.0.1 4.2.0 that resolves)
  KAFKA_HEAP_OPTS   JVM heap (default "-Xms256m -Xmx1g")
  KAFKA_KEEP_DATA=1 start keeps the previous data dir instead of a fresh one
  KAFKA_SASL=1      the client port speaks SASL_PLAINTEXT (SCRAM-SHA-256/512, PLAIN)
                    for KAFKA_SASL_USER (cxstream) / KAFKA_SASL_PASSWORD (cxstream-secret);
                    PLAINTEXT for the broker and topic commands on KAFKA_PLAIN_PORT
                    (default KAFKA_PORT+2). Use with KAFKA_PORT and KAFKA_INSTANCE_DIR.
  KAFKA_TLS_KEYSTORE with KAFKA_SASL=1: a PKCS12 key store (password
                    KAFKA_TLS_PASSWORD) for a SASL_SSL listener on KAFKA_TLS_PORT
                    (default KAFKA_PORT+3)
  KAFKA_ADMIN=jvm   topic commands use Kafka's TopicCommand instead of the
                    faster Python confluent_kafka admin client

Logs: \$KAFKA_LOCAL_DIR/logs/server.log (broker), logs/kafka.out (JVM stdout/stderr);
the previous start's logs are kept as *.prev.
EOF
}

die() { echo "kafka-local: $*" >&2; exit 1; }
say() { echo "kafka-local: $*"; }

# ---------------------------------------------------------------- install ---

# Prints the lib folder of an installed version, or nothing.
installed_libs() {
    local v
    for v in $KAFKA_VERSIONS; do
        if [[ -f "$KAFKA_LOCAL_DIR/libs-$v/.complete" ]]; then
            echo "$KAFKA_LOCAL_DIR/libs-$v"
            return 0
        fi
    done
    return 0
}

write_pom() {  # version file
    cat >"$2" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- generated by deploy/kafka-local.sh: the jars of a local Kafka $1 broker -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.cxstream</groupId>
  <artifactId>kafka-local</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- broker (kafka.Kafka) and storage formatting tool (kafka.tools.StorageTool) -->
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$1</version>
    </dependency>
    <!-- topic admin tool (org.apache.kafka.tools.TopicCommand); Kafka Connect is not needed -->
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$1</version>
      <exclusions>
        <exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion>
      </exclusions>
    </dependency>
    <!-- logging: slf4j 1.x -> log4j2 -> file -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>$LOG4J_SLF4J_ARTIFACT</artifactId><version>$LOG4J_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
}

# Downloads the jars when missing; prints the lib folder.
install_kafka() {
    local libs v tmp
    libs="$(installed_libs)"
    if [[ -n "$libs" ]]; then echo "$libs"; return 0; fi
    command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
    command -v "$JAVA" >/dev/null || die "java not found (apt-get install openjdk-17-jre-headless)"
    for v in $KAFKA_VERSIONS; do
        say "installing Apache Kafka $v from Maven Central into $KAFKA_LOCAL_DIR/libs-$v ..." >&2
        tmp="$KAFKA_LOCAL_DIR/libs-$v.tmp"
        rm -rf "$tmp"
        mkdir -p "$tmp"
        write_pom "$v" "$KAFKA_LOCAL_DIR/pom-$v.xml"
        if mvn -q -B -f "$KAFKA_LOCAL_DIR/pom-$v.xml" dependency:copy-dependencies \
                -DincludeScope=runtime -DoutputDirectory="$tmp" >"$KAFKA_LOCAL_DIR/mvn-$v.log" 2>&1 \
            && [[ -f "$tmp/kafka_2.13-$v.jar" && -f "$tmp/kafka-tools-$v.jar" ]]; then
            rm -rf "$KAFKA_LOCAL_DIR/libs-$v"
            mv "$tmp" "$KAFKA_LOCAL_DIR/libs-$v"
            touch "$KAFKA_LOCAL_DIR/libs-$v/.complete"
            say "installed Kafka $v ($(find "$KAFKA_LOCAL_DIR/libs-$v" -name '*.jar' | wc -l) jars)" >&2
            echo "$KAFKA_LOCAL_DIR/libs-$v"
            return 0
        fi
        rm -rf "$tmp"
        say "Kafka $v did not resolve (see $KAFKA_LOCAL_DIR/mvn-$v.log):" >&2
        tail -n 5 "$KAFKA_LOCAL_DIR/mvn-$v.log" >&2 || true
    done
    die "could not install Kafka from Maven Central (tried: $KAFKA_VERSIONS)"
}

# ---------------------------------------------------------------- config ----

# The listener lines of server.properties (plain, or SASL with KAFKA_SASL=1).
listener_configs() {
    if [[ "$KAFKA_SASL" == 1 ]]; then
        local tls_listener="" tls_map="" name
        if [[ -n "$KAFKA_TLS_KEYSTORE" ]]; then
            tls_listener=",SASL_SSL://127.0.0.1:$KAFKA_TLS_PORT"
            tls_map=",SASL_SSL:SASL_SSL"
        fi
        cat <<EOF
listeners=SASL_PLAINTEXT://127.0.0.1:$KAFKA_PORT,PLAINTEXT://127.0.0.1:$KAFKA_PLAIN_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT$tls_listener
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:$KAFKA_PORT,PLAINTEXT://127.0.0.1:$KAFKA_PLAIN_PORT$tls_listener
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT$tls_map
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
EOF
        for name in sasl_plaintext $([[ -n "$KAFKA_TLS_KEYSTORE" ]] && echo sasl_ssl); do
            cat <<EOF
listener.name.$name.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.$name.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.$name.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USER="$KAFKA_SASL_PASSWORD";
EOF
        done
        if [[ -n "$KAFKA_TLS_KEYSTORE" ]]; then
            cat <<EOF
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$KAFKA_TLS_KEYSTORE
listener.name.sasl_ssl.ssl.keystore.password=$KAFKA_TLS_PASSWORD
listener.name.sasl_ssl.ssl.key.password=$KAFKA_TLS_PASSWORD
EOF
        fi
    else
        cat <<EOF
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
EOF
    fi
}

write_configs() {  # data-dir
    mkdir -p "$CONF_DIR" "$LOG_DIR"
    cat >"$CONF_DIR/server.properties" <<EOF
# generated by deploy/kafka-local.sh at each start
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
$(listener_configs)
log.dirs=$1
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
num.network.threads=3
num.io.threads=8
# Tests replay history (event times years back): time retention would delete
# it at the next check, so this broker keeps everything (its data dir is new
# at each start).
log.retention.ms=-1
EOF
    cat >"$CONF_DIR/log4j2.properties" <<EOF
# generated by deploy/kafka-local.sh: the broker logs to a file
status = warn
name = kafka-local
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $SERVER_LOG
appender.file.append = false
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.state.name = state.change.logger
logger.state.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
EOF
    cat >"$CONF_DIR/tools-log4j2.properties" <<EOF
# generated by deploy/kafka-local.sh: command-line tools log warnings to stderr
status = warn
name = kafka-local-tools
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
    cat >"$CONF_DIR/admin.properties" <<EOF
bootstrap.servers=$BOOTSTRAP
EOF
}

run_tool() {  # libs class args...
    local libs="$1"; shift
    "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$CONF_DIR/tools-log4j2.properties" \
        -cp "$libs/*" "$@"
}

# A new cluster id: 16 random bytes in URL-safe base64 without padding, drawn
# again when it starts with '-', which the format tool would take for an
# option ("--cluster-id: expected one argument"), as Kafka's own
# Uuid.randomUuid avoids it.
new_cluster_id() {
    local cid
    while :; do
        cid="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
        [[ "$cid" == -* ]] || break
    done
    echo "$cid"
}

# A formatted, empty data dir is kept as a template per version so that each
# start only copies it (formatting costs a JVM start).
ensure_template() {  # libs -> prints template dir
    local libs="$1" v tpl cid
    v="${libs##*/libs-}"
    tpl="$KAFKA_LOCAL_DIR/data-template-$v"
    if [[ ! -f "$tpl/.complete" ]]; then
        rm -rf "$tpl"
        mkdir -p "$tpl"
        cid="$(new_cluster_id)"
        write_configs "$tpl"
        if ! run_tool "$libs" kafka.tools.StorageTool format -t "$cid" \
                -c "$CONF_DIR/server.properties" --ignore-formatted >"$LOG_DIR/format.log" 2>&1; then
            cat "$LOG_DIR/format.log" >&2
            rm -rf "$tpl"
            die "formatting the storage failed"
        fi
        touch "$tpl/.complete"
    fi
    echo "$tpl"
}

# ---------------------------------------------------------------- process ---

# Prints the broker's pid when it runs, else nothing.
running_pid() {
    local pid
    [[ -f "$PID_FILE" ]] || return 0
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    if alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'; then
        echo "$pid"
    fi
}

# True while the process exists and is not a zombie waiting to be reaped.
alive() {  # pid
    local state
    kill -0 "$1" 2>/dev/null || return 1
    state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
    [[ "$state" != Z && "$state" != X ]]
}

port_open() {  # port
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when the broker answers a metadata request.
broker_ready() {
    if command -v kcat >/dev/null; then
        kcat -b "$BOOTSTRAP" -L -m 2 2>/dev/null | grep -q '1 brokers'
    elif python3 -c 'import confluent_kafka' 2>/dev/null; then
        python3 - "$BOOTSTRAP" <<'EOF' >/dev/null 2>&1
import sys
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": sys.argv[1]}).list_topics(timeout=2)
sys.exit(0 if md.brokers else 1)
EOF
    else
        port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$SERVER_LOG" 2>/dev/null
    fi
}

show_log_tail() {
    echo "---- last lines of $SERVER_LOG ----" >&2
    tail -n 40 "$SERVER_LOG" >&2 2>/dev/null || true
    if [[ -s "$STDOUT_LOG" ]]; then
        echo "---- last lines of $STDOUT_LOG ----" >&2
        tail -n 20 "$STDOUT_LOG" >&2 || true
    fi
}

cmd_start() {
    mkdir -p "$KAFKA_LOCAL_DIR"
    exec 9>"$KAFKA_LOCAL_DIR/.lock"
    flock -w 300 9 || die "another kafka-local.sh holds $KAFKA_LOCAL_DIR/.lock for 300s"
    local pid libs tpl t0 deadline
    pid="$(running_pid)"
    if [[ -n "$pid" ]]; then
        say "already running (pid $pid) on $BOOTSTRAP; logs: $SERVER_LOG"
        return 0
    fi
    rm -f "$PID_FILE"
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" $([[ "$KAFKA_SASL" == 1 ]] && echo "$KAFKA_PLAIN_PORT") \
             $([[ "$KAFKA_SASL" == 1 && -n "$KAFKA_TLS_KEYSTORE" ]] && echo "$KAFKA_TLS_PORT"); do
        port_open "$p" && die "port 127.0.0.1:$p is already in use by another process"
    done
    t0=$SECONDS
    libs="$(install_kafka)"
    tpl="$(ensure_template "$libs")"
    if [[ "${KAFKA_KEEP_DATA:-0}" == 1 && -f "$DATA_DIR/meta.properties" ]]; then
        say "keeping the data in $DATA_DIR"
    elif [[ "$KAFKA_SASL" == 1 ]]; then
        # SCRAM credentials live in the cluster metadata: format with them.
        rm -rf "$DATA_DIR"
        mkdir -p "$DATA_DIR"
        write_configs "$DATA_DIR"
        if ! run_tool "$libs" kafka.tools.StorageTool format \
                -t "$(new_cluster_id)" \
                -c "$CONF_DIR/server.properties" --ignore-formatted \
                --add-scram "SCRAM-SHA-256=[name=\"$KAFKA_SASL_USER\",password=\"$KAFKA_SASL_PASSWORD\"]" \
                --add-scram "SCRAM-SHA-512=[name=\"$KAFKA_SASL_USER\",password=\"$KAFKA_SASL_PASSWORD\"]" \
                >"$LOG_DIR/format.log" 2>&1; then
            cat "$LOG_DIR/format.log" >&2
            die "formatting the storage with SCRAM credentials failed"
        fi
    else
        rm -rf "$DATA_DIR"
        cp -a "$tpl" "$DATA_DIR"
        rm -f "$DATA_DIR/.complete"
    fi
    write_configs "$DATA_DIR"
    # The previous run's logs stay as *.prev.
    [[ -f "$SERVER_LOG" ]] && mv -f "$SERVER_LOG" "$SERVER_LOG.prev"
    [[ -f "$STDOUT_LOG" ]] && mv -f "$STDOUT_LOG" "$STDOUT_LOG.prev"
    # setsid: the broker gets its own session and process group, so it
    # survives this shell and stop can signal the whole group.
    # shellcheck disable=SC2086
    setsid nohup "$JAVA" $KAFKA_HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dkafka.logs.dir="$LOG_DIR" \
        -Dlog4j2.configurationFile="$CONF_DIR/log4j2.properties" \
        -cp "$libs/*" kafka.Kafka "$CONF_DIR/server.properties" \
        </dev/null >"$STDOUT_LOG" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$PID_FILE"
    deadline=$((SECONDS + KAFKA_START_TIMEOUT))
    until broker_ready; do
        if ! alive "$pid"; then
            rm -f "$PID_FILE"
            show_log_tail
            die "the broker exited during startup"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            rm -f "$PID_FILE"
            die "the broker did not come up within ${KAFKA_START_TIMEOUT}s (killed it)"
        fi
        sleep 0.3
    done
    say "Kafka ${libs##*/libs-} running on $BOOTSTRAP (pid $pid, up in $((SECONDS - t0))s)"
    if [[ "$KAFKA_SASL" == 1 ]]; then
        say "SASL_PLAINTEXT on $SASL_BOOTSTRAP (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN) for user $KAFKA_SASL_USER"
        [[ -z "$KAFKA_TLS_KEYSTORE" ]] || say "SASL_SSL on 127.0.0.1:$KAFKA_TLS_PORT (key store $KAFKA_TLS_KEYSTORE)"
    fi
    say "logs: $SERVER_LOG (JVM output: $STDOUT_LOG)"
}

cmd_stop() {
    local pid deadline
    pid="$(running_pid)"
    if [[ -z "$pid" ]]; then
        rm -f "$PID_FILE"
        say "not running"
        return 0
    fi
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
    while alive "$pid"; do
        if ((SECONDS >= deadline)); then
            say "no exit after ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.2
    done
    rm -f "$PID_FILE"
    say "stopped (was pid $pid)"
}

cmd_status() {
    local pid
    pid="$(running_pid)"
    if [[ -n "$pid" ]]; then
        if broker_ready; then
            echo "running (pid $pid) on $BOOTSTRAP; logs: $SERVER_LOG"
        else
            echo "running (pid $pid) on $BOOTSTRAP but not answering yet; logs: $SERVER_LOG"
        fi
        return 0
    fi
    echo "stopped"
    return 3
}

cmd_logs() {
    echo "$SERVER_LOG"
    [[ -f "$SERVER_LOG" ]] || die "no log yet (the broker was never started with KAFKA_LOCAL_DIR=$KAFKA_LOCAL_DIR)"
    case "${1:-100}" in
        -f|--follow) exec tail -n 50 -F "$SERVER_LOG" ;;
        *[!0-9]*) die "logs: expected -f or a number of lines, got '$1'" ;;
        *) tail -n "${1:-100}" "$SERVER_LOG" ;;
    esac
}

# ---------------------------------------------------------------- topics ----

use_python_admin() {
    [[ "${KAFKA_ADMIN:-}" != jvm ]] && python3 -c 'import confluent_kafka' 2>/dev/null
}

require_running() {
    [[ -n "$(running_pid)" ]] || broker_ready || die "the broker is not running on $BOOTSTRAP (deploy/kafka-local.sh start)"
}

tool_libs() {
    local libs
    libs="$(installed_libs)"
    [[ -n "$libs" ]] || die "Kafka is not installed in $KAFKA_LOCAL_DIR (deploy/kafka-local.sh install)"
    [[ -f "$CONF_DIR/tools-log4j2.properties" ]] || write_configs "$DATA_DIR"
    echo "$libs"
}

# Arguments "name partitions policy" (one per topic): creates the topics.
create_topics_python() {
    python3 - "$BOOTSTRAP" "$@" <<'EOF'
import sys, time
from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient, NewTopic

admin = AdminClient({"bootstrap.servers": sys.argv[1]})
specs = [arg.split() for arg in sys.argv[2:]]
wanted = {name: int(parts) for name, parts, _ in specs}
new = [NewTopic(name, num_partitions=int(parts), replication_factor=1,
                config={"cleanup.policy": policy})
       for name, parts, policy in specs]
failed = False
for name, fut in admin.create_topics(new, request_timeout=30).items():
    try:
        fut.result()
        print(f"kafka-local: created topic {name} ({wanted[name]} partitions)")
    except Exception as e:  # KafkaException
        err = e.args[0] if e.args else None
        if isinstance(err, KafkaError) and err.code() == KafkaError.TOPIC_ALREADY_EXISTS:
            print(f"kafka-local: topic {name} already exists")
        else:
            print(f"kafka-local: creating topic {name} failed: {e}", file=sys.stderr)
            failed = True
# Wait until every partition has a leader, so producers can start at once.
deadline = time.time() + 15
while not failed:
    md = admin.list_topics(timeout=5)
    ok = all(n in md.topics and md.topics[n].error is None
             and len(md.topics[n].partitions) >= p
             and all(pm.leader >= 0 for pm in md.topics[n].partitions.values())
             for n, p in wanted.items())
    if ok:
        break
    if time.time() > deadline:
        print("kafka-local: topics created but not all partitions have a leader yet", file=sys.stderr)
        break
    time.sleep(0.1)
sys.exit(1 if failed else 0)
EOF
}

create_topics_jvm() {
    local libs name parts policy spec rc=0
    libs="$(tool_libs)"
    for spec in "$@"; do
        read -r name parts policy <<<"$spec"
        if run_tool "$libs" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
                --command-config "$CONF_DIR/admin.properties" --create --if-not-exists \
                --topic "$name" --partitions "$parts" --replication-factor 1 \
                --config "cleanup.policy=$policy" >/dev/null; then
            say "topic $name ready ($parts partitions, $policy)"
        else
            say "creating topic $name failed" >&2
            rc=1
        fi
    done
    return $rc
}

cmd_create_topic() {
    local compact_all=0 a name parts policy
    local -a names=() partss=() policies=()
    [[ $# -gt 0 ]] || die "create-topic: give at least one topic (see usage)"
    for a in "$@"; do
        case "$a" in
            --compact) compact_all=1 ;;
            -*) die "create-topic: unknown option '$a'" ;;
            *)
                if [[ "$a" =~ ^[0-9]+$ ]]; then
                    ((${#names[@]} > 0)) || die "create-topic: partitions '$a' before any topic name"
                    ((a >= 1)) || die "create-topic: partitions must be >= 1"
                    partss[${#names[@]} - 1]="$a"
                    continue
                fi
                IFS=: read -r name parts policy <<<"$a"
                [[ "$name" =~ ^[A-Za-z0-9._-]{1,249}$ ]] || die "create-topic: bad topic name '$name'"
                parts="${parts:-1}"
                [[ "$parts" =~ ^[0-9]+$ && "$parts" -ge 1 ]] || die "create-topic: bad partitions in '$a'"
                case "${policy:-}" in
                    "") policy=default ;;
                    compact | delete | compact,delete | delete,compact) ;;
                    *) die "create-topic: bad policy in '$a' (compact or delete)" ;;
                esac
                names+=("$name"); partss+=("$parts"); policies+=("$policy")
                ;;
        esac
    done
    ((${#names[@]} > 0)) || die "create-topic: give at least one topic name"
    require_running
    local i
    local -a specs=()
    for i in "${!names[@]}"; do
        policy="${policies[$i]}"
        if [[ "$policy" == default ]]; then
            if ((compact_all)); then policy=compact; else policy=delete; fi
        fi
        specs+=("${names[$i]} ${partss[$i]} $policy")
    done
    if use_python_admin; then
        create_topics_python "${specs[@]}"
    else
        create_topics_jvm "${specs[@]}"
    fi
}

cmd_delete_topic() {
    [[ $# -gt 0 ]] || die "delete-topic: give at least one topic name"
    require_running
    if use_python_admin; then
        python3 - "$BOOTSTRAP" "$@" <<'EOF'
import sys
from confluent_kafka import KafkaError
from confluent_kafka.admin import AdminClient

admin = AdminClient({"bootstrap.servers": sys.argv[1]})
failed = False
for name, fut in admin.delete_topics(sys.argv[2:], request_timeout=30).items():
    try:
        fut.result()
        print(f"kafka-local: deleted topic {name}")
    except Exception as e:
        err = e.args[0] if e.args else None
        if isinstance(err, KafkaError) and err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            print(f"kafka-local: topic {name} does not exist")
        else:
            print(f"kafka-local: deleting topic {name} failed: {e}", file=sys.stderr)
            failed = True
sys.exit(1 if failed else 0)
EOF
    else
        local libs name rc=0
        libs="$(tool_libs)"
        for name in "$@"; do
            if run_tool "$libs" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
                    --command-config "$CONF_DIR/admin.properties" --delete --if-exists --topic "$name"; then
                say "topic $name deleted (or did not exist)"
            else
                rc=1
            fi
        done
        return $rc
    fi
}

cmd_list_topics() {
    require_running
    if command -v kcat >/dev/null; then
        kcat -b "$BOOTSTRAP" -L -m 5 | sed -n 's/^  topic "\([^"]*\)".*/\1/p' | grep -v '^__' || true
    else
        local libs
        libs="$(tool_libs)"
        run_tool "$libs" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BOOTSTRAP" \
            --command-config "$CONF_DIR/admin.properties" --list --exclude-internal
    fi
}

# ---------------------------------------------------------------- main ------

main() {
    local cmd="${1:-}"
    [[ $# -gt 0 ]] && shift
    case "$cmd" in
        start) cmd_start ;;
        stop) cmd_stop ;;
        status) cmd_status ;;
        create-topic | create-topics) cmd_create_topic "$@" ;;
        delete-topic | delete-topics) cmd_delete_topic "$@" ;;
        list-topics) cmd_list_topics ;;
        logs) cmd_logs "$@" ;;
        install)
            mkdir -p "$KAFKA_LOCAL_DIR"
            exec 9>"$KAFKA_LOCAL_DIR/.lock"
            flock -w 300 9 || die "another kafka-local.sh holds the lock"
            say "jars in $(install_kafka)"
            ;;
        cluster-id)
            local n="${1:-1}" i
            [[ "$n" =~ ^[0-9]+$ ]] || die "cluster-id: N must be a number, not '$n'"
            for ((i = 0; i < n; i++)); do new_cluster_id; done
            ;;
        -h | --help | help) usage ;;
        "") usage >&2; exit 2 ;;
        *) echo "kafka-local: unknown command '$cmd'" >&2; usage >&2; exit 2 ;;
    esac
}

main "$@"
