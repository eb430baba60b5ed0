/* The configuration table and its parsers (see config.h). Each property is
 * one line of cx_properties[]: the same line parses, validates, sets the
 * default and prints the help, so documentation and code cannot drift. */
#include "config.h"

#include "../operators/window.h"
#include "http.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* T_TEXT is a fixed char[CX_ACTION_MAX] field; T_DOUBLE a double. */
typedef enum { T_STRING, T_INT, T_DURATION, T_BOOL, T_ENUM, T_DOUBLE, T_TEXT } prop_type_t;

typedef struct prop_s {
  const char *name;        /* key */
  prop_type_t type;        /* how the value is parsed */
  int64_t min, max;        /* range for T_INT and T_DURATION */
  const char *def;         /* default, as text; NULL = the operators' own default */
  size_t offset;           /* field in cx_config_t */
  const char *values;      /* T_ENUM: symbols separated by '|' in enum order */
  const char *description; /* for --help and README */
} prop_t;

#define F(field) offsetof(cx_config_t, field)
#define R(rule, field) offsetof(cx_config_t, processor.rules.rule.field)
#define DAY_MS (86400000LL)

static const prop_t properties[] = {
  {"application.id", T_STRING, 0, 0, "cxstream", F(application_id), NULL,
   "Consumer group id and prefix of internal topics"},
  {"input.topics", T_STRING, 0, 0, "cx.interactions", F(input_topics), NULL,
   "Comma-separated topics of InteractionEvents to consume"},
  {"output.alerts.topic", T_STRING, 0, 0, "cx.alerts", F(alerts_topic), NULL,
   "Topic for alerts (Avro, Confluent framing, key = customer_id)"},
  {"output.profiles.topic", T_STRING, 0, 0, "cx.profiles", F(profiles_topic), NULL,
   "Topic for enriched customer profiles (compacted)"},
  {"output.dlq.topic", T_STRING, 0, 0, "cx.dlq", F(dlq_topic), NULL,
   "Dead-letter topic: messages that do not decode, with __cxstream.errors.* headers"},
  {"output.late.topic", T_STRING, 0, 0, "cx.late", F(late_topic), NULL,
   "Topic for events older than the watermark (original bytes and headers)"},
  {"processing.guarantee", T_ENUM, 0, 0, "at_least_once", F(processing_guarantee),
   "at_least_once|exactly_once", "Delivery guarantee: exactly_once commits outputs, state and offsets in one transaction"},
  {"processing.batch.size", T_INT, 1, 1000000, "100000", F(batch_size), NULL,
   "Most messages taken per batch (a batch also ends at commit.interval.ms): at least once stores a batch's offsets once its outputs and state records are acknowledged, and writes a customer changed several times in a batch once"},
  {"num.stream.threads", T_INT, 1, 64, "1", F(num_stream_threads), NULL,
   "Processing threads: run starts that many group members; replay --out spreads partitions over them"},
  {"commit.interval.ms", T_DURATION, 1, DAY_MS, "100", F(commit_interval_ms), NULL,
   "Longest time a batch is held open; exactly once commits one transaction per interval while messages keep coming"},
  {"schema.dir", T_STRING, 0, 0, "schemas", F(schema_dir), NULL,
   "Directory of .avsc files and registry.properties (schema id -> file)"},
  {"schema.registry.url", T_STRING, 0, 0, "", F(schema_registry_url), NULL,
   "Confluent Schema Registry URL (not available yet; use schema.dir)"},
  {"input.format", T_ENUM, 0, 0, "confluent", F(input_format), "confluent|raw",
   "confluent: magic byte, schema id, Avro; raw: Avro binary with input.writer.schema"},
  {"input.writer.schema", T_STRING, 0, 0, "", F(input_writer_schema), NULL,
   "Writer schema file for input.format=raw (default: schema.dir/interaction_event.avsc)"},
  {"input.message.max.bytes", T_INT, 16, 1LL << 30, "1048576", F(message_max_bytes), NULL,
   "Larger messages go to the dead-letter topic"},
  {"input.max.id.bytes", T_INT, 16, 1 << 20, "4096", F(max_id_bytes), NULL,
   "Events whose event_id, customer_id, case_id, topic or agent_id is longer go to the "
   "dead-letter topic"},
  {"input.max.future.ms", T_DURATION, 0, 3650 * DAY_MS, "1d", F(max_future_ms), NULL,
   "Events timed further than this past the wall clock go to the dead-letter topic"},
  {"lateness.ms", T_DURATION, 0, 365 * DAY_MS, NULL, F(processor.lateness_ms), NULL,
   "Allowed lateness: watermark = largest event time seen - lateness"},
  {"idle.timeout.ms", T_DURATION, 0, 365 * DAY_MS, "0", F(idle_timeout_ms), NULL,
   "Advance an idle partition's watermark by wall-clock time (0 = off; not available yet)"},
  {"state.changelog", T_BOOL, 0, 1, "true", F(state_changelog), NULL,
   "run: write changed customers to <application.id>-state (compacted) with each batch and "
   "restore a partition's state from it when the partition is assigned"},
  {"state.max.customers", T_INT, 0, 1LL << 31, "0", F(processor.max_customers), NULL,
   "Customers kept per partition (0 = no bound); a new customer beyond it evicts the least "
   "recently active one, which can change later alerts for that customer"},
  {"state.compact.idle.ms", T_DURATION, 0, 365 * DAY_MS, "0", F(processor.compact_idle_ms), NULL,
   "Keep a customer idle this long (event time) in its compact encoded form, decoded again on "
   "its next event or timer (0 = never): the same outputs in less memory, for an encode and a "
   "decode each time an idle customer comes back"},
  {"metrics.listen", T_STRING, 0, 0, "127.0.0.1:9464", F(metrics_listen), NULL,
   "run: HOST:PORT of the HTTP endpoint serving /metrics (Prometheus), /healthz and /readyz "
   "(empty = off)"},
  {"metrics.liveness.timeout", T_DURATION, 0, 365 * DAY_MS, "2m", F(liveness_timeout_ms), NULL,
   "/healthz fails when a processing thread has not completed a loop for this long (0 = never)"},
  {"log.level", T_ENUM, 0, 0, "info", F(log_level), "error|warn|info|debug",
   "Least severe log level printed on stderr (librdkafka's logs too)"},
  {"log.format", T_ENUM, 0, 0, "json", F(log_format), "json|text",
   "Log lines on stderr: one JSON object per line, or plain text"},
#define RULE(name) offsetof(cx_config_t, processor.rules.name)
#define COMMON(id, field) offsetof(cx_config_t, processor.rules.common[CX_RULE_##id].field)
#define RULE_COMMON(id, name)                                                                  \
  {"rules." #name ".enabled", T_BOOL, 0, 1, NULL, COMMON(id, enabled), NULL,                  \
   "Run the " #name " rule"},                                                                  \
  {"rules." #name ".cooldown", T_DURATION, 0, 365 * DAY_MS, NULL, COMMON(id, cooldown_ms),     \
   NULL, "Quiet time per customer after an alert"},                                           \
  {"rules." #name ".weight", T_DOUBLE, 0, 100, NULL, COMMON(id, weight), NULL,                 \
   "Score points one hit adds to its kind's score (decaying with scores.half_life)"},         \
  {"rules." #name ".realert_on_higher_band", T_BOOL, 0, 1, NULL,                              \
   COMMON(id, realert_on_higher_band), NULL,                                                   \
   "Alert again within the cooldown when the customer's band is higher than at the last alert"}, \
  {"rules." #name ".action", T_TEXT, 0, 0, NULL, COMMON(id, action), NULL,                     \
   "Recommended action for this rule's alerts (empty: actions.<kind>.<band>)"}
#define SCORE(field) offsetof(cx_config_t, processor.scores.field)
#define ACTION(kind, band, name, text)                                                         \
  {"actions." name, T_TEXT, 0, 0, NULL, SCORE(actions[kind][band]), NULL, text}
#define PROFILE(field) offsetof(cx_config_t, processor.profiles.field)

  RULE_COMMON(REPEAT_CONTACT, repeat_contact),
  {"rules.repeat_contact.window", T_DURATION, 1, 365 * DAY_MS, NULL,
   RULE(repeat_contact.window_ms), NULL, "Sliding window (t - window, t]"},
  {"rules.repeat_contact.min_contacts", T_INT, 1, 1000000, NULL,
   RULE(repeat_contact.min_contacts), NULL, "Assisted CONTACT events in the window that fire"},
  RULE_COMMON(LONG_WAIT, long_wait),
  {"rules.long_wait.window", T_DURATION, 1, 365 * DAY_MS, NULL, RULE(long_wait.window_ms), NULL,
   "Sliding window for the summed waits"},
  {"rules.long_wait.single_wait", T_DURATION, 1, 365 * DAY_MS, NULL,
   RULE(long_wait.single_wait_ms), NULL, "One wait at least this long fires"},
  {"rules.long_wait.total_wait", T_DURATION, 1, 365 * DAY_MS, NULL,
   RULE(long_wait.total_wait_ms), NULL, "Summed waits of CONTACT events in the window that fire"},
  RULE_COMMON(ABANDONMENT, abandonment),
  {"rules.abandonment.window", T_DURATION, 1, 365 * DAY_MS, NULL, RULE(abandonment.window_ms),
   NULL, "Sliding window (t - window, t]"},
  {"rules.abandonment.min_abandoned", T_INT, 1, 1000000, NULL, RULE(abandonment.min_abandoned),
   NULL, "ABANDONED contacts in the window that fire"},
  RULE_COMMON(CHANNEL_HOPPING, channel_hopping),
  {"rules.channel_hopping.window", T_DURATION, 1, 365 * DAY_MS, NULL,
   RULE(channel_hopping.window_ms), NULL, "Sliding window (t - window, t]"},
  {"rules.channel_hopping.min_channels", T_INT, 2, CX_CHANNEL__COUNT, NULL,
   RULE(channel_hopping.min_channels), NULL, "Distinct channels in the window that fire"},
  RULE_COMMON(TRANSFER_LOOP, transfer_loop),
  {"rules.transfer_loop.window", T_DURATION, 1, 365 * DAY_MS, NULL,
   RULE(transfer_loop.window_ms), NULL, "How far back transfers of one case count"},
  {"rules.transfer_loop.session_gap", T_DURATION, 1, DAY_MS, NULL,
   RULE(transfer_loop.session_gap_ms), NULL,
   "Without a case id: transfers less than this apart belong to one contact"},
  {"rules.transfer_loop.min_transfers", T_INT, 1, 1000, NULL, RULE(transfer_loop.min_transfers),
   NULL, "Transfers within one contact or case that fire"},
  RULE_COMMON(SELF_SERVICE_FALLOUT, self_service_fallout),
  {"rules.self_service_fallout.window", T_DURATION, 1, 365 * DAY_MS, NULL,
   RULE(self_service_fallout.window_ms), NULL,
   "Failed self-service followed by an assisted contact within this time fires"},
  RULE_COMMON(DIGITAL_FRICTION, digital_friction),
  {"rules.digital_friction.session_gap", T_DURATION, 1, DAY_MS, NULL,
   RULE(digital_friction.session_gap_ms), NULL,
   "Without a session attribute: app/web events less than this apart are one session"},
  {"rules.digital_friction.min_failures", T_INT, 1, 1000, NULL,
   RULE(digital_friction.min_failures), NULL, "ERROR and LOGIN_FAILED events in one session"},
  {"rules.digital_friction.rage_clicks", T_INT, 2, 8, NULL,
   RULE(digital_friction.rage_clicks), NULL, "CLICKs on one element (at most 8) ..."},
  {"rules.digital_friction.rage_window", T_DURATION, 1, 60000, NULL,
   RULE(digital_friction.rage_window_ms), NULL, "... within this time are rage clicks"},
  RULE_COMMON(NEGATIVE_VOICE, negative_voice),
  {"rules.negative_voice.max_sentiment", T_DOUBLE, -1, 1, NULL,
   RULE(negative_voice.max_sentiment), NULL, "Sentiment at or below this fires"},
  {"rules.negative_voice.max_csat", T_INT, 0, 5, NULL, RULE(negative_voice.max_csat), NULL,
   "CSAT at or below this fires"},
  {"rules.negative_voice.max_nps", T_INT, -1, 10, NULL, RULE(negative_voice.max_nps), NULL,
   "NPS at or below this fires (6: detractors)"},
  RULE_COMMON(UNRESOLVED_CASE, unresolved_case),
  {"rules.unresolved_case.sla", T_DURATION, 1, 365 * DAY_MS, NULL, RULE(unresolved_case.sla_ms),
   NULL, "A case still open this long after CASE_OPENED fires (event-time timer)"},
  RULE_COMMON(BROKEN_PROMISE, broken_promise),
  RULE_COMMON(CANCELLATION_INTENT, cancellation_intent),
  RULE_COMMON(ENGAGEMENT_DROP, engagement_drop),
  {"rules.engagement_drop.recent", T_DURATION, DAY_MS, 365 * DAY_MS, NULL,
   RULE(engagement_drop.recent_ms), NULL, "The recent period of digital activity"},
  {"rules.engagement_drop.baseline", T_DURATION, DAY_MS, 365 * DAY_MS, NULL,
   RULE(engagement_drop.baseline_ms), NULL, "The period before it that sets the baseline"},
  {"rules.engagement_drop.max_ratio", T_DOUBLE, 0, 1, NULL, RULE(engagement_drop.max_ratio),
   NULL, "Recent daily rate at or below this share of the baseline daily rate fires"},
  {"rules.engagement_drop.min_baseline_per_day", T_DOUBLE, 0, 1000000, NULL,
   RULE(engagement_drop.min_baseline_per_day), NULL,
   "Only customers whose baseline has at least this many digital events a day"},
  RULE_COMMON(ESCALATION, escalation),
  RULE_COMMON(PAYMENT_FRICTION, payment_friction),
  {"rules.payment_friction.window", T_DURATION, 1, 365 * DAY_MS, NULL,
   RULE(payment_friction.window_ms), NULL, "Sliding window (t - window, t]"},
  {"rules.payment_friction.min_failures", T_INT, 1, 8, NULL,
   RULE(payment_friction.min_failures), NULL,
   "Failed payments and disputes in the window (the last 8 are kept)"},
  RULE_COMMON(FRUSTRATION_THEN_INTENT, frustration_then_intent),
  {"rules.frustration_then_intent.window", T_DURATION, 1, 365 * DAY_MS, NULL,
   RULE(frustration_then_intent.window_ms), NULL,
   "Cancellation intent this soon after a frustration alert fires"},
  {"scores.half_life", T_DURATION, 60000, 365 * DAY_MS, NULL, SCORE(half_life_ms), NULL,
   "Score contributions halve in this much event time"},
  {"scores.band.medium", T_DOUBLE, 0, 100, NULL, SCORE(band_medium), NULL,
   "Score from which the band is medium"},
  {"scores.band.high", T_DOUBLE, 0, 100, NULL, SCORE(band_high), NULL,
   "Score from which the band is high"},
  {"scores.band.critical", T_DOUBLE, 0, 100, NULL, SCORE(band_critical), NULL,
   "Score from which the band is critical"},
  ACTION(0, 0, "frustration.low", "Action for frustration alerts in band low"),
  ACTION(0, 1, "frustration.medium", "... in band medium"),
  ACTION(0, 2, "frustration.high", "... in band high"),
  ACTION(0, 3, "frustration.critical", "... in band critical"),
  ACTION(1, 0, "churn.low", "Action for churn alerts in band low"),
  ACTION(1, 1, "churn.medium", "... in band medium"),
  ACTION(1, 2, "churn.high", "... in band high"),
  ACTION(1, 3, "churn.critical", "... in band critical"),
  {"profiles.enabled", T_BOOL, 0, 1, NULL, PROFILE(enabled), NULL,
   "Emit enriched customer profiles"},
  {"profiles.interval", T_DURATION, 0, 365 * DAY_MS, NULL, PROFILE(interval_ms), NULL,
   "At most one profile per customer per this much event time"},
  {"profiles.min_score_change", T_DOUBLE, 0, 100, NULL, PROFILE(min_score_change), NULL,
   "A score change at least this large is material"},
  {"profiles.consent.default", T_BOOL, 0, 1, NULL, PROFILE(consent_default), NULL,
   "Profile customers who never sent a CONSENT event (false: only after profiling_granted)"},
  {"profiles.pseudonymize.key", T_STRING, 0, 0, "", PROFILE(pseudonymize_key), NULL,
   "Secret HMAC-SHA256 key: profiles carry 32 hex digits of HMAC(key, customer_id) instead of "
   "the id, in the value and the Kafka key (empty = off; never logged; use ${ENV})"},
};

#define PROPERTY_COUNT (sizeof(properties) / sizeof(properties[0]))

cx_err_t cx_config_parse_duration(const char *text, int64_t *ms) {
  static const struct { const char *suffix; int64_t factor; } units[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"min", 60000}, {"h", 3600000},
    {"d", 86400000}, {"", 1},
  };
  errno = 0;
  char *end = NULL;
  while (isspace((unsigned char)*text))
    text++;
  if (!isdigit((unsigned char)*text))
    return CX_ERR_INVALID_ARG;
  long long number = strtoll(text, &end, 10);
  if (errno)
    return CX_ERR_INVALID_ARG;
  while (isspace((unsigned char)*end))
    end++;
  for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
    if (strcmp(end, units[i].suffix) == 0) {
      if (number > INT64_MAX / units[i].factor)
        return CX_ERR_INVALID_ARG;
      *ms = number * units[i].factor;
      return CX_OK;
    }
  }
  return CX_ERR_INVALID_ARG;
}

