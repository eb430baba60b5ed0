"""Kafka-side measurements for bench/run (confluent_kafka + fastavro).

  drain BOOTSTRAP GROUP TOPIC PID TIMEOUT_S [OUTPUT_TOPIC [LOG MARKER]]
      Wait until GROUP has committed TOPIC's end offsets while process PID
      consumes it. The interval starts when LOG (PID's stderr) first holds
      MARKER (the line saying its partitions are assigned and restored), or
      without LOG at the first sign of processing: the group's first commit,
      or the first message on OUTPUT_TOPIC, whichever comes first; it ends
      at the commit of the last offset (group join and start-up excluded). Rate = messages not yet
      committed at its start / its wall time; per core = the same messages /
      PID's CPU seconds (user + system) over it. Without OUTPUT_TOPIC the
      first commit starts it, which favours whoever commits later (a big
      batch or a long commit interval is processed before the clock starts).
      Prints one JSON object (also the first-commit figures, "from_commit").
      A PID that waits stopped (SIGSTOP) is continued once this watches.
  paced BOOTSTRAP SRC_TOPIC DST_TOPIC RATE SENDS_FILE [LIMIT]
      Copies SRC_TOPIC's first LIMIT messages by timestamp (key, value) to
      DST_TOPIC at RATE messages per second ("max": as fast as the producer
      goes), with CreateTime = now,
      and writes each message's event_id and send time (epoch ms) to SENDS_FILE.
  latency BOOTSTRAP ALERTS_TOPIC SENDS_FILE SCHEMA_DIR [WARMUP_S [INPUT_TOPIC]]
      Latency of every alert: its broker append time (the alerts topic has
      message.timestamp.type=LogAppendTime, so that is when the broker
      acknowledged it) minus the send time of its trigger event; alerts whose
      trigger was sent in the first WARMUP_S seconds (default 0) are left
      out. Prints JSON with count, p50, p99, p99.9 (ms), and the same for all
      alerts, warm-up included. With INPUT_TOPIC (LogAppendTime too) the
      latency is also split at the trigger's own append: "in_*" = trigger
      sent -> appended (the bench's producer and the broker), "cx_*" =
      trigger appended -> alert appended (cxstream: fetch, processing, its
      producer), each with p50, p99, p99.9 over the same alerts.
  compare BOOTSTRAP CX_ALERTS PEER_ALERTS SCHEMA_DIR
      Alerts of cxstream (Avro) and of the Kafka Streams peer
      ("rule|trigger_event_id|event_time") as sets of
      (customer_id, rule, trigger_event_id, event_time); prints JSON with both
      counts and whether they are equal (and a few differences when not).
  create BOOTSTRAP NAME:PARTITIONS[:logappend|:compact] ...
      Creates topics (retention.ms=-1; logappend: message.timestamp.type=LogAppendTime).
  delete BOOTSTRAP PREFIX
      Deletes every topic and consumer group whose name starts with PREFIX.
  ping BOOTSTRAP
      Exits 0 when a broker answers a metadata request within 5 s.
  restore LOG
      Sums cxstream's "restored T [p]: N state record(s), C customer(s) in M ms"
      lines: JSON with records, customers, ms, records_per_s.
"""
import io
import json
import os
import re
import signal
import struct
import sys
import time

import fastavro
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def consumer(bootstrap, group=None):
    return Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group or f"cxbench-reader-{time.time_ns()}",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
    })


def partitions(c, topic):
    meta = c.list_topics(topic, timeout=10)
    return sorted(meta.topics[topic].partitions)


def end_offsets(c, topic):
    return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in partitions(c, topic)}


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, clock ticks
    except OSError:
        return None


def log_has(path, marker):
    try:
        with open(path, errors="replace") as f:
            return marker in f.read()
    except OSError:
        return False


