/* The profile operator (see profile.h). A profile is due only when consent
 * allows it and the interval since the last one has passed; only then is it
 * built (one pass over the customer's interaction log) and compared with
 * what the last one said: an alert just now, a band change, a score move of
 * profiles.min_score_change or more, or any other content change (a 64-bit
 * digest) makes it material. Everything is event time, so a replay gives the
 * same profiles. */
#include "profile.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <xxhash.h>

#include "scores.h"
#include "state.h"

#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)
#define REPEAT_GAP_MS (24 * HOUR_MS) /* a repeat contact comes less than this after the previous */

void cx_profile_config_default(cx_profile_config_t *config) {
  config->enabled = true;
  config->interval_ms = 3600 * 1000;
  config->min_score_change = 5;
  config->consent_default = false;
  config->pseudonymize_key = NULL;
}

void cx_profile_observe(cx_profile_state_t *state, const cx_event_t *event) {
  int64_t t = event->occurred_at_ms;
  if (event->has_sentiment &&
      (!(state->flags & CX_PROFILE_HAS_SENTIMENT) || t >= state->sentiment_at_ms)) {
    state->sentiment = event->sentiment;
    state->sentiment_at_ms = t;
    state->flags |= CX_PROFILE_HAS_SENTIMENT;
  }
  if (event->has_csat && (!(state->flags & CX_PROFILE_HAS_CSAT) || t >= state->csat_at_ms)) {
    state->csat = (int8_t)event->csat; /* 1..5, checked by the codec */
    state->csat_at_ms = t;
    state->flags |= CX_PROFILE_HAS_CSAT;
  }
  if (event->has_nps && (!(state->flags & CX_PROFILE_HAS_NPS) || t >= state->nps_at_ms)) {
    state->nps = (int8_t)event->nps; /* 0..10, checked by the codec */
    state->nps_at_ms = t;
    state->flags |= CX_PROFILE_HAS_NPS;
  }
}

int cx_profile_pseudonym(const char *key, cx_str_t customer_id,
                         char out[CX_PROFILE_PSEUDONYM_LEN + 1]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  static const unsigned char empty[1] = {0};
  const unsigned char *data = customer_id.ptr ? (const unsigned char *)customer_id.ptr : empty;
  size_t key_len = strlen(key);
  if (key_len > INT32_MAX ||
      !HMAC(EVP_sha256(), key, (int)key_len, data, customer_id.len, mac, &mac_len) ||
      mac_len < CX_PROFILE_PSEUDONYM_LEN / 2)
    return -1;
  for (int i = 0; i < CX_PROFILE_PSEUDONYM_LEN / 2; i++) {
    out[2 * i] = hex[mac[i] >> 4];
    out[2 * i + 1] = hex[mac[i] & 0xf];
  }
  out[CX_PROFILE_PSEUDONYM_LEN] = '\0';
  return 0;
}

static bool consent_allows(const cx_profile_config_t *config, const cx_customer_t *customer) {
  return customer->consent == CX_CONSENT_GRANTED ||
         (customer->consent == CX_CONSENT_UNKNOWN && config->consent_default);
}

/* Sets out->customer_id: the key, or its pseudonym when a key is configured. */
static bool set_customer_id(const cx_profile_config_t *config, const cx_customer_t *customer,
                            cx_profile_t *out) {
  cx_str_t key = cx_customer_key(customer);
  if (!config->pseudonymize_key || !config->pseudonymize_key[0]) {
    out->customer_id = key;
    return true;
  }
  if (cx_profile_pseudonym(config->pseudonymize_key, key, out->pseudonym))
    return false; /* never fall back to the raw id */
  out->customer_id.ptr = out->pseudonym;
  out->customer_id.len = CX_PROFILE_PSEUDONYM_LEN;
  return true;
}

/* Counts from the interaction log, sorted by time: one pass. An entry is in a
 * window of width W when as_of - W < at_ms <= as_of. */
