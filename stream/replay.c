/* Replay (see replay.h). A file is one stream: OCF records -> range checks
 * -> one processor (one watermark). A topic is read through topic_source's
 * deterministic merge of its partitions, each with its own processor as in
 * production. Both write, in processing order, an event's alerts then its
 * profile, as JSON lines or to prefixed topics (emitted_at null: replay
 * output carries no wall-clock time). Bad records are counted and reported
 * with their position, never dropped silently; the replay goes on. */
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../operators/processor.h"
#include "buf.h"
#include "clock.h"
#include "codec.h"
#include "event_avro.h"
#include "jsonl.h"
#include "kafka.h"
#include "ocf.h"
#include "parallel.h"
#include "report.h"
#include "topic_source.h"

/* Customers evicted at state.max.customers, summed over the partitions'
 * processors (after any worker threads have stopped). */
static void add_state_counts(cx_report_t *report, const cx_config_t *config,
                             cx_processor_t *const *processors, size_t partition_count) {
  report->max_customers = (uint64_t)config->processor.max_customers;
  for (size_t i = 0; processors && i < partition_count; i++)
    if (processors[i])
      report->limit_evictions += cx_processor_stats(processors[i])->limit_evicted_customers;
}

/* Processors left to the process's exit (cx_replay_options_t.exit_after):
 * reachable from here, so that leak checkers count them in use, not lost. */
static cx_processor_t **left_to_exit;

/* Destroys the partitions' processors and their array, or, when the process
 * exits next, leaves them to the exit: freeing a replay's state one block
 * at a time took 0.1 s at 1M customers, 0.3 s at 10M (5% of the replay). */
static void destroy_processors(cx_processor_t **processors, size_t count, bool exit_after) {
  if (exit_after && !left_to_exit) {
    left_to_exit = processors;
    return;
  }
  for (size_t i = 0; processors && i < count; i++)
    cx_processor_destroy(processors[i]);
  free(processors);
}

/* Where alerts and profiles go: JSON lines (out) or topics (kafka). */
static volatile sig_atomic_t interrupted = 0;

static void on_interrupt(int sig) {
  (void)sig;
  interrupted = 1;
}

typedef struct replay_sink_s {
  cx_buf_t line;      /* pending output */
  FILE *out;          /* destination of JSON lines, or NULL */
  cx_report_t *report; /* counters */
  int failed;         /* out of memory, write or encode error */
  cx_kafka_output_t *kafka; /* destination topics' producer, or NULL */
  cx_codec_t *codec;  /* encoder for kafka */
  const char *alerts_topic;   /* P + output.alerts.topic */
  const char *profiles_topic; /* P + output.profiles.topic */
  /* Output held until the input file is known valid (replay_ahead): */
  int hold_fd;        /* an unlinked temporary file, or -1 */
  uint64_t held_bytes; /* written to it */
  bool hold_full;     /* it could take no more: release now */
  bool hold_in_place; /* hold_fd is in --out's directory, linked as --out at the release */
} replay_sink_t;

static bool write_all(int fd, const uint8_t *data, size_t len, uint64_t *written) {
  while (len) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    len -= (size_t)n;
    *written += (uint64_t)n;
  }
  return true;
}

static void flush_if_full(replay_sink_t *sink) {
  if (sink->line.len < 1 << 16)
    return;
  if (sink->hold_fd >= 0) {
    /* What a failed write left in line stays there until the release. */
    uint64_t before = sink->held_bytes;
    if (!sink->hold_full && write_all(sink->hold_fd, sink->line.data, sink->line.len,
                                      &sink->held_bytes)) {
      sink->line.len = 0;
    } else {
      size_t taken = (size_t)(sink->held_bytes - before);
      memmove(sink->line.data, sink->line.data + taken, sink->line.len - taken);
      sink->line.len -= taken;
      sink->hold_full = true;
    }
    return;
  }
  if (fwrite(sink->line.data, 1, sink->line.len, sink->out) != sink->line.len)
    sink->failed = 1;
  sink->line.len = 0;
}

static int hold_file(void);

/* The directory of path (into dir). */
static void dir_of(const char *path, char *dir, size_t size) {
  snprintf(dir, size, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash)
    snprintf(dir, size, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
}

/* Whether fd or path (fd < 0) is /dev/null: what is written there cannot be
 * seen, so there is nothing to hold. */
static bool is_dev_null(int fd, const char *path) {
  struct stat st, null_st;
  if ((fd >= 0 ? fstat(fd, &st) : stat(path, &st)) || !S_ISCHR(st.st_mode) ||
      stat("/dev/null", &null_st) || !S_ISCHR(null_st.st_mode))
    return false;
  return st.st_rdev == null_st.st_rdev;
}

/* Where replay_ahead holds its output until the input is known valid
 * (design note 30):
 * - --out a file that does not exist yet: an unnamed file in its directory
 *   (O_TMPFILE), given --out's name at the release: the output is written
 *   once, in its place, and a refused or killed replay leaves nothing;
 * - --out (or stdout) /dev/null: nowhere, as nothing written there is seen
 *   (sink->out is opened at once); returns 0 with *fd -1;
 * - otherwise (an existing file, a pipe, a terminal, O_TMPFILE not
 *   supported there): an unlinked temporary file in $TMPDIR or /tmp, copied
 *   to --out at the release.
 * Returns 0, or -1 when there is nowhere to hold it (records checked first). */
static int hold_place(replay_sink_t *sink, const char *out_file, int *fd) {
  *fd = -1;
  bool stdout_out = !strcmp(out_file, "-");
  if (stdout_out ? is_dev_null(STDOUT_FILENO, NULL) : is_dev_null(-1, out_file)) {
    sink->out = stdout_out ? stdout : fopen(out_file, "w");
    return sink->out ? 0 : -1;
  }
  struct stat st;
  if (!stdout_out && lstat(out_file, &st) && errno == ENOENT) {
    char dir[4096];
    dir_of(out_file, dir, sizeof(dir));
    *fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0666);
    if (*fd >= 0) {
      sink->hold_in_place = true;
      return 0;
    }
  }
  *fd = hold_file();
  return *fd >= 0 ? 0 : -1;
}

