/* The three exact rules of DESIGN.md section 6 as detectors. Each counts the
 * customer's CONTACT events in the sliding window (t - W, t] ending at the
 * trigger and grades the alert by how far the measure is past its threshold:
 * ratio r = value / threshold, score = min(100, round(50 r)), severity
 * medium (r < 1.5), high (r < 2) or critical; reason weights are r_i / sum r. */
#include "rules.h"

#include <stddef.h>

#include "window.h"

#define HOUR_MS (3600LL * 1000)
#define MINUTE_MS (60LL * 1000)

void cx_rules_config_default(cx_rules_config_t *config) {
  config->repeat_contact.enabled = true;
  config->repeat_contact.window_ms = 24 * HOUR_MS;
  config->repeat_contact.cooldown_ms = 24 * HOUR_MS;
  config->repeat_contact.min_contacts = 3;
  config->long_wait.enabled = true;
  config->long_wait.window_ms = 24 * HOUR_MS;
  config->long_wait.cooldown_ms = 24 * HOUR_MS;
  config->long_wait.single_wait_ms = 10 * MINUTE_MS;
  config->long_wait.total_wait_ms = 30 * MINUTE_MS;
  config->abandonment.enabled = true;
  config->abandonment.window_ms = 24 * HOUR_MS;
  config->abandonment.cooldown_ms = 24 * HOUR_MS;
  config->abandonment.min_abandoned = 2;
}

static cx_window_range_t contact_window(const cx_customer_t *customer, int64_t end_ms,
                                        int64_t width_ms) {
  return cx_window_sliding(customer->contacts, customer->contact_count, sizeof(cx_contact_t),
                           offsetof(cx_contact_t, at_ms), end_ms, width_ms);
}

/* Evidence: ids of the contacts in range that have all of flags (and waited,
 * when asked), the latest CX_ALERT_MAX_EVIDENCE of them, oldest first.
 * Returns how many matched. */
static int64_t collect(const cx_customer_t *customer, cx_window_range_t range, uint8_t flags,
                       bool waited, cx_alert_t *alert) {
  int64_t matched = 0;
  alert->evidence_count = 0;
  for (size_t i = range.end; i > range.begin; i--) {
    const cx_contact_t *contact = &customer->contacts[i - 1];
    if ((contact->flags & flags) != flags || (waited && contact->wait_ms <= 0))
      continue;
    matched++;
    if (alert->evidence_count < CX_ALERT_MAX_EVIDENCE)
      alert->evidence[alert->evidence_count++] = cx_contact_id(contact);
  }
  for (size_t i = 0, j = alert->evidence_count; i + 1 < j; i++, j--) {
    cx_str_t swap = alert->evidence[i];
    alert->evidence[i] = alert->evidence[j - 1];
    alert->evidence[j - 1] = swap;
  }
  return matched;
}

static void add_reason(cx_alert_t *alert, const char *code, int64_t value, double ratio) {
  cx_reason_t *reason = &alert->reasons[alert->reason_count++];
  reason->code = code;
  reason->value = value;
  reason->weight = ratio; /* turned into a share by grade() */
}

static void grade(cx_alert_t *alert) {
  double sum = 0, max = 0;
  for (size_t i = 0; i < alert->reason_count; i++) {
    double ratio = alert->reasons[i].weight;
    sum += ratio;
    if (ratio > max)
      max = ratio;
  }
  for (size_t i = 0; i < alert->reason_count; i++)
    alert->reasons[i].weight = sum > 0 ? alert->reasons[i].weight / sum : 0;
  double score = 50.0 * max + 0.5;
  alert->score = score >= 100 ? 100 : (int)score;
  alert->severity = max >= 2.0   ? CX_SEVERITY_CRITICAL
                    : max >= 1.5 ? CX_SEVERITY_HIGH
                                 : CX_SEVERITY_MEDIUM;
}

static void set_window(cx_alert_t *alert, int64_t end_ms, int64_t width_ms) {
  alert->window_end_ms = end_ms;
  alert->window_start_ms = cx_window_start(end_ms, width_ms);
}

static bool is_contact(const cx_detect_input_t *input) {
  return input->event->type == CX_EVENT_CONTACT && input->contact_index >= 0;
}

static bool repeat_contact(const cx_rules_config_t *config, const cx_detect_input_t *input,
                           cx_alert_t *alert) {
  if (!is_contact(input) || !cx_channel_is_assisted(input->event->channel))
    return false;
  int64_t t = input->event->occurred_at_ms, width = config->repeat_contact.window_ms;
  cx_window_range_t range = contact_window(input->customer, t, width);
  int64_t count = collect(input->customer, range, CX_CONTACT_ASSISTED, false, alert);
  if (count < config->repeat_contact.min_contacts)
    return false;
  add_reason(alert, "assisted_contacts", count,
             (double)count / (double)config->repeat_contact.min_contacts);
  set_window(alert, t, width);
  grade(alert);
  return true;
}