static char **string_field(cx_config_t *config, const prop_t *prop) {
  return (char **)((char *)config + prop->offset);
}

static cx_err_t set_prop(cx_config_t *config, const prop_t *prop, const char *value,
                         char *errstr, size_t errstr_size) {
  char *field = (char *)config + prop->offset;
  switch (prop->type) {
  case T_STRING: {
    char *copy = strdup(value);
    if (!copy)
      return CX_ERR_NOMEM;
    free(*string_field(config, prop));
    *string_field(config, prop) = copy;
    return CX_OK;
  }
  case T_INT: {
    char *end = NULL;
    errno = 0;
    long long number = strtoll(value, &end, 10);
    if (errno || end == value || *end || number < prop->min || number > prop->max) {
      snprintf(errstr, errstr_size, "%s: '%s': expected an integer from %lld to %lld",
               prop->name, value, (long long)prop->min, (long long)prop->max);
      return CX_ERR_CONFIG;
    }
    *(int64_t *)field = number;
    return CX_OK;
  }
  case T_DURATION: {
    int64_t ms = 0;
    if (cx_config_parse_duration(value, &ms) || ms < prop->min || ms > prop->max) {
      snprintf(errstr, errstr_size,
               "%s: '%s': expected a duration such as 24h, 10m, 30s or 500ms "
               "(plain numbers are milliseconds) from %lldms to %lldms",
               prop->name, value, (long long)prop->min, (long long)prop->max);
      return CX_ERR_CONFIG;
    }
    *(int64_t *)field = ms;
    return CX_OK;
  }
  case T_BOOL:
    if (!strcmp(value, "true") || !strcmp(value, "1")) {
      *(bool *)field = true;
    } else if (!strcmp(value, "false") || !strcmp(value, "0")) {
      *(bool *)field = false;
    } else {
      snprintf(errstr, errstr_size, "%s: '%s': expected true or false", prop->name, value);
      return CX_ERR_CONFIG;
    }
    return CX_OK;
  case T_DOUBLE: {
    char *end = NULL;
    errno = 0;
    double number = strtod(value, &end);
    if (errno || end == value || *end || !(number >= (double)prop->min) ||
        !(number <= (double)prop->max)) {
      snprintf(errstr, errstr_size, "%s: '%s': expected a number from %lld to %lld", prop->name,
               value, (long long)prop->min, (long long)prop->max);
      return CX_ERR_CONFIG;
    }
    *(double *)field = number;
    return CX_OK;
  }
  case T_TEXT:
    if (strlen(value) >= CX_ACTION_MAX) {
      snprintf(errstr, errstr_size, "%s: '%.40s...': at most %d characters", prop->name, value,
               CX_ACTION_MAX - 1);
      return CX_ERR_CONFIG;
    }
    strcpy(field, value);
    return CX_OK;
  case T_ENUM: {
    const char *symbol = prop->values;
    size_t len = strlen(value);
    for (int index = 0; symbol; index++) {
      const char *bar = strchr(symbol, '|');
      size_t symbol_len = bar ? (size_t)(bar - symbol) : strlen(symbol);
      if (symbol_len == len && !strncmp(symbol, value, len)) {
        *(int *)field = index;
        return CX_OK;
      }
      symbol = bar ? bar + 1 : NULL;
    }
    snprintf(errstr, errstr_size, "%s: '%s': expected one of %s", prop->name, value,
             prop->values);
    return CX_ERR_CONFIG;
  }
  }
  return CX_ERR_CONFIG;
}