static void derive_from_log(const cx_customer_t *customer, int64_t as_of, cx_profile_t *out) {
  int32_t per_channel_7d[CX_CHANNEL__COUNT] = {0};
  int32_t per_channel_30d[CX_CHANNEL__COUNT] = {0};
  bool channel_48h[CX_CHANNEL__COUNT] = {false};
  int64_t wait_sum_30d = 0;
  int64_t previous_assisted_ms = 0;
  bool has_previous_assisted = false;
  int last_channel = -1;
  for (uint32_t i = 0; i < cx_customer_interaction_count(customer); i++) {
    const cx_interaction_t *entry = &cx_customer_interactions(customer)[i];
    if (entry->at_ms > as_of || entry->channel >= CX_CHANNEL__COUNT)
      continue;
    int64_t age = as_of - entry->at_ms;
    bool contact = entry->type == CX_EVENT_CONTACT;
    if ((contact || entry->type == CX_EVENT_SELF_SERVICE) && age < 2 * DAY_MS)
      channel_48h[entry->channel] = true;
    if (!contact)
      continue;
    if (entry->flags & CX_INTERACTION_ASSISTED) {
      if (age < 7 * DAY_MS && has_previous_assisted &&
          entry->at_ms - previous_assisted_ms < REPEAT_GAP_MS)
        out->repeat_contacts_7d++;
      previous_assisted_ms = entry->at_ms;
      has_previous_assisted = true;
    }
    if (age >= 30 * DAY_MS)
      continue;
    out->contacts_30d++;
    per_channel_30d[entry->channel]++;
    int64_t wait_ms = cx_interaction_wait_ms(customer, entry);
    wait_sum_30d += wait_ms;
    last_channel = entry->channel;
    out->last_contact_ms = entry->at_ms; /* the log is in time order: the last one wins */
    if (age < 7 * DAY_MS) {
      out->contacts_7d++;
      per_channel_7d[entry->channel]++;
    }
    if (age < DAY_MS) {
      out->contacts_24h++;
      out->wait_ms_24h += wait_ms;
      if (entry->flags & CX_INTERACTION_ABANDONED)
        out->abandoned_24h++;
    }
  }
  for (int c = 0; c < CX_CHANNEL__COUNT; c++) {
    if (channel_48h[c])
      out->channels_48h[out->channels_48h_count++] = cx_channel_name((cx_channel_t)c);
    if (per_channel_30d[c]) {
      cx_profile_channel_t *channel = &out->channels[out->channel_count++];
      channel->channel = cx_channel_name((cx_channel_t)c);
      channel->contacts_7d = per_channel_7d[c];
      channel->contacts_30d = per_channel_30d[c];
    }
  }
  if (last_channel >= 0)
    out->last_contact_channel = cx_channel_name((cx_channel_t)last_channel);
  else
    out->last_contact_ms = 0;
  if (out->contacts_30d) {
    out->has_avg_wait = true;
    out->avg_wait_ms_30d = wait_sum_30d / out->contacts_30d;
  }
}

static void derive_reasons(const cx_customer_t *customer, cx_profile_t *out) {
  static const cx_rule_kind_t kinds[2] = {CX_KIND_FRUSTRATION, CX_KIND_CHURN};
  for (int k = 0; k < 2; k++) {
    const float *contribution = cx_customer_rules(customer)->contribution;
    double sum = 0;
    for (int r = 0; r < CX_RULE__COUNT; r++)
      if (cx_detectors[r].kind == kinds[k])
        sum += contribution[r];
    cx_rule_t top[CX_PROFILE_REASONS_PER_KIND];
    size_t count = cx_scores_top(customer, kinds[k], top, CX_PROFILE_REASONS_PER_KIND);
    for (size_t i = 0; i < count; i++) {
      double points = contribution[top[i]];
      cx_profile_reason_t *reason = &out->reasons[out->reason_count++];
      reason->code = cx_rule_name(top[i]);
      reason->kind = kinds[k];
      reason->value = (int64_t)(points + 0.5);
      reason->weight = sum > 0 ? points / sum : 0;
    }
  }
}

/* Cases open at as_of as the case detector's slots (detect_case.h) know
 * them: opened (CASE_OPENED or CASE_REOPENED) and not resolved since. A case
 * it could not track (all slots busy) is not counted. */
static int32_t open_cases(const cx_customer_t *customer, int64_t as_of) {
  int32_t count = 0;
  for (int i = 0; i < CX_CASE_SLOTS; i++) {
    const cx_case_slot_t *slot = cx_customer_case(customer, i);
    if ((slot->flags & CX_CASE_SLOT_USED) && slot->opened_ms != INT64_MIN &&
        slot->opened_ms <= as_of && slot->resolved_ms > as_of)
      count++;
  }
  return count;
}

