/* Tests of the Anonymous Bank importer: small TSV files in a temporary
 * directory go through cx_import_anonbank and the OCF is read back with
 * cx_ocf_reader_*, so every assertion is about what a replay would see.
 * Run from the repository root (schemas/) or set CX_SCHEMA_DIR. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, dup */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../stream/import_anonbank.h"
#include "../stream/ocf.h"

#define HEADER                                                                             \
  "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"  \
  "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver\n"

/* One row in the real files' column order; the unused columns get fillers. */
#define ROW(vru, call, customer, priority, type, date, entry, q_time, outcome, ser_time,   \
            server)                                                                        \
  vru "\t" call "\t" customer "\t" priority "\t" type "\t" date "\t" entry                 \
      "\t0:00:00\t0\t0:00:00\t0:00:00\t" q_time "\t" outcome "\t0:00:00\t0:00:00\t"        \
      ser_time "\t" server "\n"

#define DAY_MS INT64_C(86400000)
#define JAN_1_1999_MS INT64_C(915148800000) /* 1999-01-01T00:00:00Z */
#define MAX_EVENTS 16

/* An event read back, with its strings copied out of the reader. */
typedef struct read_event_s {
  char event_id[64];       /* event_id */
  char customer_id[32];    /* customer_id */
  char topic[16];          /* topic, "" when null */
  char agent_id[16];       /* agent_id, "" when null */
  char vru_line[16];       /* attribute vru_line, "" when absent */
  char priority[4];        /* attribute priority, "" when absent */
  bool has_topic;          /* topic not null */
  bool has_agent_id;       /* agent_id not null */
  int64_t occurred_at_ms;  /* occurred_at */
  cx_channel_t channel;    /* channel */
  cx_event_type_t type;    /* type */
  cx_outcome_t outcome;    /* outcome */
  bool has_wait_ms;        /* wait_ms not null */
  bool has_handle_ms;      /* handle_ms not null */
  int64_t wait_ms;         /* wait_ms */
  int64_t handle_ms;       /* handle_ms */
} read_event_t;

typedef struct fixture_s {
  char dir[64];                    /* temporary directory */
  char out_path[128];              /* dir/out.avro */
  char errstr[512];                /* import's error text */
  cx_import_stats_t stats;         /* import's counts */
  read_event_t events[MAX_EVENTS]; /* the OCF read back */
  size_t event_count;              /* events read back */
  char captured_stderr[4096];      /* what the import printed, when captured */
} fixture_t;

static const char *schema_dir(void) {
  const char *dir = getenv("CX_SCHEMA_DIR");
  return dir ? dir : "schemas";
}

static int setup(void **state) {
  fixture_t *fx = calloc(1, sizeof(*fx));
  assert_non_null(fx);
  strcpy(fx->dir, "/tmp/cx_test_import_XXXXXX");
  assert_non_null(mkdtemp(fx->dir));
  snprintf(fx->out_path, sizeof(fx->out_path), "%s/out.avro", fx->dir);
  *state = fx;
  return 0;
}

static int teardown(void **state) {
  fixture_t *fx = *state;
  char command[128];
  snprintf(command, sizeof(command), "rm -rf '%s'", fx->dir);
  assert_int_equal(system(command), 0);
  free(fx);
  return 0;
}

/* Writes content to dir/name and returns the path (static buffer per slot). */
static const char *write_file(fixture_t *fx, int slot, const char *name, const char *content) {
  static char paths[4][128];
  snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", fx->dir, name);
  FILE *fp = fopen(paths[slot], "wb");
  assert_non_null(fp);
  assert_int_equal(fwrite(content, 1, strlen(content), fp), strlen(content));
  assert_int_equal(fclose(fp), 0);
  return paths[slot];
}

static void copy_str(char *out, size_t out_size, cx_str_t s) {
  assert_true(s.len < out_size);
  memcpy(out, s.ptr, s.len);
  out[s.len] = '\0';
}

