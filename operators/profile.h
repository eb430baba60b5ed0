/* The enriched customer profile: built from a customer's state, emitted on
 * material change at most once per profiles.interval of event time, only for
 * customers who allow profiling (see README "Profiles").
 *
 * The per-customer state is small and fixed (cx_profile_state_t): when the
 * last profile went out, what it said about scores and bands, a digest of the
 * rest, and the latest sentiment, CSAT and NPS (which no log keeps).
 * Everything else is derived from the customer's state when a profile is
 * due, never per event: counts from the interaction log, reasons from the
 * score contributions, open alerts from the cooldowns. The cheap checks come
 * first: consent, then the interval. */
#ifndef CX_PROFILE_H
#define CX_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "event.h"
#include "rules.h"

struct cx_customer_s;

typedef struct cx_profile_config_s {
  bool enabled;              /* profiles.enabled */
  int64_t interval_ms;       /* profiles.interval: at most one profile per customer per this */
  double min_score_change;   /* profiles.min_score_change: a material score change */
  bool consent_default;      /* profiles.consent.default: granted (true) or denied when unknown */
  const char *pseudonymize_key; /* profiles.pseudonymize.key: HMAC key, ""/NULL = off; borrowed */
} cx_profile_config_t;

void cx_profile_config_default(cx_profile_config_t *config);

/* Per-customer state of the profile operator: 56 bytes, no heap. All zero
 * means "nothing emitted, no feedback seen" (records start zeroed). */
typedef struct cx_profile_state_s {
  int64_t emitted_at_ms;     /* updated_at of the last profile (with CX_PROFILE_EMITTED) */
  uint64_t digest;           /* XXH3-64 of the last profile's non-score content */
  int64_t sentiment_at_ms;   /* event time of the latest sentiment */
  int64_t csat_at_ms;        /* event time of the latest CSAT */
  int64_t nps_at_ms;         /* event time of the latest NPS */
  float frustration_score;   /* as in the last profile, unrounded */
  float churn_score;         /* as in the last profile, unrounded */
  float sentiment;           /* latest sentiment, -1..1 */
  int8_t csat;               /* latest CSAT, 1..5 */
  int8_t nps;                /* latest NPS, 0..10 */
  uint8_t bands;             /* last profile's bands: frustration | churn << 2 */
  uint8_t flags;             /* CX_PROFILE_* */
} cx_profile_state_t;

enum {
  CX_PROFILE_EMITTED = 1 << 0,      /* a profile is on the topic (not deleted since) */
  CX_PROFILE_HAS_SENTIMENT = 1 << 1, /* sentiment, sentiment_at_ms are set */
  CX_PROFILE_HAS_CSAT = 1 << 2,     /* csat, csat_at_ms are set */
  CX_PROFILE_HAS_NPS = 1 << 3,      /* nps, nps_at_ms are set */
};

#define CX_PROFILE_REASONS_PER_KIND 3
#define CX_PROFILE_MAX_REASONS (2 * CX_PROFILE_REASONS_PER_KIND)
#define CX_PROFILE_PSEUDONYM_LEN 32

/* One active reason: a rule's decayed contribution to its kind's score. */
typedef struct cx_profile_reason_s {
  const char *code;          /* rule name, e.g. "repeat_contact" */
  cx_rule_kind_t kind;       /* the score it adds to */
  int64_t value;             /* its points, rounded */
  double weight;             /* its share of the kind's contributions, 0..1 */
} cx_profile_reason_t;

/* Contacts on one channel. */
typedef struct cx_profile_channel_s {
  const char *channel;       /* channel name, e.g. "PHONE" */
  int32_t contacts_7d;       /* CONTACT events in (as_of - 7d, as_of] */
  int32_t contacts_30d;      /* CONTACT events in (as_of - 30d, as_of] */
} cx_profile_channel_t;

/* A profile as emitted (strings borrowed: valid during the callback; when
 * pseudonymised, customer_id points into the struct's own pseudonym, so do
 * not copy the struct and keep customer_id). Windows end at updated_at_ms. */
