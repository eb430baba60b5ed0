/* One partition's operators (see processor.h). Eviction is exact: a customer
 * is dropped only when no later on-time event could see its contacts or its
 * cooldowns, i.e. when it has been idle longer than the largest window or
 * cooldown plus the lateness, so evicting never changes what is emitted. */
#include "processor.h"

#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "watermark.h"

struct cx_processor_s {
  cx_processor_config_t config;  /* copy */
  cx_watermark_t watermark;      /* this partition's event time */
  cx_state_t *state;             /* customers */
  int64_t retain_ms;             /* contacts older than newest - retain_ms are dropped */
  int64_t evict_idle_ms;         /* customers idle longer than this are evicted */
  int64_t last_sweep_watermark;  /* watermark at the last eviction sweep */
  cx_processor_stats_t stats;    /* counters */
};

void cx_processor_config_default(cx_processor_config_t *config) {
  config->lateness_ms = 60 * 1000;
  cx_rules_config_default(&config->rules);
}

cx_processor_t *cx_processor_new(const cx_processor_config_t *config) {
  cx_processor_t *processor = calloc(1, sizeof(*processor));
  if (!processor)
    return NULL;
  processor->config = *config;
  cx_watermark_init(&processor->watermark, config->lateness_ms);
  processor->state = cx_state_new();
  if (!processor->state) {
    free(processor);
    return NULL;
  }
  int64_t window = cx_rules_max_window_ms(&config->rules);
  int64_t cooldown = cx_rules_max_cooldown_ms(&config->rules);
  processor->retain_ms = window + processor->watermark.lateness_ms;
  processor->evict_idle_ms = (window > cooldown ? window : cooldown) +
                             processor->watermark.lateness_ms;
  processor->last_sweep_watermark = CX_WATERMARK_NONE;
  return processor;
}

void cx_processor_destroy(cx_processor_t *processor) {
  if (!processor)
    return;
  cx_state_destroy(processor->state);
  free(processor);
}

static void maybe_evict(cx_processor_t *processor) {
  int64_t watermark = cx_watermark_current(&processor->watermark);
  if (watermark == CX_WATERMARK_NONE)
    return;
  if (processor->last_sweep_watermark == CX_WATERMARK_NONE) {
    processor->last_sweep_watermark = watermark;
    return;
  }
  /* Sweeping is O(customers); do it each time the watermark has moved by a
   * sixteenth of the idle horizon, so its cost per event stays constant. */
  int64_t step = processor->evict_idle_ms / 16 + 1;
  if (watermark - processor->last_sweep_watermark < step)
    return;
  processor->last_sweep_watermark = watermark;
  processor->stats.evicted_customers +=
      cx_state_evict_idle(processor->state, watermark - processor->evict_idle_ms);
}

cx_process_result_t cx_processor_process(cx_processor_t *processor, const cx_event_t *event,
                                         cx_alert_cb_t *emit, void *opaque) {
  int64_t t = event->occurred_at_ms;
  if (cx_watermark_observe(&processor->watermark, t)) {
    processor->stats.late_events++;
    return CX_PROCESS_LATE;
  }
  uint64_t hash = cx_state_hash(event->customer_id);
  cx_customer_t *customer = cx_state_upsert(processor->state, event->customer_id, hash);
  if (!customer)
    return CX_PROCESS_NOMEM;

  cx_detect_input_t input = {event, customer, -1};
  if (event->type == CX_EVENT_CONTACT) {
    uint8_t flags = 0;
    if (cx_channel_is_assisted(event->channel))
      flags |= CX_CONTACT_ASSISTED;
    if (event->outcome == CX_OUTCOME_ABANDONED)
      flags |= CX_CONTACT_ABANDONED;
    int64_t wait = event->has_wait_ms && event->wait_ms > 0 ? event->wait_ms : 0;
    int64_t newest = customer->last_event_ms > t ? customer->last_event_ms : t;
    input.contact_index = cx_customer_add_contact(customer, t, wait, flags, event->event_id,
                                                  newest - processor->retain_ms);
    if (input.contact_index < 0)
      return CX_PROCESS_NOMEM;
  }
  if (t > customer->last_event_ms)
    customer->last_event_ms = t;
  processor->stats.events++;

  const cx_rules_config_t *rules = &processor->config.rules;
  for (int r = 0; r < CX_RULE__COUNT; r++) {
    const cx_detector_t *detector = &cx_detectors[r];
    if (!cx_rule_enabled(rules, detector->rule) || t < customer->quiet_until_ms[detector->rule])
      continue;
    cx_alert_t alert;
    alert.reason_count = 0;
    alert.evidence_count = 0;
    if (!detector->evaluate(rules, &input, &alert))
      continue;
    int64_t cooldown = cx_rule_cooldown_ms(rules, detector->rule);
    customer->quiet_until_ms[detector->rule] = t > INT64_MAX - cooldown ? INT64_MAX : t + cooldown;
    alert.rule = detector->name;
    alert.kind = detector->kind;
    alert.customer_id = event->customer_id;
    alert.trigger_event_id = event->event_id;
    alert.event_time_ms = t;
    cx_alert_make_id(alert.customer_id, alert.rule, alert.trigger_event_id, alert.alert_id);
    processor->stats.alerts[detector->rule]++;
    emit(&alert, opaque);
  }
  maybe_evict(processor);
  return CX_PROCESS_OK;
}

const cx_processor_stats_t *cx_processor_stats(const cx_processor_t *processor) {
  return &processor->stats;
}

int64_t cx_processor_watermark(const cx_processor_t *processor) {
  return cx_watermark_current(&processor->watermark);
}

size_t cx_processor_customer_count(const cx_processor_t *processor) {
  return cx_state_customer_count(processor->state);
}

size_t cx_processor_state_bytes(const cx_processor_t *processor) {
  return cx_state_bytes(processor->state);
}