static void read_back(fixture_t *fx) {
  cx_ocf_reader_t *reader = NULL;
  char errstr[512] = "";
  cx_event_t event;
  bool eof = false;
  assert_int_equal(cx_ocf_reader_open(fx->out_path, schema_dir(), &reader, errstr,
                                      sizeof(errstr)), CX_OK);
  fx->event_count = 0;
  for (;;) {
    assert_int_equal(cx_ocf_reader_next(reader, &event, &eof, errstr, sizeof(errstr)), CX_OK);
    if (eof)
      break;
    assert_true(fx->event_count < MAX_EVENTS);
    read_event_t *e = &fx->events[fx->event_count++];
    memset(e, 0, sizeof(*e));
    copy_str(e->event_id, sizeof(e->event_id), event.event_id);
    copy_str(e->customer_id, sizeof(e->customer_id), event.customer_id);
    e->has_topic = event.topic.ptr != NULL;
    if (e->has_topic)
      copy_str(e->topic, sizeof(e->topic), event.topic);
    e->has_agent_id = event.agent_id.ptr != NULL;
    if (e->has_agent_id)
      copy_str(e->agent_id, sizeof(e->agent_id), event.agent_id);
    for (size_t i = 0; i < event.attribute_count; i++) {
      cx_str_t key = event.attribute_keys[i];
      if (key.len == 8 && memcmp(key.ptr, "vru_line", 8) == 0)
        copy_str(e->vru_line, sizeof(e->vru_line), event.attribute_values[i]);
      else if (key.len == 8 && memcmp(key.ptr, "priority", 8) == 0)
        copy_str(e->priority, sizeof(e->priority), event.attribute_values[i]);
    }
    e->occurred_at_ms = event.occurred_at_ms;
    e->channel = event.channel;
    e->type = event.type;
    e->outcome = event.outcome;
    e->has_wait_ms = event.has_wait_ms;
    e->has_handle_ms = event.has_handle_ms;
    e->wait_ms = event.wait_ms;
    e->handle_ms = event.handle_ms;
  }
  cx_ocf_reader_destroy(reader);
}

static void assert_counts_add_up(const cx_import_stats_t *stats) {
  assert_int_equal(stats->rows, stats->events + stats->skipped_phantom +
                                    stats->skipped_unidentified + stats->rejected);
}

/* Imports the files (which must succeed) and reads the output back. */
static void import_ok(fixture_t *fx, const char *const *paths, size_t path_count) {
  cx_err_t err = cx_import_anonbank(paths, path_count, fx->out_path, schema_dir(), &fx->stats,
                                    fx->errstr, sizeof(fx->errstr));
  if (err)
    fail_msg("import failed: %s", fx->errstr);
  assert_counts_add_up(&fx->stats);
  read_back(fx);
  assert_int_equal(fx->event_count, fx->stats.events);
}

static void import_one_ok(fixture_t *fx, const char *content) {
  const char *path = write_file(fx, 0, "calls.txt", content);
  import_ok(fx, &path, 1);
}

/* Runs import_ok with stderr going to fx->captured_stderr. */
static void import_one_capturing_stderr(fixture_t *fx, const char *content) {
  char capture_path[128];
  snprintf(capture_path, sizeof(capture_path), "%s/stderr.txt", fx->dir);
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  assert_true(saved >= 0);
  assert_non_null(freopen(capture_path, "w", stderr));
  import_one_ok(fx, content);
  fflush(stderr);
  assert_true(dup2(saved, STDERR_FILENO) >= 0);
  close(saved);
  FILE *fp = fopen(capture_path, "rb");
  assert_non_null(fp);
  size_t got = fread(fx->captured_stderr, 1, sizeof(fx->captured_stderr) - 1, fp);
  fx->captured_stderr[got] = '\0';
  fclose(fp);
}

static void test_import_writes_one_phone_contact_per_call_with_exact_fields(void **state) {
  fixture_t *fx = *state;
  import_one_ok(fx, HEADER ROW("AA0101", "33118", "27997683", "2", "PS", "990101", "6:55:20",
                               "17", "AGENT", "54", "MICHAL"));
  assert_int_equal(fx->stats.rows, 1);
  assert_int_equal(fx->stats.events, 1);
  const read_event_t *e = &fx->events[0];
  assert_string_equal(e->event_id, "anonbank-990101-33118");
  assert_string_equal(e->customer_id, "27997683");
  assert_int_equal(e->occurred_at_ms, JAN_1_1999_MS + (6 * 3600 + 55 * 60 + 20) * 1000);
  assert_int_equal(e->channel, CX_CHANNEL_PHONE);
  assert_int_equal(e->type, CX_EVENT_CONTACT);
  assert_int_equal(e->outcome, CX_OUTCOME_COMPLETED);
  assert_true(e->has_wait_ms);
  assert_int_equal(e->wait_ms, 17000);
  assert_true(e->has_handle_ms);
  assert_int_equal(e->handle_ms, 54000);
  assert_true(e->has_topic);
  assert_string_equal(e->topic, "PS");
  assert_true(e->has_agent_id);
  assert_string_equal(e->agent_id, "MICHAL");
  assert_string_equal(e->vru_line, "AA0101");
  assert_string_equal(e->priority, "2");
}