/* An unlinked temporary file for held output ($TMPDIR or /tmp), or -1. */
static int hold_file(void) {
  const char *dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0)
    return fd;
  char path[4096];
  snprintf(path, sizeof(path), "%s/cxstream-replay-XXXXXX", dir);
  fd = mkstemp(path);
  if (fd >= 0)
    unlink(path);
  return fd;
}

static void on_alert(const cx_alert_t *alert, void *opaque) {
  replay_sink_t *sink = opaque;
  sink->report->alerts[alert->rule_index]++;
  if (sink->kafka) {
    char errstr[256];
    if (cx_kafka_output_alert(sink->kafka, sink->codec, sink->alerts_topic, alert, -1, errstr,
                              sizeof(errstr))) {
      fprintf(stderr, "cxstream replay: cannot encode alert %s: %s\n", alert->alert_id, errstr);
      sink->failed = 1;
    }
    return;
  }
  if (cx_jsonl_append_alert(&sink->line, alert))
    sink->failed = 1;
  flush_if_full(sink);
}

static void on_profile(const cx_profile_t *profile, void *opaque) {
  replay_sink_t *sink = opaque;
  sink->report->profiles++;
  if (profile->deleted)
    sink->report->profiles_deleted++;
  if (sink->kafka) {
    char errstr[256];
    if (cx_kafka_output_profile(sink->kafka, sink->codec, sink->profiles_topic, profile, -1,
                                errstr, sizeof(errstr))) {
      fprintf(stderr, "cxstream replay: cannot encode a profile: %s\n", errstr);
      sink->failed = 1;
    }
    return;
  }
  if (cx_jsonl_append_profile(&sink->line, profile))
    sink->failed = 1;
  flush_if_full(sink);
}

/* --pace N: event time runs N times faster than wall time since the first event. */
typedef struct pacer_s {
  double pace;              /* N; 0 = off */
  int64_t first_event_ms;   /* event time of the first paced event; INT64_MIN = none yet */
  int64_t started_mono_ms;  /* wall (monotonic) time of that event */
} pacer_t;

static void pace_wait(pacer_t *pacer, int64_t event_ms, rd_kafka_t *producer) {
  if (pacer->pace <= 0)
    return;
  if (pacer->first_event_ms == INT64_MIN) {
    pacer->first_event_ms = event_ms;
    pacer->started_mono_ms = cx_clock_mono_ms();
    return;
  }
  double due = (double)pacer->started_mono_ms +
               (double)(event_ms - pacer->first_event_ms) / pacer->pace;
  for (;;) {
    int64_t wait_ms = (int64_t)due - cx_clock_mono_ms();
    if (wait_ms <= 0)
      return;
    if (wait_ms > 100)
      wait_ms = 100; /* keep serving delivery reports */
    if (producer) {
      rd_kafka_poll(producer, (int)wait_ms);
    } else {
      struct timespec pause = {(time_t)(wait_ms / 1000), (long)(wait_ms % 1000) * 1000000L};
      nanosleep(&pause, NULL);
    }
  }
}

/* Opens --out ("-" = stdout). */
static FILE *open_out(const char *out_file) {
  if (!strcmp(out_file, "-"))
    return stdout;
  FILE *out = fopen(out_file, "w");
  if (!out)
    fprintf(stderr, "cxstream replay: cannot write %s: %s\n", out_file, strerror(errno));
  return out;
}

/* Whether --out looks writable, checked before a replay that opens it only
 * once its input is known valid (reported as open_out would). */
static bool out_writable(const char *out_file) {
  if (!strcmp(out_file, "-"))
    return true;
  if (!access(out_file, F_OK)) {
    if (!access(out_file, W_OK))
      return true;
  } else if (errno == ENOENT) {
    char dir[4096];
    dir_of(out_file, dir, sizeof(dir));
    if (!access(dir, W_OK))
      return true;
  }
  fprintf(stderr, "cxstream replay: cannot write %s: %s\n", out_file, strerror(errno));
  return false;
}

/* Writes what is pending and closes --out; returns -1 on a write error (reported). */
static int close_out(replay_sink_t *sink, const char *out_file) {
  if (!sink->out)
    return 0;
  if (sink->line.len && fwrite(sink->line.data, 1, sink->line.len, sink->out) != sink->line.len)
    sink->failed = 1;
  if (sink->out != stdout ? fclose(sink->out) : fflush(sink->out))
    sink->failed = 1;
  sink->out = NULL;
  if (sink->failed) {
    fprintf(stderr, "cxstream replay: cannot write %s: %s\n", out_file, strerror(errno));
    return -1;
  }
  return 0;
}