def resume(pid):
    """Continues PID when it waits stopped (started by `started_stopped` in
    bench/run, so that it cannot reach its MARKER before this watches)."""
    for _ in range(50):
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return
        if state == "T":
            os.kill(pid, signal.SIGCONT)
            return
        time.sleep(0.01)


def drain(bootstrap, group, topic, pid, timeout_s, output=None, log=None, marker=None):
    c = consumer(bootstrap, group)
    ends = end_offsets(c, topic)
    total = sum(ends.values())
    tps = [TopicPartition(topic, p) for p in ends]
    out_tps = [TopicPartition(output, p) for p in partitions(c, output)] if output else []
    resume(int(pid))
    first = None         # (time, committed, cpu) at the first sign of processing
    first_commit = None  # the same at the first commit
    ready = None         # the same when LOG first holds MARKER
    first_output = None  # the same at the first message on OUTPUT_TOPIC
    deadline = time.time() + float(timeout_s)
    pid = int(pid)
    done = 0
    # The marker is watched alone, every millisecond, so that little of the
    # work done after it (counted) escapes the CPU reading (taken here).
    while log and ready is None and time.time() < deadline and os.path.exists(f"/proc/{pid}"):
        if log_has(log, marker):
            ready = (time.time(), 0, cpu_seconds(pid))
        else:
            time.sleep(0.001)
    while time.time() < deadline:
        if not os.path.exists(f"/proc/{pid}"):
            c.close()
            print(json.dumps({"error": f"process {pid} ended with {done} of {total} committed"}))
            return 0
        committed = c.committed(tps, timeout=10)
        done = sum(max(tp.offset, 0) for tp in committed)
        out = 0
        if first_output is None:
            out = sum(c.get_watermark_offsets(tp, timeout=10, cached=False)[1] for tp in out_tps)
        now, cpu = time.time(), cpu_seconds(pid)
        if ready is None and log and log_has(log, marker):
            ready = (now, 0, cpu)
        if first is None and (done > 0 or out > 0):
            first = (now, done, cpu)
        if first_output is None and out > 0:
            first_output = (now, done, cpu)
        if first_commit is None and done > 0:
            first_commit = (now, done, cpu)
        if done >= total:
            break
        time.sleep(0.01)
    else:
        c.close()
        print(json.dumps({"error": f"timeout: {done} of {total} committed"}))
        return 0
    c.close()

    def figures(start):
        seconds = now - start[0]
        events = total - start[1]
        cpu_used = (cpu - start[2]) if cpu is not None and start[2] is not None else None
        return {"events": events, "seconds": seconds,
                "rate": events / seconds if seconds > 0 else None,
                "cpu_seconds": cpu_used,
                "rate_per_core": events / cpu_used if cpu_used else None}

    result = figures(ready or first)
    result["from_commit"] = figures(first_commit)
    result["from_output"] = figures(first_output) if first_output else None
    if ready:
        result["ready_to_first_output_s"] = first_output[0] - ready[0] if first_output else None
        result["ready_to_first_commit_s"] = first_commit[0] - ready[0]
    print(json.dumps(result))
    return 0