static void test_import_maps_hang_to_abandoned_with_null_agent(void **state) {
  fixture_t *fx = *state;
  import_one_ok(fx, HEADER ROW("AA0101", "33116", "9664491", "2", "NW", "990101", "0:00:31",
                               "153", "HANG", "0", "NO_SERVER"));
  const read_event_t *e = &fx->events[0];
  assert_string_equal(e->event_id, "anonbank-990101-33116");
  assert_int_equal(e->occurred_at_ms, JAN_1_1999_MS + 31000);
  assert_int_equal(e->outcome, CX_OUTCOME_ABANDONED);
  assert_int_equal(e->wait_ms, 153000);
  assert_true(e->has_handle_ms);
  assert_int_equal(e->handle_ms, 0);
  assert_string_equal(e->topic, "NW");
  assert_false(e->has_agent_id);
}

static void test_import_writes_unknown_outcome_as_null_and_warns(void **state) {
  fixture_t *fx = *state;
  import_one_capturing_stderr(fx, HEADER ROW("AA0101", "1", "42", "1", "PS", "990101",
                                             "8:00:00", "5", "TRANSFER", "9", "DANA"));
  assert_int_equal(fx->stats.events, 1);
  assert_int_equal(fx->stats.rejected, 0);
  assert_int_equal(fx->events[0].outcome, CX_OUTCOME_NONE);
  assert_non_null(strstr(fx->captured_stderr, "calls.txt:2: outcome 'TRANSFER'"));
}

static void test_import_skips_phantom_calls(void **state) {
  fixture_t *fx = *state;
  import_one_ok(fx, HEADER
                ROW("AA0101", "1", "42", "1", "PS", "990101", "8:00:00", "0", "PHANTOM", "0",
                    "NO_SERVER")
                ROW("AA0101", "2", "0", "0", "PS", "990101", "8:00:01", "0", "PHANTOM", "0",
                    "NO_SERVER")
                ROW("AA0101", "3", "42", "1", "PS", "990101", "8:00:02", "4", "AGENT", "9",
                    "DANA"));
  assert_int_equal(fx->stats.rows, 3);
  assert_int_equal(fx->stats.skipped_phantom, 2);
  assert_int_equal(fx->stats.skipped_unidentified, 0);
  assert_int_equal(fx->stats.events, 1);
  assert_string_equal(fx->events[0].event_id, "anonbank-990101-3");
}

static void test_import_skips_unidentified_customer_zero(void **state) {
  fixture_t *fx = *state;
  import_one_ok(fx, HEADER
                ROW("AA0101", "1", "0", "0", "PS", "990101", "8:00:00", "0", "AGENT", "60",
                    "DANA")
                ROW("AA0101", "2", "000", "0", "PS", "990101", "8:00:01", "0", "HANG", "0",
                    "NO_SERVER")
                ROW("AA0101", "3", "1000", "1", "PS", "990101", "8:00:02", "4", "AGENT", "9",
                    "DANA"));
  assert_int_equal(fx->stats.skipped_unidentified, 2);
  assert_int_equal(fx->stats.events, 1);
  assert_string_equal(fx->events[0].customer_id, "1000");
}

