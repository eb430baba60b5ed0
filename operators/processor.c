/* One partition's operators (see processor.h).
 *
 * Per event: the watermark decides late or not; the customer's shared logs
 * take the event; every enabled detector looks at it and those that fire add
 * their weight to the customer's score; then, in rule order, each hit becomes
 * an alert unless its (customer, rule) cooldown is running (a higher band
 * than the rule's last alert breaks the cooldown where the rule allows it).
 * Alerts carry the kind's score, its band as severity, and the action for
 * that kind and band. Then due timers fire the same way, and the profile
 * operator sees the customer. Eviction is exact: a customer is dropped only
 * when it has been idle longer than any window, timer or cooldown plus the
 * lateness, so evicting never changes what is emitted; only the optional
 * state.max.customers bound evicts active customers (counted apart). */
#include "processor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash_inline.h"
#include "scores.h"
#include "state_codec.h"
#include "state.h"
#include "timers.h"
#include "watermark.h"

struct cx_processor_s {
  cx_processor_config_t config;  /* copy */
  cx_watermark_t watermark;      /* this partition's event time */
  cx_state_t *state;             /* customers */
  cx_timers_t *timers;           /* event-time timers */
  cx_customer_t *timer_customer; /* whose timers detectors set right now */
  int nomem;                     /* a timer could not be stored */
  int64_t retain_ms;             /* log entries older than newest - retain_ms are dropped */
  int64_t evict_idle_ms;         /* customers idle longer than this are evicted */
  int64_t sweep_step_ms;         /* evict_idle_ms / 16 + 1: the watermark's move between sweeps */
  int64_t last_sweep_watermark;  /* watermark at the last eviction sweep */
  int64_t next_fire_ms;          /* no timer fires before this (INT64_MAX: none pending) */
  uint32_t by_signal[32];        /* enabled rules with an evaluate acting on signal bit b */
  uint32_t by_channel[32];       /* the same per channel bit (CX_CHANNEL_BIT) */
  cx_processor_stats_t stats;    /* counters */
  bool unknown_consent_emitted;  /* a customer of unknown consent may hold an emitted profile:
                                    profiles.consent.default was on at some time, or a
                                    restored record says so (see maybe_profile) */
  bool tracking;                 /* keep the lists below */
  uint64_t *dirty;               /* changed customers: record index << 32 | generation */
  size_t dirty_count, dirty_capacity; /* used, allocated */
  int64_t next_offset;           /* input offset after the last event processed (0 = none) */
  int64_t restored_offset;       /* offsets below this were applied before a restore */
  cx_partition_progress_t progress_taken; /* last progress handed to the changelog */
  char *removed;                 /* keys of evicted customers, each NUL-terminated */
  size_t removed_len, removed_capacity; /* bytes used, allocated */
};

void cx_processor_config_default(cx_processor_config_t *config) {
  config->lateness_ms = 60 * 1000;
  config->max_customers = 0;
  config->compact_idle_ms = 0;
  cx_rules_config_default(&config->rules);
  cx_scores_config_default(&config->scores);
  cx_profile_config_default(&config->profiles);
}

_Static_assert(CX_RULE__COUNT <= 32, "rule sets are 32-bit masks");

static void derive_horizons(cx_processor_t *processor) {
  int64_t lateness = processor->watermark.lateness_ms;
  processor->retain_ms = cx_rules_retention_ms(&processor->config.rules) + lateness;
  processor->evict_idle_ms = cx_rules_idle_horizon_ms(&processor->config.rules) + lateness;
  processor->sweep_step_ms = processor->evict_idle_ms / 16 + 1;
  memset(processor->by_signal, 0, sizeof(processor->by_signal));
  memset(processor->by_channel, 0, sizeof(processor->by_channel));
  for (int r = 0; r < CX_RULE__COUNT; r++) {
    const cx_detector_t *detector = &cx_detectors[r];
    if (!processor->config.rules.common[r].enabled || !detector->evaluate)
      continue;
    for (int b = 0; b < 32; b++) {
      if (detector->signals >> b & 1)
        processor->by_signal[b] |= UINT32_C(1) << r;
      if (detector->channels >> b & 1)
        processor->by_channel[b] |= UINT32_C(1) << r;
    }
  }
}