/* Applies one valid, in-range event to its processor and counts it. */
static int apply(cx_processor_t *processor, const cx_event_t *event, cx_report_t *report,
                 const cx_outputs_t *outputs, pacer_t *pacer) {
  pace_wait(pacer, event->occurred_at_ms, NULL);
  cx_process_result_t result = cx_processor_process(processor, event, outputs);
  if (result == CX_PROCESS_LATE) {
    report->late_events++;
  } else if (result == CX_PROCESS_NOMEM) {
    fprintf(stderr, "cxstream replay: out of memory\n");
    return -1;
  } else {
    report->events++;
  }
  return 0;
}

/* A decoded event that owns its strings, to wait in a partition's queue. */
typedef struct owned_event_s {
  cx_event_t event;  /* strings point into text */
  char *text;        /* owned */
} owned_event_t;

static owned_event_t *owned_event_copy(const cx_event_t *event) {
  owned_event_t *owned = malloc(sizeof(*owned));
  if (!owned)
    return NULL;
  owned->event = *event;
  if (!(owned->text = cx_event_own_strings(&owned->event))) {
    free(owned);
    return NULL;
  }
  return owned;
}

static void owned_event_free(void *item) {
  owned_event_t *owned = item;
  if (owned)
    free(owned->text);
  free(owned);
}

/* Applies an event on this thread, or queues it for the workers. */
static int dispatch(cx_parallel_t *parallel, cx_processor_t **processors, size_t index,
                    const cx_event_t *event, cx_report_t *report, const cx_outputs_t *outputs,
                    pacer_t *pacer) {
  if (!parallel)
    return apply(processors[index], event, report, outputs, pacer);
  pace_wait(pacer, event->occurred_at_ms, NULL);
  if (cx_parallel_submit(parallel, index, event)) {
    fprintf(stderr, "cxstream replay: out of memory or cannot write the output\n");
    return -1;
  }
  return 0;
}

/* Takes what the merge can hand out in order; with finished set, everything. */
static int drain(cx_topic_merge_t *merge, cx_parallel_t *parallel, cx_processor_t **processors,
                 cx_report_t *report, const cx_outputs_t *outputs, pacer_t *pacer) {
  void *item = NULL;
  size_t index = 0;
  while (cx_topic_merge_next(merge, &item, &index) == CX_TOPIC_MERGE_ITEM) {
    owned_event_t *owned = item;
    int rc = dispatch(parallel, processors, index, &owned->event, report, outputs, pacer);
    owned_event_free(owned);
    if (rc)
      return rc;
  }
  return 0;
}

/* The file's records as the loop wants them: valid, in range, in order. */
typedef struct file_input_s {
  cx_ocf_reader_t *reader;
  const char *path;           /* --input-file */
  int64_t from_ms, to_ms;     /* --from, --to */
  int64_t now_ms;             /* for the range checks */
  int64_t max_future_ms;      /* input.max.future.ms */
  cx_report_t *report;        /* messages, dead letters, filtered */
  cx_buf_t *held;             /* messages held with the output, or NULL */
} file_input_t;

typedef enum { NEXT_EVENT, NEXT_END, NEXT_STOP, NEXT_REFUSED } next_t;

/* A message about a record: on stderr, or held with the output. */
static void say(file_input_t *input, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (!input->held) {
    vfprintf(stderr, fmt, ap);
  } else {
    char line[1024];
    int len = vsnprintf(line, sizeof(line), fmt, ap);
    if (len >= (int)sizeof(line)) { /* keep the line whole */
      len = (int)sizeof(line) - 1;
      line[len - 1] = '\n';
    }
    if (len > 0 && cx_buf_append(input->held, line, (size_t)len))
      fputs(line, stderr); /* out of memory: said at once rather than lost */
  }
  va_end(ap);
}

/* Reads records until one is a valid, in-range event (NEXT_EVENT), the end
 * (NEXT_END), a record that cannot be read (NEXT_STOP, reported) or, after
 * cx_ocf_reader_open_deferred, a file the full check refuses (NEXT_REFUSED,
 * reported as open would have). Bad records are counted and reported with
 * their position, filtered ones counted. */
static next_t next_event(file_input_t *input, cx_event_t *event) {
  char errstr[512];
  for (;;) {
    bool eof = false;
    cx_err_t err = cx_ocf_reader_next(input->reader, event, &eof, errstr, sizeof(errstr));
    if (eof) {
      if (!err)
        return NEXT_END;
      if (cx_ocf_reader_refused(input->reader)) {
        fprintf(stderr, "cxstream replay: %s\n", errstr);
        return NEXT_REFUSED;
      }
      say(input, "cxstream replay: %s: %s; stopping here\n", input->path, errstr);
      return NEXT_STOP;
    }
    cx_report_t *report = input->report;
    report->messages++;
    if ((report->messages & 0xfff) == 0)
      cx_report_progress(report, "replay", 0);
    if (!err)
      err = cx_event_check_ranges(event, input->now_ms, input->max_future_ms, errstr,
                                  sizeof(errstr));
    if (err) {
      report->dead_letters++;
      say(input, "cxstream replay: %s record %llu: %s: %s\n", input->path,
          (unsigned long long)cx_ocf_reader_position(input->reader), cx_err2code(err), errstr);
      continue;
    }
    if (event->occurred_at_ms < input->from_ms || event->occurred_at_ms >= input->to_ms) {
      report->filtered++;
      continue;
    }
    return NEXT_EVENT;
  }
}

