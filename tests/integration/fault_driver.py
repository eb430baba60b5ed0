"""Fault driver for the exactly-once / at-least-once / scale tests (issue 5).

Runs several `cxstream run` instances in one consumer group on a topic that
already holds the events, and, while they process, does what the scenario
says: kills random instances with SIGKILL at random moments and starts them
again, restarts the broker once, or scales the group out and in. An instance
that exits by itself (fenced, a transaction error, a lost broker) is started
again, as an orchestrator would. When the group has committed the topic's end
offsets, every instance gets SIGTERM and must exit 0.

Then the alerts topic is compared with the fault-free output: the JSON lines
of `cxstream replay --input-file F --partitions N` of the same events with
the same config, all rules, alert by alert (alert_id, rule, customer,
trigger event, event time, severity, score):
  exactly_once   read_committed alerts == fault-free alerts, as multisets
  at_least_once  same set, nothing missing, nothing foreign; duplicates
                 (the same alert_id again) are allowed, counted and reported

Usage: fault_driver.py --cxstream B --bootstrap HOST:PORT --config FILE
         --group G --topic T --alerts-topic A --reference REF.jsonl
         [--instances 3] [--kills 20] [--scale] [--broker-restart CMD_ENV]
         [--guarantee exactly_once|at_least_once] [--seed N] [--log-dir D]
"""
import argparse
import io
import json
import os
import random
import signal
import subprocess
import sys
import time

import fastavro
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

REPO = __file__.rsplit("/tests/", 1)[0]


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Group:
    """The instances, their logs, and a supervisor that restarts the dead."""

    def __init__(self, args):
        self.args = args
        self.procs = {}       # instance number -> Popen
        self.extra_args = {}  # instance number -> extra -X pairs
        self.kills = 0
        self.self_exits = 0   # instances that ended by themselves and were restarted
        self.starts = 0

    def start(self, i):
        extra = self.extra_args.get(i, [])
        log_file = open(os.path.join(self.args.log_dir, f"instance{i}.log"), "ab")
        cmd = [self.args.cxstream, "run", "-c", self.args.config,
               "-X", f"kafka.transactional.id={self.args.group}-{i}"] + extra
        self.procs[i] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log_file)
        log_file.close()
        self.starts += 1

    def kill(self, i):
        proc = self.procs[i]
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            self.kills += 1
            return True
        return False

    def stop(self, i, timeout=60):
        """SIGTERM; returns the exit code (None when it had to be killed)."""
        proc = self.procs.pop(i)
        if proc.poll() is not None:
            return proc.returncode
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None

    def supervise(self):
        for i, proc in list(self.procs.items()):
            if proc.poll() is not None:
                self.self_exits += 1
                log(f"instance {i} exited by itself ({proc.returncode}); starting it again")
                self.start(i)

    def alive(self):
        return [i for i, p in self.procs.items() if p.poll() is None]

    def logged(self, i, text):
        """Whether instance i's log holds text."""
        try:
            with open(os.path.join(self.args.log_dir, f"instance{i}.log"), "rb") as f:
                return text.encode() in f.read()
        except OSError:
            return False


class Progress:
    def __init__(self, bootstrap, group, topic):
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                                  "enable.auto.commit": False})
        meta = self.consumer.list_topics(topic, timeout=30)
        self.parts = [TopicPartition(topic, p) for p in meta.topics[topic].partitions]
        self.ends = {tp.partition: self.consumer.get_watermark_offsets(tp, timeout=30)[1]
                     for tp in self.parts}
        self.total = sum(self.ends.values())
        self.last = 0.0

    def fraction(self):
        """Committed share of the input, or the last known one when the
        coordinator does not answer (e.g. while the broker restarts)."""
        try:
            committed = self.consumer.committed(self.parts, timeout=5)
        except KafkaException:
            return self.last
        done = sum(min(max(tp.offset, 0), self.ends[tp.partition]) for tp in committed)
        self.last = done / self.total if self.total else 1.0
        return self.last

    def close(self):
        self.consumer.close()


