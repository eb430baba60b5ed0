"""Turns bench/run's raw JSON lines into the results table (printed and
written to BASE.md) and PNG plots (BASE-*.png). Every figure is the median
over runs; every ratio is computed within one run, then its median taken.

  python3 bench/report.py RAW.jsonl BASE PROFILE.txt|"" "settings..."
"""
import json
import os
import statistics
import sys
from collections import defaultdict

# The project's own goals (the "goal" column): set when the benchmarks were
# first built, as what "far faster and leaner" than the peers should mean.
TARGETS = {
    "inproc": 5_000_000,   # events/s per core, decode + state + detectors
    "raw_ratio": 0.90,     # end to end / librdkafka raw consume
    "peer_ratio": 20.0,    # per core, cxstream / Kafka Streams
    "bytes_per_customer": 200,
}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=0, unit=""):
    if value is None:
        return "n/a"
    if digits == 0:
        return f"{value:,.0f}{unit}"
    return f"{value:,.{digits}f}{unit}"


def load(path):
    rows = defaultdict(list)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                row = json.loads(line)
                rows[row["section"]].append(row)
    return rows


def inproc(rows, section="inproc"):
    by_size = defaultdict(list)
    for r in rows[section]:
        by_size[r["size"]].append(r)
    out = []
    for size, runs in by_size.items():
        first = runs[0]
        out.append({
            "size": size, "customers": first["customers"], "active": first["active"],
            "events": first["events"], "runs": len(runs),
            "wall_rate": median(r["events"] / r["elapsed"] for r in runs),
            "core_rate": median(r["events"] / (r["user"] + r["sys"]) for r in runs),
            "user_rate": median(r["events"] / r["user"] for r in runs if r["user"] > 0),
            "rss_mb": median(r["rss_kb"] / 1024 for r in runs),
            "bytes_per_customer": median((r["rss_kb"] - r["rss_base_kb"]) * 1024 / r["active"]
                                         for r in runs),
            "idle": first.get("idle"),
        })
    return out


def hotpath(rows):
    by_size = defaultdict(list)
    for r in rows["hotpath"]:
        if r["hotpath"].get("events"):
            by_size[r["size"]].append(r["hotpath"])
    return [{
        "size": size, "events": runs[0]["events"], "runs": len(runs),
        "generic": median(r["generic_decode_per_core"] for r in runs),
        "codec": median(r["codec_decode_per_core"] for r in runs),
        "hot": median(r["hotpath_per_core"] for r in runs),
        "hot_wall": median(r["hotpath_wall"] for r in runs),
    } for size, runs in by_size.items()]


def e2e(rows):
    runs = defaultdict(dict)
    # Start-up (reading a topic of a few hundred events) is left out of the
    # kcat and replay times, as the group's join is left out of run's.
    seconds = lambda r: max(r["elapsed"] - r.get("startup", 0), 1e-3)
    for r in rows["kcat"]:
        runs[r["run"]]["kcat"] = r["events"] / seconds(r)
        runs[r["run"]]["kcat_core"] = r["events"] / max(r["user"] + r["sys"], 1e-3)
    for r in rows["topic_replay"]:
        runs[r["run"]]["replay"] = r["events"] / seconds(r)
    for r in rows["run"]:
        d = r["drain"]
        runs[r["run"]][r["guarantee"]] = d.get("rate")
        runs[r["run"]][r["guarantee"] + "_core"] = d.get("rate_per_core")
    for r in rows["restore"]:
        runs[r["run"]]["restore"] = r["restore"].get("records_per_s")
        runs[r["run"]]["restore_records"] = r["restore"].get("records")
    ratio = lambda a, b: [x[a] / x[b] for x in runs.values() if x.get(a) and x.get(b)]
    values = lambda k: [x.get(k) for x in runs.values()]
    return {
        "runs": len(runs),
        "kcat": median(values("kcat")), "kcat_core": median(values("kcat_core")),
        "replay": median(values("replay")),
        "alos": median(values("at_least_once")), "alos_core": median(values("at_least_once_core")),
        "eos": median(values("exactly_once")), "eos_core": median(values("exactly_once_core")),
        "restore": median(values("restore")), "restore_records": median(values("restore_records")),
        "alos_vs_kcat": median(ratio("at_least_once", "kcat")),
        "replay_vs_kcat": median(ratio("replay", "kcat")),
        "eos_vs_alos": median(ratio("exactly_once", "at_least_once")),
    }


