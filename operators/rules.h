/* The rule catalog: every signal of DESIGN.md section 1 is a cx_detector_t
 * that looks at one event (or one due timer) and the customer's state and
 * says whether it fires, with reasons, evidence and the window. Detectors
 * never emit and never apply cooldowns: the processor does (processor.c).
 * Parameters live in one cx_rules_config_t; each field maps one to one to a
 * rules.<rule>.<param> config key (stream/config.c), and docs/rules.md gives
 * each rule's exact definition. */
#ifndef CX_RULES_H
#define CX_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "event.h"

/* Rule order is emission order for alerts of one event. */
#define CX_RULE_MAP(X) \
  X(REPEAT_CONTACT, repeat_contact, FRUSTRATION) \
  X(LONG_WAIT, long_wait, FRUSTRATION) \
  X(ABANDONMENT, abandonment, FRUSTRATION) \
  X(CHANNEL_HOPPING, channel_hopping, FRUSTRATION) \
  X(TRANSFER_LOOP, transfer_loop, FRUSTRATION) \
  X(SELF_SERVICE_FALLOUT, self_service_fallout, FRUSTRATION) \
  X(DIGITAL_FRICTION, digital_friction, FRUSTRATION) \
  X(NEGATIVE_VOICE, negative_voice, FRUSTRATION) \
  X(UNRESOLVED_CASE, unresolved_case, FRUSTRATION) \
  X(BROKEN_PROMISE, broken_promise, FRUSTRATION) \
  X(CANCELLATION_INTENT, cancellation_intent, CHURN) \
  X(ENGAGEMENT_DROP, engagement_drop, CHURN) \
  X(ESCALATION, escalation, CHURN) \
  X(PAYMENT_FRICTION, payment_friction, CHURN) \
  X(FRUSTRATION_THEN_INTENT, frustration_then_intent, CHURN)

typedef enum {
#define CX__X(id, name, kind) CX_RULE_##id,
  CX_RULE_MAP(CX__X)
#undef CX__X
  CX_RULE__COUNT
} cx_rule_t;

#define CX_ACTION_MAX 48

/* What every rule has. */
typedef struct cx_rule_common_s {
  bool enabled;               /* rules.<rule>.enabled */
  int64_t cooldown_ms;        /* rules.<rule>.cooldown: quiet time per customer after an alert */
  double weight;              /* rules.<rule>.weight: score points a hit adds (before decay) */
  bool realert_on_higher_band; /* rules.<rule>.realert_on_higher_band: a higher band breaks the cooldown */
  char action[CX_ACTION_MAX]; /* rules.<rule>.action: overrides the kind/band action table; "" = none */
} cx_rule_common_t;

typedef struct cx_rules_config_s {
  cx_rule_common_t common[CX_RULE__COUNT]; /* per rule, by cx_rule_t */
  struct {
    int64_t window_ms;      /* rules.repeat_contact.window */
    int64_t min_contacts;   /* rules.repeat_contact.min_contacts: assisted CONTACTs in the window */
  } repeat_contact;
  struct {
    int64_t window_ms;      /* rules.long_wait.window */
    int64_t single_wait_ms; /* rules.long_wait.single_wait: one wait at least this long */
    int64_t total_wait_ms;  /* rules.long_wait.total_wait: summed CONTACT waits in the window */
  } long_wait;
  struct {
    int64_t window_ms;      /* rules.abandonment.window */
    int64_t min_abandoned;  /* rules.abandonment.min_abandoned: ABANDONED CONTACTs in the window */
  } abandonment;
  struct {
    int64_t window_ms;      /* rules.channel_hopping.window */
    int64_t min_channels;   /* rules.channel_hopping.min_channels: distinct channels in the window */
  } channel_hopping;
  struct {
    int64_t window_ms;      /* rules.transfer_loop.window: how far back a case's transfers count */
    int64_t session_gap_ms; /* rules.transfer_loop.session_gap: without a case, one contact episode */
    int64_t min_transfers;  /* rules.transfer_loop.min_transfers */
  } transfer_loop;
  struct {
    int64_t window_ms;      /* rules.self_service_fallout.window: failed self-service to assisted contact */
  } self_service_fallout;
  struct {
    int64_t session_gap_ms; /* rules.digital_friction.session_gap: digital session without a session id */
    int64_t min_failures;   /* rules.digital_friction.min_failures: ERRORs + LOGIN_FAILEDs in a session */
    int64_t rage_clicks;    /* rules.digital_friction.rage_clicks: CLICKs on one element ... */
    int64_t rage_window_ms; /* rules.digital_friction.rage_window: ... within this time */
  } digital_friction;
  struct {
    double max_sentiment;   /* rules.negative_voice.max_sentiment: sentiment at or below */
    int64_t max_csat;       /* rules.negative_voice.max_csat: CSAT at or below */
    int64_t max_nps;        /* rules.negative_voice.max_nps: NPS at or below (detractor) */
  } negative_voice;
  struct {
    int64_t sla_ms;         /* rules.unresolved_case.sla: open longer than this fires */
  } unresolved_case;
  struct {
    int64_t window_ms;      /* rules.payment_friction.window */
    int64_t min_failures;   /* rules.payment_friction.min_failures: PAYMENT_FAILED (and disputes) */
  } payment_friction;
  struct {
    int64_t recent_ms;      /* rules.engagement_drop.recent: the recent period (7d) */
    int64_t baseline_ms;    /* rules.engagement_drop.baseline: the period before it (28d) */
    double max_ratio;       /* rules.engagement_drop.max_ratio: recent daily rate / baseline daily rate */
    double min_baseline_per_day; /* rules.engagement_drop.min_baseline_per_day: digital events/day */
  } engagement_drop;
  struct {
    int64_t window_ms;      /* rules.frustration_then_intent.window: frustration alert to intent */
  } frustration_then_intent;
} cx_rules_config_t;