def read_alerts(bootstrap, topic, schema):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"verify-{time.time()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": "read_committed", "enable.partition.eof": True})
    meta = consumer.list_topics(topic, timeout=30)
    parts = list(meta.topics[topic].partitions)
    ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1]
            for p in parts}
    consumer.assign([TopicPartition(topic, p, 0) for p in parts])
    remaining = {p for p, end in ends.items() if end > 0}
    alerts = []
    deadline = time.time() + 300
    while remaining and time.time() < deadline:
        batch = consumer.consume(10000, 1.0)
        for message in batch:
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    remaining.discard(message.partition())
                continue
            alert = fastavro.schemaless_reader(io.BytesIO(message.value()[5:]), schema)
            alerts.append(alert_tuple(alert))
    consumer.close()
    if remaining:
        sys.exit(f"could not read {topic} to its end (partitions {sorted(remaining)})")
    return alerts


def millis(t):
    return int(round(t.timestamp() * 1000)) if hasattr(t, "timestamp") else int(t)


def alert_tuple(alert):
    return (alert["alert_id"], alert["rule"], alert["customer_id"], alert["trigger_event_id"],
            millis(alert["event_time"]), alert["severity"], round(float(alert["score"]), 3))


def read_reference(path):
    out = []
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            if "alert_id" not in record:
                continue  # a profile line
            t = record["event_time"]
            if isinstance(t, str):
                from datetime import datetime
                t = datetime.fromisoformat(t.replace("Z", "+00:00"))
            out.append((record["alert_id"], record["rule"], record["customer_id"],
                        record["trigger_event_id"], millis(t), record["severity"],
                        round(float(record["score"]), 3)))
    return out


