/* The consume-process-produce loop, at least once or exactly once.
 *
 * A batch is up to processing.batch.size messages (or commit.interval.ms).
 * Each message is decoded, applied to its partition's processor, and what it
 * causes (alerts, a dead letter, a late event) is produced. At least once,
 * the next batch starts while the broker acknowledges the last ones (see
 * seal_batch): a batch's offsets are stored only when its outputs, then its
 * state records, are acknowledged, and librdkafka's auto-commit commits
 * stored offsets only. So an offset is committed only after its outputs are
 * safe: a crash replays from the last committed offset and may repeat
 * alerts (with the same alert_id), never lose them. Exactly once, one
 * transaction per commit.interval.ms while messages keep coming, or per
 * batch when they stop (finish_batch). Rebalances happen inside the
 * consumer calls of next_message; a revoke first waits for the batches in
 * flight.
 *
 * num.stream.threads > 1: that many processing threads, each a group member
 * of its own (consumer, producer, changelog reader, codec, tasks), as Kafka
 * Streams' stream threads are; they share nothing but the stop and reload
 * signals and a fatal error, which stops them all. */
#include "runner.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "../operators/processor.h"
#include "buf.h"
#include "clock.h"
#include "changelog.h"
#include "codec.h"
#include "inflight.h"
#include "jsonl.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"

typedef struct task_s {
  char *topic;                 /* owned */
  int32_t partition;           /* input partition */
  cx_processor_t *processor;   /* its operators and state */
  int64_t next_offset;         /* offset after the last message of the open batch; -1 = none */
  cx_metric_series_t *events[CX_CHANNEL__COUNT + 1]; /* per channel, then undecodable; lazily */
  uint32_t counted[CX_CHANNEL__COUNT + 1]; /* events not added to events[] yet (count_message) */
  cx_metric_series_t *late;    /* late events of this partition; lazily */
  int64_t walked_ms;           /* when its state bytes were last walked through (gauge) */
} task_t;

/* The batch loop reads the clocks every CLOCK_EVERY messages and serves
 * delivery reports every PUMP_EVERY messages (powers of two). */
#define CLOCK_EVERY 32
#define PUMP_EVERY 1024
/* Messages taken from the consumer's queue at once (see next_message). */
#define FETCH_MAX 512
/* A taken message's customer has its table slot prefetched AHEAD messages
 * before it is processed and its record AHEAD / 2 before (next_message). */
#define AHEAD 8

/* What next_message found out ahead about a taken message: its task (NULL
 * when it has none, or no key) and the hash of its key, which is its
 * customer_id when the producer keyed it so (as cxstream produce does). */
typedef struct hint_s {
  task_t *task;
  uint64_t hash;
} hint_t;

typedef struct runner_s {
  const cx_config_t *config;   /* borrowed */
  const cx_runner_options_t *options; /* borrowed */
  cx_report_t *report;         /* counters */
  rd_kafka_t *consumer;        /* group member */
  cx_kafka_output_t output;    /* producer of alerts, profiles, dead letters, late events */
  cx_codec_t *codec;           /* decode in, encode out */
  task_t *tasks;               /* one per assigned partition */
  size_t task_count;           /* in use */
  size_t task_capacity;        /* allocated */
  cx_buf_t line;               /* reused JSON line */
  int fatal;                   /* stop now, do not store offsets */
  const cx_processor_config_t *processor_config; /* rules in force (start or last reload) */
  cx_changelog_t *changelog;   /* state.changelog: state records, or NULL */
  bool exactly_once;           /* processing.guarantee=exactly_once */
  bool in_transaction;         /* a transaction is open */
  int64_t transaction_ms;      /* when it began */
  bool joined;                 /* the consumer has had a rebalance callback */
  int aborts_in_a_row;         /* transactions aborted since the last commit */
  cx_config_t *reloaded;       /* owned: the config of the last good reload, or NULL */
  cx_metrics_shard_t *metrics; /* this thread's metrics, or NULL (metrics.h) */
  cx_metric_series_t *alerts[CX_RULE__COUNT][CX_SEVERITY_CRITICAL + 1]; /* lazily */
  int64_t batch_messages;      /* messages taken in the open batch */
  cx_inflight_t inflight;      /* at_least_once: sealed batches not yet safe */
  cx_inflight_batch_t *open;   /* at_least_once: the batch being filled, or NULL */
  int64_t now_wall_ms;         /* wall clock, read every CLOCK_EVERY messages */
  int64_t gauges_ms;           /* when the state gauges were last set */
  int64_t walk_ms;             /* when the state bytes' walk last took a step */
  cx_metrics_run_t event_latency; /* its series set lazily; added at batch ends (count_message) */
  rd_kafka_queue_t *queue;     /* the consumer's queue (next_message) */
  rd_kafka_message_t *fetched[FETCH_MAX]; /* taken from it, not yet handed out */
  hint_t hints[FETCH_MAX];     /* of fetched[i], set AHEAD messages before it is handed out */
  size_t fetched_count;        /* in fetched */
  size_t fetched_next;         /* the next one to hand out */
  const hint_t *hint;          /* of the message next_message handed out last, or NULL */
} runner_t;

static int finish_batch(runner_t *runner);
static void drain_batches(runner_t *runner, int keep);
static void set_state_gauges(runner_t *runner);

static volatile sig_atomic_t stop_requested = 0;   /* signals received (a second one hurries) */
static volatile sig_atomic_t reload_generation = 0; /* SIGHUPs received */

static void on_signal(int sig) {
  if (sig == SIGHUP)
    reload_generation++;
  else
    stop_requested++;
}

/* SIGHUP: rebuild the config from the same file and -X pairs; when it is
 * valid, every partition's processor takes the new rules, scores, actions
 * and profile settings between two batches, keeping its state. A bad file
 * changes nothing. Other keys need a restart. */
static void reload(runner_t *runner) {
  char errstr[512];
  cx_config_t *config = NULL;
  const cx_runner_options_t *options = runner->options;
  if (cx_config_build(options->config_file, options->overrides, options->override_count, &config,
                      errstr, sizeof(errstr))) {
    cx_log(CX_LOG_ERROR, "SIGHUP: rules reload rejected, the running rules stay: %s", errstr);
    return;
  }
  for (size_t i = 0; i < runner->task_count; i++)
    cx_processor_reconfigure(runner->tasks[i].processor, &config->processor);
  cx_config_destroy(runner->reloaded);
  runner->reloaded = config;
  runner->processor_config = &config->processor;
  cx_log(CX_LOG_INFO, "SIGHUP: rules reloaded from %s for %zu partition(s)",
         options->config_file ? options->config_file : "-X", runner->task_count);
}

static task_t *find_task(runner_t *runner, const char *topic, int32_t partition) {
  for (size_t i = 0; i < runner->task_count; i++)
    if (runner->tasks[i].partition == partition && !strcmp(runner->tasks[i].topic, topic))
      return &runner->tasks[i];
  return NULL;
}

