#!/usr/bin/env python3
"""Independent reference for the replay golden test: reads the Anonymous Bank
TSV files itself (the conversion of DESIGN.md section 8, as documented in
stream/import_anonbank.h) and applies the exact rules of DESIGN.md section 6.
Shares no code with the C project. Prints one alert per line:
customer_id, rule, trigger_event_id, event_time_ms (tab-separated), in
processing order; counts per rule go to stderr.

Usage: python3 tests/reference/anonbank_rules.py FILE... > expected.tsv
"""
import calendar
import collections
import re
import sys

HOUR_MS = 3600 * 1000
WINDOW_MS = 24 * HOUR_MS            # all three rules: window (t - 24h, t]
COOLDOWN_MS = 24 * HOUR_MS          # per (customer, rule)
REPEAT_MIN_CONTACTS = 3             # repeat_contact: assisted CONTACTs in the window
LONG_WAIT_SINGLE_MS = 600000        # long_wait: one wait at least this long
LONG_WAIT_TOTAL_MS = 1800000        # long_wait: summed waits in the window
ABANDON_MIN = 2                     # abandonment: ABANDONED CONTACTs in the window
RULES = ("repeat_contact", "long_wait", "abandonment")  # evaluation order per event

# Conversion (stream/import_anonbank.h).
REQUIRED = ("call_id", "customer_id", "type", "date", "vru_entry", "q_time", "outcome",
            "ser_time")
KNOWN = REQUIRED + ("vru+line", "priority", "server")
MAX_FIELD_BYTES = 255
MAX_SECONDS = 86400
ID_RE = re.compile(r"[0-9]{1,20}")
SECONDS_RE = re.compile(r"[0-9]{1,9}")
TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2}):([0-9]{2})")
OUTCOMES = {"AGENT": "COMPLETED", "HANG": "ABANDONED"}

Event = collections.namedtuple("Event", "time_ms event_id customer_id wait_ms outcome")


def parse_time_ms(date, clock):
    """date YYMMDD + clock H:MM:SS as UTC ms; None when either is invalid."""
    time = TIME_RE.fullmatch(clock)
    if not re.fullmatch(r"[0-9]{6}", date) or not time:
        return None
    yy, month, day = int(date[:2]), int(date[2:4]), int(date[4:])
    year = 1900 + yy if yy >= 69 else 2000 + yy   # POSIX strptime %y
    hour, minute, second = map(int, time.groups())
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]
            and hour <= 23 and minute <= 59 and second <= 59):
        return None
    return calendar.timegm((year, month, day, hour, minute, second)) * 1000


def seconds_ms(text):
    if not SECONDS_RE.fullmatch(text) or int(text) > MAX_SECONDS:
        return None
    return int(text) * 1000


def read_events(paths):
    """All written events in input order, files in the order given."""
    events = []
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        header = None
        for line in data.decode("latin-1").split("\n"):
            line = line[:-1] if line.endswith("\r") else line
            if line.strip(" \t\r") == "":
                continue                       # blank lines are not rows
            fields = [field.strip(" ") for field in line.split("\t")]
            if header is None:
                header = fields
                missing = [name for name in REQUIRED if name not in header]
                twice = [name for name in KNOWN if header.count(name) > 1]
                if missing or twice:
                    sys.exit(f"{path}: header lacks {missing} or repeats {twice}")
                continue
            if "\0" in line or len(fields) != len(header):
                continue                       # rejected
            if any(len(field.encode("latin-1")) > MAX_FIELD_BYTES for field in fields):
                continue                       # rejected
            row = dict(zip(header, fields))
            time_ms = parse_time_ms(row["date"], row["vru_entry"])
            wait_ms, handle_ms = seconds_ms(row["q_time"]), seconds_ms(row["ser_time"])
            if (not ID_RE.fullmatch(row["call_id"]) or not ID_RE.fullmatch(row["customer_id"])
                    or time_ms is None or wait_ms is None or handle_ms is None):
                continue                       # rejected
            if row["outcome"] == "PHANTOM" or int(row["customer_id"]) == 0:
                continue                       # skipped
            # DESIGN.md section 8: the id may repeat (call_id is unique per VRU line only).
            event_id = f"anonbank-{row['date']}-{row['call_id']}"
            events.append(Event(time_ms, event_id, row["customer_id"], wait_ms,
                                OUTCOMES.get(row["outcome"])))
    events.sort(key=lambda event: event.time_ms)   # stable: equal times keep input order
    return events


def alerts(events):
    """Section 6's exact rules. Every imported event is a CONTACT on PHONE, an
    assisted channel, so every event counts as a contact for all three."""
    recent = collections.defaultdict(list)     # customer -> its events in the last window
    last_alert = {}                            # (customer, rule) -> time of its last alert
    for event in events:
        t = event.time_ms                      # events come sorted: no earlier one is > t
        window = [e for e in recent[event.customer_id] if e.time_ms > t - WINDOW_MS] + [event]
        recent[event.customer_id] = window
        fires = {
            "repeat_contact": len(window) >= REPEAT_MIN_CONTACTS,
            "long_wait": (event.wait_ms >= LONG_WAIT_SINGLE_MS
                          or sum(e.wait_ms for e in window) >= LONG_WAIT_TOTAL_MS),
            "abandonment": (event.outcome == "ABANDONED"
                            and sum(e.outcome == "ABANDONED" for e in window) >= ABANDON_MIN),
        }
        for rule in RULES:
            key = (event.customer_id, rule)
            if fires[rule] and (key not in last_alert or t >= last_alert[key] + COOLDOWN_MS):
                last_alert[key] = t
                yield event.customer_id, rule, event.event_id, t


def main(paths):
    if not paths:
        sys.exit(__doc__.strip())
    events = read_events(paths)
    counts = collections.Counter()
    for customer_id, rule, event_id, time_ms in alerts(events):
        counts[rule] += 1
        sys.stdout.write(f"{customer_id}\t{rule}\t{event_id}\t{time_ms}\n")
    print(f"events={len(events)} " + " ".join(f"{rule}={counts[rule]}" for rule in RULES),
          file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
