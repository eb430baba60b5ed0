"""Independent reference of DESIGN.md section 6's three exact rules, for any
InteractionEvent stream (read with fastavro, not with project code).

Events are dicts with the schema's field names, processed in the order given
(per customer that is the order Kafka keeps by key). Returns alerts as
(customer_id, rule, trigger_event_id, event_time) tuples in processing order.
"""

DAY_MS = 24 * 3600 * 1000
ASSISTED = {"PHONE", "CHAT", "EMAIL", "SMS", "MESSAGING", "SOCIAL", "STORE", "FIELD"}
RULES = ("repeat_contact", "long_wait", "abandonment")


def alerts(events, window_ms=DAY_MS, cooldown_ms=DAY_MS):
    history = {}      # customer -> list of (time, channel, outcome, wait) of CONTACT events
    quiet_until = {}  # (customer, rule) -> time before which the rule stays quiet
    out = []
    for event in events:
        if event["type"] != "CONTACT":
            continue
        customer, t = event["customer_id"], event["occurred_at"]
        if hasattr(t, "timestamp"):  # fastavro gives timestamp-millis as datetime
            t = int(round(t.timestamp() * 1000))
        wait = event.get("wait_ms") or 0
        contacts = history.setdefault(customer, [])
        contacts.append((t, event["channel"], event.get("outcome"), wait))
        in_window = [c for c in contacts if t - window_ms < c[0] <= t]
        fired = {
            "repeat_contact": event["channel"] in ASSISTED
            and sum(1 for c in in_window if c[1] in ASSISTED) >= 3,
            "long_wait": wait >= 600000 or sum(c[3] for c in in_window) >= 1800000,
            "abandonment": event.get("outcome") == "ABANDONED"
            and sum(1 for c in in_window if c[2] == "ABANDONED") >= 2,
        }
        for rule in RULES:
            if fired[rule] and t >= quiet_until.get((customer, rule), -2**63):
                quiet_until[(customer, rule)] = t + cooldown_ms
                out.append((customer, rule, event["event_id"], t))
    return out