static int add_task(runner_t *runner, const char *topic, int32_t partition) {
  if (find_task(runner, topic, partition))
    return 0;
  if (runner->task_count == runner->task_capacity) {
    size_t capacity = runner->task_capacity ? runner->task_capacity * 2 : 16;
    task_t *tasks = realloc(runner->tasks, capacity * sizeof(*tasks));
    if (!tasks)
      return -1;
    runner->tasks = tasks;
    runner->task_capacity = capacity;
  }
  task_t *task = &runner->tasks[runner->task_count];
  task->topic = strdup(topic);
  task->partition = partition;
  task->processor = cx_processor_new(runner->processor_config);
  task->next_offset = -1;
  memset(task->events, 0, sizeof(task->events));
  memset(task->counted, 0, sizeof(task->counted));
  task->late = NULL;
  task->walked_ms = 0;
  if (!task->topic || !task->processor) {
    free(task->topic);
    cx_processor_destroy(task->processor);
    return -1;
  }
  runner->task_count++;
  if (runner->changelog) {
    /* The partition's state comes back before its first event. */
    char errstr[512];
    uint64_t records = 0;
    int64_t started = cx_clock_mono_ms();
    cx_processor_track_changes(task->processor);
    cx_metrics_restore_begin(runner->metrics);
    if (cx_changelog_restore(runner->changelog, partition, task->processor, &records, errstr,
                             sizeof(errstr))) {
      cx_log(CX_LOG_ERROR, "restoring %s [%d]: %s", topic, (int)partition, errstr);
      return -1;
    }
    cx_metrics_restore_end(runner->metrics, topic, partition, records);
    int64_t took_ms = cx_clock_mono_ms() - started;
    size_t customers = cx_processor_customer_count(task->processor);
    cx_log(CX_LOG_INFO, "restored %s [%d]: %llu state record(s), %zu customer(s) in %lld ms "
           "(%.0f customers/s)", topic, (int)partition, (unsigned long long)records, customers,
           (long long)took_ms, took_ms > 0 ? 1000.0 * (double)customers / (double)took_ms : 0.0);
  }
  return 0;
}

static void flush_counts(runner_t *runner, task_t *task);

static void drop_task(runner_t *runner, const char *topic, int32_t partition) {
  task_t *task = find_task(runner, topic, partition);
  if (!task)
    return;
  flush_counts(runner, task);
  free(task->topic);
  cx_processor_destroy(task->processor);
  *task = runner->tasks[--runner->task_count];
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *partitions, void *opaque) {
  runner_t *runner = opaque;
  runner->joined = true;
  bool cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
  rd_kafka_error_t *error = NULL;
  rd_kafka_resp_err_t assign_err = RD_KAFKA_RESP_ERR_NO_ERROR;

  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    /* Not ready until every partition of the assignment is restored. */
    cx_metrics_restore_begin(runner->metrics);
    for (int i = 0; i < partitions->cnt; i++) {
      if (add_task(runner, partitions->elems[i].topic, partitions->elems[i].partition)) {
        cx_log(CX_LOG_ERROR, "cannot take over %s [%d] (out of memory, or its state could not "
               "be restored: see above); stopping, so that a restart takes it over again",
               partitions->elems[i].topic, partitions->elems[i].partition);
        runner->fatal = 1;
      }
    }
    cx_log(CX_LOG_INFO, "assigned %d partition(s), now %zu", partitions->cnt, runner->task_count);
    cx_metrics_partitions_assigned(runner->metrics, "assign", (int64_t)runner->task_count);
    cx_metrics_restore_end(runner->metrics, NULL, 0, 0);
    if (cooperative)
      error = rd_kafka_incremental_assign(rk, partitions);
    else
      assign_err = rd_kafka_assign(rk, partitions);
  } else {
    /* exactly_once: what was processed so far commits with its offsets
     * before the partitions go, or the next owner would redo it. */
    if (runner->exactly_once && runner->in_transaction && !runner->fatal && finish_batch(runner))
      cx_log(CX_LOG_ERROR, "could not commit the open transaction on revoke");
    /* at_least_once: the sealed batches' state records and offsets go
     * before the partitions do (the open batch's revoked partitions are
     * dropped with it, and their messages consumed again by the next owner). */
    if (!runner->exactly_once)
      drain_batches(runner, 0);
    for (int i = 0; i < partitions->cnt; i++)
      drop_task(runner, partitions->elems[i].topic, partitions->elems[i].partition);
    cx_log(CX_LOG_INFO, "revoked %d partition(s), now %zu", partitions->cnt, runner->task_count);
    cx_metrics_partitions_assigned(runner->metrics, "revoke", (int64_t)runner->task_count);
    if (cooperative)
      error = rd_kafka_incremental_unassign(rk, partitions);
    else
      assign_err = rd_kafka_assign(rk, NULL);
  }
  if (error) {
    cx_log(CX_LOG_ERROR, "rebalance: %s", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  } else if (assign_err) {
    cx_log(CX_LOG_ERROR, "rebalance: %s", rd_kafka_err2str(assign_err));
  }
}

static void on_alert(const cx_alert_t *alert, void *opaque) {
  runner_t *runner = opaque;
  char errstr[256];
  runner->report->alerts[alert->rule_index]++;
  if (runner->metrics && alert->severity <= CX_SEVERITY_CRITICAL) {
    cx_metric_series_t **series = &runner->alerts[alert->rule_index][alert->severity];
    if (!*series)
      *series = cx_metrics_series2(runner->metrics, CX_METRIC_ALERTS,
                                   cx_rule_name((cx_rule_t)alert->rule_index),
                                   cx_severity_name(alert->severity));
    cx_metrics_add(*series, 1);
  }
  if (cx_kafka_output_alert(&runner->output, runner->codec, runner->config->alerts_topic, alert,
                            cx_clock_wall_ms(), errstr, sizeof(errstr))) {
    cx_log(CX_LOG_ERROR, "cannot encode alert %s: %s", alert->alert_id, errstr);
    runner->fatal = 1;
    return;
  }
  if (runner->options->print_alerts) {
    runner->line.len = 0;
    if (!cx_jsonl_append_alert(&runner->line, alert)) {
      fwrite(runner->line.data, 1, runner->line.len, runner->options->print_alerts);
      fflush(runner->options->print_alerts);
    }
  }
}

/* A profile goes to the compacted profiles topic keyed by its customer_id
 * (the pseudonym when profiles are pseudonymised); a deleted one is a
 * tombstone (null value), so compaction erases the customer's profile. */
static void on_profile(const cx_profile_t *profile, void *opaque) {
  runner_t *runner = opaque;
  char errstr[256];
  runner->report->profiles++;
  cx_metrics_add(cx_metrics_series0(runner->metrics, CX_METRIC_PROFILES), 1);
  if (profile->deleted) {
    runner->report->profiles_deleted++;
    cx_metrics_add(cx_metrics_series0(runner->metrics, CX_METRIC_PROFILE_TOMBSTONES), 1);
  }
  if (cx_kafka_output_profile(&runner->output, runner->codec, runner->config->profiles_topic,
                              profile, cx_clock_wall_ms(), errstr, sizeof(errstr))) {
    cx_log(CX_LOG_ERROR, "cannot encode a profile: %s", errstr);
    runner->fatal = 1;
  }
}

/* Counts a consumed message once in cxstream_events_total (channel, or
 * 'undecodable' at index CX_CHANNEL__COUNT) and its end-to-end latency.
 * Both are kept here and added to the metrics at the end of each batch
 * (flush_counts), not per message: four atomic additions and a bucket
 * search per message were ~4% of the processing thread (perf, 3 rules). */