static void on_limit_evicted(const cx_customer_t *customer, void *opaque);

cx_processor_t *cx_processor_new(const cx_processor_config_t *config) {
  cx_processor_t *processor = calloc(1, sizeof(*processor));
  if (!processor)
    return NULL;
  processor->config = *config;
  cx_watermark_init(&processor->watermark, config->lateness_ms);
  processor->state = cx_state_new();
  processor->timers = cx_timers_new();
  if (!processor->state || !processor->timers) {
    cx_processor_destroy(processor);
    return NULL;
  }
  derive_horizons(processor);
  processor->unknown_consent_emitted = config->profiles.consent_default;
  processor->last_sweep_watermark = CX_WATERMARK_NONE;
  processor->next_fire_ms = INT64_MAX;
  processor->progress_taken = (cx_partition_progress_t){CX_WATERMARK_NONE, 0};
  if (config->max_customers > 0 &&
      cx_state_set_max_customers(processor->state, (size_t)config->max_customers,
                                 on_limit_evicted, processor)) {
    cx_processor_destroy(processor);
    return NULL;
  }
  return processor;
}

void cx_processor_destroy(cx_processor_t *processor) {
  if (!processor)
    return;
  free(processor->dirty);
  free(processor->removed);
  cx_timers_destroy(processor->timers);
  cx_state_destroy(processor->state);
  free(processor);
}

void cx_processor_reconfigure(cx_processor_t *processor, const cx_processor_config_t *config) {
  int64_t lateness = processor->config.lateness_ms;
  int64_t max_customers = processor->config.max_customers;
  processor->config = *config;
  processor->config.lateness_ms = lateness;
  processor->config.max_customers = max_customers;
  processor->unknown_consent_emitted |= config->profiles.consent_default;
  derive_horizons(processor);
}

static void set_timer(void *opaque, cx_rule_t rule, int64_t fire_ms, uint64_t payload) {
  cx_processor_t *processor = opaque;
  cx_customer_t *customer = processor->timer_customer;
  cx_timer_t timer = {.fire_ms = fire_ms,
                      .payload = payload,
                      .record = cx_state_index_of(processor->state, customer),
                      .generation = customer->generation,
                      .rule = (uint8_t)rule};
  if (cx_timers_push(processor->timers, &timer))
    processor->nomem = 1;
  else if (fire_ms < processor->next_fire_ms)
    processor->next_fire_ms = fire_ms;
}

static void mark_dirty(cx_processor_t *processor, cx_customer_t *customer) {
  if (!processor->tracking || customer->dirty)
    return;
  if (processor->dirty_count == processor->dirty_capacity) {
    size_t capacity = processor->dirty_capacity ? processor->dirty_capacity * 2 : 1024;
    uint64_t *grown = realloc(processor->dirty, capacity * sizeof(*grown));
    if (!grown) {
      processor->nomem = 1;
      return;
    }
    processor->dirty = grown;
    processor->dirty_capacity = capacity;
  }
  customer->dirty = 1;
  processor->dirty[processor->dirty_count++] =
      (uint64_t)cx_state_index_of(processor->state, customer) << 32 | customer->generation;
}

static void on_evicted(const cx_customer_t *customer, void *opaque) {
  cx_processor_t *processor = opaque;
  if (!processor->tracking)
    return;
  size_t need = processor->removed_len + customer->key_len + 1;
  if (need > processor->removed_capacity) {
    size_t capacity = processor->removed_capacity ? processor->removed_capacity : 4096;
    while (capacity < need)
      capacity *= 2;
    char *grown = realloc(processor->removed, capacity);
    if (!grown) {
      processor->nomem = 1;
      return;
    }
    processor->removed = grown;
    processor->removed_capacity = capacity;
  }
  cx_str_t key = cx_customer_key(customer);
  memcpy(processor->removed + processor->removed_len, key.ptr, key.len);
  processor->removed[processor->removed_len + key.len] = '\0';
  processor->removed_len = need;
}