static void test_import_reads_times_as_utc_with_posix_century_rule(void **state) {
  fixture_t *fx = *state;
  import_one_ok(fx, HEADER
                ROW("AA0101", "1", "7", "1", "PS", "991231", "23:59:59", "0", "AGENT", "1", "A")
                ROW("AA0101", "2", "7", "1", "PS", "000229", "0:00:00", "0", "AGENT", "1", "A")
                ROW("AA0101", "3", "7", "1", "PS", "681231", "12:00:00", "0", "AGENT", "1", "A")
                ROW("AA0101", "4", "7", "1", "PS", "690101", "00:00:00", "0", "AGENT", "1",
                    "A"));
  assert_int_equal(fx->stats.events, 4);
  /* Sorted by time: 1969, 1999, 2000, 2068. */
  assert_string_equal(fx->events[0].event_id, "anonbank-690101-4");
  assert_int_equal(fx->events[0].occurred_at_ms, -365 * DAY_MS);
  assert_string_equal(fx->events[1].event_id, "anonbank-991231-1");
  assert_int_equal(fx->events[1].occurred_at_ms, INT64_C(946684799000));
  assert_string_equal(fx->events[2].event_id, "anonbank-000229-2");
  assert_int_equal(fx->events[2].occurred_at_ms, INT64_C(951782400000));
  assert_string_equal(fx->events[3].event_id, "anonbank-681231-3");
  assert_int_equal(fx->events[3].occurred_at_ms, INT64_C(3124180800000));
}

static void test_import_sorts_by_time_and_keeps_file_order_for_equal_times(void **state) {
  fixture_t *fx = *state;
  const char *paths[2];
  paths[0] = write_file(fx, 0, "a.txt", HEADER
                        ROW("AA0101", "11", "5", "1", "PS", "990102", "9:00:00", "0", "AGENT",
                            "1", "A")
                        ROW("AA0101", "12", "6", "1", "PS", "990101", "9:00:00", "0", "AGENT",
                            "1", "A")
                        ROW("AA0101", "13", "7", "1", "PS", "990101", "9:00:00", "0", "AGENT",
                            "1", "A"));
  paths[1] = write_file(fx, 1, "b.txt", HEADER
                        ROW("AA0101", "21", "8", "1", "PS", "990102", "9:00:00", "0", "AGENT",
                            "1", "A")
                        ROW("AA0101", "22", "9", "1", "PS", "990101", "9:00:00", "0", "AGENT",
                            "1", "A")
                        ROW("AA0101", "23", "9", "1", "PS", "990101", "8:59:59", "0", "AGENT",
                            "1", "A"));
  import_ok(fx, paths, 2);
  static const char *const expected[] = {
    "anonbank-990101-23", "anonbank-990101-12", "anonbank-990101-13", "anonbank-990101-22",
    "anonbank-990102-11", "anonbank-990102-21",
  };
  assert_int_equal(fx->event_count, 6);
  for (size_t i = 0; i < 6; i++)
    assert_string_equal(fx->events[i].event_id, expected[i]);
}

static void test_import_rejects_malformed_rows_reports_them_and_goes_on(void **state) {
  fixture_t *fx = *state;
  import_one_capturing_stderr(
      fx, HEADER
      ROW("AA0101", "1", "42", "1", "PS", "990101", "8:00:00", "5", "AGENT", "9", "DANA")
      "AA0101\t2\t42\tPS\n"
      ROW("AA0101", "3", "3.27E+11", "1", "PS", "990101", "8:00:00", "5", "AGENT", "9", "DANA")
      ROW("AA0101", "4", "42", "1", "PS", "990230", "8:00:00", "5", "AGENT", "9", "DANA")
      ROW("AA0101", "5", "42", "1", "PS", "990101", "24:00:00", "5", "AGENT", "9", "DANA")
      ROW("AA0101", "6", "42", "1", "PS", "990101", "8:60:00", "5", "AGENT", "9", "DANA")
      ROW("AA0101", "7", "42", "1", "PS", "990101", "8:00:00", "-5", "AGENT", "9", "DANA")
      ROW("AA0101", "8", "42", "1", "PS", "990101", "8:00:00", "5", "AGENT", "86401", "DANA")
      ROW("AA0101", "", "42", "1", "PS", "990101", "8:00:00", "5", "AGENT", "9", "DANA")
      ROW("AA0101", "10", "42", "1", "PS", "99011", "8:00:00", "5", "AGENT", "9", "DANA")
      ROW("AA0101", "11", "42", "1", "PS", "990101", "8:00:01", "86400", "HANG", "0",
          "NO_SERVER"));
  assert_int_equal(fx->stats.rows, 11);
  assert_int_equal(fx->stats.rejected, 9);
  assert_int_equal(fx->stats.events, 2);
  assert_string_equal(fx->events[0].event_id, "anonbank-990101-1");
  assert_string_equal(fx->events[1].event_id, "anonbank-990101-11");
  assert_int_equal(fx->events[1].wait_ms, 86400000);
  const char *out = fx->captured_stderr;
  assert_non_null(strstr(out, "calls.txt:3: 4 tab-separated fields where the header has 17"));
  assert_non_null(strstr(out, "calls.txt:4: customer_id '3.27E+11' is not 1 to 20 digits"));
  assert_non_null(strstr(out, "calls.txt:5: date '990230' is not a date YYMMDD"));
  assert_non_null(strstr(out, "calls.txt:6: vru_entry '24:00:00'"));
  assert_non_null(strstr(out, "calls.txt:7: vru_entry '8:60:00'"));
  assert_non_null(strstr(out, "calls.txt:8: q_time '-5'"));
  assert_non_null(strstr(out, "calls.txt:9: ser_time '86401'"));
  assert_non_null(strstr(out, "calls.txt:10: call_id ''"));
  assert_non_null(strstr(out, "calls.txt:11: date '99011'"));
}