static void count_message(runner_t *runner, task_t *task, const rd_kafka_message_t *message,
                          int channel) {
  if (!runner->metrics)
    return;
  task->counted[channel]++;
  rd_kafka_timestamp_type_t type;
  int64_t timestamp = rd_kafka_message_timestamp(message, &type);
  if (timestamp > 0) {
    if (!runner->event_latency.series)
      runner->event_latency.series = cx_metrics_series0(runner->metrics, CX_METRIC_EVENT_LATENCY);
    cx_metrics_run_observe(&runner->event_latency,
                           (double)(runner->now_wall_ms - timestamp) / 1000.0);
  }
}

/* Adds what count_message kept of task (NULL: of every task) to the metrics. */
static void flush_counts(runner_t *runner, task_t *task) {
  if (!runner->metrics)
    return;
  for (size_t i = 0; i < runner->task_count; i++) {
    task_t *t = &runner->tasks[i];
    if (task && t != task)
      continue;
    for (int channel = 0; channel <= CX_CHANNEL__COUNT; channel++) {
      if (!t->counted[channel])
        continue;
      if (!t->events[channel]) {
        char partition[16];
        snprintf(partition, sizeof(partition), "%d", (int)t->partition);
        t->events[channel] = cx_metrics_series3(
            runner->metrics, CX_METRIC_EVENTS, t->topic, partition,
            channel < CX_CHANNEL__COUNT ? cx_channel_name((cx_channel_t)channel) : "undecodable");
      }
      cx_metrics_add(t->events[channel], t->counted[channel]);
      t->counted[channel] = 0;
    }
  }
  cx_metrics_run_flush(&runner->event_latency);
}

/* hint: next_message's, or NULL. */
static void handle_message(runner_t *runner, const rd_kafka_message_t *message,
                           const hint_t *hint) {
  const char *topic = rd_kafka_topic_name(message->rkt);
  task_t *task = hint && hint->task ? hint->task : find_task(runner, topic, message->partition);
  if (!task) {
    /* Not ours any more (revoked in this poll): it will be consumed again by the new owner. */
    return;
  }
  /* Rates count from the first message, not from joining the group. */
  if (runner->report->messages++ == 0)
    runner->report->started_mono_ms = cx_clock_mono_ms();
  task->next_offset = message->offset + 1;
  char errstr[512];
  cx_event_t event;
  cx_err_t err = cx_codec_decode(runner->codec, message->payload, message->len, &event, errstr,
                                 sizeof(errstr));
  if (err) {
    runner->report->dead_letters++;
    count_message(runner, task, message, CX_CHANNEL__COUNT);
    cx_metrics_add(cx_metrics_series1(runner->metrics, CX_METRIC_DEAD_LETTERS, cx_err2code(err)), 1);
    cx_log(CX_LOG_WARN, "dead letter %s [%d] offset %lld: %s: %s", topic, (int)message->partition,
           (long long)message->offset, cx_err2code(err), errstr);
    cx_kafka_output_aside(&runner->output, message, runner->config->dlq_topic, cx_err2code(err),
                          errstr, cx_clock_wall_ms());
    return;
  }
  count_message(runner, task, message,
                (int)event.channel < CX_CHANNEL__COUNT ? (int)event.channel : CX_CHANNEL_OTHER);
  cx_outputs_t outputs = {on_alert, on_profile, runner};
  /* The key's hash is the customer's only when the key is its customer_id. */
  bool hashed = hint && hint->task && event.customer_id.ptr &&
                event.customer_id.len == message->key_len &&
                !memcmp(event.customer_id.ptr, message->key, message->key_len);
  cx_process_result_t result =
      hashed ? cx_processor_process_hashed(task->processor, &event, message->offset, hint->hash,
                                           &outputs)
             : cx_processor_process_at(task->processor, &event, message->offset, &outputs);
  if (result == CX_PROCESS_LATE) {
    runner->report->late_events++;
    if (runner->metrics && !task->late) {
      char partition[16];
      snprintf(partition, sizeof(partition), "%d", (int)task->partition);
      task->late = cx_metrics_series2(runner->metrics, CX_METRIC_LATE_EVENTS, task->topic,
                                      partition);
    }
    cx_metrics_add(task->late, 1);
    snprintf(errstr, sizeof(errstr), "occurred_at %lld is older than the watermark %lld",
             (long long)event.occurred_at_ms, (long long)cx_processor_watermark(task->processor));
    cx_kafka_output_aside(&runner->output, message, runner->config->late_topic, "late_event",
                          errstr, cx_clock_wall_ms());
  } else if (result == CX_PROCESS_DUPLICATE) {
    runner->report->duplicates++;
  } else if (result == CX_PROCESS_NOMEM) {
    cx_log(CX_LOG_ERROR, "out of memory processing %s [%d] offset %lld", topic,
           (int)message->partition, (long long)message->offset);
    runner->fatal = 1;
  } else {
    runner->report->events++;
  }
}

/* Flushes the batch's outputs; stores its offsets only when all were acknowledged. */
/* exactly_once: any error of a transactional call ends the process; the next
 * one restores state from the changelog and resumes from the last committed
 * transaction's offsets, so nothing of an unfinished transaction counts. */
/* After an aborted transaction the state of every partition of this thread
 * is ahead of its committed offsets: each is dropped and restored from the
 * changelog (read_committed: the aborted records are not there), and the
 * consumer goes back to the committed offsets. Partitions the group took
 * away meanwhile come back through the rebalance callback instead. */
/* Messages taken from the consumer's queue but not processed: destroyed
 * (their partitions' next owner, or a rebuilt task, reads them again from
 * the committed offsets). */
static void discard_fetched(runner_t *runner) {
  for (size_t i = runner->fetched_next; i < runner->fetched_count; i++)
    rd_kafka_message_destroy(runner->fetched[i]);
  runner->fetched_count = runner->fetched_next = 0;
}

/* The next message (or error event) of the consumer, or NULL after
 * wait_ms. Messages are taken up to FETCH_MAX at a time with
 * rd_kafka_consume_batch_queue, which takes the queue's lock, reads the
 * clock and marks the application as polling once per call instead of once
 * per message (rd_kafka_consumer_poll for each message cost ~15% of the
 * processing thread). It is called without waiting, since it would wait
 * out the whole timeout to fill its array; when nothing is there,
 * rd_kafka_consumer_poll waits for one message. Rebalance callbacks run
 * inside both calls, only when nothing taken is left over, and
 * librdkafka drops the messages a batch took before an assignment changed
 * (its op versions); messages of a partition revoked meanwhile find no
 * task (handle_message). */
/* fetched[at]'s hint, its customer's table slot prefetched. Tasks change
 * only in rebalance callbacks and rebuilds, which run when nothing taken is
 * left over or drop it (discard_fetched), so the task stays valid while the
 * message is in fetched. */
static void hint_ahead(runner_t *runner, size_t at) {
  const rd_kafka_message_t *message = runner->fetched[at];
  hint_t *hint = &runner->hints[at];
  hint->task = NULL;
  if (message->err || !message->key || !message->key_len)
    return;
  hint->task = find_task(runner, rd_kafka_topic_name(message->rkt), message->partition);
  if (hint->task)
    hint->hash = cx_processor_prefetch(hint->task->processor,
                                       (cx_str_t){message->key, message->key_len});
}

/* Hands out fetched[fetched_next] with its hint, after the prefetches for
 * the messages AHEAD and AHEAD / 2 after it (hints: the same results
 * without them; perf, 3 rules: the state table's probe went from 9% to
 * 3% of the process's samples, 4% spent here instead). */