static bool long_wait(const cx_rules_config_t *config, const cx_detect_input_t *input,
                      cx_alert_t *alert) {
  if (!is_contact(input))
    return false;
  const cx_event_t *event = input->event;
  int64_t t = event->occurred_at_ms, width = config->long_wait.window_ms;
  cx_window_range_t range = contact_window(input->customer, t, width);
  int64_t total = 0;
  for (size_t i = range.begin; i < range.end; i++) {
    int64_t wait = input->customer->contacts[i].wait_ms;
    total = wait > INT64_MAX - total ? INT64_MAX : total + wait;
  }
  bool single = event->has_wait_ms && event->wait_ms >= config->long_wait.single_wait_ms;
  bool summed = total >= config->long_wait.total_wait_ms;
  if (!single && !summed)
    return false;
  if (single)
    add_reason(alert, "wait_ms", event->wait_ms,
               (double)event->wait_ms / (double)config->long_wait.single_wait_ms);
  if (summed)
    add_reason(alert, "total_wait_ms", total,
               (double)total / (double)config->long_wait.total_wait_ms);
  if (summed) {
    collect(input->customer, range, 0, true, alert); /* the contacts that waited */
  } else {
    alert->evidence_count = 1;
    alert->evidence[0] = event->event_id;
  }
  set_window(alert, t, width);
  grade(alert);
  return true;
}

static bool abandonment(const cx_rules_config_t *config, const cx_detect_input_t *input,
                        cx_alert_t *alert) {
  if (!is_contact(input) || input->event->outcome != CX_OUTCOME_ABANDONED)
    return false;
  int64_t t = input->event->occurred_at_ms, width = config->abandonment.window_ms;
  cx_window_range_t range = contact_window(input->customer, t, width);
  int64_t count = collect(input->customer, range, CX_CONTACT_ABANDONED, false, alert);
  if (count < config->abandonment.min_abandoned)
    return false;
  add_reason(alert, "abandoned_contacts", count,
             (double)count / (double)config->abandonment.min_abandoned);
  set_window(alert, t, width);
  grade(alert);
  return true;
}

const cx_detector_t cx_detectors[CX_RULE__COUNT] = {
  {CX_RULE_REPEAT_CONTACT, "repeat_contact", CX_KIND_FRUSTRATION, repeat_contact},
  {CX_RULE_LONG_WAIT, "long_wait", CX_KIND_FRUSTRATION, long_wait},
  {CX_RULE_ABANDONMENT, "abandonment", CX_KIND_FRUSTRATION, abandonment},
};

bool cx_rule_enabled(const cx_rules_config_t *config, cx_rule_t rule) {
  switch (rule) {
  case CX_RULE_REPEAT_CONTACT: return config->repeat_contact.enabled;
  case CX_RULE_LONG_WAIT: return config->long_wait.enabled;
  case CX_RULE_ABANDONMENT: return config->abandonment.enabled;
  default: return false;
  }
}

int64_t cx_rule_cooldown_ms(const cx_rules_config_t *config, cx_rule_t rule) {
  switch (rule) {
  case CX_RULE_REPEAT_CONTACT: return config->repeat_contact.cooldown_ms;
  case CX_RULE_LONG_WAIT: return config->long_wait.cooldown_ms;
  case CX_RULE_ABANDONMENT: return config->abandonment.cooldown_ms;
  default: return 0;
  }
}

static int64_t rule_window_ms(const cx_rules_config_t *config, cx_rule_t rule) {
  switch (rule) {
  case CX_RULE_REPEAT_CONTACT: return config->repeat_contact.window_ms;
  case CX_RULE_LONG_WAIT: return config->long_wait.window_ms;
  case CX_RULE_ABANDONMENT: return config->abandonment.window_ms;
  default: return 0;
  }
}

int64_t cx_rules_max_window_ms(const cx_rules_config_t *config) {
  int64_t max = 0;
  for (int r = 0; r < CX_RULE__COUNT; r++)
    if (cx_rule_enabled(config, (cx_rule_t)r) && rule_window_ms(config, (cx_rule_t)r) > max)
      max = rule_window_ms(config, (cx_rule_t)r);
  return max;
}

int64_t cx_rules_max_cooldown_ms(const cx_rules_config_t *config) {
  int64_t max = 0;
  for (int r = 0; r < CX_RULE__COUNT; r++)
    if (cx_rule_enabled(config, (cx_rule_t)r) && cx_rule_cooldown_ms(config, (cx_rule_t)r) > max)
      max = cx_rule_cooldown_ms(config, (cx_rule_t)r);
  return max;
}