/* A customer evicted to stay within state.max.customers: counted apart from
 * idle evictions (this one can change what is emitted), tombstoned alike. */
static void on_limit_evicted(const cx_customer_t *customer, void *opaque) {
  cx_processor_t *processor = opaque;
  processor->stats.limit_evicted_customers++;
  on_evicted(customer, processor);
}

/* Customers idle past state.compact.idle.ms are kept cold (state.h); at
 * most 16 looked at per event keep a burst from stalling one event. */
static void maybe_compact(cx_processor_t *processor, int64_t watermark) {
  int64_t idle = processor->config.compact_idle_ms;
  if (idle > 0)
    cx_state_compact(processor->state, watermark, idle, 16);
  else if (idle < 0) /* tests: every customer cold between its events */
    cx_state_compact(processor->state, watermark, 0, SIZE_MAX);
}

static void maybe_evict(cx_processor_t *processor) {
  int64_t watermark = cx_watermark_current(&processor->watermark);
  if (watermark == CX_WATERMARK_NONE)
    return;
  maybe_compact(processor, watermark);
  if (processor->last_sweep_watermark == CX_WATERMARK_NONE) {
    processor->last_sweep_watermark = watermark;
    return;
  }
  /* Sweeping is O(customers); do it each time the watermark has moved by a
   * sixteenth of the idle horizon, so its cost per event stays constant. */
  if (watermark - processor->last_sweep_watermark < processor->sweep_step_ms)
    return;
  processor->last_sweep_watermark = watermark;
  processor->stats.evicted_customers +=
      cx_state_evict_idle(processor->state, watermark - processor->evict_idle_ms, on_evicted,
                          processor);
}

/* Consent to profiling from a CONSENT event's "consent" attribute. */
static void apply_consent(cx_customer_t *customer, const cx_event_t *event) {
  size_t shown = event->attribute_count < CX_EVENT_MAX_ATTRIBUTES ? event->attribute_count
                                                                  : CX_EVENT_MAX_ATTRIBUTES;
  for (size_t i = 0; i < shown; i++) {
    cx_str_t key = event->attribute_keys[i], value = event->attribute_values[i];
    if (key.len != 7 || memcmp(key.ptr, "consent", 7))
      continue;
    if (value.len == 17 && !memcmp(value.ptr, "profiling_granted", 17))
      customer->consent = CX_CONSENT_GRANTED;
    else if (value.len == 19 && !memcmp(value.ptr, "profiling_withdrawn", 19))
      customer->consent = CX_CONSENT_WITHDRAWN;
  }
}

/* Starts loading the cache lines of a block of at most 192 bytes (NULL:
 * none): the first, the last and those between (an 80-byte block can span
 * three lines). */
static inline void prefetch_span(const void *block, size_t size) {
  if (!block)
    return;
  const char *at = block;
  cx_prefetch_line(at);
  cx_prefetch_line(at + size - 1);
  if (size > 64)
    cx_prefetch_line(at + 64);
  if (size > 128)
    cx_prefetch_line(at + 128);
}

#define TYPE_BIT(type) (UINT32_C(1) << CX_EVENT_##type)
/* Event types whose detectors read the interaction log, the signals block
 * (with voice and escalated events) and the case slots; the digital
 * blocks go with the digital channels (detect_*.h: the signals of each). */
#define LOG_TYPES (TYPE_BIT(CONTACT) | TYPE_BIT(SELF_SERVICE) | TYPE_BIT(TRANSFER))
#define SIGNALS_TYPES \
  (TYPE_BIT(CANCEL_INTENT) | TYPE_BIT(COMPLAINT) | TYPE_BIT(REVIEW) | TYPE_BIT(PAYMENT_FAILED))