static rd_kafka_message_t *hand_out(runner_t *runner) {
  size_t at = runner->fetched_next++;
  if (at + AHEAD < runner->fetched_count)
    hint_ahead(runner, at + AHEAD);
  if (at + AHEAD / 2 < runner->fetched_count && runner->hints[at + AHEAD / 2].task)
    cx_processor_prefetch_customer(runner->hints[at + AHEAD / 2].task->processor,
                                   runner->hints[at + AHEAD / 2].hash);
  runner->hint = &runner->hints[at];
  return runner->fetched[at];
}

static rd_kafka_message_t *next_message(runner_t *runner, int wait_ms) {
  if (runner->fetched_next < runner->fetched_count)
    return hand_out(runner);
  runner->fetched_count = runner->fetched_next = 0;
  ssize_t n = rd_kafka_consume_batch_queue(runner->queue, 0, runner->fetched, FETCH_MAX);
  if (n > 0) {
    runner->fetched_count = (size_t)n;
    for (size_t at = 0; at < AHEAD && at < runner->fetched_count; at++)
      hint_ahead(runner, at);
    return hand_out(runner);
  }
  runner->hint = NULL;
  return rd_kafka_consumer_poll(runner->consumer, wait_ms);
}

static int rebuild_tasks(runner_t *runner) {
  if (!runner->task_count)
    return 0;
  /* What was taken ahead belongs to the positions before the seek. */
  discard_fetched(runner);
  rd_kafka_topic_partition_list_t *parts =
      rd_kafka_topic_partition_list_new((int)runner->task_count);
  for (size_t i = 0; i < runner->task_count; i++)
    rd_kafka_topic_partition_list_add(parts, runner->tasks[i].topic, runner->tasks[i].partition);
  rd_kafka_resp_err_t err = rd_kafka_committed(runner->consumer, parts, 30000);
  if (err) {
    cx_log(CX_LOG_ERROR, "rebuilding after an aborted transaction: committed offsets: %s",
           rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(parts);
    return -1;
  }
  for (int i = 0; i < parts->cnt; i++) {
    rd_kafka_topic_partition_t *part = &parts->elems[i];
    if (part->offset < 0)
      part->offset = RD_KAFKA_OFFSET_BEGINNING; /* nothing committed: auto.offset.reset */
    drop_task(runner, part->topic, part->partition);
    if (add_task(runner, part->topic, part->partition)) {
      rd_kafka_topic_partition_list_destroy(parts);
      return -1;
    }
  }
  rd_kafka_error_t *error = rd_kafka_seek_partitions(runner->consumer, parts, 30000);
  if (error) {
    cx_log(CX_LOG_ERROR, "rebuilding after an aborted transaction: seek: %s",
           rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    rd_kafka_topic_partition_list_destroy(parts);
    return -1;
  }
  for (int i = 0; i < parts->cnt; i++)
    if (parts->elems[i].err)
      cx_log(CX_LOG_INFO, "rebuilding: %s [%d] not sought back (%s); the rebalance takes it",
             parts->elems[i].topic, (int)parts->elems[i].partition,
             rd_kafka_err2str(parts->elems[i].err));
  cx_log(CX_LOG_INFO, "rebuilt %d partition(s) from the changelog; consuming again from the "
         "committed offsets", parts->cnt);
  rd_kafka_topic_partition_list_destroy(parts);
  return 0;
}

/* exactly_once: an abortable transaction error (the group moved on, a
 * request failed) aborts the transaction and rebuilds this thread's
 * partitions in place (rebuild_tasks). A fatal one (this producer was
 * fenced by a newer instance, or is misconfigured), or a failed abort or
 * rebuild, ends the process: the next one restores state from the
 * changelog and resumes from the last committed transaction's offsets, so
 * nothing of an unfinished transaction counts. */
#define MAX_ABORTS_IN_A_ROW 5
#define CX_STR_(x) #x
#define CX_STR(x) CX_STR_(x)

static int transaction_failed(runner_t *runner, const char *what, rd_kafka_error_t *error) {
  runner->in_transaction = false;
  bool abortable = rd_kafka_error_txn_requires_abort(error) && !rd_kafka_error_is_fatal(error);
  if (abortable && ++runner->aborts_in_a_row <= MAX_ABORTS_IN_A_ROW) {
    cx_log(CX_LOG_WARN, "%s: %s; aborting the transaction and rebuilding its partitions",
           what, rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    cx_metrics_add(cx_metrics_series1(runner->metrics, CX_METRIC_TRANSACTIONS, "aborted"), 1);
    rd_kafka_error_t *abort_error = rd_kafka_abort_transaction(runner->output.producer, 30000);
    if (!abort_error) {
      /* The aborted batch's outputs are gone with it: serve their purge
       * reports now, so they do not count as delivery failures. */
      rd_kafka_flush(runner->output.producer, 10000);
      runner->output.delivery_failures = 0;
      runner->output.produced = 0;
      if (!rebuild_tasks(runner))
        return 0;
    } else {
      cx_log(CX_LOG_ERROR, "abort_transaction: %s", rd_kafka_error_string(abort_error));
      rd_kafka_error_destroy(abort_error);
    }
    cx_log(CX_LOG_ERROR, "stopping so that a restart resumes from the last committed "
           "transaction");
  } else {
    /* Fatal (fenced or misconfigured), or abortable every time (e.g. an
     * authorization the group lacks): not rebuilt around forever. */
    cx_log(CX_LOG_ERROR, "%s: %s%s; stopping so that a restart resumes from the last "
           "committed transaction", what, rd_kafka_error_string(error),
           abortable ? " (" CX_STR(MAX_ABORTS_IN_A_ROW) " transactions aborted in a row)"
           : rd_kafka_error_is_fatal(error) ? " (fatal: fenced or misconfigured)" : "");
    if (rd_kafka_error_txn_requires_abort(error)) {
      rd_kafka_error_t *abort_error = rd_kafka_abort_transaction(runner->output.producer, 30000);
      if (abort_error)
        rd_kafka_error_destroy(abort_error);
    }
    rd_kafka_error_destroy(error);
  }
  runner->fatal = 1;
  cx_metrics_add(cx_metrics_series1(runner->metrics, CX_METRIC_TRANSACTIONS, "failed"), 1);
  return -1;
}

static int begin_transaction(runner_t *runner) {
  if (!runner->exactly_once || runner->in_transaction)
    return 0;
  rd_kafka_error_t *error = rd_kafka_begin_transaction(runner->output.producer);
  if (error) {
    transaction_failed(runner, "begin_transaction", error);
    return -1; /* this message comes again after the rebuild, or the process stops */
  }
  runner->in_transaction = true;
  runner->transaction_ms = cx_clock_mono_ms();
  return 0;
}

/* One transaction: the outputs and state records produced since it began,
 * and the offsets after the messages that caused them. */
static int commit_transaction(runner_t *runner, rd_kafka_topic_partition_list_t *offsets) {
  if (!runner->in_transaction)
    return 0;
  rd_kafka_error_t *error = NULL;
  if (offsets->cnt) {
    rd_kafka_consumer_group_metadata_t *metadata =
        rd_kafka_consumer_group_metadata(runner->consumer);
    error = rd_kafka_send_offsets_to_transaction(runner->output.producer, offsets, metadata,
                                                 30000);
    rd_kafka_consumer_group_metadata_destroy(metadata);
    if (error)
      return transaction_failed(runner, "send_offsets_to_transaction", error);
  }
  error = rd_kafka_commit_transaction(runner->output.producer, 30000);
  if (error)
    return transaction_failed(runner, "commit_transaction", error);
  runner->in_transaction = false;
  runner->aborts_in_a_row = 0;
  cx_metrics_add(cx_metrics_series1(runner->metrics, CX_METRIC_TRANSACTIONS, "committed"), 1);
  return 0;
}

static int finish_batch_inner(runner_t *runner);

/* finish_batch with its metrics: commit latency, state size. */
static int finish_batch(runner_t *runner) {
  int64_t started = cx_clock_mono_ms();
  int rc = finish_batch_inner(runner);
  if (runner->metrics && runner->batch_messages) {
    cx_metrics_observe(cx_metrics_series0(runner->metrics, CX_METRIC_COMMIT_LATENCY),
                       (double)(cx_clock_mono_ms() - started) / 1000.0);
    set_state_gauges(runner);
  }
  return rc;
}

/* Sends what the batch's partitions changed to the changelog. */
static void write_changelog(runner_t *runner) {
  for (size_t i = 0; runner->changelog && i < runner->task_count && !runner->fatal; i++) {
    char errstr[256];
    if (cx_changelog_write(runner->changelog, &runner->output, runner->tasks[i].partition,
                           runner->tasks[i].processor, errstr, sizeof(errstr))) {
      cx_log(CX_LOG_ERROR, "state changelog: %s", errstr);
      runner->fatal = 1;
    }
  }
}

/* Waits until everything produced is acknowledged (or failed). */
static void flush_outputs(runner_t *runner) {
  if (!runner->output.produced)
    return;
  while (rd_kafka_outq_len(runner->output.producer) > 0 && !runner->fatal) {
    rd_kafka_resp_err_t err = rd_kafka_flush(runner->output.producer, 1000);
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT && stop_requested > 1)
      break;
    char fatal[256];
    if (rd_kafka_fatal_error(runner->output.producer, fatal, sizeof(fatal))) {
      cx_log(CX_LOG_ERROR, "producer fatal error: %s", fatal);
      runner->fatal = 1;
    }
  }
  runner->output.produced = 0;
}

/* A delivery failed: stop, storing no offset past it. */
static void delivery_failed(runner_t *runner) {
  cx_metrics_add(cx_metrics_series0(runner->metrics, CX_METRIC_DELIVERY_FAILURES),
                 runner->output.delivery_failures);
  cx_log(CX_LOG_ERROR, "%llu output(s) could not be delivered (first: %s); offsets are not "
         "committed, so a restart processes these messages again",
         (unsigned long long)runner->output.delivery_failures, runner->output.delivery_error);
  runner->fatal = 1;
}

/* exactly_once: outputs, state records and offsets commit in one
 * transaction (at_least_once batches go through seal_batch instead). */
static int finish_batch_inner(runner_t *runner) {
  write_changelog(runner);
  flush_outputs(runner);
  if (runner->output.delivery_failures)
    delivery_failed(runner);
  if (runner->fatal) {
    /* Stopping: an open transaction is aborted now rather than left for
     * transaction.timeout.ms, holding read_committed readers back. */
    if (runner->in_transaction) {
      rd_kafka_error_t *error = rd_kafka_abort_transaction(runner->output.producer, 30000);
      if (error) {
        cx_log(CX_LOG_WARN, "abort_transaction: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
      }
      runner->in_transaction = false;
    }
    return -1;
  }
  rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(4);
  for (size_t i = 0; i < runner->task_count; i++) {
    task_t *task = &runner->tasks[i];
    if (task->next_offset < 0)
      continue;
    rd_kafka_topic_partition_list_add(offsets, task->topic, task->partition)->offset =
        task->next_offset;
    task->next_offset = -1;
  }
  int rc = commit_transaction(runner, offsets);
  rd_kafka_topic_partition_list_destroy(offsets);
  return rc;
}

/* at_least_once, pipelined (stream/inflight.h). A batch's outputs are
 * produced as its events are processed; at its end (seal_batch) the
 * customers it changed are encoded at once, as they are then, and held in
 * memory with the batch's offsets, and the next batch starts while the
 * broker acknowledges. Its state records go to the changelog once its
 * outputs are acknowledged (so a record on the changelog means its
 * customer's outputs are safe), and its offsets are stored once those are
 * acknowledged too, in batch order; librdkafka's auto-commit commits stored
 * offsets only. So an offset is committed only after its outputs and state
 * are safe, as with a flush at the end of every batch. A delivery that
 * fails stops the process before any later offset is stored: a restart
 * replays from the last committed offset and may repeat alerts (same
 * alert_id), never lose them. A revoke and a stop wait for the sealed
 * batches (drain_batches). A crash in between makes the changelog run ahead
 * of the committed offsets; the restored customers and partition progress
 * recognise the events applied already (cx_processor_process_at), so they
 * are not applied twice. */
static void send_records(cx_inflight_batch_t *batch, void *opaque) {
  runner_t *runner = opaque;
  if (!runner->changelog)
    return;
  cx_kafka_tally_t *open = runner->output.tally;
  runner->output.tally = &batch->records;
  cx_changelog_send_held(runner->changelog, &runner->output, &batch->held);
  runner->output.tally = open;
}

static void batch_done(cx_inflight_batch_t *batch, void *opaque) {
  runner_t *runner = opaque;
  if (batch->offsets) {
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(runner->consumer, batch->offsets);
    if (err && err != RD_KAFKA_RESP_ERR__STATE)
      cx_log(CX_LOG_WARN, "storing offsets: %s", rd_kafka_err2str(err));
  }
  if (runner->metrics && batch->messages)
    cx_metrics_observe(cx_metrics_series0(runner->metrics, CX_METRIC_COMMIT_LATENCY),
                       (double)(cx_clock_mono_ms() - batch->sealed_ms) / 1000.0);
}

/* Serves delivery reports (waiting up to timeout_ms for one), then moves
 * the sealed batches on. */
static void pump_batches(runner_t *runner, int timeout_ms) {
  rd_kafka_poll(runner->output.producer, timeout_ms);
  if (runner->fatal)
    return;
  char fatal[256];
  if (rd_kafka_fatal_error(runner->output.producer, fatal, sizeof(fatal))) {
    cx_log(CX_LOG_ERROR, "producer fatal error: %s", fatal);
    runner->fatal = 1;
    return;
  }
  cx_inflight_hooks_t hooks = {send_records, batch_done, runner};
  if (runner->output.delivery_failures || cx_inflight_advance(&runner->inflight, &hooks))
    delivery_failed(runner);
}

/* Waits until at most keep sealed batches are in flight (0: all committed),
 * or a fatal error; a second stop signal gives up after a second. */
static void drain_batches(runner_t *runner, int keep) {
  int64_t hurried = 0;
  while (runner->inflight.sealed > keep && !runner->fatal) {
    pump_batches(runner, 100);
    if (stop_requested > 1) {
      int64_t now = cx_clock_mono_ms();
      if (!hurried)
        hurried = now;
      else if (now - hurried >= 1000)
        break;
    }
  }
}

/* Opens a batch: its sends are counted in the next free batch of the ring
 * (when none is free, the oldest sealed one is waited for). */
static void open_batch(runner_t *runner) {
  if (runner->exactly_once)
    return;
  drain_batches(runner, CX_INFLIGHT_MAX - 1);
  runner->open = runner->fatal ? NULL : cx_inflight_open(&runner->inflight);
  runner->output.tally = runner->open ? &runner->open->outputs : NULL;
}

/* Ends the open batch: its offsets and state records are taken now and go
 * out when its outputs are acknowledged (see above). */
static int seal_batch(runner_t *runner) {
  cx_inflight_batch_t *batch = runner->open;
  if (runner->fatal || !batch)
    return -1;
  if (!runner->batch_messages && !batch->outputs.pending && !batch->outputs.failed) {
    /* Nothing consumed nor sent: the batch stays open for the next poll. */
    pump_batches(runner, 0);
    return runner->fatal ? -1 : 0;
  }
  for (size_t i = 0; i < runner->task_count; i++) {
    task_t *task = &runner->tasks[i];
    if (task->next_offset < 0)
      continue;
    if (!batch->offsets)
      batch->offsets = rd_kafka_topic_partition_list_new((int)runner->task_count);
    rd_kafka_topic_partition_list_add(batch->offsets, task->topic, task->partition)->offset =
        task->next_offset;
    task->next_offset = -1;
  }
  for (size_t i = 0; runner->changelog && i < runner->task_count; i++) {
    char errstr[256];
    if (cx_changelog_hold(runner->changelog, &batch->held, runner->tasks[i].partition,
                          runner->tasks[i].processor, errstr, sizeof(errstr))) {
      cx_log(CX_LOG_ERROR, "state changelog: %s", errstr);
      runner->fatal = 1;
      return -1;
    }
  }
  batch->messages = runner->batch_messages;
  batch->sealed_ms = cx_clock_mono_ms();
  runner->output.tally = NULL;
  runner->open = NULL;
  cx_inflight_seal(&runner->inflight);
  pump_batches(runner, 0);
  return runner->fatal ? -1 : 0;
}

/* The state gauges, set at most once a second. The bytes of a partition's
 * customers are summed by a walk taking GAUGE_WALK_RECORDS of them every
 * GAUGE_WALK_MS (about 500k a second), not all at once: a walk over every
 * customer stalled the batch 13 ms at 370k customers and would take ~350 ms
 * at 10M. A partition is walked again a second after its last walk ended. */
#define GAUGE_WALK_MS 10
#define GAUGE_WALK_RECORDS 5000

static void set_state_gauges(runner_t *runner) {
  int64_t now = cx_clock_mono_ms();
  if (!runner->metrics || (runner->walk_ms && now - runner->walk_ms < GAUGE_WALK_MS))
    return;
  runner->walk_ms = now;
  for (size_t i = 0; i < runner->task_count; i++) {
    task_t *task = &runner->tasks[i];
    if ((!task->walked_ms || now - task->walked_ms >= 1000) &&
        cx_processor_state_bytes_walk(task->processor, GAUGE_WALK_RECORDS))
      task->walked_ms = now;
  }
  if (runner->gauges_ms && now - runner->gauges_ms < 1000)
    return;
  runner->gauges_ms = now;
  size_t customers = 0, bytes = 0;
  for (size_t i = 0; i < runner->task_count; i++) {
    customers += cx_processor_customer_count(runner->tasks[i].processor);
    bytes += cx_processor_state_bytes_walked(runner->tasks[i].processor);
  }
  cx_metrics_set(cx_metrics_series0(runner->metrics, CX_METRIC_STATE_CUSTOMERS),
                 (int64_t)customers);
  cx_metrics_set(cx_metrics_series0(runner->metrics, CX_METRIC_STATE_BYTES), (int64_t)bytes);
}

/* librdkafka statistics (statistics.interval.ms), served by the consumer's
 * poll on this thread: consumer lag per partition. */
static int on_stats(rd_kafka_t *rk, char *json, size_t json_len, void *opaque) {
  (void)rk;
  runner_t *runner = opaque;
  cx_metrics_consumer_stats(runner->metrics, json, json_len);
  return 0;
}

static rd_kafka_t *new_consumer(runner_t *runner, const char *const *defaults, char *errstr,
                                size_t errstr_size) {
  rd_kafka_conf_t *conf = cx_kafka_conf_new(runner->config, defaults, errstr, errstr_size);
  if (!conf)
    return NULL;
  rd_kafka_conf_set_opaque(conf, runner);
  rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
  if (runner->metrics)
    rd_kafka_conf_set_stats_cb(conf, on_stats);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
  if (!rk)
    rd_kafka_conf_destroy(conf);
  return rk;
}

static int subscribe(runner_t *runner) {
  char *topics = strdup(runner->config->input_topics);
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(4);
  char *save = NULL;
  for (char *name = strtok_r(topics, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
    while (*name == ' ')
      name++;
    if (*name)
      rd_kafka_topic_partition_list_add(list, name, RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t err = rd_kafka_subscribe(runner->consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  free(topics);
  if (err) {
    cx_log(CX_LOG_ERROR, "cannot subscribe to %s: %s", runner->config->input_topics,
           rd_kafka_err2str(err));
    return -1;
  }
  return 0;
}

/* What the processing threads share: signals and one thread's fatal error
 * (the whole process stops, so a restart restores every partition). */
static atomic_int any_fatal;
static atomic_uint_fast64_t messages_total;

/* Opens one processing thread's clients: its consumer in the group, its
 * producer (transactional under exactly_once) and its changelog. */
static int runner_open(runner_t *runner, int thread_index) {
  const cx_config_t *config = runner->config;
  char errstr[512];
  bool exactly_once = config->processing_guarantee == CX_GUARANTEE_EXACTLY_ONCE;
  /* A restarted instance must reuse its transactional.id: init_transactions
   * then aborts what its killed predecessor left open at once, instead of
   * holding readers back until transaction.timeout.ms. Several instances on
   * one host set kafka.transactional.id each; several threads add -<n>. */
  char host[256] = "localhost", transactional_id[600], client_id[300];
  gethostname(host, sizeof(host) - 1);
  const char *base_id = cx_config_kafka_get(config, "transactional.id");
  char default_id[512];
  snprintf(default_id, sizeof(default_id), "%s-%s", config->application_id, host);
  if (!base_id)
    base_id = default_id;
  if (config->num_stream_threads > 1)
    snprintf(transactional_id, sizeof(transactional_id), "%s-%d", base_id, thread_index);
  else
    snprintf(transactional_id, sizeof(transactional_id), "%s", base_id);
  const char *base_client = cx_config_kafka_get(config, "client.id");
  snprintf(client_id, sizeof(client_id), "%s-%d", base_client ? base_client : "cxstream",
           thread_index);
  const char *consumer_defaults[] = {
    "group.id", config->application_id,
    "enable.auto.commit", exactly_once ? "false" : "true",
    "enable.auto.offset.store", "false",
    "auto.offset.reset", "earliest",
    "partition.assignment.strategy", "cooperative-sticky",
    "isolation.level", "read_committed",
    "enable.partition.eof", "false",
    /* Large fetches (as replay's): 1 MB a partition left the loop waiting
     * on the network (143k -> 212k events/s in bench/run). */
    "max.partition.fetch.bytes", "8388608",
    /* librdkafka 2.0 stops fetching a partition whose queue holds
     * queued.min.messages and looks again only after up to 1 s
     * (librdkafka #2879; fetch.queue.backoff.ms came in 2.2): one 8 MB
     * fetch is ~100k events, so the default 100000 left the loop idle half
     * the time (bench/run: 400k -> 730k events/s). The queue stays bounded
     * by queued.max.messages.kbytes. */
    "queued.min.messages", "1000000",
    "!client.id", client_id,
    /* Consumer lag for cxstream_consumer_lag (kafka.statistics.interval.ms overrides). */
    "statistics.interval.ms", runner->metrics ? "5000" : "0",
    NULL,
  };
  const char *producer_defaults[] = {
    "enable.idempotence", "true",
    "acks", "all",
    /* Outputs are not flushed per batch (at least once): linger.ms is
     * what an alert waits at low load; 1 ms batches as well as 5 ms at
     * saturation in bench/run, 0 ms costs a third of the throughput.
     * Exactly once: outputs are seen only once their transaction commits
     * (which sends what lingers at once), so 5 ms costs no latency and
     * the producer's broker thread polls and sends less often (1.07M events,
     * all rules: that thread 0.32 -> 0.15 s, 731k -> 846k events per CPU
     * second). */
    "linger.ms", exactly_once ? "5" : "1",
    "partitioner", "murmur2_random",
    /* No compression: lz4 was about half of the producer thread's CPU
     * (and its buffers most of its page faults) for state records that
     * compaction overwrites anyway; 1.07M events, all rules, at least
     * once, medians of 3: producer thread 0.26 -> 0.13 s, broker CPU not
     * higher (0.36 -> 0.31 s). kafka.compression.type sets it back where
     * the network is the limit. */
    "compression.type", "none",
    "!client.id", client_id,
    "transaction.timeout.ms", "60000",
    "message.timeout.ms", "50000",
    /* exactly_once: a transactional producer; zombies are also fenced through
     * the consumer group metadata (KIP-447). At least once: none, even when
     * kafka.transactional.id is set (a transactional producer refuses every
     * message sent outside a transaction). */
    "!transactional.id", exactly_once ? transactional_id : NULL,
    NULL,
  };
  runner->exactly_once = exactly_once;
  if (!exactly_once && thread_index == 0 && cx_config_kafka_get(config, "transactional.id"))
    cx_log(CX_LOG_WARN, "kafka.transactional.id is ignored: processing.guarantee=at_least_once "
           "uses no transactions");
  if (cx_codec_new(config, &runner->codec, errstr, sizeof(errstr))) {
    cx_log(CX_LOG_ERROR, "%s", errstr);
    return 2;
  }
  if (cx_kafka_output_open(&runner->output, config, producer_defaults, errstr, sizeof(errstr))) {
    cx_log(CX_LOG_ERROR, "producer: %s", errstr);
    return 2;
  }
  if (exactly_once) {
    rd_kafka_error_t *error = rd_kafka_init_transactions(runner->output.producer, 60000);
    if (error) {
      cx_log(CX_LOG_ERROR, "init_transactions (transactional.id %s): %s", transactional_id,
             rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
      return 1;
    }
  }
  if (config->state_changelog &&
      cx_changelog_open(config, runner->output.producer, &runner->changelog, errstr,
                        sizeof(errstr))) {
    cx_log(CX_LOG_ERROR, "state changelog: %s", errstr);
    return 1;
  }
  /* The topics every batch writes to (not dead letters and late events:
   * asking for a topic's metadata may have the broker create it). */
  const char *outputs[] = {
    config->alerts_topic, config->processor.profiles.enabled ? config->profiles_topic : NULL,
    runner->changelog ? cx_changelog_topic(runner->changelog) : NULL,
  };
  cx_kafka_output_prepare(&runner->output, outputs, sizeof(outputs) / sizeof(outputs[0]), 5000);
  runner->consumer = new_consumer(runner, consumer_defaults, errstr, sizeof(errstr));
  if (!runner->consumer) {
    cx_log(CX_LOG_ERROR, "consumer: %s", errstr);
    return 2;
  }
  rd_kafka_poll_set_consumer(runner->consumer);
  runner->queue = rd_kafka_queue_get_consumer(runner->consumer);
  if (!runner->queue) {
    cx_log(CX_LOG_ERROR, "consumer: no consumer queue");
    return 2;
  }
  if (subscribe(runner))
    return 1;
  return 0;
}

/* Batches until a stop signal, a fatal error (here or in another thread)
 * or options->stop_after. */
static void runner_loop(runner_t *runner) {
  const cx_config_t *config = runner->config;
  const cx_runner_options_t *options = runner->options;
  cx_report_t *report = runner->report;
  int64_t last_message_ms = cx_clock_mono_ms();
  sig_atomic_t reload_seen = reload_generation;
  while (!stop_requested && !runner->fatal && !atomic_load(&any_fatal)) {
    if (reload_seen != reload_generation) {
      reload_seen = reload_generation;
      reload(runner);
    }
    open_batch(runner);
    if (runner->fatal)
      break;
    int64_t batch_start = cx_clock_mono_ms();
    cx_metrics_heartbeat(runner->metrics);
    runner->batch_messages = 0;
    runner->now_wall_ms = cx_clock_wall_ms();
    cx_codec_set_now(runner->codec, runner->now_wall_ms);
    bool full = false;           /* the batch ended at processing.batch.size */
    for (int64_t i = 0; !(full = i >= config->batch_size); i++) {
      /* A batch waits for its first message, briefly when earlier batches
       * are in flight (their delivery reports are served between polls). */
      int wait_ms = i ? 0 : runner->inflight.sealed ? 5 : 100;
      rd_kafka_message_t *message = next_message(runner, wait_ms);
      if (!message)
        break;
      /* The clocks are read every CLOCK_EVERY messages, not per message. */
      bool check_time = (i & (CLOCK_EVERY - 1)) == 0;
      if (check_time)
        runner->now_wall_ms = cx_clock_wall_ms();
      if (message->err) {
        if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          cx_log(CX_LOG_WARN, "consumer: %s", rd_kafka_message_errstr(message));
          char fatal[256];
          if (rd_kafka_fatal_error(runner->consumer, fatal, sizeof(fatal))) {
            cx_log(CX_LOG_ERROR, "consumer fatal error: %s", fatal);
            runner->fatal = 1;
          }
        }
      } else if (begin_transaction(runner) == 0) {
        handle_message(runner, message, runner->hint);
        runner->batch_messages++;
      }
      rd_kafka_message_destroy(message);
      if (runner->fatal ||
          (check_time && cx_clock_mono_ms() - batch_start >= config->commit_interval_ms))
        break;
      /* at_least_once: delivery reports of earlier batches, now and then. */
      if (!runner->exactly_once && runner->inflight.sealed &&
          (i & (PUMP_EVERY - 1)) == PUMP_EVERY - 1)
        pump_batches(runner, 0);
    }
    if (runner->batch_messages) {
      flush_counts(runner, NULL);
      atomic_fetch_add(&messages_total, (uint64_t)runner->batch_messages);
      last_message_ms = cx_clock_mono_ms();
    }
    int rc;
    if (runner->exactly_once) {
      rd_kafka_poll(runner->output.producer, 0);
      /* One transaction per commit.interval.ms while messages keep coming:
       * a full batch does not end a younger transaction. */
      bool stopping = stop_requested || runner->fatal ||
                      (options->stop_after && atomic_load(&messages_total) >= options->stop_after);
      if (full && runner->in_transaction && !stopping && !options->transaction_per_batch &&
          cx_clock_mono_ms() - runner->transaction_ms < config->commit_interval_ms)
        rc = 0;
      else
        rc = finish_batch(runner);
    } else {
      rc = seal_batch(runner);
      if (runner->batch_messages)
        set_state_gauges(runner);
    }
    if (rc)
      break;
    if (runner->batch_messages)
      cx_metrics_observe(cx_metrics_series0(runner->metrics, CX_METRIC_PROCESSING_LATENCY),
                         (double)(cx_clock_mono_ms() - batch_start) / 1000.0);
    cx_report_progress(report, "run", options->stop_after);
    if (options->stop_after && atomic_load(&messages_total) >= options->stop_after)
      break;
    if (options->stop_after && options->stop_idle_ms &&
        cx_clock_mono_ms() - last_message_ms > options->stop_idle_ms) {
      cx_log(CX_LOG_WARN, "no message for %lld ms; stopping with %llu of %llu consumed",
             (long long)options->stop_idle_ms, (unsigned long long)atomic_load(&messages_total),
             (unsigned long long)options->stop_after);
      break;
    }
  }
  /* Taken ahead, not processed: their offsets are not committed. */
  discard_fetched(runner);
  /* exactly_once: a transaction left open across full batches commits. */
  if (runner->exactly_once && runner->in_transaction && !runner->fatal)
    finish_batch(runner);
  /* at_least_once: what was sealed commits before the consumer leaves (a
   * batch cut short by a fatal error is not sealed: nothing of it counts). */
  if (!runner->exactly_once && !runner->fatal) {
    if (runner->open)
      seal_batch(runner);
    drain_batches(runner, 0);
  }
  runner->output.tally = NULL;
  if (runner->fatal)
    atomic_store(&any_fatal, 1);
  if (stop_requested)
    cx_metrics_set_stopping(cx_metrics_global());
}

static void runner_close(runner_t *runner) {
  discard_fetched(runner);
  if (runner->queue)
    rd_kafka_queue_destroy(runner->queue);
  if (runner->consumer) {
    /* librdkafka 2.0.2 aborts when it destroys a cooperative-sticky member
     * that never completed a join (librdkafka #4312, fixed in 2.3.0): a
     * member stopped that early finishes joining first (a few seconds at
     * most), then leaves as usual. */
    for (int64_t give_up = cx_clock_mono_ms() + 20000;
         !runner->joined && cx_clock_mono_ms() < give_up;) {
      rd_kafka_message_t *message = rd_kafka_consumer_poll(runner->consumer, 100);
      if (message)
        rd_kafka_message_destroy(message); /* not processed: the next owner reads it */
    }
    rd_kafka_consumer_close(runner->consumer);
    if (runner->joined)
      rd_kafka_destroy(runner->consumer);
    else
      cx_log(CX_LOG_WARN, "the consumer never joined its group; not destroyed (librdkafka "
             "#4312), the process exits without it");
  }
  cx_kafka_output_close(&runner->output, 10000);
  cx_inflight_free(&runner->inflight);
  cx_changelog_destroy(runner->changelog);
  while (runner->task_count)
    drop_task(runner, runner->tasks[0].topic, runner->tasks[0].partition);
  free(runner->tasks);
  cx_buf_free(&runner->line);
  cx_codec_destroy(runner->codec);
  cx_config_destroy(runner->reloaded);
}

typedef struct thread_s {
  runner_t runner;
  cx_report_t report;
  pthread_t id;
  int index;
  int rc;
} thread_t;

static void *thread_main(void *opaque) {
  thread_t *thread = opaque;
  /* This thread is its shard's only writer (callbacks run in its polls). */
  thread->runner.metrics = cx_metrics_shard_new(cx_metrics_global());
  thread->rc = runner_open(&thread->runner, thread->index);
  if (!thread->rc) {
    runner_loop(&thread->runner);
    thread->rc = thread->runner.fatal ? 1 : 0;
  } else {
    atomic_store(&any_fatal, 1);
  }
  runner_close(&thread->runner);
  cx_metrics_shard_retire(thread->runner.metrics);
  return NULL;
}

static void report_add(cx_report_t *total, const cx_report_t *part) {
  total->messages += part->messages;
  total->events += part->events;
  total->late_events += part->late_events;
  total->dead_letters += part->dead_letters;
  total->filtered += part->filtered;
  total->duplicates += part->duplicates;
  for (int r = 0; r < CX_RULE__COUNT; r++)
    total->alerts[r] += part->alerts[r];
  total->profiles += part->profiles;
  total->profiles_deleted += part->profiles_deleted;
  if (part->messages && part->started_mono_ms < total->started_mono_ms)
    total->started_mono_ms = part->started_mono_ms;
}

int cx_runner_run(const cx_config_t *config, const cx_runner_options_t *options,
                  cx_report_t *report) {
  int thread_count = config->num_stream_threads > 1 ? (int)config->num_stream_threads : 1;
  thread_t *threads = calloc((size_t)thread_count, sizeof(*threads));
  if (!threads)
    return 1;
  cx_log_set_level((cx_log_level_t)config->log_level);
  stop_requested = 0;
  reload_generation = 0;
  atomic_store(&any_fatal, 0);
  atomic_store(&messages_total, 0);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGHUP, on_signal);
  for (int t = 0; t < thread_count; t++) {
    thread_t *thread = &threads[t];
    thread->index = t;
    thread->runner.config = config;
    thread->runner.processor_config = &config->processor;
    thread->runner.options = options;
    /* One thread counts straight into the caller's report (its progress
     * line included); several count apart and are added up at the end. */
    thread->runner.report = thread_count == 1 ? report : &thread->report;
    cx_report_start(&thread->report, false);
  }
  cx_log(CX_LOG_INFO, "consuming %s as group %s with %d processing thread(s), %s",
         config->input_topics, config->application_id, thread_count,
         config->processing_guarantee == CX_GUARANTEE_EXACTLY_ONCE ? "exactly once"
                                                                   : "at least once");
  int rc = 0;
  if (thread_count == 1) {
    thread_main(&threads[0]);
    rc = threads[0].rc;
  } else {
    int started = 0;
    for (; started < thread_count; started++)
      if (pthread_create(&threads[started].id, NULL, thread_main, &threads[started])) {
        cx_log(CX_LOG_ERROR, "cannot start processing thread %d", started);
        atomic_store(&any_fatal, 1);
        rc = 1;
        break;
      }
    for (int t = 0; t < started; t++) {
      pthread_join(threads[t].id, NULL);
      if (threads[t].rc > rc)
        rc = threads[t].rc;
      report_add(report, &threads[t].report);
    }
  }
  if (stop_requested && !rc)
    cx_log(CX_LOG_INFO, "stopped: batches finished, committed, left the group");
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  free(threads);
  return rc;
}

int cx_run_main(const cx_config_t *config, const char *config_file,
                const char *const *overrides, size_t override_count) {
  cx_runner_options_t options = {config_file, overrides, override_count, NULL, 0, 0, false};
  cx_report_t report;
  cx_report_start(&report, false);
  int rc = cx_runner_run(config, &options, &report);
  cx_report_summary(&report, "run", stderr);
  return rc;
}