cx_config_t *cx_config_new(void) {
  cx_config_t *config = calloc(1, sizeof(*config));
  if (!config)
    return NULL;
  cx_processor_config_default(&config->processor);
  char errstr[256];
  for (size_t i = 0; i < PROPERTY_COUNT; i++) {
    if (properties[i].def &&
        set_prop(config, &properties[i], properties[i].def, errstr, sizeof(errstr))) {
      cx_config_destroy(config);
      return NULL;
    }
  }
  return config;
}

void cx_config_destroy(cx_config_t *config) {
  if (!config)
    return;
  for (size_t i = 0; i < PROPERTY_COUNT; i++)
    if (properties[i].type == T_STRING)
      free(*string_field(config, &properties[i]));
  for (size_t i = 0; i < config->kafka_count; i++) {
    free(config->kafka[i].name);
    free(config->kafka[i].value);
  }
  free(config->kafka);
  free(config);
}

/* Edit distance, to suggest the closest known key for a typo. */
static size_t distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64)
    return SIZE_MAX;
  size_t row[65];
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t above = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t best = diagonal + cost;
      if (row[j] + 1 < best)
        best = row[j] + 1;
      if (row[j - 1] + 1 < best)
        best = row[j - 1] + 1;
      row[j] = best;
      diagonal = above;
    }
  }
  return row[lb];
}