/* The digest hashes names (XXH3 of their bytes). Those of channels and rules
 * are computed once and found by pointer, in a small open-addressed table
 * (read only once built, so shared by every thread): the profile holds the
 * names cx_channel_name and cx_rule_name return. Any other name is hashed
 * in place, which gives the same value. */
#define NAME_SLOTS 64 /* a power of two, over twice the names */
_Static_assert(CX_CHANNEL__COUNT + CX_RULE__COUNT <= NAME_SLOTS / 2, "the name table is sparse");
static struct {
  const char *name; /* NULL: free */
  uint64_t hash;    /* XXH3 of its bytes */
} name_table[NAME_SLOTS];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static uint64_t hash_text(const char *name) {
  return name ? XXH3_64bits(name, strlen(name)) : 0;
}

static size_t name_slot(const char *name) {
  return (size_t)(((uintptr_t)name * UINT64_C(0x9E3779B97F4A7C15)) >> 58) & (NAME_SLOTS - 1);
}

static void name_add(const char *name) {
  size_t slot = name_slot(name);
  while (name_table[slot].name && name_table[slot].name != name)
    slot = (slot + 1) & (NAME_SLOTS - 1);
  name_table[slot].name = name;
  name_table[slot].hash = hash_text(name);
}

static void names_init(void) {
  for (int c = 0; c < CX_CHANNEL__COUNT; c++)
    name_add(cx_channel_name((cx_channel_t)c));
  for (int r = 0; r < CX_RULE__COUNT; r++)
    name_add(cx_rule_name((cx_rule_t)r));
}

static uint64_t hash_name(const char *name) {
  if (!name)
    return 0;
  for (size_t slot = name_slot(name); name_table[slot].name;
       slot = (slot + 1) & (NAME_SLOTS - 1))
    if (name_table[slot].name == name)
      return name_table[slot].hash;
  return hash_text(name);
}

/* Digest of the content that makes a profile material besides scores and
 * bands: everything but updated_at, first_seen, events_total and the reasons'
 * decaying values. */
static uint64_t content_digest(const cx_profile_t *profile) {
  uint64_t words[24 + 4 * CX_CHANNEL__COUNT + CX_RULE__COUNT + CX_PROFILE_MAX_REASONS];
  size_t n = 0;
  pthread_once(&names_once, names_init);
  words[n++] = profile->channels_48h_count;
  for (size_t i = 0; i < profile->channels_48h_count; i++)
    words[n++] = hash_name(profile->channels_48h[i]);
  words[n++] = (uint64_t)profile->contacts_24h;
  words[n++] = (uint64_t)profile->abandoned_24h;
  words[n++] = (uint64_t)profile->wait_ms_24h;
  words[n++] = (uint64_t)profile->contacts_7d;
  words[n++] = (uint64_t)profile->contacts_30d;
  words[n++] = profile->channel_count;
  for (size_t i = 0; i < profile->channel_count; i++) {
    const cx_profile_channel_t *channel = &profile->channels[i];
    words[n++] = hash_name(channel->channel);
    words[n++] = (uint64_t)channel->contacts_7d;
    words[n++] = (uint64_t)channel->contacts_30d;
  }
  words[n++] = hash_name(profile->preferred_channel);
  words[n++] = (uint64_t)profile->last_contact_ms;
  words[n++] = hash_name(profile->last_contact_channel);
  words[n++] = (uint64_t)profile->open_cases;
  words[n++] = (uint64_t)profile->repeat_contacts_7d;
  words[n++] = profile->has_avg_wait ? (uint64_t)profile->avg_wait_ms_30d : UINT64_MAX;
  uint32_t sentiment_bits = 0;
  memcpy(&sentiment_bits, &profile->sentiment, sizeof(sentiment_bits));
  words[n++] = profile->has_sentiment ? (uint64_t)profile->sentiment_at_ms : UINT64_MAX;
  words[n++] = profile->has_sentiment ? sentiment_bits : 0;
  words[n++] = profile->has_csat ? (uint64_t)profile->csat_at_ms : UINT64_MAX;
  words[n++] = profile->has_csat ? (uint64_t)profile->csat : 0;
  words[n++] = profile->has_nps ? (uint64_t)profile->nps_at_ms : UINT64_MAX;
  words[n++] = profile->has_nps ? (uint64_t)profile->nps : 0;
  words[n++] = profile->open_alert_count;
  for (size_t i = 0; i < profile->open_alert_count; i++)
    words[n++] = hash_name(profile->open_alerts[i]);
  words[n++] = profile->consent_granted;
  words[n++] = profile->reason_count;
  for (size_t i = 0; i < profile->reason_count; i++)
    words[n++] = hash_name(profile->reasons[i].code);
  assert(n <= sizeof(words) / sizeof(words[0]));
  return XXH3_64bits(words, n * sizeof(words[0]));
}

