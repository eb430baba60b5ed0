/* repeat_contact, long_wait, abandonment (DESIGN.md section 6): each counts
 * the customer's CONTACT events in the sliding window (t - W, t] ending at
 * the trigger; reasons carry the measure and its ratio to the threshold. */
#include "detect_contact.h"

#include <stddef.h>

#include "state.h"
#include "window.h"

static cx_window_range_t log_window(const cx_customer_t *customer, int64_t end_ms,
                                    int64_t width_ms) {
  return cx_window_sliding(cx_customer_interactions(customer),
                           cx_customer_interaction_count(customer), sizeof(cx_interaction_t),
                           offsetof(cx_interaction_t, at_ms), end_ms, width_ms);
}

/* Evidence: ids of the CONTACTs in range that have all of flags (and waited,
 * when asked), the latest CX_ALERT_MAX_EVIDENCE of them, oldest first.
 * Returns how many matched. */
static int64_t collect(const cx_customer_t *customer, cx_window_range_t range, uint8_t flags,
                       bool waited, cx_alert_t *alert) {
  int64_t matched = 0;
  alert->evidence_count = 0;
  for (size_t i = range.end; i > range.begin; i--) {
    const cx_interaction_t *entry = &cx_customer_interactions(customer)[i - 1];
    if (entry->type != CX_EVENT_CONTACT || (entry->flags & flags) != flags ||
        (waited && cx_interaction_wait_ms(customer, entry) <= 0))
      continue;
    matched++;
    if (alert->evidence_count < CX_ALERT_MAX_EVIDENCE)
      alert->evidence[alert->evidence_count++] = cx_interaction_id(customer, entry);
  }
  for (size_t i = 0, j = alert->evidence_count; i + 1 < j; i++, j--) {
    cx_str_t swap = alert->evidence[i];
    alert->evidence[i] = alert->evidence[j - 1];
    alert->evidence[j - 1] = swap;
  }
  return matched;
}

static bool is_contact(const cx_detect_input_t *input) {
  return input->event->type == CX_EVENT_CONTACT && input->interaction_index >= 0;
}

CX_DETECTOR_EVALUATE(repeat_contact) {
  (void)timers;
  if (!is_contact(input) || !cx_channel_is_assisted(input->event->channel))
    return false;
  int64_t t = input->event->occurred_at_ms, width = config->repeat_contact.window_ms;
  cx_window_range_t range = log_window(input->customer, t, width);
  int64_t count = collect(input->customer, range, CX_INTERACTION_ASSISTED, false, alert);
  if (count < config->repeat_contact.min_contacts)
    return false;
  cx_alert_add_reason(alert, "assisted_contacts", count,
                      (double)count / (double)config->repeat_contact.min_contacts);
  cx_alert_set_window(alert, t, width);
  return true;
}

CX_DETECTOR_EVALUATE(long_wait) {
  (void)timers;
  if (!is_contact(input))
    return false;
  const cx_event_t *event = input->event;
  int64_t t = event->occurred_at_ms, width = config->long_wait.window_ms;
  cx_window_range_t range = log_window(input->customer, t, width);
  int64_t total = 0;
  for (size_t i = range.begin; i < range.end; i++) {
    const cx_interaction_t *entry = &cx_customer_interactions(input->customer)[i];
    if (entry->type != CX_EVENT_CONTACT)
      continue;
    int64_t wait_ms = cx_interaction_wait_ms(input->customer, entry);
    total = wait_ms > INT64_MAX - total ? INT64_MAX : total + wait_ms;
  }
  bool single = event->has_wait_ms && event->wait_ms >= config->long_wait.single_wait_ms;
  bool summed = total >= config->long_wait.total_wait_ms;
  if (!single && !summed)
    return false;
  if (single)
    cx_alert_add_reason(alert, "wait_ms", event->wait_ms,
                        (double)event->wait_ms / (double)config->long_wait.single_wait_ms);
  if (summed)
    cx_alert_add_reason(alert, "total_wait_ms", total,
                        (double)total / (double)config->long_wait.total_wait_ms);
  if (summed) {
    collect(input->customer, range, 0, true, alert); /* the contacts that waited */
  } else {
    alert->evidence_count = 1;
    alert->evidence[0] = event->event_id;
  }
  cx_alert_set_window(alert, t, width);
  return true;
}

CX_DETECTOR_EVALUATE(abandonment) {
  (void)timers;
  if (!is_contact(input) || input->event->outcome != CX_OUTCOME_ABANDONED)
    return false;
  int64_t t = input->event->occurred_at_ms, width = config->abandonment.window_ms;
  cx_window_range_t range = log_window(input->customer, t, width);
  int64_t count = collect(input->customer, range, CX_INTERACTION_ABANDONED, false, alert);
  if (count < config->abandonment.min_abandoned)
    return false;
  cx_alert_add_reason(alert, "abandoned_contacts", count,
                      (double)count / (double)config->abandonment.min_abandoned);
  cx_alert_set_window(alert, t, width);
  return true;
}