/* Held, at most, before the rest of a deferred file is checked
 * (cx_ocf_reader_check_rest) and the output starts: 256 MB of messages and,
 * when held in $TMPDIR, output (output held in place, or not at all for
 * /dev/null, takes no more room than it will anyway); or
 * CX_REPLAY_HOLD_BYTES from the environment (for tests), output counted
 * wherever it is held. */
static size_t hold_bytes(bool *output_counts) {
  const char *text = getenv("CX_REPLAY_HOLD_BYTES");
  if (text && *text) {
    *output_counts = true;
    return (size_t)strtoull(text, NULL, 10);
  }
  return (size_t)256 << 20;
}
#define REFUSED 3 /* replay_ahead: the file is invalid, nothing was written */

/* Gives the unnamed file fd (O_TMPFILE) the name out_file; false when it
 * cannot (out_file appeared meanwhile, /proc not mounted...). */
static bool link_in_place(int fd, const char *out_file) {
  char proc[64];
  snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
  return !linkat(AT_FDCWD, proc, AT_FDCWD, out_file, AT_SYMLINK_FOLLOW);
}

/* Copies the held file's bytes to sink->out: in the kernel
 * (copy_file_range) where it can, else through a buffer. */
static void copy_held(replay_sink_t *sink, int fd) {
  uint64_t at = 0;
  if (fflush(sink->out)) {
    sink->failed = 1;
    return;
  }
  int out_fd = fileno(sink->out);
  while (at < sink->held_bytes) {
    loff_t from = (loff_t)at;
    ssize_t n = copy_file_range(fd, &from, out_fd, NULL, (size_t)(sink->held_bytes - at), 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; /* not supported between these two (or a write error): the buffer */
    at += (uint64_t)n;
  }
  static uint8_t chunk[1 << 20];
  while (at < sink->held_bytes && !sink->failed) {
    size_t want = sink->held_bytes - at < sizeof(chunk) ? (size_t)(sink->held_bytes - at)
                                                        : sizeof(chunk);
    ssize_t n = pread(fd, chunk, want, (off_t)at);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0 || fwrite(chunk, 1, (size_t)n, sink->out) != (size_t)n)
      sink->failed = 1;
    else
      at += (uint64_t)n;
  }
}

/* Ends holding: the rest of the file is checked, --out given its output
 * (the held file named --out, or --out opened and the held bytes copied;
 * already open for /dev/null), and the held messages written to stderr.
 * 0, 1 = cannot write (reported), or REFUSED (reported; nothing written). */