def latency(rows):
    by_load = defaultdict(list)
    for r in rows["latency"]:
        by_load[r["load"]].append(r)
    out = []
    for load, runs in by_load.items():
        # A warm-up that left no alert out of a short run (all sent within it):
        # the figures with the warm-up are the only ones there are.
        for r in runs:
            lat = r["latency"]
            if not lat.get("alerts") and lat.get("all_alerts"):
                r["latency"] = dict(lat, alerts=lat["all_alerts"], p50_ms=lat["all_p50_ms"],
                                    p99_ms=lat["all_p99_ms"], p999_ms=lat["all_p999_ms"],
                                    warmup_s=0.0)
        out.append({
            "load": load, "runs": len(runs),
            "offered": median(r["sent"]["offered_rate"] for r in runs),
            "processed": median(r["drain"].get("rate") for r in runs),
            "alerts": median(r["latency"]["alerts"] for r in runs),
            "p50": median(r["latency"]["p50_ms"] for r in runs),
            "p99": median(r["latency"]["p99_ms"] for r in runs),
            "p999": median(r["latency"]["p999_ms"] for r in runs),
            "all_p99": median(r["latency"].get("all_p99_ms") for r in runs),
            # Split at the trigger's append (input topic LogAppendTime; runs
            # before 2026-11-25 have none): sent -> appended, appended -> alert.
            "in_p99": median(r["latency"].get("in_p99_ms") for r in runs),
            "cx_p99": median(r["latency"].get("cx_p99_ms") for r in runs),
            "cx_p999": median(r["latency"].get("cx_p999_ms") for r in runs),
            "warmup": runs[0]["latency"].get("warmup_s"),
        })
    return out


def peer(rows):
    runs = rows["peer"]
    if not runs:
        return None
    ok = lambda r: r["cxstream"].get("rate") and r["kafka_streams"].get("rate")
    return {
        "runs": len(runs), "events": runs[0]["events"],
        "cx": median(r["cxstream"].get("rate") for r in runs),
        "cx_core": median(r["cxstream"].get("rate_per_core") for r in runs),
        "ks": median(r["kafka_streams"].get("rate") for r in runs),
        "ks_core": median(r["kafka_streams"].get("rate_per_core") for r in runs),
        "ratio": median(r["cxstream"]["rate"] / r["kafka_streams"]["rate"] for r in runs if ok(r)),
        "ratio_core": median(r["cxstream"]["rate_per_core"] / r["kafka_streams"]["rate_per_core"]
                             for r in runs if ok(r) and r["cxstream"].get("rate_per_core")
                             and r["kafka_streams"].get("rate_per_core")),
        "equal": all(r["compare"]["equal"] for r in runs),
        "alerts": runs[0]["compare"]["cxstream_alerts"],
        "peer_alerts": runs[0]["compare"]["peer_alerts"],
    }


def verdict(value, target, higher_is_better=True):
    if value is None:
        return "n/a"
    return "met" if (value >= target if higher_is_better else value <= target) else "not met"


