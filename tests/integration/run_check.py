"""Checker for tests/integration/test_run_kafka.sh, against a real broker.

  seed-bad BOOTSTRAP TOPIC SCHEMA_DIR      produce the hostile messages (and one late event)
  wait BOOTSTRAP GROUP TOPIC TIMEOUT_S     wait until GROUP committed TOPIC's end offsets
  verify BOOTSTRAP PREFIX OCF SCHEMA_DIR [OCF2 RULE_OFF]
                                           compare alerts/dead letters/late events with
                                           what must come out; OCF2's events were sent
                                           after a SIGHUP that disabled RULE_OFF

The expected alerts come from tests/reference/exact_rules.py applied to the
OCF read with fastavro: nothing of cxstream is used to compute them.
"""
import io
import json
import struct
import sys
import time

import fastavro
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

sys.path.insert(0, __file__.rsplit("/tests/", 1)[0] + "/tests/reference")
import exact_rules  # noqa: E402

# Each hostile message: key, value builder, expected dead-letter reason.
BAD = ["garbage", "truncated", "unknown-id", "no-customer", "future", "bad-enum"]
REASONS = {
    "garbage": "bad_magic_byte",
    "truncated": "malformed_avro",
    "unknown-id": "unknown_schema_id",
    "no-customer": "missing_customer_id",
    "future": "bad_timestamp",
    "bad-enum": "malformed_avro",
}


def schema(schema_dir, name):
    with open(f"{schema_dir}/{name}") as f:
        return fastavro.parse_schema(json.load(f))


def framed(schema_id, parsed, record):
    out = io.BytesIO()
    out.write(b"\0" + struct.pack(">i", schema_id))
    fastavro.schemaless_writer(out, parsed, record)
    return out.getvalue()


def event(event_id, customer, t, **extra):
    record = {"event_id": event_id, "customer_id": customer, "occurred_at": t,
              "channel": "PHONE", "type": "CONTACT", "outcome": None, "case_id": None,
              "topic": None, "agent_id": None, "wait_ms": None, "handle_ms": None,
              "sentiment": None, "csat": None, "nps": None, "attributes": {}}
    record.update(extra)
    return record


def seed_bad(bootstrap, topic, schema_dir):
    parsed = schema(schema_dir, "interaction_event.avsc")
    good = framed(1, parsed, event("ok", "C1", 1767571200000))
    values = {
        "garbage": b'{"not": "avro"}',
        "truncated": good[:12],
        "unknown-id": b"\0\0\0\x03\xe7" + good[5:],
        "no-customer": framed(1, parsed, event("nc", "", 1767571200000)),
        "future": framed(1, parsed, event("fut", "C1", int(time.time() * 1000) + 10 * 86400000)),
    }
    # bad-enum: a valid event whose channel index is 99 (there are 12 symbols).
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, parsed, event("be", "C1", 1767571200000))
    body = buf.getvalue()
    prefix_len = 1 + len("be") + 1 + len("C1")          # two strings
    t_len = len(zigzag(1767571200000))
    idx = prefix_len + t_len
    values["bad-enum"] = b"\0\0\0\0\x01" + body[:idx] + zigzag(99) + body[idx + 1:]
    producer = Producer({"bootstrap.servers": bootstrap})
    for key in BAD:
        producer.produce(topic, key=key.encode(), value=values[key],
                         headers=[("origin", b"integration-test")])
    # A late event: a known customer, a day before everything else. Its key
    # pins it to that customer's partition, whose watermark is far ahead.
    late = framed(1, parsed, event("late-1", "C000001", 1767571200000 - 86400000))
    producer.produce(topic, key=b"C000001", value=late, headers=[("origin", b"late")])
    assert producer.flush(30) == 0, "could not produce the hostile messages"


def zigzag(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def end_offsets(consumer, topic):
    meta = consumer.list_topics(topic, timeout=10)
    parts = [TopicPartition(topic, p) for p in meta.topics[topic].partitions]
    return {tp.partition: consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in parts}, parts


def wait(bootstrap, group, topic, timeout_s):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "enable.auto.commit": False})
    deadline = time.time() + float(timeout_s)
    ends, parts = end_offsets(consumer, topic)
    committed = {}
    while time.time() < deadline:
        try:
            committed = {tp.partition: tp.offset for tp in consumer.committed(parts, timeout=10)}
        except KafkaException as error:  # e.g. NOT_COORDINATOR while a new broker loads
            print(f"committed offsets not available yet ({error}); retrying", file=sys.stderr)
            time.sleep(1)
            continue
        if all(committed.get(p, -1) >= end for p, end in ends.items()):
            consumer.close()
            print(f"group {group} committed the end offsets {ends}")
            return
        time.sleep(1)
    consumer.close()
    sys.exit(f"timed out: committed {committed}, end offsets {ends}")