def event_id_of(value):
    """The first field of InteractionEvent (event_id) after the 5-byte header."""
    pos, shift, n = 5, 0, 0
    while True:
        b = value[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    length = (n >> 1) ^ -(n & 1)
    return value[pos:pos + length].decode()


def read_all(bootstrap, topic, timestamps=False):
    c = consumer(bootstrap)
    ends = end_offsets(c, topic)
    c.assign([TopicPartition(topic, p, 0) for p in ends])
    remaining = {p: e for p, e in ends.items() if e > 0}
    out = []
    while remaining:
        for m in c.consume(10000, timeout=1.0):
            if m.error():
                continue
            out.append((m.key(), m.value(), m.timestamp()[1]) if timestamps else (m.key(), m.value()))
            if m.offset() + 1 >= ends[m.partition()]:
                remaining.pop(m.partition(), None)
    c.close()
    return out


def paced(bootstrap, src, dst, rate, sends_file, limit=None):
    messages = read_all(bootstrap, src, timestamps=True)
    messages.sort(key=lambda m: m[2])  # stable: per key (partition) order is kept
    messages = [(k, v) for k, v, _ in messages[:int(limit) if limit else None]]
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2, "acks": "all",
                  "enable.idempotence": True, "partitioner": "murmur2_random",
                  "queue.buffering.max.messages": 2000000})
    sends = [0.0] * len(messages)
    # Ready before the clock starts: without this the first ~0.5 s of sends
    # waited in librdkafka for the fresh topic's metadata and the idempotent
    # producer's id (up to 1 s before their append: the p99 "with warm-up"
    # of 370-400 ms at 50k was that, not cxstream).
    p.list_topics(dst, timeout=10)
    p.poll(1.0)
    start = time.time()
    unpaced = rate == "max"
    per_s = 0 if unpaced else float(rate)
    for i, (key, value) in enumerate(messages):
        if not unpaced and i % 64 == 0:
            due = start + i / per_s
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
        while True:
            try:
                p.produce(dst, value, key)
                break
            except BufferError:
                p.poll(0.01)
        sends[i] = time.time() * 1000.0
        if i % 1000 == 0:
            p.poll(0)
    p.flush(60)
    elapsed = time.time() - start
    with open(sends_file, "w") as f:
        for (key, value), sent in zip(messages, sends):
            f.write(f"{event_id_of(value)} {sent:.3f}\n")
    print(json.dumps({"messages": len(messages), "seconds": elapsed,
                      "offered_rate": len(messages) / elapsed}))
    return 0


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[k]


def alert_schema(schema_dir):
    with open(f"{schema_dir}/alert.avsc") as f:
        return fastavro.parse_schema(json.load(f))


def decode_alerts(messages, schema):
    for key, value, *rest in messages:
        if value is None or len(value) < 5:
            continue
        yield fastavro.schemaless_reader(io.BytesIO(value[5:]), schema), rest


def latency(bootstrap, alerts_topic, sends_file, schema_dir, warmup_s=0, input_topic=None):
    sends = {}
    first = None
    with open(sends_file) as f:
        for line in f:
            event_id, sent = line.split()
            sends[event_id] = float(sent)
            first = float(sent) if first is None else min(first, float(sent))
    schema = alert_schema(schema_dir)
    warm_from = (first or 0) + float(warmup_s) * 1000.0
    appended = {}
    if input_topic:
        for _, value, ts in read_all(bootstrap, input_topic, timestamps=True):
            appended[event_id_of(value)] = ts
    lat, lat_all, lat_in, lat_cx = [], [], [], []
    for alert, rest in decode_alerts(read_all(bootstrap, alerts_topic, timestamps=True), schema):
        trigger = alert["trigger_event_id"]
        sent = sends.get(trigger)
        if sent is not None:
            lat_all.append(rest[0] - sent)
            if sent >= warm_from:
                lat.append(rest[0] - sent)
                if trigger in appended:
                    lat_in.append(appended[trigger] - sent)
                    lat_cx.append(rest[0] - appended[trigger])
    for values in (lat, lat_all, lat_in, lat_cx):
        values.sort()
    split = {}
    for name, values in (("in", lat_in), ("cx", lat_cx)):
        if values:
            split.update({f"{name}_p50_ms": percentile(values, 0.5),
                          f"{name}_p99_ms": percentile(values, 0.99),
                          f"{name}_p999_ms": percentile(values, 0.999),
                          f"{name}_max_ms": values[-1]})
    print(json.dumps({"alerts": len(lat), "p50_ms": percentile(lat, 0.5),
                      "p99_ms": percentile(lat, 0.99), "p999_ms": percentile(lat, 0.999),
                      "max_ms": lat[-1] if lat else None, "warmup_s": float(warmup_s),
                      "all_alerts": len(lat_all), "all_p50_ms": percentile(lat_all, 0.5),
                      "all_p99_ms": percentile(lat_all, 0.99),
                      "all_p999_ms": percentile(lat_all, 0.999), **split}))
    return 0