int cx_profile_update(const cx_profile_config_t *config, const cx_scores_config_t *scores,
                      cx_customer_t *customer, int64_t t, bool alerted, cx_profile_t *out) {
  const cx_profile_state_t *state = cx_customer_profile(customer);
  int64_t as_of = t > customer->last_event_ms ? t : customer->last_event_ms;
  bool emitted = state->flags & CX_PROFILE_EMITTED;
  if (!consent_allows(config, customer)) {
    if (!emitted)
      return 0;
    /* Compaction keeps a key's last value: a tombstone erases the profile. */
    memset(out, 0, sizeof(*out));
    if (!set_customer_id(config, customer, out))
      return 0;
    out->deleted = true;
    out->updated_at_ms = as_of;
    customer->profile->flags &= (uint8_t)~CX_PROFILE_EMITTED; /* emitted: the block exists */
    return 1;
  }
  if (emitted && config->interval_ms > 0 && as_of - state->emitted_at_ms < config->interval_ms)
    return 0;

  memset(out, 0, sizeof(*out));
  out->updated_at_ms = as_of;
  out->first_seen_ms = customer->first_event_ms;
  out->events_total = (int64_t)customer->event_count;
  double frustration = cx_scores_value(customer, CX_KIND_FRUSTRATION);
  double churn = cx_scores_value(customer, CX_KIND_CHURN);
  out->frustration_score = (int)(frustration + 0.5);
  out->frustration_band = cx_scores_band(scores, frustration);
  out->churn_score = (int)(churn + 0.5);
  out->churn_band = cx_scores_band(scores, churn);
  derive_reasons(customer, out);
  derive_from_log(customer, as_of, out);
  out->preferred_channel = cx_customer_preferred_channel(customer);
  out->open_cases = open_cases(customer, as_of);
  if (state->flags & CX_PROFILE_HAS_SENTIMENT) {
    out->has_sentiment = true;
    out->sentiment = state->sentiment;
    out->sentiment_at_ms = state->sentiment_at_ms;
  }
  if (state->flags & CX_PROFILE_HAS_CSAT) {
    out->has_csat = true;
    out->csat = state->csat;
    out->csat_at_ms = state->csat_at_ms;
  }
  if (state->flags & CX_PROFILE_HAS_NPS) {
    out->has_nps = true;
    out->nps = state->nps;
    out->nps_at_ms = state->nps_at_ms;
  }
  const int64_t *quiet_until_ms = cx_customer_rules(customer)->quiet_until_ms;
  for (int r = 0; r < CX_RULE__COUNT; r++)
    if (as_of < quiet_until_ms[r])
      out->open_alerts[out->open_alert_count++] = cx_rule_name((cx_rule_t)r);
  out->consent_granted = customer->consent == CX_CONSENT_GRANTED;

  uint64_t digest = content_digest(out);
  uint8_t bands = (uint8_t)(out->frustration_band | out->churn_band << 2);
  bool material = !emitted || alerted || bands != state->bands ||
                  fabs(frustration - state->frustration_score) >= config->min_score_change ||
                  fabs(churn - state->churn_score) >= config->min_score_change ||
                  digest != state->digest;
  if (!material || !set_customer_id(config, customer, out))
    return 0;
  cx_profile_state_t *kept = cx_customer_profile_mut(customer);
  if (!kept)
    return -1;
  kept->emitted_at_ms = as_of;
  kept->digest = digest;
  kept->frustration_score = (float)frustration;
  kept->churn_score = (float)churn;
  kept->bands = bands;
  kept->flags |= CX_PROFILE_EMITTED;
  return 1;
}