def restart_broker(args):
    log("broker: stopping")
    env = dict(os.environ, KAFKA_KEEP_DATA="1")
    subprocess.run([f"{REPO}/deploy/kafka-local.sh", "stop"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    time.sleep(args.broker_down_s)
    subprocess.run([f"{REPO}/deploy/kafka-local.sh", "start"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    log("broker: started again with its data")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cxstream", required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--alerts-topic", required=True)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--schema-dir", default=f"{REPO}/schemas")
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--kill-gap", type=float, nargs=2, default=[0.3, 1.2],
                        help="seconds between kills: uniform in [A, B], sooner when the k-th kill is due by progress (90%% * k / kills of the input committed)")
    parser.add_argument("--scale", action="store_true",
                        help="1 instance, then 3 from 20%% of the input, then 1 from 60%%")
    parser.add_argument("--broker-restart", action="store_true",
                        help="restart the broker (kafka-local.sh, same data) at 40%% of the input")
    parser.add_argument("--broker-down-s", type=float, default=3.0)
    parser.add_argument("--threads-of-first", type=int, default=1,
                        help="num.stream.threads of instance 1")
    parser.add_argument("--guarantee", default="exactly_once",
                        choices=["exactly_once", "at_least_once"])
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--log-dir", default=".")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    log(f"seed {args.seed}; {args.guarantee}; {args.instances} instance(s); {args.kills} kills"
        f"{'; scale 1->3->1' if args.scale else ''}"
        f"{'; broker restart' if args.broker_restart else ''}")

    group = Group(args)
    if args.threads_of_first > 1:
        group.extra_args[1] = ["-X", f"num.stream.threads={args.threads_of_first}"]
    progress = Progress(args.bootstrap, args.group, args.topic)
    log(f"{progress.total} events in {len(progress.parts)} partitions")
    started = time.time()
    first = 1 if args.scale else args.instances
    for i in range(1, first + 1):
        group.start(i)

    kills_done_at = None
    scaled_out = scaled_in = broker_restarted = False
    next_kill = time.time() + rng.uniform(*args.kill_gap)
    while True:
        time.sleep(0.1)
        fraction = progress.fraction()
        if fraction >= 1.0:
            break
        if time.time() - started > args.timeout:
            for i in list(group.procs):
                group.kill(i)
            sys.exit(f"timed out after {args.timeout:.0f} s at {fraction:.1%} of the input")
        if args.scale and not scaled_out and fraction >= 0.2:
            log(f"scale out at {fraction:.1%}: instances 2 and 3 join")
            group.start(2)
            group.start(3)
            scaled_out = True
        # Scale in once the joiners run: a SIGTERM before an instance has set
        # its handlers (it logs "consuming" after) would end it with -15. A
        # fast group can reach 60% in the same turn as the scale-out.
        if (args.scale and scaled_out and not scaled_in and fraction >= 0.6 and
                all(group.logged(i, '"consuming ') for i in (2, 3))):
            log(f"scale in at {fraction:.1%}: instances 2 and 3 leave (SIGTERM)")
            for i in (2, 3):
                rc = group.stop(i)
                if rc != 0:
                    sys.exit(f"instance {i} exited {rc} on SIGTERM at scale-in")
            scaled_in = True
        if args.broker_restart and not broker_restarted and fraction >= 0.4:
            log(f"at {fraction:.1%}:")
            restart_broker(args)
            broker_restarted = True
        # A kill is due at a random moment (--kill-gap) or, at the latest,
        # once the group has committed its share of the input (the k-th
        # kill by 90% * k / kills), so a faster build still takes every
        # kill before the input is done.
        kill_due_by = 0.9 * (group.kills + 1) / args.kills if args.kills else 1.0
        if group.kills < args.kills and (time.time() >= next_kill or fraction >= kill_due_by):
            alive = group.alive()
            if alive:
                i = rng.choice(alive)
                if group.kill(i):
                    log(f"kill -9 instance {i} at {fraction:.1%} ({group.kills}/{args.kills})")
                    time.sleep(rng.uniform(0, 0.5))
                    group.start(i)
            next_kill = time.time() + rng.uniform(*args.kill_gap)
            if group.kills == args.kills:
                kills_done_at = fraction
        group.supervise()

    elapsed = time.time() - started
    log(f"the group committed every end offset after {elapsed:.1f} s")
    # Each instance is stopped once it runs (see the scale-in above).
    settle = time.time() + 30
    while time.time() < settle and not all(group.logged(i, '"consuming ') or
                                           group.procs[i].poll() is not None
                                           for i in group.procs):
        time.sleep(0.05)
    codes = {i: group.stop(i) for i in list(group.procs)}
    progress.close()
    failures = []
    bad_exits = {i: rc for i, rc in codes.items() if rc != 0}
    if bad_exits:
        failures.append(f"instances did not exit 0 on SIGTERM: {bad_exits}")
    if group.kills < args.kills:
        failures.append(f"the input was done after only {group.kills} of {args.kills} kills: "
                        "give the test more events")
    if args.broker_restart and not broker_restarted:
        failures.append("the broker was not restarted")

    schema = fastavro.parse_schema(json.load(open(f"{args.schema_dir}/alert.avsc")))
    got = read_alerts(args.bootstrap, args.alerts_topic, schema)
    expected = read_reference(args.reference)
    got_set, expected_set = set(got), set(expected)
    duplicates = len(got) - len(got_set)
    missing = sorted(expected_set - got_set)
    foreign = sorted(got_set - expected_set)
    if len(expected) != len(expected_set):
        failures.append("the fault-free reference itself has repeated alerts")
    if missing:
        failures.append(f"{len(missing)} alerts missing, e.g. {missing[:3]}")
    if foreign:
        failures.append(f"{len(foreign)} alerts the fault-free run does not have, e.g. "
                        f"{foreign[:3]}")
    if args.guarantee == "exactly_once" and duplicates:
        failures.append(f"{duplicates} duplicate alerts under exactly_once")
    summary = (f"{progress.total} events, {len(expected)} fault-free alerts, {len(got)} "
               f"committed, {duplicates} duplicates; {group.kills} kill -9"
               f"{f' (the last at {kills_done_at:.0%} of the input)' if kills_done_at else ''}, "
               f"{group.self_exits} self-exits restarted, {group.starts} starts"
               f"{', broker restarted' if broker_restarted else ''}"
               f"{', scaled 1->3->1' if args.scale else ''}; {elapsed:.1f} s")
    if failures:
        print("\n".join("FAIL: " + f for f in failures))
        print(f"({summary}; seed {args.seed})")
        sys.exit(1)
    if args.guarantee == "exactly_once":
        print(f"ok: exactly once: the committed alerts equal the fault-free output ({summary})")
    else:
        print(f"ok: at least once: nothing missing, nothing foreign ({summary})")


if __name__ == "__main__":
    main()