#define CASE_TYPES (TYPE_BIT(CASE_OPENED) | TYPE_BIT(CASE_RESOLVED) | TYPE_BIT(CASE_REOPENED))
#define SESSION_TYPES (TYPE_BIT(CLICK) | TYPE_BIT(ERROR) | TYPE_BIT(LOGIN_FAILED))
_Static_assert(CX_EVENT_TYPE__COUNT <= 32, "an event type is a bit of a uint32_t");

/* Starts loading the blocks the event will touch, so that their cache
 * misses overlap each other and the work before them. A hint only: it
 * reads the customer's record and the event's type, channel and flags,
 * never a block. */
static void prefetch_blocks(const cx_processor_t *processor, const cx_customer_t *customer,
                            const cx_event_t *event) {
  uint32_t type = (unsigned)event->type < CX_EVENT_TYPE__COUNT ? UINT32_C(1) << event->type : 0;
  if (customer->rules) /* cx_scores_decay, every event */
    cx_prefetch_line(customer->rules->contribution);
  if (type & LOG_TYPES)
    prefetch_span(customer->log, 2 * 64); /* its counts and first entries */
  if (event->channel == CX_CHANNEL_APP || event->channel == CX_CHANNEL_WEB) {
    if (type & SESSION_TYPES) /* all slots: scanned */
      prefetch_span(customer->sessions, customer->session_slots * sizeof(*customer->sessions));
    prefetch_span(customer->digital, sizeof(*customer->digital));
  }
  if ((type & SIGNALS_TYPES) || event->has_sentiment || event->has_csat || event->has_nps ||
      event->outcome == CX_OUTCOME_ESCALATED)
    prefetch_span(customer->signals, sizeof(*customer->signals));
  if (type & CASE_TYPES) /* all slots: scanned */
    prefetch_span(customer->cases, customer->case_slots * sizeof(*customer->cases));
  if (processor->config.profiles.enabled)
    prefetch_span(customer->profile, sizeof(*customer->profile));
}

static long log_interaction(cx_processor_t *processor, cx_customer_t *customer,
                            const cx_event_t *event) {
  cx_interaction_fields_t entry;
  if (!cx_interaction_fields_from_event(event, &entry))
    return -1;
  int64_t newest = customer->last_event_ms > entry.at_ms ? customer->last_event_ms : entry.at_ms;
  return cx_customer_add_interaction(customer, &entry, event->event_id,
                                     newest - processor->retain_ms);
}

/* Clears what a detector may leave unset and the rest of the pipeline
 * reads: the reason and evidence counts (the arrays are read only below
 * them) and the window. The trigger and its time are set by the caller for
 * an event, by the detector for a timer (fire_timers clears them first).
 * finish_alert writes every other field
 * (rule, kind, customer_id, score, severity, actions, alert_id) before the
 * alert goes out, so they are not cleared here: clearing the whole struct
 * (504 bytes) for each candidate rule of every event cost a fifth of the
 * hot path, and even the 14 fields it set were most of its cost. */
static void init_alert(cx_alert_t *alert) {
  alert->window_start_ms = 0;
  alert->window_end_ms = 0;
  alert->reason_count = 0;
  alert->evidence_count = 0;
}

/* Turns a detector hit into an alert unless its cooldown holds it back.
 * Returns true when it was emitted. */