static cx_err_t set_kafka(cx_config_t *config, const char *name, const char *value) {
  for (size_t i = 0; i < config->kafka_count; i++) {
    if (!strcmp(config->kafka[i].name, name)) {
      char *copy = strdup(value);
      if (!copy)
        return CX_ERR_NOMEM;
      free(config->kafka[i].value);
      config->kafka[i].value = copy;
      return CX_OK;
    }
  }
  cx_kafka_prop_t *grown = realloc(config->kafka, (config->kafka_count + 1) * sizeof(*grown));
  if (!grown)
    return CX_ERR_NOMEM;
  config->kafka = grown;
  grown[config->kafka_count].name = strdup(name);
  grown[config->kafka_count].value = strdup(value);
  if (!grown[config->kafka_count].name || !grown[config->kafka_count].value) {
    free(grown[config->kafka_count].name);
    free(grown[config->kafka_count].value);
    return CX_ERR_NOMEM;
  }
  config->kafka_count++;
  return CX_OK;
}

cx_err_t cx_config_set(cx_config_t *config, const char *name, const char *value,
                       char *errstr, size_t errstr_size) {
  if (!strncmp(name, "kafka.", 6)) {
    if (!name[6]) {
      snprintf(errstr, errstr_size, "kafka.: expected a librdkafka property after 'kafka.'");
      return CX_ERR_CONFIG;
    }
    return set_kafka(config, name + 6, value);
  }
  const prop_t *closest = NULL;
  size_t best = SIZE_MAX;
  for (size_t i = 0; i < PROPERTY_COUNT; i++) {
    if (!strcmp(properties[i].name, name))
      return set_prop(config, &properties[i], value, errstr, errstr_size);
    size_t d = distance(name, properties[i].name);
    if (d < best) {
      best = d;
      closest = &properties[i];
    }
  }
  if (closest && best <= 4)
    snprintf(errstr, errstr_size, "unknown configuration key '%s' (did you mean '%s'?)", name,
             closest->name);
  else
    snprintf(errstr, errstr_size,
             "unknown configuration key '%s' (librdkafka properties take the prefix "
             "'kafka.'; see cxstream --help)", name);
  return CX_ERR_CONFIG;
}

