/* The rule catalog (see rules.h): defaults, the detector table, and the
 * helpers detectors share. The detectors themselves live in detect_*.c. */
#include "rules.h"

#include <string.h>

#include "detect_case.h"
#include "detect_contact.h"
#include "detect_digital.h"
#include "detect_journey.h"
#include "detect_signals.h"
#include "window.h"

#define MINUTE_MS (60LL * 1000)
#define HOUR_MS (60 * MINUTE_MS)
#define DAY_MS (24 * HOUR_MS)

static const struct {
  cx_rule_kind_t kind;
  const char *name;
} rule_info[CX_RULE__COUNT] = {
#define CX__X(id, name, kind) {CX_KIND_##kind, #name},
  CX_RULE_MAP(CX__X)
#undef CX__X
};

void cx_rules_config_default(cx_rules_config_t *config) {
  /* weight: score points of one hit, before decay (scores cap at 100). */
  static const double weights[CX_RULE__COUNT] = {
    [CX_RULE_REPEAT_CONTACT] = 25, [CX_RULE_LONG_WAIT] = 20, [CX_RULE_ABANDONMENT] = 20,
    [CX_RULE_CHANNEL_HOPPING] = 20, [CX_RULE_TRANSFER_LOOP] = 25,
    [CX_RULE_SELF_SERVICE_FALLOUT] = 15, [CX_RULE_DIGITAL_FRICTION] = 10,
    [CX_RULE_NEGATIVE_VOICE] = 25, [CX_RULE_UNRESOLVED_CASE] = 25, [CX_RULE_BROKEN_PROMISE] = 30,
    [CX_RULE_CANCELLATION_INTENT] = 40, [CX_RULE_ENGAGEMENT_DROP] = 30, [CX_RULE_ESCALATION] = 35,
    [CX_RULE_PAYMENT_FRICTION] = 25, [CX_RULE_FRUSTRATION_THEN_INTENT] = 50,
  };
  memset(config, 0, sizeof(*config));
  for (int r = 0; r < CX_RULE__COUNT; r++) {
    config->common[r].enabled = true;
    config->common[r].cooldown_ms = 24 * HOUR_MS;
    config->common[r].weight = weights[r];
    /* The exact rules of DESIGN.md section 6 keep a plain cooldown. */
    config->common[r].realert_on_higher_band = r > CX_RULE_ABANDONMENT;
  }
  config->common[CX_RULE_ENGAGEMENT_DROP].cooldown_ms = 7 * DAY_MS;
  config->common[CX_RULE_FRUSTRATION_THEN_INTENT].cooldown_ms = 7 * DAY_MS;
  config->repeat_contact.window_ms = 24 * HOUR_MS;
  config->repeat_contact.min_contacts = 3;
  config->long_wait.window_ms = 24 * HOUR_MS;
  config->long_wait.single_wait_ms = 10 * MINUTE_MS;
  config->long_wait.total_wait_ms = 30 * MINUTE_MS;
  config->abandonment.window_ms = 24 * HOUR_MS;
  config->abandonment.min_abandoned = 2;
  config->channel_hopping.window_ms = 48 * HOUR_MS;
  config->channel_hopping.min_channels = 3;
  config->transfer_loop.window_ms = 7 * DAY_MS;
  config->transfer_loop.session_gap_ms = 30 * MINUTE_MS;
  config->transfer_loop.min_transfers = 3;
  config->self_service_fallout.window_ms = HOUR_MS;
  config->digital_friction.session_gap_ms = 30 * MINUTE_MS;
  config->digital_friction.min_failures = 3;
  config->digital_friction.rage_clicks = 3;
  config->digital_friction.rage_window_ms = 1000;
  config->negative_voice.max_sentiment = -0.5;
  config->negative_voice.max_csat = 2;
  config->negative_voice.max_nps = 6;
  config->unresolved_case.sla_ms = 72 * HOUR_MS;
  config->payment_friction.window_ms = 30 * DAY_MS;
  config->payment_friction.min_failures = 1;
  config->engagement_drop.recent_ms = 7 * DAY_MS;
  config->engagement_drop.baseline_ms = 28 * DAY_MS;
  config->engagement_drop.max_ratio = 0.25;
  config->engagement_drop.min_baseline_per_day = 1.0;
  config->frustration_then_intent.window_ms = 7 * DAY_MS;
}

void cx_scores_config_default(cx_scores_config_t *config) {
  static const char *const actions[2][4] = {
    {"monitor", "proactive_follow_up", "priority_callback", "priority_callback_by_senior_agent"},
    {"monitor", "retention_outreach", "retention_offer", "retention_offer_by_retention_team"},
  };
  memset(config, 0, sizeof(*config));
  config->half_life_ms = 3 * DAY_MS;
  config->band_medium = 25;
  config->band_high = 50;
  config->band_critical = 75;
  for (int kind = 0; kind < 2; kind++)
    for (int band = 0; band < 4; band++)
      strcpy(config->actions[kind][band], actions[kind][band]);
}

