/* Counters a job keeps and the progress line and summary it prints. */
#ifndef CX_REPORT_H
#define CX_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../operators/rules.h"

typedef struct cx_report_s {
  uint64_t messages;                 /* records or messages read */
  uint64_t events;                   /* events applied to state */
  uint64_t late_events;              /* refused as late */
  uint64_t dead_letters;             /* could not be decoded or validated */
  uint64_t filtered;                 /* outside --from/--to */
  uint64_t duplicates;               /* applied before a restart already, not again */
  uint64_t alerts[CX_RULE__COUNT];   /* per rule */
  uint64_t profiles;                 /* profiles emitted (tombstones included) */
  uint64_t profiles_deleted;         /* of those, tombstones (consent withdrawn) */
  uint64_t limit_evictions;          /* customers evicted at state.max.customers */
  uint64_t max_customers;            /* state.max.customers per partition, 0 = no bound */
  int64_t started_mono_ms;           /* monotonic start */
  int64_t last_progress_mono_ms;     /* last progress line */
  bool progress;                     /* print a progress line (stderr is a terminal) */
} cx_report_t;

void cx_report_start(cx_report_t *report, bool progress);
uint64_t cx_report_alert_total(const cx_report_t *report);
/* Rewrites the progress line at most twice a second; total 0 = unknown. */
void cx_report_progress(cx_report_t *report, const char *what, uint64_t total);
/* Prints the closing summary (clears a progress line first). */
void cx_report_summary(cx_report_t *report, const char *what, FILE *out);

#endif