static char *trim(char *text) {
  while (isspace((unsigned char)*text))
    text++;
  char *end = text + strlen(text);
  while (end > text && isspace((unsigned char)end[-1]))
    *--end = '\0';
  return text;
}

/* Replaces ${NAME} with the environment variable NAME (unset is an error)
 * and ${NAME:-TEXT} with it or, when unset or empty, TEXT. */
static cx_err_t substitute_env(const char *in, char *out, size_t out_size, char *errstr,
                               size_t errstr_size) {
  size_t used = 0;
  while (*in) {
    if (in[0] == '$' && in[1] == '{') {
      const char *close = strchr(in + 2, '}');
      if (!close) {
        snprintf(errstr, errstr_size, "'${' without a closing '}'");
        return CX_ERR_CONFIG;
      }
      char name[256];
      size_t len = (size_t)(close - in - 2);
      if (len == 0 || len >= sizeof(name)) {
        snprintf(errstr, errstr_size, "bad environment variable reference");
        return CX_ERR_CONFIG;
      }
      memcpy(name, in + 2, len);
      name[len] = '\0';
      char *fallback = strstr(name, ":-");
      if (fallback) {
        *fallback = '\0';
        fallback += 2;
      }
      const char *value = getenv(name);
      if (fallback && (!value || !*value))
        value = fallback;
      if (!value) {
        snprintf(errstr, errstr_size, "environment variable %.64s is not set (or write "
                 "${%.64s:-DEFAULT})", name, name);
        return CX_ERR_CONFIG;
      }
      size_t value_len = strlen(value);
      if (used + value_len >= out_size)
        goto too_long;
      memcpy(out + used, value, value_len);
      used += value_len;
      in = close + 1;
      continue;
    }
    if (used + 1 >= out_size)
      goto too_long;
    out[used++] = *in++;
  }
  out[used] = '\0';
  return CX_OK;
too_long:
  snprintf(errstr, errstr_size, "value too long");
  return CX_ERR_CONFIG;
}

