/* The hand-written Avro writers of alerts and profiles (stream/avro_out.c)
 * against Avro-C's generic encoding of the same values: byte for byte on
 * many random alerts and profiles (unicode, empty and long strings, every
 * optional field null and set, empty and full arrays); the codec uses them
 * for the shipped schemas, and falls back to Avro-C for a schema of another
 * layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../stream/avro_out.h"
#include "../stream/codec.h"

/* A small deterministic generator (xorshift64*). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ULL;
}

static int64_t rnd_long(void) {
  switch (rnd() % 6) {
  case 0: return 0;
  case 1: return INT64_MAX;
  case 2: return INT64_MIN;
  case 3: return -(int64_t)(rnd() % 1000);
  case 4: return (int64_t)(rnd() % 2000000000000000ULL);
  default: return (int64_t)rnd();
  }
}

static int32_t rnd_int(void) {
  switch (rnd() % 4) {
  case 0: return 0;
  case 1: return INT32_MAX;
  case 2: return INT32_MIN;
  default: return (int32_t)(uint32_t)rnd();
  }
}

/* Strings live in a pool for the duration of one comparison. */
static char pool[1 << 20];
static size_t pool_len;

/* An empty, ASCII, multi-byte UTF-8, or long (up to 5000 bytes) string. */
static cx_str_t rnd_str(void) {
  static const char *const pieces[] = {"a", "Z", "0", " ", "\xc3\xa9", "\xe2\x82\xac",
                                       "\xf0\x9f\x98\x80", "\xe4\xb8\xad", "\"", "\\", "\n"};
  size_t len;
  switch (rnd() % 5) {
  case 0: len = 0; break;
  case 1: len = 5000; break;
  default: len = rnd() % 64; break;
  }
  char *start = pool + pool_len;
  size_t used = 0;
  while (used < len) {
    const char *piece = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
    size_t n = strlen(piece);
    if (pool_len + used + n + 1 >= sizeof(pool))
      break;
    memcpy(start + used, piece, n);
    used += n;
  }
  start[used] = '\0';
  pool_len += used + 1;
  return (cx_str_t){start, used};
}

static const char *rnd_cstr(void) {
  return rnd_str().ptr;
}

static const char *rnd_optional(void) {
  return rnd() % 3 ? rnd_cstr() : NULL;
}

static void random_alert(cx_alert_t *a) {
  memset(a, 0, sizeof(*a));
  pool_len = 0;
  cx_str_t id = rnd_str();
  snprintf(a->alert_id, sizeof(a->alert_id), "%.*s", (int)id.len, id.ptr);
  a->customer_id = rnd_str();
  a->rule = rnd_cstr();
  a->kind = (cx_rule_kind_t)(rnd() % 2);
  a->severity = (cx_severity_t)(rnd() % 4);
  a->score = rnd_int();
  a->trigger_event_id = rnd_str();
  a->event_time_ms = rnd_long();
  a->window_start_ms = rnd_long();
  a->window_end_ms = rnd_long();
  a->reason_count = rnd() % (CX_ALERT_MAX_REASONS + 1);
  for (size_t i = 0; i < a->reason_count; i++) {
    a->reasons[i].code = rnd_cstr();
    a->reasons[i].value = rnd_long();
    a->reasons[i].weight = rnd() % 4 ? (double)(rnd() % 1000) / 999.0 : -0.0;
  }
  a->evidence_count = rnd() % (CX_ALERT_MAX_EVIDENCE + 1);
  for (size_t i = 0; i < a->evidence_count; i++)
    a->evidence[i] = rnd_str();
  a->recommended_action = rnd() % 4 ? rnd_cstr() : NULL;
  a->action_channel = rnd_optional();
}