const cx_detector_t cx_detectors[CX_RULE__COUNT] = {
#define CX__X(id, name, kind) \
  {CX_RULE_##id, #name, CX_KIND_##kind, cx_detect_##name##_signals,       \
   cx_detect_##name##_channels, cx_detect_##name##_evaluate,                 \
   cx_detect_##name##_on_timer, cx_detect_##name##_rearm},
  CX_RULE_MAP(CX__X)
#undef CX__X
};

static bool str_is(cx_str_t s, const char *literal, size_t length) {
  return s.ptr && s.len == length && memcmp(s.ptr, literal, length) == 0;
}

void cx_detect_input_init(cx_detect_input_t *input, const cx_event_t *event,
                          struct cx_customer_s *customer, int64_t watermark_ms) {
  input->event = event;
  input->customer = customer;
  input->interaction_index = -1;
  input->watermark_ms = watermark_ms;
  input->nomem = false;
  input->session = (cx_str_t){NULL, 0};
  input->element = (cx_str_t){NULL, 0};
  uint32_t signals = 0;
  if ((unsigned)event->type < CX_EVENT_TYPE__COUNT)
    signals |= CX_SIGNAL_TYPE(event->type);
  if (event->has_sentiment || event->has_csat || event->has_nps)
    signals |= CX_SIGNAL_VOICE;
  if (event->outcome == CX_OUTCOME_ESCALATED)
    signals |= CX_SIGNAL_ESCALATED;
  if (str_is(event->topic, "billing_dispute", 15))
    signals |= CX_SIGNAL_BILLING_DISPUTE;
  size_t shown = event->attribute_count < CX_EVENT_MAX_ATTRIBUTES ? event->attribute_count
                                                                  : CX_EVENT_MAX_ATTRIBUTES;
  for (size_t i = 0; i < shown; i++) {
    cx_str_t key = event->attribute_keys[i], value = event->attribute_values[i];
    if (!key.ptr)
      continue;
    bool filled = value.ptr && value.len;
    switch (key.len) {
    case 6:
      if (!memcmp(key.ptr, "intent", 6) &&
          (str_is(value, "cancel", 6) || str_is(value, "port_out", 8)))
        signals |= CX_SIGNAL_INTENT;
      break;
    case 7:
      if (!memcmp(key.ptr, "session", 7)) {
        if (filled && !input->session.ptr)
          input->session = value;
      } else if (!memcmp(key.ptr, "element", 7)) {
        if (filled && !input->element.ptr)
          input->element = value;
      } else if (!memcmp(key.ptr, "promise", 7)) {
        if (str_is(value, "broken", 6) || str_is(value, "callback_missed", 15))
          signals |= CX_SIGNAL_PROMISE;
      } else if (!memcmp(key.ptr, "dispute", 7)) {
        if (filled)
          signals |= CX_SIGNAL_DISPUTE;
      }
      break;
    case 10:
      if (filled && !memcmp(key.ptr, "competitor", 10))
        signals |= CX_SIGNAL_COMPETITOR;
      break;
    default:
      break;
    }
  }
  input->signals = signals;
}

const char *cx_rule_name(cx_rule_t rule) {
  return (unsigned)rule < CX_RULE__COUNT ? rule_info[rule].name : "?";
}

int cx_rule_by_name(const char *name) {
  for (int r = 0; r < CX_RULE__COUNT; r++)
    if (!strcmp(rule_info[r].name, name))
      return r;
  return -1;
}

int64_t cx_rules_retention_ms(const cx_rules_config_t *config) {
  /* The interaction log serves the windowed rules and the profile's 30 days. */
  int64_t windows[] = {
    config->repeat_contact.window_ms, config->long_wait.window_ms,
    config->abandonment.window_ms, config->channel_hopping.window_ms,
    config->transfer_loop.window_ms, config->self_service_fallout.window_ms,
    30 * DAY_MS,
  };
  int64_t max = 0;
  for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++)
    if (windows[i] > max)
      max = windows[i];
  return max;
}

int64_t cx_rules_idle_horizon_ms(const cx_rules_config_t *config) {
  int64_t max = cx_rules_retention_ms(config);
  int64_t others[] = {
    config->unresolved_case.sla_ms, config->payment_friction.window_ms,
    config->engagement_drop.recent_ms + config->engagement_drop.baseline_ms,
    config->frustration_then_intent.window_ms,
  };
  for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
    if (others[i] > max)
      max = others[i];
  for (int r = 0; r < CX_RULE__COUNT; r++)
    if (config->common[r].cooldown_ms > max)
      max = config->common[r].cooldown_ms;
  return max;
}

void cx_alert_add_reason(cx_alert_t *alert, const char *code, int64_t value, double ratio) {
  if (alert->reason_count >= CX_ALERT_MAX_REASONS)
    return;
  cx_reason_t *reason = &alert->reasons[alert->reason_count++];
  reason->code = code;
  reason->value = value;
  reason->weight = ratio; /* turned into a share by the processor */
}

void cx_alert_set_window(cx_alert_t *alert, int64_t end_ms, int64_t width_ms) {
  alert->window_end_ms = end_ms;
  alert->window_start_ms = cx_window_start(end_ms, width_ms);
}