cx_err_t cx_config_set_pair(cx_config_t *config, const char *pair, char *errstr,
                            size_t errstr_size) {
  const char *eq = strchr(pair, '=');
  if (!eq || eq == pair) {
    snprintf(errstr, errstr_size, "'%s': expected key=value", pair);
    return CX_ERR_CONFIG;
  }
  char name[256];
  size_t len = (size_t)(eq - pair);
  if (len >= sizeof(name)) {
    snprintf(errstr, errstr_size, "'%.40s...': key too long", pair);
    return CX_ERR_CONFIG;
  }
  memcpy(name, pair, len);
  name[len] = '\0';
  return cx_config_set(config, trim(name), eq + 1, errstr, errstr_size);
}

cx_err_t cx_config_load_file(cx_config_t *config, const char *path, char *errstr,
                             size_t errstr_size) {
  FILE *fp = fopen(path, "r");
  if (!fp) {
    snprintf(errstr, errstr_size, "cannot open config file %s: %s", path, strerror(errno));
    return CX_ERR_CONFIG;
  }
  char line[8192], value[8192], inner[512];
  int number = 0;
  cx_err_t err = CX_OK;
  while (fgets(line, sizeof(line), fp)) {
    number++;
    char *text = trim(line);
    if (!*text || *text == '#' || *text == '!')
      continue;
    char *sep = strpbrk(text, "=:");
    if (!sep) {
      snprintf(errstr, errstr_size, "%s:%d: expected key=value, got '%.80s'", path, number, text);
      err = CX_ERR_CONFIG;
      break;
    }
    *sep = '\0';
    char *name = trim(text);
    if ((err = substitute_env(trim(sep + 1), value, sizeof(value), inner, sizeof(inner)))) {
      snprintf(errstr, errstr_size, "%s:%d: %s: %s", path, number, name, inner);
      break;
    }
    if ((err = cx_config_set(config, name, value, inner, sizeof(inner)))) {
      snprintf(errstr, errstr_size, "%s:%d: %s", path, number, inner);
      break;
    }
  }
  fclose(fp);
  return err;
}

