/* File replay (see replay.h): OCF records -> range checks -> one processor
 * (the file is one stream, so one partition's watermark) -> JSON lines: an
 * event's alerts, then its profile, in processing order.
 * Bad records are counted and reported with their position, never dropped
 * silently; the replay goes on. */
#include "replay.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../operators/processor.h"
#include "buf.h"
#include "clock.h"
#include "event_avro.h"
#include "jsonl.h"
#include "ocf.h"
#include "report.h"

typedef struct replay_sink_s {
  cx_buf_t line;      /* pending output */
  FILE *out;          /* destination */
  cx_report_t *report; /* counters */
  int failed;         /* out of memory or write error */
} replay_sink_t;

static void flush_if_full(replay_sink_t *sink) {
  if (sink->line.len >= 1 << 16) {
    if (fwrite(sink->line.data, 1, sink->line.len, sink->out) != sink->line.len)
      sink->failed = 1;
    sink->line.len = 0;
  }
}

static void on_alert(const cx_alert_t *alert, void *opaque) {
  replay_sink_t *sink = opaque;
  int rule = cx_rule_by_name(alert->rule);
  if (rule >= 0)
    sink->report->alerts[rule]++;
  if (cx_jsonl_append_alert(&sink->line, alert))
    sink->failed = 1;
  flush_if_full(sink);
}

static void on_profile(const cx_profile_t *profile, void *opaque) {
  replay_sink_t *sink = opaque;
  sink->report->profiles++;
  if (profile->deleted)
    sink->report->profiles_deleted++;
  if (cx_jsonl_append_profile(&sink->line, profile))
    sink->failed = 1;
  flush_if_full(sink);
}

int cx_replay_main(const cx_config_t *config, const cx_replay_options_t *options) {
  char errstr[512];
  if (options->topic || options->out_topic_prefix) {
    fprintf(stderr, "cxstream replay: --topic and --out-topic-prefix are not available in this "
                    "version; replay a file with --input-file F.avro --out FILE.jsonl\n");
    return 2;
  }
  if (!options->input_file || !options->out_file) {
    fprintf(stderr, "cxstream replay: needs --input-file F.avro and --out FILE.jsonl "
                    "(see cxstream replay --help)\n");
    return 2;
  }
  cx_ocf_reader_t *reader = NULL;
  if (cx_ocf_reader_open(options->input_file, config->schema_dir, &reader, errstr,
                         sizeof(errstr))) {
    fprintf(stderr, "cxstream replay: %s\n", errstr);
    return 1;
  }
  FILE *out = stdout;
  if (strcmp(options->out_file, "-")) {
    out = fopen(options->out_file, "w");
    if (!out) {
      fprintf(stderr, "cxstream replay: cannot write %s: %s\n", options->out_file,
              strerror(errno));
      cx_ocf_reader_destroy(reader);
      return 1;
    }
  }
  cx_processor_t *processor = cx_processor_new(&config->processor);
  cx_report_t report;
  cx_report_start(&report, isatty(STDERR_FILENO));
  replay_sink_t sink = {{0}, out, &report, 0};
  cx_outputs_t outputs = {on_alert, on_profile, &sink};
  int64_t now_ms = cx_clock_wall_ms();
  int rc = 0;

  for (;;) {
    cx_event_t event;
    bool eof = false;
    cx_err_t err = cx_ocf_reader_next(reader, &event, &eof, errstr, sizeof(errstr));
    if (eof) {
      if (err) {
        fprintf(stderr, "cxstream replay: %s: %s; stopping here\n", options->input_file, errstr);
        rc = 1;
      }
      break;
    }
    report.messages++;
    if (!err)
      err = cx_event_check_ranges(&event, now_ms, config->max_future_ms, errstr, sizeof(errstr));
    if (err) {
      report.dead_letters++;
      fprintf(stderr, "cxstream replay: %s record %llu: %s: %s\n", options->input_file,
              (unsigned long long)cx_ocf_reader_position(reader), cx_err2code(err), errstr);
      continue;
    }
    if (event.occurred_at_ms < options->from_ms || event.occurred_at_ms >= options->to_ms) {
      report.filtered++;
      continue;
    }
    cx_process_result_t result = cx_processor_process(processor, &event, &outputs);
    if (result == CX_PROCESS_LATE) {
      report.late_events++;
    } else if (result == CX_PROCESS_NOMEM) {
      fprintf(stderr, "cxstream replay: out of memory\n");
      rc = 1;
      break;
    } else {
      report.events++;
    }
    if (sink.failed)
      break;
    if ((report.messages & 0xfff) == 0)
      cx_report_progress(&report, "replay", 0);
  }
  if (sink.line.len && fwrite(sink.line.data, 1, sink.line.len, out) != sink.line.len)
    sink.failed = 1;
  if (out != stdout ? fclose(out) : fflush(out))
    sink.failed = 1;
  if (sink.failed) {
    fprintf(stderr, "cxstream replay: cannot write %s: %s\n", options->out_file, strerror(errno));
    rc = 1;
  }
  cx_report_summary(&report, "replay", stderr);
  cx_buf_free(&sink.line);
  cx_processor_destroy(processor);
  cx_ocf_reader_destroy(reader);
  return rc;
}