static bool finish_alert(cx_processor_t *processor, cx_customer_t *customer, cx_rule_t rule,
                         int64_t t, cx_alert_t *alert, const cx_outputs_t *outputs) {
  const cx_rules_config_t *rules = &processor->config.rules;
  const cx_scores_config_t *scores = &processor->config.scores;
  const cx_detector_t *detector = &cx_detectors[rule];
  double score = cx_scores_value(customer, detector->kind);
  cx_severity_t band = cx_scores_band(scores, score);
  const cx_customer_rules_t *kept = cx_customer_rules(customer);
  if (t < kept->quiet_until_ms[rule] &&
      !(rules->common[rule].realert_on_higher_band && band > cx_customer_rules_band(kept, rule))) {
    processor->stats.suppressed[rule]++;
    return false;
  }
  cx_customer_rules_t *state = cx_customer_rules_mut(customer);
  if (!state) {
    processor->nomem = 1;
    return false;
  }
  int64_t cooldown = rules->common[rule].cooldown_ms;
  state->quiet_until_ms[rule] = t > INT64_MAX - cooldown ? INT64_MAX : t + cooldown;
  cx_customer_rules_set_band(state, rule, band);
  if (detector->kind == CX_KIND_FRUSTRATION && t > state->last_frustration_alert_ms)
    state->last_frustration_alert_ms = t;

  double sum = 0;
  for (size_t i = 0; i < alert->reason_count; i++)
    sum += alert->reasons[i].weight;
  for (size_t i = 0; i < alert->reason_count; i++)
    alert->reasons[i].weight = sum > 0 ? alert->reasons[i].weight / sum : 0;
  alert->rule = detector->name;
  alert->rule_index = (int)rule;
  alert->kind = detector->kind;
  alert->customer_id = cx_customer_key(customer);
  alert->score = (int)(score + 0.5);
  alert->severity = band;
  alert->recommended_action = rules->common[rule].action[0]
                                  ? rules->common[rule].action
                                  : scores->actions[detector->kind][band];
  alert->action_channel = cx_customer_preferred_channel(customer);
  if (customer->consent == CX_CONSENT_WITHDRAWN)
    alert->evidence_count = 0; /* data minimisation: only what the service team needs */
  cx_alert_make_id(alert->customer_id, alert->rule, alert->trigger_event_id, alert->alert_id);
  processor->stats.alerts[rule]++;
  outputs->alert(alert, outputs->opaque);
  return true;
}

static void maybe_profile(cx_processor_t *processor, cx_customer_t *customer, int64_t t,
                          bool alerted, const cx_outputs_t *outputs) {
  if (!outputs->profile || !processor->config.profiles.enabled)
    return;
  /* Most customers never say anything about consent: with the default
   * denying, cx_profile_update would read their profile block only to find
   * that no profile of theirs is out (one went out only under consent, and
   * consent never returns to unknown), and return 0. */
  if (customer->consent == CX_CONSENT_UNKNOWN && !processor->config.profiles.consent_default &&
      !processor->unknown_consent_emitted)
    return;
  cx_profile_t profile;
  int due = cx_profile_update(&processor->config.profiles, &processor->config.scores, customer,
                              t, alerted, &profile);
  if (due < 0)
    processor->nomem = 1;
  if (due > 0) {
    processor->stats.profiles++;
    outputs->profile(&profile, outputs->opaque);
  }
}

static void fire_timers(cx_processor_t *processor, const cx_outputs_t *outputs) {
  int64_t watermark = cx_watermark_current(&processor->watermark);
  if (!(watermark > processor->next_fire_ms))
    return; /* nothing due (a timer is due once the watermark passes it) */
  cx_timer_sink_t sink = {set_timer, processor};
  cx_timer_t timer;
  while (cx_timers_pop_due(processor->timers, watermark, &timer)) {
    cx_customer_t *customer = cx_state_at(processor->state, timer.record, timer.generation);
    const cx_detector_t *detector = &cx_detectors[timer.rule];
    if (!customer || !detector->on_timer || !processor->config.rules.common[timer.rule].enabled)
      continue;
    processor->stats.timers_fired++;
    processor->timer_customer = customer;
    mark_dirty(processor, customer);
    cx_timer_input_t input = {customer, timer.fire_ms, timer.payload};
    cx_alert_t alert;
    init_alert(&alert);
    alert.trigger_event_id = (cx_str_t){NULL, 0};
    alert.event_time_ms = 0;
    if (!detector->on_timer(&processor->config.rules, &input, &sink, &alert))
      continue;
    cx_scores_decay(customer, timer.fire_ms, processor->config.scores.half_life_ms);
    if (cx_scores_add(customer, detector->rule,
                      processor->config.rules.common[timer.rule].weight))
      processor->nomem = 1;
    bool alerted = finish_alert(processor, customer, detector->rule, alert.event_time_ms, &alert,
                                outputs);
    maybe_profile(processor, customer, timer.fire_ms, alerted, outputs);
  }
  processor->next_fire_ms = cx_timers_next_fire_ms(processor->timers);
}

