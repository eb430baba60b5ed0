/* The configuration table and its parsers (see config.h). Each property is
 * one line of cx_properties[]: the same line parses, validates, sets the
 * default and prints the help, so documentation and code cannot drift. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_STRING, T_INT, T_DURATION, T_BOOL, T_ENUM } prop_type_t;

typedef struct prop_s {
  const char *name;        /* key */
  prop_type_t type;        /* how the value is parsed */
  int64_t min, max;        /* range for T_INT and T_DURATION */
  const char *def;         /* default, as text */
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
   "at_least_once|exactly_once", "Delivery guarantee (exactly_once is not available yet)"},
  {"processing.batch.size", T_INT, 1, 1000000, "10000", F(batch_size), NULL,
   "Messages taken per batch before outputs are flushed and offsets stored"},
  {"num.stream.threads", T_INT, 1, 1, "1", F(num_stream_threads), NULL,
   "Processing threads (this version runs one)"},
  {"commit.interval.ms", T_DURATION, 1, DAY_MS, "100", F(commit_interval_ms), NULL,
   "Longest time a batch is held open before its outputs are flushed"},
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
  {"input.max.future.ms", T_DURATION, 0, 3650 * DAY_MS, "1d", F(max_future_ms), NULL,
   "Events timed further than this past the wall clock go to the dead-letter topic"},
  {"lateness.ms", T_DURATION, 0, 365 * DAY_MS, "60s", F(processor.lateness_ms), NULL,
   "Allowed lateness: watermark = largest event time seen - lateness"},
  {"idle.timeout.ms", T_DURATION, 0, 365 * DAY_MS, "0", F(idle_timeout_ms), NULL,
   "Advance an idle partition's watermark by wall-clock time (0 = off; not available yet)"},
  {"metrics.listen", T_STRING, 0, 0, "127.0.0.1:9464", F(metrics_listen), NULL,
   "Address of the Prometheus endpoint (not served yet)"},
  {"log.level", T_ENUM, 0, 0, "info", F(log_level), "error|warn|info|debug",
   "Least severe log level printed on stderr"},
  {"rules.repeat_contact.enabled", T_BOOL, 0, 1, "true", R(repeat_contact, enabled), NULL,
   "Run the repeat_contact rule"},
  {"rules.repeat_contact.window", T_DURATION, 1, 365 * DAY_MS, "24h",
   R(repeat_contact, window_ms), NULL, "Sliding window (t - window, t]"},
  {"rules.repeat_contact.cooldown", T_DURATION, 0, 365 * DAY_MS, "24h",
   R(repeat_contact, cooldown_ms), NULL, "Quiet time per customer after an alert"},
  {"rules.repeat_contact.min_contacts", T_INT, 1, 1000000, "3",
   R(repeat_contact, min_contacts), NULL, "Assisted CONTACT events in the window that fire"},
  {"rules.long_wait.enabled", T_BOOL, 0, 1, "true", R(long_wait, enabled), NULL,
   "Run the long_wait rule"},
  {"rules.long_wait.window", T_DURATION, 1, 365 * DAY_MS, "24h", R(long_wait, window_ms),
   NULL, "Sliding window for the summed waits"},
  {"rules.long_wait.cooldown", T_DURATION, 0, 365 * DAY_MS, "24h",
   R(long_wait, cooldown_ms), NULL, "Quiet time per customer after an alert"},
  {"rules.long_wait.single_wait", T_DURATION, 1, 365 * DAY_MS, "10m",
   R(long_wait, single_wait_ms), NULL, "One wait at least this long fires"},
  {"rules.long_wait.total_wait", T_DURATION, 1, 365 * DAY_MS, "30m",
   R(long_wait, total_wait_ms), NULL, "Summed waits of CONTACT events in the window that fire"},
  {"rules.abandonment.enabled", T_BOOL, 0, 1, "true", R(abandonment, enabled), NULL,
   "Run the abandonment rule"},
  {"rules.abandonment.window", T_DURATION, 1, 365 * DAY_MS, "24h",
   R(abandonment, window_ms), NULL, "Sliding window (t - window, t]"},
  {"rules.abandonment.cooldown", T_DURATION, 0, 365 * DAY_MS, "24h",
   R(abandonment, cooldown_ms), NULL, "Quiet time per customer after an alert"},
  {"rules.abandonment.min_abandoned", T_INT, 1, 1000000, "2",
   R(abandonment, min_abandoned), NULL, "ABANDONED contacts in the window that fire"},
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
    if (set_prop(config, &properties[i], properties[i].def, errstr, sizeof(errstr))) {
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

/* Replaces ${NAME} with the environment variable NAME; unset is an error. */
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
      const char *value = getenv(name);
      if (!value) {
        snprintf(errstr, errstr_size, "environment variable %s is not set", name);
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
  if (config->processing_guarantee == CX_GUARANTEE_EXACTLY_ONCE) {
    snprintf(errstr, errstr_size,
             "processing.guarantee=exactly_once is not available in this version; "
             "use at_least_once");
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
  if (!config->application_id[0] || !config->input_topics[0]) {
    snprintf(errstr, errstr_size, "application.id and input.topics must not be empty");
    return CX_ERR_CONFIG;
  }
  return CX_OK;
}

const char *cx_config_kafka_get(const cx_config_t *config, const char *name) {
  for (size_t i = 0; i < config->kafka_count; i++)
    if (!strcmp(config->kafka[i].name, name))
      return config->kafka[i].value;
  return NULL;
}

void cx_config_print_help(FILE *out) {
  fprintf(out, "Configuration keys (-X key=value or a properties file; kafka.* go to librdkafka):\n");
  for (size_t i = 0; i < PROPERTY_COUNT; i++) {
    const prop_t *prop = &properties[i];
    fprintf(out, "  %-36s %s", prop->name, prop->description);
    if (prop->type == T_ENUM)
      fprintf(out, " (%s)", prop->values);
    fprintf(out, " [default: %s]\n", prop->def[0] ? prop->def : "\"\"");
  }
}