def table(ip, hp, ee, lat, pr, cold=()):
    lines = ["| measure | value | goal |", "|---|---|---|"]
    for s in ip:
        lines.append(f"| in-process, file replay, {s['size']} customers ({s['active']:,} tracked, "
                     f"{s['events']:,} events): events/s per core (CPU time) | "
                     f"{fmt(s['core_rate'])} (wall {fmt(s['wall_rate'])}) | >= 5,000,000: "
                     f"{verdict(s['core_rate'], TARGETS['inproc'])} |")
    for h in hp:
        lines.append(f"| in-process hot path, {h['size']} customers: messages in memory -> "
                     f"codec decode -> operators -> null sink, events/s per core | "
                     f"{fmt(h['hot'])} | >= 5,000,000: {verdict(h['hot'], TARGETS['inproc'])} |")
    for h in hp:
        lines.append(f"| decode only, {h['size']}: Avro-C generic / codec (guard + specialised "
                     f"decoder), records/s per core | {fmt(h['generic'])} / {fmt(h['codec'])} "
                     f"({fmt(h['codec'] / h['generic'] if h['generic'] else None, 1)}x) | |")
    for s in ip:
        lines.append(f"| memory, {s['size']} customers: resident bytes per tracked customer | "
                     f"{fmt(s['bytes_per_customer'])} (max RSS {fmt(s['rss_mb'])} MB) | <= 200: "
                     f"{verdict(s['bytes_per_customer'], TARGETS['bytes_per_customer'], False)} |")
    off = {s["size"]: s for s in ip}
    for c in cold:
        base = off.get(c["size"])
        cost = base["core_rate"] / c["core_rate"] if base and c["core_rate"] else None
        lines.append(f"| memory with idle customers kept cold (state.compact.idle.ms="
                     f"{c['idle']}), {c['size']} customers: resident bytes per tracked customer | "
                     f"{fmt(c['bytes_per_customer'])} (max RSS {fmt(c['rss_mb'])} MB; CPU per "
                     f"event {fmt(cost, 2)}x the replay above) | <= 200: "
                     f"{verdict(c['bytes_per_customer'], TARGETS['bytes_per_customer'], False)} |")
    if ee["runs"]:
        lines += [
            f"| end to end: raw consume, kcat -C -c N to /dev/null (events/s, start-up left out) | "
            f"{fmt(ee['kcat'])} | |",
            f"| end to end: `cxstream run` at saturation, at_least_once (events/s; per core) | "
            f"{fmt(ee['alos'])}; {fmt(ee['alos_core'])} | |",
            f"| end to end: run / raw consume | {fmt(ee['alos_vs_kcat'], 2)} | >= 0.90: "
            f"{verdict(ee['alos_vs_kcat'], TARGETS['raw_ratio'])} |",
            f"| end to end: `cxstream replay --topic` (no group, no outputs) / raw consume | "
            f"{fmt(ee['replay_vs_kcat'], 2)} ({fmt(ee['replay'])} events/s) | |",
            f"| exactly_once at saturation (events/s; per core) | {fmt(ee['eos'])}; "
            f"{fmt(ee['eos_core'])} | |",
            f"| exactly_once / at_least_once | {fmt(ee['eos_vs_alos'], 2)} | |",
            f"| restore from `<app>-state` (records/s; records) | {fmt(ee['restore'])}; "
            f"{fmt(ee['restore_records'])} | |",
        ]
    for l in lat:
        lines.append(f"| latency at {l['load']} events/s offered (achieved {fmt(l['offered'])}): "
                     f"p50 / p99 / p99.9 ms, produced -> alert acknowledged | "
                     f"{fmt(l['p50'], 1)} / {fmt(l['p99'], 1)} / {fmt(l['p999'], 1)} "
                     f"({fmt(l['alerts'])} alerts after a {fmt(l['warmup'], 0)} s warm-up; "
                     f"p99 with it {fmt(l['all_p99'], 1)}"
                     + (f"; split at the trigger's append: sent -> appended p99 "
                        f"{fmt(l['in_p99'], 1)}, appended -> alert acknowledged p99 / p99.9 "
                        f"{fmt(l['cx_p99'], 1)} / {fmt(l['cx_p999'], 1)}"
                        if l["cx_p99"] is not None else "")
                     + ") | |")
    if pr:
        lines += [
            f"| peer: Kafka Streams, 3 exact rules ({pr['events']:,} events): events/s; per core | "
            f"{fmt(pr['ks'])}; {fmt(pr['ks_core'])} | |",
            f"| peer: cxstream run, same 3 rules, same topic: events/s; per core | "
            f"{fmt(pr['cx'])}; {fmt(pr['cx_core'])} | |",
            f"| peer: cxstream / Kafka Streams per core (wall) | {fmt(pr['ratio_core'], 1)} "
            f"({fmt(pr['ratio'], 1)}) | >= 20: {verdict(pr['ratio_core'], TARGETS['peer_ratio'])} |",
            f"| peer: outputs equal (customer, rule, trigger_event_id, event_time) | "
            f"{'yes' if pr['equal'] else 'NO'} ({pr['alerts']:,} vs {pr['peer_alerts']:,} alerts) | |",
        ]
    return "\n".join(lines)


