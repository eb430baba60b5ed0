/* Progress line and summary (see report.h). */
#include "report.h"

#include "clock.h"

void cx_report_start(cx_report_t *report, bool progress) {
  *report = (cx_report_t){0};
  report->started_mono_ms = cx_clock_mono_ms();
  report->last_progress_mono_ms = report->started_mono_ms;
  report->progress = progress;
}

uint64_t cx_report_alert_total(const cx_report_t *report) {
  uint64_t total = 0;
  for (int r = 0; r < CX_RULE__COUNT; r++)
    total += report->alerts[r];
  return total;
}

static double rate(const cx_report_t *report, int64_t now) {
  double seconds = (double)(now - report->started_mono_ms) / 1000.0;
  return seconds > 0 ? (double)report->messages / seconds : 0;
}

void cx_report_progress(cx_report_t *report, const char *what, uint64_t total) {
  if (!report->progress)
    return;
  int64_t now = cx_clock_mono_ms();
  if (now - report->last_progress_mono_ms < 500)
    return;
  report->last_progress_mono_ms = now;
  double per_second = rate(report, now);
  if (total) {
    double left = total > report->messages ? (double)(total - report->messages) : 0;
    fprintf(stderr, "\r%s: %llu of %llu events (%.0f%%), %.0f events/s, ETA %.0fs, %llu alerts   ",
            what, (unsigned long long)report->messages, (unsigned long long)total,
            100.0 * (double)report->messages / (double)total, per_second,
            per_second > 0 ? left / per_second : 0, (unsigned long long)cx_report_alert_total(report));
  } else {
    fprintf(stderr, "\r%s: %llu events, %.0f events/s, %llu alerts   ", what,
            (unsigned long long)report->messages, per_second,
            (unsigned long long)cx_report_alert_total(report));
  }
  fflush(stderr);
}

void cx_report_summary(cx_report_t *report, const char *what, FILE *out) {
  int64_t now = cx_clock_mono_ms();
  if (report->progress)
    fprintf(stderr, "\r\033[K");
  fprintf(out, "%s: %llu events read, %llu processed, %llu late, %llu dead letters",
          what, (unsigned long long)report->messages, (unsigned long long)report->events,
          (unsigned long long)report->late_events, (unsigned long long)report->dead_letters);
  if (report->filtered)
    fprintf(out, ", %llu outside --from/--to", (unsigned long long)report->filtered);
  if (report->duplicates)
    fprintf(out, ", %llu applied before the restart (skipped)",
            (unsigned long long)report->duplicates);
  fprintf(out, "\n%s: %llu alerts", what, (unsigned long long)cx_report_alert_total(report));
  const char *separator = " (";
  for (int r = 0; r < CX_RULE__COUNT; r++) {
    if (!report->alerts[r])
      continue; /* rules that did not fire are left out */
    fprintf(out, "%s%s %llu", separator, cx_detectors[r].name,
            (unsigned long long)report->alerts[r]);
    separator = ", ";
  }
  fprintf(out, "%s\n%s: %llu profiles (%llu deleted)\n", separator[0] == ',' ? ")" : "", what,
          (unsigned long long)report->profiles, (unsigned long long)report->profiles_deleted);
  if (report->max_customers)
    fprintf(out, "%s: %llu customers evicted at state.max.customers=%llu\n", what,
            (unsigned long long)report->limit_evictions,
            (unsigned long long)report->max_customers);
  fprintf(out, "%s: %.2f s, %.0f events/s\n", what,
          (double)(now - report->started_mono_ms) / 1000.0, rate(report, now));
}