static void test_import_reads_crlf_lines_and_ignores_blank_lines(void **state) {
  fixture_t *fx = *state;
  import_one_ok(fx,
                "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tq_time\t"
                "outcome\tser_time\tserver\r\n"
                "\r\n"
                "AA0101\t1\t42\t1\tPS\t990101\t8:00:00\t5\tAGENT\t9\tDANA\r\n"
                "   \r\n"
                "\n"
                "AA0101\t2\t42\t1\tPS\t990101\t8:00:01\t6\tHANG\t0\tNO_SERVER\r\n"
                "\r\n");
  assert_int_equal(fx->stats.rows, 2);
  assert_int_equal(fx->stats.rejected, 0);
  assert_int_equal(fx->event_count, 2);
  assert_string_equal(fx->events[0].agent_id, "DANA");
  assert_int_equal(fx->events[0].handle_ms, 9000);
  assert_int_equal(fx->events[1].outcome, CX_OUTCOME_ABANDONED);
  assert_false(fx->events[1].has_agent_id);
}

static void test_import_reads_last_line_without_newline(void **state) {
  fixture_t *fx = *state;
  import_one_ok(fx, HEADER "AA0101\t1\t42\t1\tPS\t990101\t8:00:00\t0:00:00\t0\t0:00:00\t"
                           "0:00:00\t5\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER");
  assert_int_equal(fx->event_count, 1);
  assert_false(fx->events[0].has_agent_id);
}

static void test_import_finds_columns_by_header_name_not_position(void **state) {
  fixture_t *fx = *state;
  import_one_ok(fx, "\xEF\xBB\xBFoutcome\tser_time\tq_time\tvru_entry\tdate\ttype\tcustomer_id\t"
                    "call_id\n"
                    "HANG\t0\t61\t10:00:00\t990105\tNE\t123\t555\n");
  const read_event_t *e = &fx->events[0];
  assert_string_equal(e->event_id, "anonbank-990105-555");
  assert_string_equal(e->customer_id, "123");
  assert_int_equal(e->occurred_at_ms, JAN_1_1999_MS + 4 * DAY_MS + 10 * 3600 * 1000);
  assert_int_equal(e->wait_ms, 61000);
  assert_int_equal(e->outcome, CX_OUTCOME_ABANDONED);
  assert_string_equal(e->topic, "NE");
  assert_false(e->has_agent_id);
  assert_string_equal(e->vru_line, "");
}

