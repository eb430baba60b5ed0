/* channel_hopping, transfer_loop, self_service_fallout (docs/rules.md): each
 * scans the customer's interaction log, sorted by time, up to the trigger at
 * input->interaction_index. Case and topic filters compare the hashes kept
 * in the log, so nothing is hashed here. Entries after the trigger (later
 * times that arrived first) are never looked at. */
#include "detect_journey.h"

#include <stddef.h>

#include "state.h"
#include "window.h"

_Static_assert(CX_CHANNEL__COUNT <= 32, "channel sets are 32-bit masks");
_Static_assert(CX_CHANNEL__COUNT <= CX_ALERT_MAX_EVIDENCE, "one evidence id per channel");

static cx_window_range_t log_window(const cx_customer_t *customer, int64_t end_ms,
                                    int64_t width_ms) {
  return cx_window_sliding(cx_customer_interactions(customer),
                           cx_customer_interaction_count(customer), sizeof(cx_interaction_t),
                           offsetof(cx_interaction_t, at_ms), end_ms, width_ms);
}

/* Evidence is collected newest first (scanning backwards); alerts want it
 * oldest first. */
static void reverse_evidence(cx_alert_t *alert) {
  for (size_t i = 0, j = alert->evidence_count; i + 1 < j; i++, j--) {
    cx_str_t swap = alert->evidence[i];
    alert->evidence[i] = alert->evidence[j - 1];
    alert->evidence[j - 1] = swap;
  }
}

static const cx_interaction_t *trigger_entry(const cx_detect_input_t *input) {
  if (input->interaction_index < 0 ||
      (size_t)input->interaction_index >= cx_customer_interaction_count(input->customer))
    return NULL;
  return &cx_customer_interactions(input->customer)[input->interaction_index];
}

static int64_t saturating_add(int64_t a, int64_t b) {
  if (b > 0 && a > INT64_MAX - b)
    return INT64_MAX;
  return a + b;
}

/* channel_hopping: does entry concern the same issue as the trigger? Same
 * case when both have one; otherwise same topic when the trigger has one (an
 * entry without a case may be the same issue before its case was opened);
 * a trigger with neither matches everything. */
static bool same_issue(const cx_interaction_t *trigger, const cx_interaction_t *entry) {
  if (trigger->case_hash && entry->case_hash)
    return entry->case_hash == trigger->case_hash;
  if (trigger->topic_hash)
    return entry->topic_hash == trigger->topic_hash;
  return !trigger->case_hash; /* a case but no topic: only that case */
}

/* channel_hopping looks at CONTACTs and SELF_SERVICE attempts; a
 * SELF_SERVICE routed to an agent (outcome TRANSFERRED: the IVR in front of
 * a call) is part of the contact that follows, not a channel of its own. */
static bool is_channel_use(const cx_interaction_t *entry) {
  return entry->type == CX_EVENT_CONTACT ||
         (entry->type == CX_EVENT_SELF_SERVICE && entry->outcome != CX_OUTCOME_TRANSFERRED);
}

CX_DETECTOR_EVALUATE(channel_hopping) {
  (void)timers;
  const cx_interaction_t *trigger = trigger_entry(input);
  if (!trigger || !is_channel_use(trigger))
    return false;
  const cx_customer_t *customer = input->customer;
  int64_t t = input->event->occurred_at_ms, width = config->channel_hopping.window_ms;
  cx_window_range_t range = log_window(customer, t, width);
  uint32_t seen = 0;
  int64_t channels = 0;
  alert->evidence_count = 0;
  for (size_t i = range.end; i > range.begin; i--) {
    const cx_interaction_t *entry = &cx_customer_interactions(customer)[i - 1];
    if (!is_channel_use(entry) || entry->channel >= CX_CHANNEL__COUNT ||
        (seen >> entry->channel & 1u) || !same_issue(trigger, entry))
      continue;
    seen |= 1u << entry->channel;
    channels++;
    /* the latest entry on that channel */
    alert->evidence[alert->evidence_count++] = cx_interaction_id(customer, entry);
  }
  if (channels < config->channel_hopping.min_channels)
    return false;
  reverse_evidence(alert);
  cx_alert_add_reason(alert, "distinct_channels", channels,
                      (double)channels / (double)config->channel_hopping.min_channels);
  cx_alert_set_window(alert, t, width);
  return true;
}

/* A hand-off is recorded either as a TRANSFER event (the new leg) or as the
 * outcome TRANSFERRED of the leg that was handed off; producers may write
 * both for one hand-off, so the two are counted apart and the larger count
 * is the number of transfers. */