static int release(file_input_t *input, replay_sink_t *sink, const char *out_file) {
  char errstr[512];
  int fd = sink->hold_fd;
  sink->hold_fd = -1;
  if (cx_ocf_reader_check_rest(input->reader, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream replay: %s\n", errstr);
    if (fd >= 0)
      close(fd);
    return REFUSED;
  }
  if (input->held->len)
    fwrite(input->held->data, 1, input->held->len, stderr);
  input->held = NULL;
  if (fd >= 0 && sink->hold_in_place && link_in_place(fd, out_file)) {
    /* The file is --out now, its offset after the held bytes. */
    if (!(sink->out = fdopen(fd, "w"))) {
      fprintf(stderr, "cxstream replay: cannot write %s: %s\n", out_file, strerror(errno));
      close(fd);
      return 1;
    }
    fd = -1;
  } else if (!sink->out && !(sink->out = open_out(out_file))) {
    if (fd >= 0)
      close(fd);
    return 1;
  }
  /* The held file's bytes come before what is pending in line. */
  if (fd >= 0) {
    copy_held(sink, fd);
    close(fd);
  }
  flush_if_full(sink);
  return sink->failed;
}

/* One processor on this thread: events are read AHEAD in advance so that
 * their customers are in cache when processed (cx_processor_prefetch on
 * the key's table slot when read, cx_processor_prefetch_customer on the
 * record AHEAD/2 events before, cx_processor_prefetch_blocks on the blocks
 * the event will use BLOCKS_AHEAD events before). The reader keeps an event's strings for
 * CX_OCF_READER_KEEP records, so reading ahead stops at that many records
 * past the oldest waiting event (bad and filtered records count), and
 * after an event whose strings live only until the next read, until that
 * event is processed. The output is the same as processing each event as it
 * is read.
 *
 * With input->held set (a deferred reader), the output (in sink->hold_fd,
 * placed by hold_place; straight to sink->out for /dev/null) and the
 * messages about records (in memory) are held until the file is known
 * valid: at its end (every record was checked as decoded) or once
 * hold_bytes() are held, or the held file is full (the rest is checked
 * then). A file found invalid gives REFUSED and no output, as if the
 * reader's open had refused it.
 * Returns 0, 1 after a stop or a failure (reported), or REFUSED. */
#define AHEAD 8
#define BLOCKS_AHEAD 2 /* cx_processor_prefetch_blocks this many events before */
typedef struct ahead_s {
  cx_event_t event;    /* read, valid, in range */
  uint64_t hash;       /* cx_processor_prefetch of its customer_id */
  uint64_t read_at;    /* the reader's position after it */
} ahead_t;

static int replay_ahead(file_input_t *input, cx_processor_t *processor, cx_report_t *report,
                        const cx_outputs_t *outputs, pacer_t *pacer, replay_sink_t *sink,
                        const char *out_file) {
  ahead_t ring[AHEAD];
  size_t head = 0, count = 0;
  bool reading = true, short_lived = false;
  bool output_counts = !sink->hold_in_place;
  size_t hold_limit = hold_bytes(&output_counts);
  int rc = 0;
  while (!interrupted && !sink->failed) {
    while (reading && !short_lived && count < AHEAD &&
           (!count || cx_ocf_reader_position(input->reader) - ring[head].read_at <
                          CX_OCF_READER_KEEP)) {
      ahead_t *slot = &ring[(head + count) % AHEAD];
      next_t next = next_event(input, &slot->event);
      if (next == NEXT_REFUSED)
        return REFUSED;
      if (next != NEXT_EVENT) {
        reading = false;
        rc = next == NEXT_STOP;
        break;
      }
      slot->hash = cx_processor_prefetch(processor, slot->event.customer_id);
      slot->read_at = cx_ocf_reader_position(input->reader);
      short_lived = !cx_ocf_reader_last_kept(input->reader);
      count++;
    }
    if (!count)
      break;
    if (count > AHEAD / 2)
      cx_processor_prefetch_customer(processor, ring[(head + AHEAD / 2) % AHEAD].hash);
    if (count > BLOCKS_AHEAD) {
      const ahead_t *soon = &ring[(head + BLOCKS_AHEAD) % AHEAD];
      cx_processor_prefetch_blocks(processor, soon->hash, &soon->event);
    }
    ahead_t *slot = &ring[head];
    pace_wait(pacer, slot->event.occurred_at_ms, NULL);
    cx_process_result_t result =
        cx_processor_process_hashed(processor, &slot->event, -1, slot->hash, outputs);
    if (result == CX_PROCESS_LATE) {
      report->late_events++;
    } else if (result == CX_PROCESS_NOMEM) {
      fprintf(stderr, "cxstream replay: out of memory\n");
      rc = 1;
      break;
    } else {
      report->events++;
    }
    head = (head + 1) % AHEAD;
    if (--count == 0)
      short_lived = false;
    if (input->held &&
        (sink->hold_full ||
         (output_counts ? sink->held_bytes + sink->line.len : 0) + input->held->len >=
             hold_limit)) {
      int released = release(input, sink, out_file);
      if (released)
        return released;
    }
  }
  if (input->held) {
    int released = release(input, sink, out_file);
    if (released)
      return released;
  }
  return rc;
}

static int replay_file(const cx_config_t *config, const cx_replay_options_t *options) {
  char errstr[512];
  if (options->out_topic_prefix || options->from_offsets) {
    fprintf(stderr, "cxstream replay: --out-topic-prefix and --from-offsets need --topic; a file "
                    "replays with --input-file F.avro --out FILE.jsonl\n");
    return 2;
  }
  if (!options->out_file) {
    fprintf(stderr, "cxstream replay: needs --out FILE.jsonl (see cxstream replay --help)\n");
    return 2;
  }
  /* One processor per (simulated) partition; one stream unless --partitions. */
  size_t partition_count = options->partitions > 1 ? (size_t)options->partitions : 1;
  /* One stream on this thread reads ahead (replay_ahead) and, unless paced,
   * lets the reader check a null file's records as it decodes them (one
   * pass instead of two), holding the output until the file is known
   * valid. */
  bool ahead = partition_count == 1 && config->num_stream_threads <= 1;
  bool hold = ahead && options->pace <= 0;
  cx_ocf_reader_t *reader = NULL;
  if ((hold ? cx_ocf_reader_open_deferred : cx_ocf_reader_open)(
          options->input_file, config->schema_dir, &reader, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream replay: %s\n", errstr);
    return 1;
  }
  FILE *out = hold ? NULL : open_out(options->out_file);
  if (hold ? !out_writable(options->out_file) : !out) {
    cx_ocf_reader_destroy(reader);
    return 1;
  }
  cx_processor_t **processors = calloc(partition_count, sizeof(*processors));
  int32_t *numbers = calloc(partition_count, sizeof(*numbers));
  cx_topic_merge_t *merge = NULL;
  uint64_t *positions = calloc(partition_count, sizeof(*positions));
  int rc = 0;
  for (size_t i = 0; processors && numbers && i < partition_count; i++) {
    numbers[i] = (int32_t)i;
    processors[i] = cx_processor_new(&config->processor);
  }
  if (partition_count > 1 && numbers)
    merge = cx_topic_merge_new(numbers, partition_count);
  cx_parallel_t *parallel = NULL;
  if (!rc && processors && processors[partition_count - 1] && config->num_stream_threads > 1)
    parallel = cx_parallel_new((size_t)config->num_stream_threads, processors, partition_count,
                               out);
  if (!processors || !numbers || !positions || !processors[partition_count - 1] ||
      (partition_count > 1 && !merge) || (config->num_stream_threads > 1 && !parallel)) {
    fprintf(stderr, "cxstream replay: out of memory\n");
    rc = 1;
  }
  cx_report_t report;
  cx_report_start(&report, isatty(STDERR_FILENO));
  replay_sink_t sink = {{0}, out, &report, 0, NULL, NULL, NULL, NULL, -1, 0, false, false};
  pacer_t pacer = {options->pace, INT64_MIN, 0};
  cx_outputs_t outputs = {on_alert, on_profile, &sink};
  int64_t now_ms = cx_clock_wall_ms();
  bool refused = false;
  if (hold && hold_place(&sink, options->out_file, &sink.hold_fd)) {
    /* Nowhere to hold the output: the records are checked first. */
    if (cx_ocf_reader_check_rest(reader, errstr, sizeof(errstr))) {
      fprintf(stderr, "cxstream replay: %s\n", errstr);
      refused = true;
      rc = 1;
    } else if (!(sink.out = open_out(options->out_file))) {
      rc = 1;
    }
    hold = false;
  }

  cx_buf_t held = {0};
  file_input_t input = {reader, options->input_file, options->from_ms, options->to_ms, now_ms,
                        config->max_future_ms, &report, hold ? &held : NULL};
  if (!rc && ahead) {
    rc = replay_ahead(&input, processors[0], &report, &outputs, &pacer, &sink,
                      options->out_file);
    refused = rc == REFUSED;
  }
  while (!rc && (merge || parallel) && !interrupted) {
    cx_event_t event;
    next_t next = next_event(&input, &event);
    if (next != NEXT_EVENT) {
      rc = next == NEXT_STOP;
      break;
    }
    if (!merge) {
      rc = dispatch(parallel, processors, 0, &event, &report, &outputs, &pacer) ? 1 : 0;
    } else {
      /* The partition `produce` would give it: murmur2 of the key, as Java's. */
      size_t index = (size_t)rd_kafka_msg_partitioner_murmur2(
          NULL, event.customer_id.ptr, event.customer_id.len, (int32_t)partition_count, NULL,
          NULL);
      owned_event_t *owned = owned_event_copy(&event);
      if (!owned || cx_topic_merge_push(merge, index, event.occurred_at_ms,
                                        (int64_t)positions[index]++, owned)) {
        owned_event_free(owned);
        fprintf(stderr, "cxstream replay: out of memory\n");
        rc = 1;
        break;
      }
      rc = drain(merge, parallel, processors, &report, &outputs, &pacer) ? 1 : 0;
    }
    if (sink.failed)
      break;
  }
  if (merge && !rc && !sink.failed && !interrupted) {
    for (size_t i = 0; i < partition_count; i++)
      cx_topic_merge_finish(merge, i);
    rc = drain(merge, parallel, processors, &report, &outputs, &pacer) ? 1 : 0;
  }
  if (parallel) {
    if (cx_parallel_flush(parallel))
      rc = 1;
    cx_parallel_add_counts(parallel, &report);
    cx_parallel_destroy(parallel);
  }
  if (refused) {
    rc = 1; /* reported as a refusal at open is: no output, no summary */
    if (sink.out && sink.out != stdout)
      fclose(sink.out); /* /dev/null, opened at once (hold_place) */
  } else {
    if (close_out(&sink, options->out_file))
      rc = 1;
    add_state_counts(&report, config, processors, partition_count);
    cx_report_summary(&report, "replay", stderr);
  }
  cx_buf_free(&sink.line);
  cx_buf_free(&held);
  cx_topic_merge_destroy(merge, owned_event_free);
  destroy_processors(processors, partition_count, options->exit_after);
  free(numbers);
  free(positions);
  cx_ocf_reader_destroy(reader);
  return rc;
}

/* --out-topic-prefix P: the replay's output topics. P + a production topic
 * name must not be a production topic (nor the replayed topic) unless
 * --write-production-topics says so; the replayed topic never. */
typedef struct replay_topics_s {
  char *alerts;    /* P + output.alerts.topic */
  char *profiles;  /* P + output.profiles.topic */
  char *dlq;       /* P + output.dlq.topic */
  char *late;      /* P + output.late.topic */
} replay_topics_t;

static bool is_production_topic(const cx_config_t *config, const char *name) {
  const char *outputs[] = {config->alerts_topic, config->profiles_topic, config->dlq_topic,
                           config->late_topic};
  for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++)
    if (!strcmp(outputs[i], name))
      return true;
  size_t name_len = strlen(name);
  for (const char *p = config->input_topics; *p;) {
    while (*p == ' ' || *p == ',')
      p++;
    size_t len = strcspn(p, ",");
    size_t trimmed = len;
    while (trimmed && p[trimmed - 1] == ' ')
      trimmed--;
    if (trimmed && trimmed == name_len && !strncmp(p, name, name_len))
      return true;
    p += len;
  }
  return false;
}

static int plan_topics(const cx_config_t *config, const cx_replay_options_t *options,
                       replay_topics_t *topics) {
  const char *prefix = options->out_topic_prefix;
  if (!*prefix && !options->write_production_topics) {
    fprintf(stderr, "cxstream replay: --out-topic-prefix '' would write the production topics "
                    "(%s, %s, %s); give a prefix such as 'replay-', or add "
                    "--write-production-topics if that is really meant\n",
            config->alerts_topic, config->profiles_topic, config->dlq_topic);
    return 2;
  }
  const char *bases[4] = {config->alerts_topic, config->profiles_topic, config->dlq_topic,
                          config->late_topic};
  char **names[4] = {&topics->alerts, &topics->profiles, &topics->dlq, &topics->late};
  for (int i = 0; i < 4; i++) {
    size_t size = strlen(prefix) + strlen(bases[i]) + 1;
    *names[i] = malloc(size);
    if (!*names[i]) {
      fprintf(stderr, "cxstream replay: out of memory\n");
      return 1;
    }
    snprintf(*names[i], size, "%s%s", prefix, bases[i]);
    if (!strcmp(*names[i], options->topic)) {
      fprintf(stderr, "cxstream replay: --out-topic-prefix '%s' would write %s, the topic being "
                      "replayed; choose another prefix\n", prefix, *names[i]);
      return 2;
    }
    if (is_production_topic(config, *names[i]) && !options->write_production_topics) {
      fprintf(stderr, "cxstream replay: --out-topic-prefix '%s' gives %s, a production topic "
                      "(output.*.topic or input.topics); choose another prefix, or add "
                      "--write-production-topics if that is really meant\n", prefix, *names[i]);
      return 2;
    }
  }
  return 0;
}

static int replay_topic(const cx_config_t *config, const cx_replay_options_t *options) {
  if (config->num_stream_threads > 1 && options->out_topic_prefix) {
    fprintf(stderr, "cxstream replay: num.stream.threads > 1 works with --out FILE.jsonl; "
                    "--out-topic-prefix replays on one thread in this version\n");
    return 2;
  }
  char errstr[512];
  if (!!options->out_file == !!options->out_topic_prefix) {
    fprintf(stderr, "cxstream replay: --topic needs exactly one of --out FILE.jsonl and "
                    "--out-topic-prefix P\n");
    return 2;
  }
  if (options->from_offsets && options->from_ms != INT64_MIN) {
    fprintf(stderr, "cxstream replay: give --from or --from-offsets, not both\n");
    return 2;
  }
  replay_topics_t topics = {NULL, NULL, NULL, NULL};
  cx_topic_source_t *source = NULL;
  cx_codec_t *codec = NULL;
  cx_processor_t **processors = NULL;
  cx_parallel_t *parallel = NULL;
  cx_kafka_output_t kafka = {0};
  cx_report_t report;
  replay_sink_t sink = {{0}, NULL, &report, 0, NULL, NULL, NULL, NULL, -1, 0, false, false};
  size_t partition_count = 0;
  int rc = 0;
  cx_report_start(&report, isatty(STDERR_FILENO));

  if (options->out_topic_prefix && (rc = plan_topics(config, options, &topics)))
    goto done;
  if (cx_codec_new(config, &codec, errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream replay: %s\n", errstr);
    rc = 2;
    goto done;
  }
  cx_topic_source_options_t source_options = {
    options->topic, options->from_offsets, options->from_ms, options->to_ms,
    config->batch_size > 0 ? config->batch_size : 1, 30000,
  };
  cx_err_t err = cx_topic_source_open(config, &source_options, &source, errstr, sizeof(errstr));
  if (err) {
    fprintf(stderr, "cxstream replay: %s\n", errstr);
    rc = err == CX_ERR_INVALID_ARG || err == CX_ERR_CONFIG ? 2 : 1;
    goto done;
  }
  partition_count = cx_topic_source_partition_count(source);
  processors = calloc(partition_count, sizeof(*processors));
  for (size_t i = 0; processors && i < partition_count; i++)
    if (!(processors[i] = cx_processor_new(&config->processor)))
      break;
  if (!processors || !processors[partition_count - 1]) {
    fprintf(stderr, "cxstream replay: out of memory\n");
    rc = 1;
    goto done;
  }
  if (options->out_topic_prefix) {
    static const char *const producer_defaults[] = {
      "enable.idempotence", "true", "acks", "all", "linger.ms", "5",
      "partitioner", "murmur2_random", "compression.type", "lz4", NULL,
    };
    /* Outputs are timed in event time (history): time retention would delete
     * them at the broker's next check, so new output topics keep them; the
     * profiles topic is compacted as in production. */
    static const char *const keep[] = {"retention.ms", "-1", NULL};
    static const char *const compact[] = {"cleanup.policy", "compact", NULL};
    const char *names[] = {topics.alerts, topics.dlq, topics.late, topics.profiles};
    if (cx_kafka_output_open(&kafka, config, producer_defaults, errstr, sizeof(errstr)) ||
        cx_kafka_create_topics_with(kafka.producer, names, 3, (int)partition_count, keep, errstr,
                                    sizeof(errstr)) ||
        cx_kafka_create_topics_with(kafka.producer, names + 3, 1, (int)partition_count, compact,
                                    errstr, sizeof(errstr))) {
      fprintf(stderr, "cxstream replay: output topics: %s\n", errstr);
      rc = 1;
      goto done;
    }
    sink.kafka = &kafka;
    sink.codec = codec;
    sink.alerts_topic = topics.alerts;
    sink.profiles_topic = topics.profiles;
  } else if (!(sink.out = open_out(options->out_file))) {
    rc = 1;
    goto done;
  } else if (config->num_stream_threads > 1 &&
             !(parallel = cx_parallel_new((size_t)config->num_stream_threads, processors,
                                          partition_count, sink.out))) {
    fprintf(stderr, "cxstream replay: cannot start %lld processing threads\n",
            (long long)config->num_stream_threads);
    rc = 1;
    goto done;
  }

  uint64_t total = cx_topic_source_total(source);
  pacer_t pacer = {options->pace, INT64_MIN, 0};
  cx_codec_set_now(codec, cx_clock_wall_ms());
  cx_outputs_t outputs = {on_alert, on_profile, &sink};
  while (!sink.failed && !interrupted) {
    rd_kafka_message_t *message = NULL;
    size_t index = 0;
    if (cx_topic_source_next(source, &message, &index, errstr, sizeof(errstr))) {
      fprintf(stderr, "cxstream replay: %s\n", errstr);
      rc = 1;
      break;
    }
    if (!message)
      break;
    report.messages++;
    cx_event_t event;
    err = cx_codec_decode(codec, message->payload, message->len, &event, errstr, sizeof(errstr));
    if (err) {
      report.dead_letters++;
      fprintf(stderr, "cxstream replay: dead letter %s [%d] offset %lld: %s: %s\n",
              options->topic, (int)message->partition, (long long)message->offset,
              cx_err2code(err), errstr);
      if (sink.kafka)
        cx_kafka_output_aside(&kafka, message, topics.dlq, cx_err2code(err), errstr,
                              cx_clock_wall_ms());
    } else if (event.occurred_at_ms < options->from_ms || event.occurred_at_ms >= options->to_ms) {
      report.filtered++;
    } else if (parallel) {
      pace_wait(&pacer, event.occurred_at_ms, NULL);
      if (cx_parallel_submit(parallel, index, &event)) {
        fprintf(stderr, "cxstream replay: out of memory or cannot write the output\n");
        rc = 1;
      }
    } else {
      pace_wait(&pacer, event.occurred_at_ms, sink.kafka ? kafka.producer : NULL);
      cx_process_result_t result = cx_processor_process(processors[index], &event, &outputs);
      if (result == CX_PROCESS_LATE) {
        report.late_events++;
        if (sink.kafka) /* as in production: the late topic, never dropped silently */
          cx_kafka_output_aside(&kafka, message, topics.late, "late_event",
                                "occurred_at is older than the partition's watermark",
                                cx_clock_wall_ms());
      } else if (result == CX_PROCESS_NOMEM) {
        fprintf(stderr, "cxstream replay: out of memory\n");
        rc = 1;
      } else {
        report.events++;
      }
    }
    rd_kafka_message_destroy(message);
    if (rc)
      break;
    if ((report.messages & 0xfff) == 0) {
      if (sink.kafka)
        rd_kafka_poll(kafka.producer, 0);
      cx_report_progress(&report, "replay", total);
    }
  }
  if (parallel) {
    if (cx_parallel_flush(parallel))
      rc = 1;
    cx_parallel_add_counts(parallel, &report);
    cx_parallel_destroy(parallel);
    parallel = NULL;
  }
  if (sink.kafka) {
    if (rd_kafka_flush(kafka.producer, 60000)) {
      fprintf(stderr, "cxstream replay: %d output(s) still undelivered after 60 s\n",
              rd_kafka_outq_len(kafka.producer));
      rc = 1;
    } else if (kafka.delivery_failures) {
      fprintf(stderr, "cxstream replay: %llu output(s) could not be delivered (first: %s)\n",
              (unsigned long long)kafka.delivery_failures, kafka.delivery_error);
      rc = 1;
    }
    if (sink.failed)
      rc = 1;
  } else if (close_out(&sink, options->out_file)) {
    rc = 1;
  }
  add_state_counts(&report, config, processors, partition_count);
  cx_report_summary(&report, "replay", stderr);

done:
  cx_parallel_destroy(parallel);
  if (sink.out)
    close_out(&sink, options->out_file);
  cx_kafka_output_close(&kafka, 10000);
  destroy_processors(processors, partition_count, options->exit_after);
  cx_topic_source_destroy(source);
  cx_codec_destroy(codec);
  cx_buf_free(&sink.line);
  free(topics.alerts);
  free(topics.profiles);
  free(topics.dlq);
  free(topics.late);
  return rc;
}

int cx_replay_main(const cx_config_t *config, const cx_replay_options_t *options) {
  if (!!options->input_file == !!options->topic) {
    fprintf(stderr, "cxstream replay: needs exactly one of --input-file F.avro and --topic T "
                    "(see cxstream replay --help)\n");
    return 2;
  }
  /* Ctrl-C stops reading; what was processed is written out and summarised. */
  interrupted = 0;
  signal(SIGINT, on_interrupt);
  signal(SIGTERM, on_interrupt);
  int rc = options->topic ? replay_topic(config, options) : replay_file(config, options);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (interrupted) {
    fprintf(stderr, "cxstream replay: interrupted; the output holds what was processed until "
                    "then\n");
    return rc ? rc : 130;
  }
  return rc;
}