static void test_import_keeps_design_event_id_when_call_id_repeats_on_a_date(void **state) {
  fixture_t *fx = *state;
  import_one_capturing_stderr(
      fx, HEADER
      ROW("AA0101", "33205", "535419", "2", "PS", "990103", "13:51:51", "84", "AGENT", "85",
          "YITZ")
      ROW("AA0203", "33205", "32183741", "2", "PS", "990103", "10:59:37", "10", "AGENT",
          "161", "TOVA")
      ROW("AA0203", "33205", "32183741", "2", "PS", "990103", "11:00:00", "10", "AGENT",
          "161", "TOVA")
      ROW("AA0203", "33205", "32183741", "2", "PS", "990104", "11:00:00", "10", "AGENT",
          "161", "TOVA"));
  assert_int_equal(fx->stats.events, 4);
  assert_int_equal(fx->stats.rejected, 0);
  assert_int_equal(fx->stats.duplicate_ids, 2);
  assert_string_equal(fx->events[0].event_id, "anonbank-990103-33205");
  assert_string_equal(fx->events[1].event_id, "anonbank-990103-33205");
  assert_string_equal(fx->events[2].event_id, "anonbank-990103-33205");
  assert_string_equal(fx->events[3].event_id, "anonbank-990104-33205");
}

static void test_import_fails_without_a_required_column_and_writes_nothing(void **state) {
  fixture_t *fx = *state;
  const char *path = write_file(fx, 0, "calls.txt", "call_id\tcustomer_id\tdate\n1\t2\t990101\n");
  cx_err_t err = cx_import_anonbank(&path, 1, fx->out_path, schema_dir(), &fx->stats,
                                    fx->errstr, sizeof(fx->errstr));
  assert_int_equal(err, CX_ERR_INVALID_ARG);
  assert_non_null(strstr(fx->errstr, "calls.txt:1: the header has no column 'type'"));
  struct stat info;
  assert_int_equal(stat(fx->out_path, &info), -1);
}

static void test_import_fails_on_an_empty_file(void **state) {
  fixture_t *fx = *state;
  const char *path = write_file(fx, 0, "calls.txt", "\n\r\n");
  cx_err_t err = cx_import_anonbank(&path, 1, fx->out_path, schema_dir(), &fx->stats,
                                    fx->errstr, sizeof(fx->errstr));
  assert_int_equal(err, CX_ERR_INVALID_ARG);
  assert_non_null(strstr(fx->errstr, "no header row"));
}

static void test_import_fails_on_a_missing_file(void **state) {
  fixture_t *fx = *state;
  const char *paths[2];
  paths[0] = write_file(fx, 0, "calls.txt", HEADER);
  paths[1] = "/nonexistent/cx_no_such_file.txt";
  cx_err_t err = cx_import_anonbank(paths, 2, fx->out_path, schema_dir(), &fx->stats,
                                    fx->errstr, sizeof(fx->errstr));
  assert_int_equal(err, CX_ERR_IO);
  assert_non_null(strstr(fx->errstr, "cannot open /nonexistent/cx_no_such_file.txt"));
}

static void test_import_of_header_only_file_writes_empty_ocf(void **state) {
  fixture_t *fx = *state;
  import_one_ok(fx, HEADER);
  assert_int_equal(fx->stats.rows, 0);
  assert_int_equal(fx->event_count, 0);
}

static void test_import_rejects_no_input_files(void **state) {
  fixture_t *fx = *state;
  cx_err_t err = cx_import_anonbank(NULL, 0, fx->out_path, schema_dir(), NULL, fx->errstr,
                                    sizeof(fx->errstr));
  assert_int_equal(err, CX_ERR_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    T(test_import_writes_one_phone_contact_per_call_with_exact_fields),
    T(test_import_maps_hang_to_abandoned_with_null_agent),
    T(test_import_writes_unknown_outcome_as_null_and_warns),
    T(test_import_skips_phantom_calls),
    T(test_import_skips_unidentified_customer_zero),
    T(test_import_reads_times_as_utc_with_posix_century_rule),
    T(test_import_sorts_by_time_and_keeps_file_order_for_equal_times),
    T(test_import_rejects_malformed_rows_reports_them_and_goes_on),
    T(test_import_reads_crlf_lines_and_ignores_blank_lines),
    T(test_import_reads_last_line_without_newline),
    T(test_import_finds_columns_by_header_name_not_position),
    T(test_import_keeps_design_event_id_when_call_id_repeats_on_a_date),
    T(test_import_fails_without_a_required_column_and_writes_nothing),
    T(test_import_fails_on_an_empty_file),
    T(test_import_fails_on_a_missing_file),
    T(test_import_of_header_only_file_writes_empty_ocf),
    T(test_import_rejects_no_input_files),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