static void random_profile(cx_profile_t *p) {
  memset(p, 0, sizeof(*p));
  pool_len = 0;
  p->customer_id = rnd_str();
  p->updated_at_ms = rnd_long();
  p->first_seen_ms = rnd_long();
  p->events_total = rnd_long();
  p->frustration_score = rnd_int();
  p->frustration_band = (cx_severity_t)(rnd() % 4);
  p->churn_score = rnd_int();
  p->churn_band = (cx_severity_t)(rnd() % 4);
  p->reason_count = rnd() % (CX_PROFILE_MAX_REASONS + 1);
  for (size_t i = 0; i < p->reason_count; i++) {
    p->reasons[i].code = rnd_cstr();
    p->reasons[i].kind = (cx_rule_kind_t)(rnd() % 2);
    p->reasons[i].value = rnd_long();
    p->reasons[i].weight = (double)(rnd() % 1000) / 7.0;
  }
  p->contacts_24h = rnd_int();
  p->abandoned_24h = rnd_int();
  p->wait_ms_24h = rnd_long();
  p->channels_48h_count = rnd() % (CX_CHANNEL__COUNT + 1);
  for (size_t i = 0; i < p->channels_48h_count; i++)
    p->channels_48h[i] = rnd_cstr();
  p->contacts_7d = rnd_int();
  p->contacts_30d = rnd_int();
  p->channel_count = rnd() % (CX_CHANNEL__COUNT + 1);
  for (size_t i = 0; i < p->channel_count; i++) {
    p->channels[i].channel = rnd_cstr();
    p->channels[i].contacts_7d = rnd_int();
    p->channels[i].contacts_30d = rnd_int();
  }
  p->preferred_channel = rnd_optional();
  p->last_contact_channel = rnd_optional();
  p->last_contact_ms = rnd_long();
  p->open_cases = rnd_int();
  p->repeat_contacts_7d = rnd_int();
  p->has_avg_wait = rnd() % 2;
  p->avg_wait_ms_30d = rnd_long();
  p->has_sentiment = rnd() % 2;
  p->sentiment = (float)((double)(rnd() % 2001) / 1000.0 - 1.0);
  p->sentiment_at_ms = rnd_long();
  p->has_csat = rnd() % 2;
  p->csat = rnd_int();
  p->csat_at_ms = rnd_long();
  p->has_nps = rnd() % 2;
  p->nps = rnd_int();
  p->nps_at_ms = rnd_long();
  p->open_alert_count = rnd() % (CX_RULE__COUNT + 1);
  for (size_t i = 0; i < p->open_alert_count; i++)
    p->open_alerts[i] = rnd_cstr();
  p->consent_granted = rnd() % 2;
}

typedef struct fixture_s {
  cx_config_t *config;
  cx_codec_t *codec;
  cx_buf_t hand, generic;
} fixture_t;

static int setup(void **state) {
  static fixture_t f;
  memset(&f, 0, sizeof(f));
  char errstr[512];
  f.config = cx_config_new();
  if (cx_codec_new(f.config, &f.codec, errstr, sizeof(errstr))) {
    fprintf(stderr, "%s\n", errstr);
    return -1;
  }
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture_t *f = *state;
  cx_codec_use_avro_c(f->codec, false);
  cx_codec_destroy(f->codec);
  cx_config_destroy(f->config);
  cx_buf_free(&f->hand);
  cx_buf_free(&f->generic);
  return 0;
}

static void assert_same_bytes(const cx_buf_t *hand, const cx_buf_t *generic, int round) {
  if (hand->len != generic->len || memcmp(hand->data, generic->data, hand->len)) {
    fprintf(stderr, "round %d: %zu bytes by hand, %zu by Avro-C\n", round, hand->len,
            generic->len);
    fail();
  }
}

static void test_the_shipped_schemas_are_written_by_hand(void **state) {
  fixture_t *f = *state;
  assert_true(cx_codec_writes_by_hand(f->codec));
  cx_codec_use_avro_c(f->codec, true);
  assert_false(cx_codec_writes_by_hand(f->codec));
  cx_codec_use_avro_c(f->codec, false);
  assert_true(cx_codec_writes_by_hand(f->codec));
}

static void test_random_alerts_match_avro_c(void **state) {
  fixture_t *f = *state;
  char errstr[256];
  static cx_alert_t alert;
  for (int round = 0; round < 3000; round++) {
    random_alert(&alert);
    int64_t emitted = round % 3 ? (int64_t)(rnd() >> (rnd() % 64)) : -1;
    cx_codec_use_avro_c(f->codec, false);
    assert_int_equal(cx_codec_encode_alert(f->codec, &alert, emitted, &f->hand, errstr,
                                           sizeof(errstr)), CX_OK);
    cx_codec_use_avro_c(f->codec, true);
    assert_int_equal(cx_codec_encode_alert(f->codec, &alert, emitted, &f->generic, errstr,
                                           sizeof(errstr)), CX_OK);
    assert_same_bytes(&f->hand, &f->generic, round);
  }
}