/* An event applied before the restart: its event time counts again (the
 * restored progress may predate it), nothing else does. */
static cx_process_result_t skip_duplicate(cx_processor_t *processor, int64_t t,
                                          const cx_outputs_t *outputs) {
  processor->stats.duplicates++;
  (void)cx_watermark_observe(&processor->watermark, t);
  fire_timers(processor, outputs);
  if (processor->nomem) {
    processor->nomem = 0;
    return CX_PROCESS_NOMEM;
  }
  return CX_PROCESS_DUPLICATE;
}

cx_process_result_t cx_processor_process(cx_processor_t *processor, const cx_event_t *event,
                                         const cx_outputs_t *outputs) {
  return cx_processor_process_at(processor, event, -1, outputs);
}

cx_process_result_t cx_processor_process_at(cx_processor_t *processor, const cx_event_t *event,
                                            int64_t offset, const cx_outputs_t *outputs) {
  return cx_processor_process_hashed(processor, event, offset, cx_hash_inline(event->customer_id),
                                     outputs);
}

uint64_t cx_processor_prefetch(const cx_processor_t *processor, cx_str_t key) {
  uint64_t hash = cx_hash_inline(key);
  cx_state_prefetch_slot(processor->state, hash);
  return hash;
}

void cx_processor_prefetch_customer(const cx_processor_t *processor, uint64_t key_hash) {
  cx_state_prefetch_record(processor->state, key_hash);
}

void cx_processor_prefetch_blocks(const cx_processor_t *processor, uint64_t key_hash,
                                  const cx_event_t *event) {
  const cx_customer_t *customer = cx_state_peek(processor->state, key_hash);
  if (customer)
    prefetch_blocks(processor, customer, event);
}