static bool is_transfer_leg(const cx_interaction_t *entry) {
  return entry->type == CX_EVENT_TRANSFER;
}

static bool was_transferred(const cx_interaction_t *entry) {
  return (entry->type == CX_EVENT_CONTACT || entry->type == CX_EVENT_TRANSFER) &&
         entry->outcome == CX_OUTCOME_TRANSFERRED;
}

/* Index of the first entry of the contact episode that ends with entry
 * last: an episode breaks before an entry that starts session_gap or more
 * after every earlier entry ended (at_ms + wait_ms + handle_ms). Breaks
 * depend on all earlier entries, so this walks the log from its start; logs
 * are short and transfers rare. */
static size_t episode_start(const cx_customer_t *customer, size_t last, int64_t gap_ms) {
  size_t start = 0;
  int64_t ended = INT64_MIN;
  for (size_t i = 0; i <= last; i++) {
    const cx_interaction_t *entry = &cx_customer_interactions(customer)[i];
    if (i > 0 && entry->at_ms >= saturating_add(ended, gap_ms))
      start = i;
    int64_t end = saturating_add(entry->at_ms, cx_interaction_wait_ms(customer, entry));
    end = saturating_add(end, cx_interaction_handle_ms(customer, entry));
    if (end > ended)
      ended = end;
  }
  return start;
}

CX_DETECTOR_EVALUATE(transfer_loop) {
  (void)timers;
  const cx_interaction_t *trigger = trigger_entry(input);
  if (!trigger || (!is_transfer_leg(trigger) && !was_transferred(trigger)))
    return false;
  const cx_customer_t *customer = input->customer;
  size_t last = (size_t)input->interaction_index, first;
  int64_t t = trigger->at_ms, width;
  if (trigger->case_hash) {
    width = config->transfer_loop.window_ms;
    first = log_window(customer, t, width).begin;
  } else {
    first = episode_start(customer, last, config->transfer_loop.session_gap_ms);
    /* (start - 1, t] holds the episode */
    width = t - cx_customer_interactions(customer)[first].at_ms + 1;
  }
  int64_t legs = 0, transferred = 0;
  alert->evidence_count = 0;
  for (size_t i = last + 1; i > first; i--) {
    const cx_interaction_t *entry = &cx_customer_interactions(customer)[i - 1];
    bool leg = is_transfer_leg(entry), handed_off = was_transferred(entry);
    if ((!leg && !handed_off) || (trigger->case_hash && entry->case_hash != trigger->case_hash))
      continue;
    legs += leg;
    transferred += handed_off;
    if (alert->evidence_count < CX_ALERT_MAX_EVIDENCE)
      alert->evidence[alert->evidence_count++] = cx_interaction_id(customer, entry);
  }
  int64_t transfers = legs > transferred ? legs : transferred;
  if (transfers < config->transfer_loop.min_transfers)
    return false;
  reverse_evidence(alert);
  cx_alert_add_reason(alert, "transfers", transfers,
                      (double)transfers / (double)config->transfer_loop.min_transfers);
  cx_alert_set_window(alert, t, width);
  return true;
}

CX_DETECTOR_EVALUATE(self_service_fallout) {
  (void)timers;
  const cx_interaction_t *trigger = trigger_entry(input);
  if (!trigger || trigger->type != CX_EVENT_CONTACT || !(trigger->flags & CX_INTERACTION_ASSISTED))
    return false;
  const cx_customer_t *customer = input->customer;
  int64_t t = trigger->at_ms, width = config->self_service_fallout.window_ms;
  cx_window_range_t range = log_window(customer, t, width);
  int64_t failed = 0;
  alert->evidence_count = 0;
  for (size_t i = range.end; i > range.begin; i--) {
    const cx_interaction_t *entry = &cx_customer_interactions(customer)[i - 1];
    if (entry->type != CX_EVENT_SELF_SERVICE ||
        (entry->outcome != CX_OUTCOME_FAILED && entry->outcome != CX_OUTCOME_ABANDONED))
      continue;
    failed++;
    if (alert->evidence_count < CX_ALERT_MAX_EVIDENCE - 1) /* the last slot is the contact's */
      alert->evidence[alert->evidence_count++] = cx_interaction_id(customer, entry);
  }
  if (failed == 0)
    return false;
  reverse_evidence(alert);
  alert->evidence[alert->evidence_count++] = input->event->event_id;
  cx_alert_add_reason(alert, "failed_self_service", failed, (double)failed);
  cx_alert_set_window(alert, t, width);
  return true;
}
