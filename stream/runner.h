/* The production job: a consumer-group member that runs the operators per
 * assigned partition and writes alerts, dead letters and late events to
 * Kafka, at least once. `cxstream run` and `cxstream demo` both use it. */
#ifndef CX_RUNNER_H
#define CX_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "report.h"

typedef struct cx_runner_options_s {
  const char *config_file;   /* for SIGHUP: the -c file to reload, or NULL */
  const char *const *overrides; /* for SIGHUP: the -X pairs applied after it */
  size_t override_count;     /* entries in overrides */
  FILE *print_alerts;        /* also print each alert as a JSON line here, or NULL */
  uint64_t stop_after;       /* stop once this many messages were consumed (0 = never) */
  int64_t stop_idle_ms;      /* with stop_after: give up after this long without messages */
  bool transaction_per_batch; /* exactly_once: commit at the end of every batch instead of once
                                 per commit.interval.ms (tests: transaction boundaries that do
                                 not depend on how fast the machine is) */
} cx_runner_options_t;

/* Runs until SIGTERM/SIGINT (or options->stop_after). Returns an exit code. */
int cx_runner_run(const cx_config_t *config, const cx_runner_options_t *options,
                  cx_report_t *report);

/* `cxstream run`: cx_runner_run, reloading from file and overrides on
 * SIGHUP, then a summary. */
int cx_run_main(const cx_config_t *config, const char *config_file,
                const char *const *overrides, size_t override_count);

#endif