cx_process_result_t cx_processor_process_hashed(cx_processor_t *processor, const cx_event_t *event,
                                                int64_t offset, uint64_t hash,
                                                const cx_outputs_t *outputs) {
  int64_t t = event->occurred_at_ms;
  cx_customer_t *customer = NULL;
  if (offset >= 0) {
    processor->next_offset = offset + 1;
    if (offset < processor->restored_offset)
      return skip_duplicate(processor, t, outputs);
    customer = cx_state_find(processor->state, event->customer_id, hash);
    if (customer && offset < customer->next_offset)
      return skip_duplicate(processor, t, outputs);
  }
  if (cx_watermark_observe(&processor->watermark, t)) {
    processor->stats.late_events++;
    return CX_PROCESS_LATE;
  }
  if (!customer)
    customer = cx_state_upsert(processor->state, event->customer_id, hash);
  if (!customer)
    return CX_PROCESS_NOMEM;
  prefetch_blocks(processor, customer, event); /* cheap when the third hint came */
  if (offset >= 0)
    customer->next_offset = offset + 1;
  if (customer->first_event_ms == INT64_MIN)
    customer->first_event_ms = t;
  mark_dirty(processor, customer);
  customer->event_count++;
  if (event->type == CX_EVENT_CONSENT)
    apply_consent(customer, event);
  if (event->has_sentiment || event->has_csat || event->has_nps) {
    cx_profile_state_t *profile = cx_customer_profile_mut(customer);
    if (profile)
      cx_profile_observe(profile, event); /* latest sentiment, CSAT, NPS */
    else
      processor->nomem = 1;
  }

  cx_detect_input_t input;
  cx_detect_input_init(&input, event, customer, cx_watermark_current(&processor->watermark));
  input.interaction_index = log_interaction(processor, customer, event);
  if (input.interaction_index == -1 && (event->type == CX_EVENT_CONTACT ||
      event->type == CX_EVENT_SELF_SERVICE || event->type == CX_EVENT_TRANSFER))
    return CX_PROCESS_NOMEM;
  if (t > customer->last_event_ms)
    customer->last_event_ms = t;
  processor->stats.events++;

  const cx_rules_config_t *rules = &processor->config.rules;
  cx_scores_decay(customer, t, processor->config.scores.half_life_ms);
  cx_timer_sink_t sink = {set_timer, processor};
  processor->timer_customer = customer;
  cx_alert_t alerts[CX_RULE__COUNT];
  uint32_t hit = 0;
  /* Only the detectors that can act on this event (cx_detector_t.signals
   * and .channels): the others would return false and change nothing. */
  uint32_t candidates = 0;
  for (uint32_t signals = input.signals; signals; signals &= signals - 1)
    candidates |= processor->by_signal[__builtin_ctz(signals)];
  candidates &= processor->by_channel[__builtin_ctz(CX_CHANNEL_BIT(event->channel))];
  for (; candidates; candidates &= candidates - 1) {
    int r = __builtin_ctz(candidates);
    const cx_detector_t *detector = &cx_detectors[r];
    init_alert(&alerts[r]);
    if (!detector->evaluate(rules, &input, &sink, &alerts[r]))
      continue;
    hit |= UINT32_C(1) << r;
    if (cx_scores_add(customer, (cx_rule_t)r, rules->common[r].weight))
      processor->nomem = 1;
  }
  if (input.nomem)
    processor->nomem = 1;
  bool alerted = false;
  for (; hit; hit &= hit - 1) {
    int r = __builtin_ctz(hit);
    alerts[r].trigger_event_id = event->event_id;
    alerts[r].event_time_ms = t;
    alerted |= finish_alert(processor, customer, (cx_rule_t)r, t, &alerts[r], outputs);
  }
  maybe_profile(processor, customer, t, alerted, outputs);
  fire_timers(processor, outputs);
  maybe_evict(processor);
  if (processor->nomem) {
    processor->nomem = 0;
    return CX_PROCESS_NOMEM;
  }
  return CX_PROCESS_OK;
}

const cx_customer_t *cx_processor_find(const cx_processor_t *processor, cx_str_t key) {
  return cx_state_find(processor->state, key, cx_hash_inline(key));
}

int cx_processor_restore(cx_processor_t *processor, const uint8_t *record, size_t record_len,
                         char *errstr, size_t errstr_size) {
  cx_customer_t decoded;
  if (cx_state_codec_decode(record, record_len, &decoded, errstr, errstr_size))
    return -1;
  cx_customer_t *customer = cx_state_restore(processor->state, &decoded);
  if (!customer) {
    cx_customer_release(&decoded);
    snprintf(errstr, errstr_size, "out of memory restoring a customer");
    return -1;
  }
  if (customer->consent == CX_CONSENT_UNKNOWN &&
      (cx_customer_profile(customer)->flags & CX_PROFILE_EMITTED))
    processor->unknown_consent_emitted = true; /* written under a default that granted */
  cx_timer_sink_t sink = {set_timer, processor};
  processor->timer_customer = customer;
  for (int r = 0; r < CX_RULE__COUNT; r++)
    if (cx_detectors[r].rearm && processor->config.rules.common[r].enabled)
      cx_detectors[r].rearm(&processor->config.rules, customer, &sink);
  if (processor->nomem) {
    processor->nomem = 0;
    snprintf(errstr, errstr_size, "out of memory setting the restored customer's timers");
    return -1;
  }
  return 0;
}