static void test_random_profiles_match_avro_c(void **state) {
  fixture_t *f = *state;
  char errstr[256];
  static cx_profile_t profile;
  for (int round = 0; round < 3000; round++) {
    random_profile(&profile);
    int64_t emitted = round % 3 ? (int64_t)(rnd() >> 1) : -1;
    cx_codec_use_avro_c(f->codec, false);
    assert_int_equal(cx_codec_encode_profile(f->codec, &profile, emitted, &f->hand, errstr,
                                             sizeof(errstr)), CX_OK);
    cx_codec_use_avro_c(f->codec, true);
    assert_int_equal(cx_codec_encode_profile(f->codec, &profile, emitted, &f->generic, errstr,
                                             sizeof(errstr)), CX_OK);
    assert_same_bytes(&f->hand, &f->generic, round);
  }
}

/* Every optional field null, every array empty, every string empty; then
 * every optional field set. */
static void test_all_null_and_all_set_match_avro_c(void **state) {
  fixture_t *f = *state;
  char errstr[256];
  static cx_profile_t profile;
  static cx_alert_t alert;
  for (int set = 0; set < 2; set++) {
    memset(&profile, 0, sizeof(profile));
    memset(&alert, 0, sizeof(alert));
    alert.rule = "";
    if (set) {
      random_profile(&profile);
      profile.preferred_channel = profile.last_contact_channel = "CHAT";
      profile.has_avg_wait = profile.has_sentiment = profile.has_csat = profile.has_nps = true;
      profile.consent_granted = true;
      random_alert(&alert);
      alert.action_channel = "PHONE";
    }
    for (int generic = 0; generic < 2; generic++) {
      cx_codec_use_avro_c(f->codec, generic);
      cx_buf_t *out = generic ? &f->generic : &f->hand;
      assert_int_equal(cx_codec_encode_alert(f->codec, &alert, set ? 5 : -1, out, errstr,
                                             sizeof(errstr)), CX_OK);
    }
    assert_same_bytes(&f->hand, &f->generic, set);
    for (int generic = 0; generic < 2; generic++) {
      cx_codec_use_avro_c(f->codec, generic);
      cx_buf_t *out = generic ? &f->generic : &f->hand;
      assert_int_equal(cx_codec_encode_profile(f->codec, &profile, set ? 5 : -1, out, errstr,
                                               sizeof(errstr)), CX_OK);
    }
    assert_same_bytes(&f->hand, &f->generic, set);
  }
}

/* A schema.dir whose alert.avsc has another layout (a field added): alerts
 * go through Avro-C, profiles still by hand. */
static void test_another_alert_layout_falls_back_to_avro_c(void **unused) {
  (void)unused;
  char dir[] = "/tmp/cx-avro-out-XXXXXX";
  assert_non_null(mkdtemp(dir));
  static const char *const files[] = {"interaction_event.avsc", "customer_profile.avsc",
                                      "interaction_event_v0.avsc", "registry.properties"};
  char command[1024];
  for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
    snprintf(command, sizeof(command), "cp schemas/%s %s/", files[i], dir);
    assert_int_equal(system(command), 0);
  }
  char path[512];
  snprintf(path, sizeof(path), "%s/alert.avsc", dir);
  FILE *file = fopen(path, "w");
  assert_non_null(file);
  fputs("{\"type\": \"record\", \"name\": \"Alert\", \"namespace\": \"cx\", \"fields\": [\n"
        " {\"name\": \"alert_id\", \"type\": \"string\"},\n"
        " {\"name\": \"customer_id\", \"type\": \"string\"},\n"
        " {\"name\": \"note\", \"type\": \"string\", \"default\": \"\"}]}\n", file);
  fclose(file);
  cx_config_t *config = cx_config_new();
  free(config->schema_dir);
  config->schema_dir = strdup(dir);
  cx_codec_t *codec = NULL;
  char errstr[512];
  cx_err_t err = cx_codec_new(config, &codec, errstr, sizeof(errstr));
  if (err)
    fprintf(stderr, "%s\n", errstr);
  assert_int_equal(err, CX_OK);
  assert_false(cx_codec_writes_by_hand(codec));
  cx_codec_destroy(codec);
  cx_config_destroy(config);
  snprintf(command, sizeof(command), "rm -rf %s", dir);
  assert_int_equal(system(command), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_the_shipped_schemas_are_written_by_hand),
      cmocka_unit_test(test_random_alerts_match_avro_c),
      cmocka_unit_test(test_random_profiles_match_avro_c),
      cmocka_unit_test(test_all_null_and_all_set_match_avro_c),
      cmocka_unit_test(test_another_alert_layout_falls_back_to_avro_c),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