def read_all(bootstrap, topic):
    # read_committed never delivers transaction markers or aborted records, so
    # the end of a partition is its EOF event, not its last offset.
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{time.time()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": "read_committed", "enable.partition.eof": True})
    ends, parts = end_offsets(consumer, topic)
    consumer.assign([TopicPartition(topic, p, 0) for p in ends])
    messages, remaining = [], {p: e for p, e in ends.items() if e > 0}
    deadline = time.time() + 60
    while remaining and time.time() < deadline:
        message = consumer.poll(1.0)
        if message is None:
            continue
        if message.error():
            if message.error().code() == KafkaError._PARTITION_EOF:
                remaining.pop(message.partition(), None)
            continue
        messages.append(message)
        if message.offset() + 1 >= remaining.get(message.partition(), 0):
            remaining.pop(message.partition(), None)
    consumer.close()
    assert not remaining, f"could not read {topic} to its end: {remaining}"
    return messages


def read_events(ocf):
    with open(ocf, "rb") as f:
        return list(fastavro.reader(f))


def verify(bootstrap, prefix, ocf, schema_dir, ocf2=None, rule_off=None):
    failures = []
    expected = exact_rules.alerts(read_events(ocf))
    if ocf2:
        # The second set starts long after the first, so no window or
        # cooldown spans both; the reloaded config disabled rule_off.
        second = exact_rules.alerts(read_events(ocf2))
        if not any(a[1] == rule_off for a in second):
            failures.append(f"the second event set has no {rule_off} alert: the reload "
                            "would go untested; change its seed")
        expected += [a for a in second if a[1] != rule_off]
    alert_schema = schema(schema_dir, "alert.avsc")
    got = []
    for message in read_all(bootstrap, f"{prefix}.alerts"):
        value = message.value()
        if value[0] != 0 or struct.unpack(">i", value[1:5])[0] != 2:
            failures.append(f"alert not framed with the alert schema id: {value[:5]!r}")
            continue
        alert = fastavro.schemaless_reader(io.BytesIO(value[5:]), alert_schema)
        if message.key().decode() != alert["customer_id"]:
            failures.append(f"alert key {message.key()!r} is not its customer_id")
        t = alert["event_time"]
        t = int(round(t.timestamp() * 1000)) if hasattr(t, "timestamp") else t
        if alert["rule"] in exact_rules.RULES:  # the other rules have tests of their own
            got.append((alert["customer_id"], alert["rule"], alert["trigger_event_id"], t))
    if sorted(got) != sorted(expected):
        missing = sorted(set(expected) - set(got))[:5]
        extra = sorted(set(got) - set(expected))[:5]
        failures.append(f"alerts differ: expected {len(expected)}, got {len(got)}; "
                        f"missing e.g. {missing}; unexpected e.g. {extra}")
    if len(got) != len(set(got)):
        failures.append(f"{len(got) - len(set(got))} duplicate alerts")

    dead = read_all(bootstrap, f"{prefix}.dlq")
    seen = {}
    for message in dead:
        headers = {k: (v.decode() if v else "") for k, v in (message.headers() or [])}
        key = message.key().decode()
        seen[key] = headers.get("__cxstream.errors.reason")
        if headers.get("origin") != "integration-test":
            failures.append(f"dead letter {key} lost its original headers: {headers}")
        for name in ("message", "topic", "partition", "offset", "timestamp"):
            if not headers.get(f"__cxstream.errors.{name}"):
                failures.append(f"dead letter {key} has no __cxstream.errors.{name} header")
        if headers.get("__cxstream.errors.topic") != f"{prefix}.interactions":
            failures.append(f"dead letter {key} names the wrong source topic")
    want = {key: REASONS[key] for key in BAD}
    if seen != want:
        failures.append(f"dead letters {seen} != expected {want}")

    profile_schema = schema(schema_dir, "customer_profile.avsc")
    profiles = read_all(bootstrap, f"{prefix}.profiles")
    if not profiles:
        failures.append("no profiles on the profiles topic (consent.default=true was set)")
    for message in profiles:
        value = message.value()
        if value is None:
            continue  # a tombstone: consent withdrawn
        if value[0] != 0 or struct.unpack(">i", value[1:5])[0] != 3:
            failures.append(f"profile not framed with the profile schema id: {value[:5]!r}")
            break
        profile = fastavro.schemaless_reader(io.BytesIO(value[5:]), profile_schema)
        if message.key().decode() != profile["customer_id"]:
            failures.append(f"profile key {message.key()!r} is not its customer_id")
            break
        if not 0 <= profile["frustration_score"] <= 100 or not 0 <= profile["churn_score"] <= 100:
            failures.append(f"profile scores out of range: {profile}")
            break

    late = read_all(bootstrap, f"{prefix}.late")
    late_keys = [m.key().decode() for m in late]
    if late_keys != ["C000001"]:
        failures.append(f"late events {late_keys} != ['C000001']")

    if failures:
        print("\n".join("FAIL: " + f for f in failures))
        sys.exit(1)
    print(f"ok: {len(got)} alerts equal the reference, {len(dead)} dead letters with "
          f"reasons and origin, {len(late)} late event, {len(profiles)} profiles")


def exact_rule_alerts(bootstrap, prefix, schema_dir):
    """The committed alerts of the three exact rules, as the reference's
    tuples (customer, rule, trigger event, event time in ms)."""
    alert_schema = schema(schema_dir, "alert.avsc")
    got = []
    for message in read_all(bootstrap, f"{prefix}.alerts"):
        alert = fastavro.schemaless_reader(io.BytesIO(message.value()[5:]), alert_schema)
        if alert["rule"] in exact_rules.RULES:
            t = alert["event_time"]
            t = int(round(t.timestamp() * 1000)) if hasattr(t, "timestamp") else t
            got.append((alert["customer_id"], alert["rule"], alert["trigger_event_id"], t))
    return got


def verify_restore(bootstrap, prefix, schema_dir, ocf_a, ocf_b):
    """Alerts over A then B equal the reference over A+B; and B's alerts with
    A's history differ from B's alone (so a lost state would show)."""
    events_a, events_b = read_events(ocf_a), read_events(ocf_b)
    expected = exact_rules.alerts(events_a + events_b)
    without_history = exact_rules.alerts(events_a) + exact_rules.alerts(events_b)
    if sorted(expected) == sorted(without_history):
        sys.exit("test data has no alert that depends on state from before the restart; "
                 "change the seeds")
    got = exact_rule_alerts(bootstrap, prefix, schema_dir)
    if sorted(got) != sorted(expected):
        missing = sorted(set(expected) - set(got))[:5]
        extra = sorted(set(got) - set(expected))[:5]
        sys.exit(f"alerts differ: expected {len(expected)}, got {len(got)}; missing e.g. "
                 f"{missing}; unexpected e.g. {extra}")
    spanning = len(set(expected) - set(without_history))
    print(f"ok: {len(got)} alerts equal the reference across a kill -9 and a restore "
          f"({spanning} of them need the state from before the restart)")


def verify_exact(bootstrap, prefix, schema_dir, ocf, kills):
    """read_committed alerts equal the reference: nothing missing, nothing twice."""
    expected = exact_rules.alerts(read_events(ocf))
    got = exact_rule_alerts(bootstrap, prefix, schema_dir)
    duplicates = len(got) - len(set(got))
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    if duplicates or missing or extra:
        sys.exit(f"exactly-once broken after {kills} kills: {len(got)} alerts, expected "
                 f"{len(expected)}; {duplicates} duplicates, {len(missing)} missing e.g. "
                 f"{missing[:3]}, {len(extra)} unexpected e.g. {extra[:3]}")
    print(f"ok: after {kills} kill -9, the committed alerts equal the reference exactly "
          f"({len(got)} alerts, no duplicate, none missing)")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"seed-bad": seed_bad, "wait": wait, "verify": verify,
     "verify-restore": verify_restore, "verify-exact": verify_exact}[command](*args)