def compare(bootstrap, cx_topic, peer_topic, schema_dir):
    schema = alert_schema(schema_dir)
    rules = {"repeat_contact", "long_wait", "abandonment"}
    cx = set()
    for alert, _ in decode_alerts(read_all(bootstrap, cx_topic), schema):
        if alert["rule"] in rules:
            cx.add((alert["customer_id"], alert["rule"], alert["trigger_event_id"],
                    alert["event_time"] if isinstance(alert["event_time"], int)
                    else int(round(alert["event_time"].timestamp() * 1000))))
    peer = set()
    for key, value in read_all(bootstrap, peer_topic):
        rule, trigger, t = value.decode().split("|")
        peer.add((key.decode(), rule, trigger, int(t)))
    print(json.dumps({"cxstream_alerts": len(cx), "peer_alerts": len(peer), "equal": cx == peer,
                      "only_cxstream": sorted(cx - peer)[:5], "only_peer": sorted(peer - cx)[:5]}))
    return 0


def ping(bootstrap):
    AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=5)
    return 0


def create(bootstrap, *specs):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topics = []
    for spec in specs:
        name, parts, *kind = spec.split(":")
        config = {"retention.ms": "-1"}
        if kind and kind[0] == "logappend":
            config["message.timestamp.type"] = "LogAppendTime"
        if kind and kind[0] == "compact":
            config["cleanup.policy"] = "compact"
        topics.append(NewTopic(name, int(parts), 1, config=config))
    for name, future in admin.create_topics(topics, operation_timeout=30).items():
        future.result()
    # A fresh topic's partitions get leaders a moment later; clients that
    # come sooner see "Not leader for partition".
    deadline = time.time() + 30
    while time.time() < deadline:
        meta = admin.list_topics(timeout=10).topics
        if all(t.topic in meta and len(meta[t.topic].partitions) == t.num_partitions and
               all(p.leader >= 0 for p in meta[t.topic].partitions.values()) for t in topics):
            return 0
        time.sleep(0.1)
    print("topics created but without leaders after 30 s", file=sys.stderr)
    return 1


def delete(bootstrap, prefix):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    names = [t for t in admin.list_topics(timeout=10).topics if t.startswith(prefix)]
    if names:
        for name, future in admin.delete_topics(names, operation_timeout=30).items():
            try:
                future.result()
            except Exception as e:  # already gone
                print(f"delete {name}: {e}", file=sys.stderr)
    groups = [g.group_id for g in admin.list_consumer_groups().result(timeout=10).valid
              if g.group_id.startswith(prefix)]
    if groups:
        for name, future in admin.delete_consumer_groups(groups, request_timeout=30).items():
            try:
                future.result()
            except Exception as e:
                print(f"delete group {name}: {e}", file=sys.stderr)
    print(json.dumps({"deleted": len(names), "groups": len(groups)}))
    return 0


RESTORED = re.compile(r"restored .* \[\d+\]: (\d+) state record\(s\), (\d+) customer\(s\) in (\d+) ms")


def restore(log):
    records = customers = ms = 0
    with open(log, errors="replace") as f:
        for line in f:
            m = RESTORED.search(line)
            if m:
                records += int(m.group(1))
                customers += int(m.group(2))
                ms += int(m.group(3))
    print(json.dumps({"records": records, "customers": customers, "ms": ms,
                      "records_per_s": records * 1000.0 / ms if ms else None}))
    return 0


if __name__ == "__main__":
    commands = {"drain": drain, "paced": paced, "latency": latency, "compare": compare,
                "restore": restore, "create": create, "ping": ping, "delete": delete}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(commands[sys.argv[1]](*sys.argv[2:]))
