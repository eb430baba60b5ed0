/* An alert as the detectors emit it: which rule fired for which customer on
 * which event, why (reason codes with values and weights), on what evidence,
 * over which window. Strings are borrowed: valid during the emit callback only. */
#ifndef CX_ALERT_H
#define CX_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

typedef enum { CX_KIND_FRUSTRATION, CX_KIND_CHURN } cx_rule_kind_t;

typedef enum {
  CX_SEVERITY_LOW, CX_SEVERITY_MEDIUM, CX_SEVERITY_HIGH, CX_SEVERITY_CRITICAL
} cx_severity_t;

#define CX_ALERT_MAX_REASONS 4
#define CX_ALERT_MAX_EVIDENCE 16
#define CX_ALERT_ID_LEN 32

typedef struct cx_reason_s {
  const char *code; /* stable reason code, e.g. "assisted_contacts" */
  int64_t value;    /* the measured value (a count, or milliseconds) */
  double weight;    /* share of the alert's score, 0..1; weights sum to 1 */
} cx_reason_t;

typedef struct cx_alert_s {
  char alert_id[CX_ALERT_ID_LEN + 1]; /* hex hash of (customer_id, rule, trigger_event_id) */
  cx_str_t customer_id;        /* the customer */
  const char *rule;            /* rule name, e.g. "repeat_contact" */
  int rule_index;              /* its cx_rule_t, for per-rule counters */
  cx_rule_kind_t kind;         /* frustration or churn */
  cx_severity_t severity;      /* from how far past its threshold the rule is */
  int score;                   /* 0..100 */
  cx_str_t trigger_event_id;   /* the event being processed when the rule fired */
  int64_t event_time_ms;       /* event time of the trigger */
  int64_t window_start_ms;     /* the window is (window_start, window_end] */
  int64_t window_end_ms;       /* == event_time_ms */
  size_t reason_count;         /* reasons used */
  cx_reason_t reasons[CX_ALERT_MAX_REASONS]; /* why */
  size_t evidence_count;       /* evidence ids used */
  cx_str_t evidence[CX_ALERT_MAX_EVIDENCE];  /* event ids, oldest first (the latest ones when more) */
  const char *recommended_action; /* from rules.<rule>.action or actions.<kind>.<band>; "" = none */
  const char *action_channel;  /* the customer's preferred channel for the action, or NULL */
} cx_alert_t;

typedef void (cx_alert_cb_t)(const cx_alert_t *alert, void *opaque);

const char *cx_rule_kind_name(cx_rule_kind_t kind);
const char *cx_severity_name(cx_severity_t severity);

/* alert_id: 32 lower-case hex digits of XXH3-128 over customer_id, rule and
 * trigger_event_id separated by NUL bytes; the same inputs give the same id. */
void cx_alert_make_id(cx_str_t customer_id, const char *rule, cx_str_t trigger_event_id,
                      char out[CX_ALERT_ID_LEN + 1]);

#endif