cx_err_t cx_config_validate(const cx_config_t *config, char *errstr, size_t errstr_size) {
  if (config->processing_guarantee == CX_GUARANTEE_EXACTLY_ONCE && !config->state_changelog) {
    snprintf(errstr, errstr_size,
             "processing.guarantee=exactly_once needs state.changelog=true: the state must "
             "commit with the offsets");
    return CX_ERR_CONFIG;
  }
  if (config->schema_registry_url[0]) {
    snprintf(errstr, errstr_size,
             "schema.registry.url is not available in this version; put the writer "
             "schemas in schema.dir and list their ids in schema.dir/registry.properties");
    return CX_ERR_CONFIG;
  }
  if (config->idle_timeout_ms != 0) {
    snprintf(errstr, errstr_size, "idle.timeout.ms is not available in this version; leave it 0");
    return CX_ERR_CONFIG;
  }
  const int64_t day_ms = 86400000;
  int64_t days = config->processor.rules.engagement_drop.recent_ms / day_ms +
                 config->processor.rules.engagement_drop.baseline_ms / day_ms;
  if (days > CX_WINDOW_DAYS) {
    snprintf(errstr, errstr_size,
             "rules.engagement_drop.recent + rules.engagement_drop.baseline: %lld days, at "
             "most %d whole days are kept per customer", (long long)days, CX_WINDOW_DAYS);
    return CX_ERR_CONFIG;
  }
  char host[256];
  int port;
  if (config->metrics_listen[0] &&
      cx_http_parse_listen(config->metrics_listen, host, sizeof(host), &port)) {
    snprintf(errstr, errstr_size,
             "metrics.listen: '%s': expected HOST:PORT such as 127.0.0.1:9464 or 0.0.0.0:9464 "
             "(port 0 to 65535), or empty for no endpoint", config->metrics_listen);
    return CX_ERR_CONFIG;
  }
  if (!config->application_id[0] || !config->input_topics[0]) {
    snprintf(errstr, errstr_size, "application.id and input.topics must not be empty");
    return CX_ERR_CONFIG;
  }
  return CX_OK;
}

cx_err_t cx_config_build(const char *file, const char *const *pairs, size_t pair_count,
                         cx_config_t **out, char *errstr, size_t errstr_size) {
  char inner[512];
  cx_config_t *config = cx_config_new();
  if (!config)
    return CX_ERR_NOMEM;
  cx_err_t err = file ? cx_config_load_file(config, file, errstr, errstr_size) : CX_OK;
  for (size_t i = 0; !err && i < pair_count; i++) {
    if ((err = cx_config_set_pair(config, pairs[i], inner, sizeof(inner))))
      snprintf(errstr, errstr_size, "-X %s", inner);
  }
  if (!err)
    err = cx_config_validate(config, errstr, errstr_size);
  if (err) {
    cx_config_destroy(config);
    return err;
  }
  *out = config;
  return CX_OK;
}

const char *cx_config_kafka_get(const cx_config_t *config, const char *name) {
  for (size_t i = 0; i < config->kafka_count; i++)
    if (!strcmp(config->kafka[i].name, name))
      return config->kafka[i].value;
  return NULL;
}