/* Scores, bands and actions (scores.*, actions.*). */
typedef struct cx_scores_config_s {
  int64_t half_life_ms;      /* scores.half_life: contributions halve in this much event time */
  double band_medium;        /* scores.band.medium: score at which the band is medium */
  double band_high;          /* scores.band.high */
  double band_critical;      /* scores.band.critical */
  char actions[2][4][CX_ACTION_MAX]; /* actions.<kind>.<band> */
} cx_scores_config_t;

/* The defaults of DESIGN.md sections 1 and 6. */
void cx_rules_config_default(cx_rules_config_t *config);
void cx_scores_config_default(cx_scores_config_t *config);

struct cx_customer_s;

/* What of an event can make a detector act: bit t (t < CX_EVENT_TYPE__COUNT)
 * is the event type t; the bits above are read once per event from its
 * fields and attributes (cx_detect_input_init), so that no detector scans
 * the attributes itself and the processor calls only the detectors an event
 * concerns (cx_detector_t.signals). */
#define CX_SIGNAL_TYPE(type) (UINT32_C(1) << (type))
#define CX_SIGNAL_VOICE (UINT32_C(1) << 24)           /* sentiment, CSAT or NPS set */
#define CX_SIGNAL_ESCALATED (UINT32_C(1) << 25)       /* outcome ESCALATED */
#define CX_SIGNAL_PROMISE (UINT32_C(1) << 26)         /* promise=broken or callback_missed */
#define CX_SIGNAL_INTENT (UINT32_C(1) << 27)          /* intent=cancel or intent=port_out */
#define CX_SIGNAL_COMPETITOR (UINT32_C(1) << 28)      /* a non-empty competitor attribute */
#define CX_SIGNAL_DISPUTE (UINT32_C(1) << 29)         /* a non-empty dispute attribute */
#define CX_SIGNAL_BILLING_DISPUTE (UINT32_C(1) << 30) /* topic billing_dispute */
#define CX_SIGNAL_ANY UINT32_MAX                      /* every event */
_Static_assert(CX_EVENT_TYPE__COUNT <= 24, "event type bits lie below the other signals");

/* Channel sets of cx_detector_t.channels: bit c is channel c; a channel out
 * of range is bit 31. */
#define CX_CHANNELS_ANY UINT32_MAX
#define CX_CHANNEL_BIT(channel) \
  ((unsigned)(channel) < CX_CHANNEL__COUNT ? UINT32_C(1) << (channel) : UINT32_C(1) << 31)
_Static_assert(CX_CHANNEL__COUNT < 31, "channel bits lie below bit 31");

