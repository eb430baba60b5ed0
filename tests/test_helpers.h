/* Small builders shared by the unit tests: events from plain values. */
#ifndef CX_TEST_HELPERS_H
#define CX_TEST_HELPERS_H

#include "../operators/event.h"

#define H_MS (3600LL * 1000)
#define MIN_MS (60LL * 1000)

static inline cx_event_t test_contact(const char *customer, const char *event_id, int64_t at_ms,
                                      cx_channel_t channel, cx_outcome_t outcome,
                                      int64_t wait_ms) {
  cx_event_t event;
  cx_event_clear(&event);
  event.customer_id = cx_str(customer);
  event.event_id = cx_str(event_id);
  event.occurred_at_ms = at_ms;
  event.channel = channel;
  event.type = CX_EVENT_CONTACT;
  event.outcome = outcome;
  if (wait_ms >= 0) {
    event.has_wait_ms = true;
    event.wait_ms = wait_ms;
  }
  return event;
}

#endif