typedef struct cx_profile_s {
  bool deleted;              /* a tombstone (consent withdrawn): only customer_id, updated_at_ms */
  cx_str_t customer_id;      /* the customer, or its pseudonym */
  int64_t updated_at_ms;     /* as-of time: the customer's latest event time, or the timer's */
  int64_t first_seen_ms;     /* event time of the first event kept in state */
  int64_t events_total;      /* events applied since first_seen */
  int frustration_score;     /* 0..100, rounded */
  cx_severity_t frustration_band; /* its band */
  int churn_score;           /* 0..100, rounded */
  cx_severity_t churn_band;  /* its band */
  size_t reason_count;       /* reasons used */
  cx_profile_reason_t reasons[CX_PROFILE_MAX_REASONS]; /* frustration first, largest first */
  int32_t contacts_24h;      /* CONTACT events in the last 24 h */
  int32_t abandoned_24h;     /* of those, outcome ABANDONED */
  int64_t wait_ms_24h;       /* their summed wait_ms */
  size_t channels_48h_count; /* entries in channels_48h */
  const char *channels_48h[CX_CHANNEL__COUNT]; /* CONTACT/SELF_SERVICE channels in 48 h */
  int32_t contacts_7d;       /* CONTACT events in the last 7 days */
  int32_t contacts_30d;      /* CONTACT events in the last 30 days */
  size_t channel_count;      /* entries in channels */
  cx_profile_channel_t channels[CX_CHANNEL__COUNT]; /* channels with a contact in 30 days */
  const char *preferred_channel;   /* cx_customer_preferred_channel, or NULL */
  int64_t last_contact_ms;   /* latest CONTACT in the last 30 days (with last_contact_channel) */
  const char *last_contact_channel; /* its channel, or NULL when there is none */
  int32_t open_cases;        /* cases open at updated_at in the case detector's slots */
  int32_t repeat_contacts_7d; /* assisted CONTACTs in 7 days < 24 h after the previous one */
  bool has_avg_wait;         /* avg_wait_ms_30d is set (a contact in 30 days) */
  int64_t avg_wait_ms_30d;   /* mean wait_ms of CONTACTs in 30 days (unknown = 0), rounded down */
  bool has_sentiment;        /* sentiment, sentiment_at_ms are set */
  float sentiment;           /* latest sentiment */
  int64_t sentiment_at_ms;   /* its event time */
  bool has_csat;             /* csat, csat_at_ms are set */
  int32_t csat;              /* latest CSAT */
  int64_t csat_at_ms;        /* its event time */
  bool has_nps;              /* nps, nps_at_ms are set */
  int32_t nps;               /* latest NPS */
  int64_t nps_at_ms;         /* its event time */
  size_t open_alert_count;   /* entries in open_alerts */
  const char *open_alerts[CX_RULE__COUNT]; /* rules whose cooldown runs at updated_at, rule order */
  bool consent_granted;      /* true: a CONSENT granted it; false: unknown, profiled by default */
  char pseudonym[CX_PROFILE_PSEUDONYM_LEN + 1]; /* storage of a pseudonymised customer_id */
} cx_profile_t;

typedef void (cx_profile_cb_t)(const cx_profile_t *profile, void *opaque);

/* Takes the latest sentiment, CSAT and NPS of an applied event (the latest by
 * event time; equal times: the later one). The processor calls it for every
 * event it applies, before cx_profile_update. */
void cx_profile_observe(cx_profile_state_t *state, const cx_event_t *event);

/* Called after each event and due timer of a customer (t: its event time;
 * alerted: an alert went out for the customer just now): decides whether a
 * profile is due and, if so, fills *out and returns 1 (0: none is due; -1:
 * out of memory for the customer's profile state, nothing emitted). A
 * customer whose profile is on the topic and who no longer allows profiling
 * gets one tombstone (out->deleted). */
int cx_profile_update(const cx_profile_config_t *config, const cx_scores_config_t *scores,
                      struct cx_customer_s *customer, int64_t t, bool alerted,
                      cx_profile_t *out);

/* The pseudonym of a customer id: the first 16 bytes of
 * HMAC-SHA256(key, customer_id) as 32 lower-case hex digits. Returns -1 when
 * libcrypto fails. */
int cx_profile_pseudonym(const char *key, cx_str_t customer_id,
                         char out[CX_PROFILE_PSEUDONYM_LEN + 1]);

#endif