/* What a detector sees of the event being processed. */
typedef struct cx_detect_input_s {
  const cx_event_t *event;          /* the trigger candidate */
  struct cx_customer_s *customer;   /* its state, the event already in the shared logs */
  long interaction_index;           /* its index in customer->interactions, -1 if not kept there */
  int64_t watermark_ms;             /* the partition's watermark after this event */
  bool nomem;                       /* set by a detector that could not allocate its state */
  uint32_t signals;                 /* CX_SIGNAL_* of the event */
  cx_str_t session;                 /* the first non-empty "session" attribute (absent: ptr NULL) */
  cx_str_t element;                 /* the first non-empty "element" attribute (absent: ptr NULL) */
} cx_detect_input_t;

/* Fills *input for event and customer: interaction_index -1, nomem false,
 * the signals and attributes read in one pass over the event's attributes
 * (those past CX_EVENT_MAX_ATTRIBUTES are not in the struct: not seen). */
void cx_detect_input_init(cx_detect_input_t *input, const cx_event_t *event,
                          struct cx_customer_s *customer, int64_t watermark_ms);

/* A timer a detector asked for, now due (the watermark passed fire_ms). */
typedef struct cx_timer_input_s {
  struct cx_customer_s *customer;   /* its customer */
  int64_t fire_ms;                  /* when it was set to fire */
  uint64_t payload;                 /* what the detector stored with it */
} cx_timer_input_t;

/* Lets a detector set an event-time timer for the current customer. */
typedef struct cx_timer_sink_s {
  void (*set)(void *opaque, cx_rule_t rule, int64_t fire_ms, uint64_t payload);
  void *opaque;
} cx_timer_sink_t;

typedef struct cx_detector_s {
  cx_rule_t rule;           /* index into per-rule arrays */
  const char *name;         /* rule name in alerts and config keys */
  cx_rule_kind_t kind;      /* frustration or churn */
  /* evaluate is called only for events with one of these signals on one of
   * these channels: for any other event it must return false and change
   * nothing (cx_detect_<name>_signals and _channels in its header). */
  uint32_t signals;
  uint32_t channels;
  /* Updates the detector's own part of the customer's state with the event,
   * may set timers, and returns true when the rule fires on this event,
   * having filled reasons, evidence and the window of *alert. NULL = never. */
  bool (*evaluate)(const cx_rules_config_t *config, cx_detect_input_t *input,
                   const cx_timer_sink_t *timers, cx_alert_t *alert);
  /* A due timer of this rule: returns true when it fires, having filled
   * *alert including trigger_event_id and event_time_ms. NULL = no timers. */
  bool (*on_timer)(const cx_rules_config_t *config, cx_timer_input_t *input,
                   const cx_timer_sink_t *timers, cx_alert_t *alert);
  /* Sets again the timers the customer's state says are pending, after the
   * state was restored from a changelog (timers themselves are not kept).
   * NULL = no timers. */
  void (*rearm)(const cx_rules_config_t *config, struct cx_customer_s *customer,
                const cx_timer_sink_t *timers);
} cx_detector_t;

extern const cx_detector_t cx_detectors[CX_RULE__COUNT];

/* Declares a detector's functions; a detector without timers also does
 * "#define cx_detect_<name>_on_timer NULL" and "..._rearm NULL" in its header. */
#define CX_DETECTOR_EVALUATE(name) \
  bool cx_detect_##name##_evaluate(const cx_rules_config_t *config, cx_detect_input_t *input, \
                                   const cx_timer_sink_t *timers, cx_alert_t *alert)
#define CX_DETECTOR_ON_TIMER(name) \
  bool cx_detect_##name##_on_timer(const cx_rules_config_t *config, cx_timer_input_t *input, \
                                   const cx_timer_sink_t *timers, cx_alert_t *alert)
#define CX_DETECTOR_REARM(name) \
  void cx_detect_##name##_rearm(const cx_rules_config_t *config, struct cx_customer_s *customer, \
                                const cx_timer_sink_t *timers)

/* Rule name ("repeat_contact") and its index, or -1. */
const char *cx_rule_name(cx_rule_t rule);
int cx_rule_by_name(const char *name);

/* How far back the shared interaction log must reach, and how long a
 * customer must stay idle before its state can no longer matter. */
int64_t cx_rules_retention_ms(const cx_rules_config_t *config);
int64_t cx_rules_idle_horizon_ms(const cx_rules_config_t *config);

/* Helpers detectors share (rules.c). */
void cx_alert_add_reason(cx_alert_t *alert, const char *code, int64_t value, double ratio);
void cx_alert_set_window(cx_alert_t *alert, int64_t end_ms, int64_t width_ms);

#endif