/* A field's value as config text ("24h", "0.25", "true"). */
static void format_value(const cx_config_t *config, const prop_t *prop, char *out, size_t size) {
  const char *field = (const char *)config + prop->offset;
  switch (prop->type) {
  case T_STRING: snprintf(out, size, "%s", *(char *const *)field); break;
  case T_TEXT: snprintf(out, size, "%s", field); break;
  case T_INT: snprintf(out, size, "%lld", (long long)*(const int64_t *)field); break;
  case T_BOOL: snprintf(out, size, "%s", *(const bool *)field ? "true" : "false"); break;
  case T_DOUBLE: snprintf(out, size, "%g", *(const double *)field); break;
  case T_DURATION: {
    int64_t ms = *(const int64_t *)field;
    static const struct { int64_t factor; const char *unit; } units[] = {
      {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
      if (ms && ms % units[u].factor == 0) {
        snprintf(out, size, "%lld%s", (long long)(ms / units[u].factor), units[u].unit);
        return;
      }
    }
    snprintf(out, size, "%lldms", (long long)ms);
    break;
  }
  case T_ENUM: {
    int index = *(const int *)field;
    const char *symbol = prop->values;
    for (int k = 0; k < index && symbol; k++) {
      symbol = strchr(symbol, '|');
      symbol = symbol ? symbol + 1 : NULL;
    }
    size_t len = symbol ? strcspn(symbol, "|") : 0;
    snprintf(out, size, "%.*s", (int)len, symbol ? symbol : "");
    break;
  }
  }
}

void cx_config_print_help(FILE *out) {
  cx_config_t *defaults = cx_config_new();
  fprintf(out, "Configuration keys (-X key=value or a properties file; kafka.* go to librdkafka):\n");
  for (size_t i = 0; i < PROPERTY_COUNT && defaults; i++) {
    const prop_t *prop = &properties[i];
    char value[128];
    format_value(defaults, prop, value, sizeof(value));
    fprintf(out, "  %-42s %s", prop->name, prop->description);
    if (prop->type == T_ENUM)
      fprintf(out, " (%s)", prop->values);
    fprintf(out, " [default: %s]\n", value[0] ? value : "\"\"");
  }
  cx_config_destroy(defaults);
}

bool cx_config_is_secret(const char *name) {
  static const char *const markers[] = {
    "password", "secret", "pseudonymize.key", "ssl.key.pem", "ssl_key", "ssl.keystore",
    "sasl.oauthbearer.config", "token", "credential", "private",
  };
  for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
    if (strstr(name, markers[i]))
      return true;
  return false;
}

void cx_config_dump(const cx_config_t *config, FILE *out) {
  char value[1024];
  for (size_t i = 0; i < PROPERTY_COUNT; i++) {
    const prop_t *prop = &properties[i];
    format_value(config, prop, value, sizeof(value));
    fprintf(out, "%s=%s\n", prop->name,
            cx_config_is_secret(prop->name) && value[0] ? "********" : value);
  }
  for (size_t i = 0; i < config->kafka_count; i++) {
    char name[300];
    snprintf(name, sizeof(name), "kafka.%s", config->kafka[i].name);
    fprintf(out, "%s=%s\n", name,
            cx_config_is_secret(name) && config->kafka[i].value[0] ? "********"
                                                                   : config->kafka[i].value);
  }
}

void cx_config_register_secrets(const cx_config_t *config) {
  char value[1024];
  for (size_t i = 0; i < PROPERTY_COUNT; i++) {
    if (!cx_config_is_secret(properties[i].name))
      continue;
    format_value(config, &properties[i], value, sizeof(value));
    cx_log_add_secret(value);
  }
  for (size_t i = 0; i < config->kafka_count; i++) {
    char name[300];
    snprintf(name, sizeof(name), "kafka.%s", config->kafka[i].name);
    if (cx_config_is_secret(name))
      cx_log_add_secret(config->kafka[i].value);
  }
}

void cx_config_each_key(void (*visit)(const char *name, const char *default_value,
                                      const char *description, const char *values,
                                      void *opaque),
                        void *opaque) {
  cx_config_t *defaults = cx_config_new();
  for (size_t i = 0; i < PROPERTY_COUNT && defaults; i++) {
    char value[128];
    format_value(defaults, &properties[i], value, sizeof(value));
    visit(properties[i].name, value, properties[i].description,
          properties[i].type == T_ENUM ? properties[i].values : NULL, opaque);
  }
  cx_config_destroy(defaults);
}
