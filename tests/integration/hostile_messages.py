"""Producer for tests/integration/test_hostile_messages.sh: writes the hostile
messages of README "Hostile input" (Confluent framing, schema id 1, Avro
written field by field) to a topic of a real broker, then a valid event and a
valid event whose Kafka key is 1 MB.

  hostile_messages.py BOOTSTRAP TOPIC

Prints one line per message: its key and the delivery result. A message the
broker itself refuses (2 MB, over its message.max.bytes of 1 MB) must fail
with MSG_SIZE_TOO_LARGE; the others must be delivered.
"""
import struct
import sys

from confluent_kafka import KafkaError, Producer


def zigzag(value):
    value = (value << 1) ^ (value >> 63)
    value &= (1 << 64) - 1
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def string(text):
    data = text.encode() if isinstance(text, str) else text
    return zigzag(len(data)) + data


def event(customer_id="C1", occurred_at=1767607200000, sentiment=None, attributes=0,
          big_value=0):
    body = string("ev-" + str(occurred_at)) + string(customer_id) + zigzag(occurred_at)
    body += zigzag(0) + zigzag(0)  # channel PHONE, type CONTACT
    body += zigzag(0) * 6          # outcome, case_id, topic, agent_id, wait_ms, handle_ms: null
    body += zigzag(0) if sentiment is None else zigzag(1) + struct.pack("<f", sentiment)
    body += zigzag(0) * 2          # csat, nps: null
    entries = attributes + (1 if big_value else 0)
    if entries:
        body += zigzag(entries)
        for i in range(attributes):
            body += string("k%d" % i) + string("")
        if big_value:
            body += string("big") + string(b"v" * big_value)
    body += zigzag(0)
    return b"\0" + struct.pack(">i", 1) + body


MESSAGES = [
    ("huge-id", event(customer_id="c" * 1000000), None),
    ("nan-sentiment", event(sentiment=float("nan")), None),
    ("time-min", event(occurred_at=-(1 << 63)), None),
    ("time-max", event(occurred_at=(1 << 63) - 1), None),
    ("many-attributes", event(attributes=20000), None),
    ("too-large", event(big_value=1045000), None),
    ("broker-refuses", event(big_value=2 * 1024 * 1024), KafkaError.MSG_SIZE_TOO_LARGE),
    ("valid", event(customer_id="C-valid"), None),
    ("k" * 1000000, event(customer_id="C-huge-kafka-key"), None),
]


def main():
    bootstrap, topic = sys.argv[1], sys.argv[2]
    producer = Producer({"bootstrap.servers": bootstrap, "message.max.bytes": 4 * 1024 * 1024,
                         "enable.idempotence": False, "linger.ms": 0})
    failed = []
    for key, value, expected in MESSAGES:
        result = {}
        producer.produce(topic, key=key, value=value,
                         on_delivery=lambda err, msg, r=result: r.update(err=err))
        producer.flush(30)
        err = result.get("err")
        code = err.code() if err else None
        print("%s: %d bytes, %s" % (key[:20], len(value), err.name() if err else "delivered"))
        if code != expected:
            failed.append(key[:20])
    if failed:
        print("unexpected delivery results: " + ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