bool cx_processor_take_progress(cx_processor_t *processor, cx_partition_progress_t *progress) {
  cx_partition_progress_t now = {processor->watermark.max_seen_ms, processor->next_offset};
  if (now.max_event_ms == processor->progress_taken.max_event_ms &&
      now.next_offset == processor->progress_taken.next_offset)
    return false;
  processor->progress_taken = now;
  *progress = now;
  return true;
}

void cx_processor_restore_progress(cx_processor_t *processor,
                                   const cx_partition_progress_t *progress) {
  if (progress->max_event_ms != CX_WATERMARK_NONE &&
      (processor->watermark.max_seen_ms == CX_WATERMARK_NONE ||
       progress->max_event_ms > processor->watermark.max_seen_ms))
    processor->watermark.max_seen_ms = progress->max_event_ms;
  if (progress->next_offset > processor->restored_offset)
    processor->restored_offset = progress->next_offset;
  if (progress->next_offset > processor->next_offset)
    processor->next_offset = progress->next_offset;
  processor->progress_taken = (cx_partition_progress_t){processor->watermark.max_seen_ms,
                                                        processor->next_offset};
}

void cx_processor_track_changes(cx_processor_t *processor) {
  processor->tracking = true;
}

int cx_processor_take_changes(cx_processor_t *processor,
                              int (*removed)(cx_str_t key, void *opaque),
                              int (*changed)(const cx_customer_t *customer, void *opaque),
                              void *opaque) {
  int rc = 0;
  /* Evictions first: a key evicted and then seen again gets its tombstone
   * before its new record, so the changelog's last word is the record. */
  for (size_t at = 0; at < processor->removed_len && !rc;) {
    cx_str_t key = cx_str(processor->removed + at);
    rc = removed(key, opaque);
    at += key.len + 1;
  }
  /* The changed customers are scattered over the table: each record is
   * loaded TAKE_AHEAD customers ahead and its blocks half as far ahead
   * (their pointers are in the record), as events' customers are. */
  enum { TAKE_AHEAD = 8 };
  const uint64_t *dirty = processor->dirty;
  size_t count = processor->dirty_count;
  for (size_t i = 0; i < TAKE_AHEAD && i < count; i++)
    cx_state_prefetch_at(processor->state, (uint32_t)(dirty[i] >> 32), i >= TAKE_AHEAD / 2);
  for (size_t i = 0; i < processor->dirty_count && !rc; i++) {
    if (i + TAKE_AHEAD < count)
      cx_state_prefetch_at(processor->state, (uint32_t)(dirty[i + TAKE_AHEAD] >> 32), false);
    if (i + TAKE_AHEAD / 2 < count)
      cx_state_prefetch_at(processor->state, (uint32_t)(dirty[i + TAKE_AHEAD / 2] >> 32), true);
    cx_customer_t *customer = cx_state_at(processor->state, (uint32_t)(processor->dirty[i] >> 32),
                                          (uint32_t)processor->dirty[i]);
    if (!customer || !customer->dirty)
      continue; /* evicted since (its tombstone went above) */
    customer->dirty = 0;
    rc = changed(customer, opaque);
  }
  processor->removed_len = 0;
  processor->dirty_count = 0;
  return rc;
}

void cx_processor_forget(cx_processor_t *processor, cx_str_t key) {
  cx_state_remove(processor->state, key, cx_hash_inline(key));
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

/* Timers and the change lists of the changelog. */
static size_t processor_own_bytes(const cx_processor_t *processor) {
  return cx_timers_bytes(processor->timers) +
         processor->dirty_capacity * sizeof(*processor->dirty) + processor->removed_capacity;
}

size_t cx_processor_state_bytes(const cx_processor_t *processor) {
  return cx_state_bytes(processor->state) + processor_own_bytes(processor);
}

bool cx_processor_state_bytes_walk(cx_processor_t *processor, size_t budget) {
  return cx_state_bytes_walk(processor->state, budget);
}

size_t cx_processor_state_bytes_walked(const cx_processor_t *processor) {
  return cx_state_bytes_walked(processor->state) + processor_own_bytes(processor);
}
