/* The detectors: each rule is a cx_detector_t that looks at one event and the
 * customer's state and says whether it fires, with reasons, evidence and the
 * window. The processor applies cooldowns and emits; detectors never keep
 * state of their own. Rule parameters live in one cx_rules_config_t whose
 * fields map one to one to the rules.<rule>.<param> config keys. */
#ifndef CX_RULES_H
#define CX_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "alert.h"
#include "event.h"
#include "state.h"

typedef enum {
  CX_RULE_REPEAT_CONTACT,
  CX_RULE_LONG_WAIT,
  CX_RULE_ABANDONMENT,
  CX_RULE__COUNT
} cx_rule_t;

typedef struct cx_rules_config_s {
  struct {
    bool enabled;          /* rules.repeat_contact.enabled */
    int64_t window_ms;     /* rules.repeat_contact.window */
    int64_t cooldown_ms;   /* rules.repeat_contact.cooldown */
    int64_t min_contacts;  /* rules.repeat_contact.min_contacts: assisted contacts in the window */
  } repeat_contact;
  struct {
    bool enabled;          /* rules.long_wait.enabled */
    int64_t window_ms;     /* rules.long_wait.window */
    int64_t cooldown_ms;   /* rules.long_wait.cooldown */
    int64_t single_wait_ms; /* rules.long_wait.single_wait: one wait at least this long */
    int64_t total_wait_ms; /* rules.long_wait.total_wait: summed waits in the window */
  } long_wait;
  struct {
    bool enabled;          /* rules.abandonment.enabled */
    int64_t window_ms;     /* rules.abandonment.window */
    int64_t cooldown_ms;   /* rules.abandonment.cooldown */
    int64_t min_abandoned; /* rules.abandonment.min_abandoned: ABANDONED contacts in the window */
  } abandonment;
} cx_rules_config_t;

/* The defaults of DESIGN.md sections 1 and 6. */
void cx_rules_config_default(cx_rules_config_t *config);

/* What a detector sees of the event being processed. */
typedef struct cx_detect_input_s {
  const cx_event_t *event;        /* the trigger candidate */
  const cx_customer_t *customer;  /* its state, this event already applied */
  long contact_index;             /* its index in customer->contacts, -1 if not a contact */
} cx_detect_input_t;

typedef struct cx_detector_s {
  cx_rule_t rule;           /* index into per-rule arrays */
  const char *name;         /* rule name in alerts and config keys */
  cx_rule_kind_t kind;      /* frustration or churn */
  /* Fills rule, kind, reasons, evidence, window, score and severity of
   * *alert and returns true when the rule fires; cooldowns are not its job. */
  bool (*evaluate)(const cx_rules_config_t *config, const cx_detect_input_t *input,
                   cx_alert_t *alert);
} cx_detector_t;

extern const cx_detector_t cx_detectors[CX_RULE__COUNT];

bool cx_rule_enabled(const cx_rules_config_t *config, cx_rule_t rule);
int64_t cx_rule_cooldown_ms(const cx_rules_config_t *config, cx_rule_t rule);
/* Largest window and largest cooldown over the enabled rules. */
int64_t cx_rules_max_window_ms(const cx_rules_config_t *config);
int64_t cx_rules_max_cooldown_ms(const cx_rules_config_t *config);

#endif