def plots(base, ip, hp, ee, lat, pr):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    made = []

    def save(fig, name):
        path = f"{base}-{name}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        made.append(os.path.basename(path))

    if ip:
        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        names = [s["size"] for s in ip]
        width = 0.4
        xs = list(range(len(names)))
        a.bar([x - width / 2 for x in xs], [s["core_rate"] or 0 for s in ip], width,
              color="tab:blue", label="file replay")
        hot = {h["size"]: h["hot"] for h in hp}
        a.bar([x + width / 2 for x in xs], [hot.get(n) or 0 for n in names], width,
              color="tab:cyan", label="hot path (in memory)")
        a.set_xticks(xs)
        a.set_xticklabels(names)
        a.axhline(TARGETS["inproc"], color="tab:red", linestyle="--", label="goal 5M")
        a.set_title("in-process events/s per core")
        a.set_yscale("log")
        a.legend()
        b.bar(names, [s["bytes_per_customer"] or 0 for s in ip], color="tab:green")
        b.axhline(TARGETS["bytes_per_customer"], color="tab:red", linestyle="--", label="goal 200 B")
        b.set_title("resident bytes per tracked customer")
        b.legend()
        save(fig, "inproc")
    if ee["runs"] or pr:
        fig, ax = plt.subplots(figsize=(8, 4))
        labels, values = [], []
        for label, v in [("kcat raw", ee.get("kcat")), ("replay --topic", ee.get("replay")),
                         ("run alos", ee.get("alos")), ("run eos", ee.get("eos")),
                         ("run 3 rules", pr and pr["cx"]), ("Kafka Streams", pr and pr["ks"])]:
            if v:
                labels.append(label)
                values.append(v)
        ax.bar(labels, values, color="tab:orange")
        ax.set_title("end to end events/s (wall, median)")
        save(fig, "e2e")
    if lat:
        fig, ax = plt.subplots(figsize=(8, 4))
        x = range(len(lat))
        for key, label in [("p50", "p50"), ("p99", "p99"), ("p999", "p99.9")]:
            ax.plot(list(x), [l[key] or 0 for l in lat], marker="o", label=label)
        ax.set_xticks(list(x))
        ax.set_xticklabels([f"{l['load']}\n({fmt(l['offered'])}/s)" for l in lat])
        ax.set_yscale("log")
        ax.set_ylabel("ms, produced -> alert acked")
        ax.set_title("latency by offered load")
        ax.legend()
        save(fig, "latency")
    return made


def main(raw, base, profile, settings):
    rows = load(raw)
    ip, hp, ee, lat, pr = inproc(rows), hotpath(rows), e2e(rows), latency(rows), peer(rows)
    body = table(ip, hp, ee, lat, pr, inproc(rows, "inproc_cold"))
    print(body)
    images = plots(base, ip, hp, ee, lat, pr)
    with open(base + ".md", "w") as f:
        f.write(f"# cxstream benchmarks, {os.path.basename(base)}\n\n")
        f.write(f"Written by `bench/run` ({settings}). Medians of the runs; ratios are taken "
                "within a run, then their median. The machine has 2 cores shared with other "
                "work (the broker, other builds and tests), so absolute figures are noisy; "
                "the ratios from the same run are what count. Per core = events / CPU seconds "
                "(user + system) of the process over the measured interval; end-to-end "
                "intervals run from the line saying a process's partitions are assigned "
                "(cxstream's `assigned`, the peer's `initialised`; watched every millisecond) "
                "to the group's commit of the last offset (join and start-up excluded).\n\n")
        if "quick=1" in settings:
            f.write("**--quick: a smoke run.** Its sets are too small for the figures to "
                    "mean much (start-up and commit intervals dominate the end-to-end ones).\n\n")
        f.write(body + "\n\n")
        for image in images:
            f.write(f"![{image}]({image})\n")
        if profile and os.path.exists(profile):
            f.write("\n## CPU profile of the in-process hot path\n\n```\n")
            with open(profile) as p:
                f.write(p.read())
            f.write("```\n")
        f.write(f"\nRaw runs: `{os.path.basename(raw)}`.\n")
        # Notes written by hand about these results (what changed, what next).
        if os.path.exists(base + "-notes.md"):
            with open(base + "-notes.md") as notes:
                f.write("\n" + notes.read())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "",
         sys.argv[4] if len(sys.argv) > 4 else "")
