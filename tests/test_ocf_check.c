/* cx_ocf_check: the pass over an Avro object container file before Avro-C
 * reads it. A file written by cx_ocf_writer passes and reads back; a
 * truncated one, a block declaring more bytes than the file has, a record
 * whose string length runs past its block, a wrong sync marker and the two
 * files the ocf fuzz target found (tests/fuzz/findings/) are refused with a
 * sentence, and cx_ocf_reader_open refuses them too. The block reader
 * (null and deflate codecs) gives what Avro-C's reader gave: the same
 * events from both codecs, a record that is not an event (empty event_id)
 * as an error with reading going on, a block that does not inflate or a
 * record that does not parse as the end with an error. An event's strings
 * stay valid while CX_OCF_READER_KEEP more records are read, across blocks;
 * a bad record in a later block refuses the file and replay writes
 * nothing; replay's decode-ahead gives the bytes of the one-event-at-a-time
 * path (num.stream.threads=2), records of more than 32 attributes
 * included. Run from the repository root (schemas/, tests/fuzz/findings/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <zlib.h>

#include "../stream/config.h"
#include "../stream/event_avro.h"
#include "../stream/ocf.h"
#include "../stream/ocf_check.h"
#include "../stream/replay.h"
#include "test_helpers.h"

#define EVENTS 50

static char path[64];

/* Writes EVENTS contacts to a fresh file; returns its bytes (caller frees). */
static uint8_t *write_file(size_t *len) {
  snprintf(path, sizeof(path), "/tmp/cx-ocf-check-%d.avro", (int)getpid());
  cx_ocf_writer_t *writer = NULL;
  char errstr[256];
  assert_int_equal(cx_ocf_writer_open(path, "schemas", &writer, errstr, sizeof(errstr)), 0);
  for (int i = 0; i < EVENTS; i++) {
    char id[16];
    snprintf(id, sizeof(id), "e%d", i);
    cx_event_t event = test_contact("C1", id, 1000 + i, CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1);
    assert_int_equal(cx_ocf_writer_append(writer, &event, errstr, sizeof(errstr)), 0);
  }
  assert_int_equal(cx_ocf_writer_close(writer, errstr, sizeof(errstr)), 0);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  rewind(f);
  uint8_t *bytes = malloc(*len);
  assert_int_equal(fread(bytes, 1, *len, f), *len);
  fclose(f);
  return bytes;
}

static void put_file(const uint8_t *bytes, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(bytes, 1, len, f), len);
  fclose(f);
}

/* Refused by the check, with a sentence containing `what`, and by the reader. */
static void assert_refused(const char *file, const char *what) {
  char errstr[512] = "";
  assert_int_equal(cx_ocf_check(file, errstr, sizeof(errstr)), CX_ERR_MSG_MALFORMED);
  if (!strstr(errstr, what))
    fail_msg("'%s' does not say '%s'", errstr, what);
  cx_ocf_reader_t *reader = NULL;
  assert_int_not_equal(cx_ocf_reader_open(file, "schemas", &reader, errstr, sizeof(errstr)), 0);
  assert_null(reader);
}

/* Where the first block starts: after the header's sync marker, which the
 * writer repeats after each block (the last 16 bytes of the file). */
static size_t first_block(const uint8_t *bytes, size_t len) {
  const uint8_t *sync = bytes + len - 16;
  for (size_t at = 4; at + 16 <= len; at++)
    if (!memcmp(bytes + at, sync, 16))
      return at + 16;
  fail_msg("no sync marker");
  return 0;
}

static void test_a_written_file_passes_and_reads_back(void **unused) {
  (void)unused;
  size_t len;
  free(write_file(&len));
  char errstr[256];
  assert_int_equal(cx_ocf_check(path, errstr, sizeof(errstr)), CX_OK);
  cx_ocf_reader_t *reader = NULL;
  assert_int_equal(cx_ocf_reader_open(path, "schemas", &reader, errstr, sizeof(errstr)), 0);
  int read = 0;
  bool eof = false;
  while (!eof) {
    cx_event_t event;
    cx_event_clear(&event);
    assert_int_equal(cx_ocf_reader_next(reader, &event, &eof, errstr, sizeof(errstr)), 0);
    read += !eof;
  }
  assert_int_equal(read, EVENTS);
  cx_ocf_reader_destroy(reader);
  unlink(path);
}

static void test_truncated_file_is_refused(void **unused) {
  (void)unused;
  size_t len;
  uint8_t *bytes = write_file(&len);
  put_file(bytes, len - 20); /* inside the last block */
  assert_refused(path, "block 0");
  free(bytes);
  unlink(path);
}

static void test_block_larger_than_the_file_is_refused(void **unused) {
  (void)unused;
  size_t len;
  uint8_t *bytes = write_file(&len);
  size_t block = first_block(bytes, len);
  /* count (1 byte: 50 -> zigzag 100 = 0x64), then the size varint: claim
   * 2^40 bytes (zigzag varint 80 80 80 80 80 40). */
  assert_int_equal(bytes[block], 0x64);
  size_t size_at = block + 1, size_len = 0;
  while (bytes[size_at + size_len] & 0x80)
    size_len++;
  size_len++;
  uint8_t *forged = malloc(len + 8);
  memcpy(forged, bytes, size_at);
  static const uint8_t huge[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x40};
  memcpy(forged + size_at, huge, sizeof(huge));
  memcpy(forged + size_at + sizeof(huge), bytes + size_at + size_len, len - size_at - size_len);
  put_file(forged, len - size_len + sizeof(huge));
  assert_refused(path, "records in");
  free(forged);
  free(bytes);
  unlink(path);
}

static void test_record_running_past_its_block_is_refused(void **unused) {
  (void)unused;
  size_t len;
  uint8_t *bytes = write_file(&len);
  size_t block = first_block(bytes, len);
  size_t size_at = block + 1, size_len = 0;
  while (bytes[size_at + size_len] & 0x80)
    size_len++;
  size_len++;
  /* The first record's first field, event_id "e0": length 2 (zigzag 4)
   * becomes 63 (zigzag 126 = 0x7e), more than is left of the record. */
  size_t record = size_at + size_len;
  assert_int_equal(bytes[record], 0x04);
  bytes[record] = 0x7e;
  put_file(bytes, len);
  assert_refused(path, "block 0, record");
  free(bytes);
  unlink(path);
}

static void test_wrong_sync_marker_is_refused(void **unused) {
  (void)unused;
  size_t len;
  uint8_t *bytes = write_file(&len);
  bytes[len - 1] ^= 0xff;
  put_file(bytes, len);
  assert_refused(path, "sync marker");
  free(bytes);
  unlink(path);
}

static void test_files_the_fuzzer_found_are_refused(void **unused) {
  (void)unused;
  assert_refused("tests/fuzz/findings/ocf-declared-length-oom.avro", "header");
  assert_refused("tests/fuzz/findings/ocf-header-leak.avro", "header key");
}

static void test_not_an_ocf_is_refused(void **unused) {
  (void)unused;
  snprintf(path, sizeof(path), "/tmp/cx-ocf-check-%d.avro", (int)getpid());
  put_file((const uint8_t *)"{\"json\": true}\n", 15);
  assert_refused(path, "magic");
  unlink(path);
}

/* Writes events through Avro-C with a codec and small blocks (several per file). */
static void write_with_codec(const char *file, const char *codec, int count, int empty_id_at) {
  char errstr[256];
  avro_schema_t schema;
  assert_int_equal(cx_event_schema_load("schemas", &schema, errstr, sizeof(errstr)), 0);
  avro_file_writer_t writer;
  remove(file);
  assert_int_equal(avro_file_writer_create_with_codec(file, schema, &writer, codec, 512), 0);
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  assert_int_equal(avro_generic_value_new(iface, &value), 0);
  for (int i = 0; i < count; i++) {
    char id[16];
    snprintf(id, sizeof(id), "e%d", i);
    cx_event_t event = test_contact("C1", i == empty_id_at ? "" : id, 1000 + i,
                                    CX_CHANNEL_PHONE, CX_OUTCOME_NONE, -1);
    event.attribute_keys[0] = cx_str("k");
    event.attribute_values[0] = cx_str(i % 2 ? "odd" : "even");
    event.attribute_count = 1;
    assert_int_equal(cx_event_to_avro(&event, &value, errstr, sizeof(errstr)), 0);
    assert_int_equal(avro_file_writer_append_value(writer, &value), 0);
  }
  assert_int_equal(avro_file_writer_close(writer), 0);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
}

/* Reads a file to its end: events' ids joined, errors counted, the last error kept. */
static int read_all(const char *file, char *ids, size_t ids_size, int *errors, char *last_error,
                    size_t last_error_size, bool *stopped) {
  char errstr[512];
  cx_ocf_reader_t *reader = NULL;
  assert_int_equal(cx_ocf_reader_open(file, "schemas", &reader, errstr, sizeof(errstr)), 0);
  int read = 0;
  bool eof = false;
  ids[0] = '\0';
  *errors = 0;
  *stopped = false;
  for (;;) {
    cx_event_t event;
    cx_err_t err = cx_ocf_reader_next(reader, &event, &eof, errstr, sizeof(errstr));
    if (err) {
      (*errors)++;
      snprintf(last_error, last_error_size, "%s", errstr);
    }
    if (eof) {
      *stopped = err != CX_OK;
      break;
    }
    if (err)
      continue;
    read++;
    size_t at = strlen(ids);
    cx_str_t first = event.attribute_count ? event.attribute_values[0] : cx_str("");
    snprintf(ids + at, ids_size - at, "%.*s:%lld:%.*s,", (int)event.event_id.len,
             event.event_id.ptr, (long long)event.occurred_at_ms, (int)first.len, first.ptr);
  }
  cx_ocf_reader_destroy(reader);
  return read;
}

static void test_deflate_and_null_files_read_the_same_events(void **unused) {
  (void)unused;
  char null_path[64], deflate_path[64];
  snprintf(null_path, sizeof(null_path), "/tmp/cx-ocf-null-%d.avro", (int)getpid());
  snprintf(deflate_path, sizeof(deflate_path), "/tmp/cx-ocf-deflate-%d.avro", (int)getpid());
  write_with_codec(null_path, "null", 200, -1);
  write_with_codec(deflate_path, "deflate", 200, -1);
  static char a[16384], b[16384];
  char error[512];
  int errors;
  bool stopped;
  assert_int_equal(read_all(null_path, a, sizeof(a), &errors, error, sizeof(error), &stopped), 200);
  assert_int_equal(errors, 0);
  assert_int_equal(read_all(deflate_path, b, sizeof(b), &errors, error, sizeof(error), &stopped),
                   200);
  assert_int_equal(errors, 0);
  assert_string_equal(a, b);
  assert_non_null(strstr(a, "e0:1000:even,e1:1001:odd,"));
  assert_non_null(strstr(a, "e199:1199:odd,"));
  unlink(null_path);
  unlink(deflate_path);
}

static void test_a_record_that_is_not_an_event_is_an_error_and_reading_goes_on(void **unused) {
  (void)unused;
  const char *codecs[] = {"null", "deflate"};
  for (int c = 0; c < 2; c++) {
    char file[64];
    snprintf(file, sizeof(file), "/tmp/cx-ocf-%s-%d.avro", codecs[c], (int)getpid());
    write_with_codec(file, codecs[c], 60, 7);
    static char ids[8192];
    char error[512];
    int errors;
    bool stopped;
    assert_int_equal(read_all(file, ids, sizeof(ids), &errors, error, sizeof(error), &stopped),
                     59);
    assert_int_equal(errors, 1);
    assert_false(stopped);
    assert_string_equal(error, "event_id is empty");
    assert_non_null(strstr(ids, "e6:1006:even,e8:1008:even,"));
    unlink(file);
  }
}

/* A deflate file of one block with the given record bytes, compressed, after
 * the header of a file written by Avro-C (compressed blocks pass the check
 * with structural checks only). */
static void write_deflate_block(const char *file, const uint8_t *record, size_t record_len,
                                bool corrupt) {
  write_with_codec(file, "deflate", 1, -1);
  FILE *f = fopen(file, "rb");
  assert_non_null(f);
  static uint8_t bytes[65536];
  size_t len = fread(bytes, 1, sizeof(bytes), f);
  fclose(f);
  size_t block = first_block(bytes, len);
  uint8_t sync[16];
  memcpy(sync, bytes + len - 16, 16);
  uint8_t packed[1024];
  z_stream zs;
  memset(&zs, 0, sizeof(zs));
  assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  zs.next_in = (Bytef *)record;
  zs.avail_in = (uInt)record_len;
  zs.next_out = packed;
  zs.avail_out = sizeof(packed);
  assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
  size_t packed_len = sizeof(packed) - zs.avail_out;
  deflateEnd(&zs);
  if (corrupt)
    memset(packed, 0xff, packed_len > 4 ? 4 : packed_len);
  size_t at = block;
  bytes[at++] = 2; /* one record */
  assert_true(packed_len < 64);
  bytes[at++] = (uint8_t)(packed_len * 2);
  memcpy(bytes + at, packed, packed_len);
  at += packed_len;
  memcpy(bytes + at, sync, 16);
  at += 16;
  f = fopen(file, "wb");
  assert_int_equal(fwrite(bytes, 1, at, f), at);
  fclose(f);
}

static void test_a_deflate_block_that_does_not_parse_stops_reading(void **unused) {
  (void)unused;
  char file[64];
  snprintf(file, sizeof(file), "/tmp/cx-ocf-bad-%d.avro", (int)getpid());
  /* "e", "c", 5, PHONE, CONTACT, then outcome's union branch 2 of 2. */
  static const uint8_t bad_branch[] = {2, 'e', 2, 'c', 10, 0, 0, 4};
  static const uint8_t good[] = {2, 'e', 2, 'c', 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  static char ids[256];
  char error[512];
  int errors;
  bool stopped;
  write_deflate_block(file, good, sizeof(good), false);
  char errstr[256];
  assert_int_equal(cx_ocf_check(file, errstr, sizeof(errstr)), CX_OK);
  assert_int_equal(read_all(file, ids, sizeof(ids), &errors, error, sizeof(error), &stopped), 1);
  assert_int_equal(errors, 0);
  write_deflate_block(file, bad_branch, sizeof(bad_branch), false);
  assert_int_equal(cx_ocf_check(file, errstr, sizeof(errstr)), CX_OK);
  assert_int_equal(read_all(file, ids, sizeof(ids), &errors, error, sizeof(error), &stopped), 0);
  assert_true(stopped);
  if (!strstr(error, "record 0: cannot read"))
    fail_msg("'%s'", error);
  write_deflate_block(file, good, sizeof(good), true);
  assert_int_equal(read_all(file, ids, sizeof(ids), &errors, error, sizeof(error), &stopped), 0);
  assert_true(stopped);
  if (!strstr(error, "record 0: cannot read"))
    fail_msg("'%s'", error);
  unlink(file);
}

/* Events of several customers through Avro-C with a codec and blocks of
 * about block_bytes; every wide_every-th (0 = none) has 40 attributes, more
 * than a cx_event_t holds. */
static void write_events(const char *file, const char *codec, int count, size_t block_bytes,
                         int wide_every) {
  char errstr[256];
  avro_schema_t schema;
  assert_int_equal(cx_event_schema_load("schemas", &schema, errstr, sizeof(errstr)), 0);
  avro_file_writer_t writer;
  remove(file);
  assert_int_equal(
      avro_file_writer_create_with_codec(file, schema, &writer, codec, block_bytes), 0);
  avro_value_iface_t *iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  assert_int_equal(avro_generic_value_new(iface, &value), 0);
  for (int i = 0; i < count; i++) {
    char id[16], customer[16], attribute[16];
    snprintf(id, sizeof(id), "e%d", i);
    snprintf(customer, sizeof(customer), "C%d", i % 13);
    snprintf(attribute, sizeof(attribute), "v%d", i);
    cx_event_t event = test_contact(customer, id, 1000000 + i * 60000LL,
                                    i % 3 ? CX_CHANNEL_PHONE : CX_CHANNEL_CHAT,
                                    i % 5 ? CX_OUTCOME_NONE : CX_OUTCOME_ABANDONED, 1000 * (i % 7));
    event.attribute_keys[0] = cx_str("k");
    event.attribute_values[0] = cx_str(attribute);
    event.attribute_count = 1;
    assert_int_equal(cx_event_to_avro(&event, &value, errstr, sizeof(errstr)), 0);
    if (wide_every && i % wide_every == 0) {
      avro_value_t map, element;
      assert_int_equal(avro_value_get_by_name(&value, "attributes", &map, NULL), 0);
      for (int a = 0; a < 40; a++) {
        char key[16];
        snprintf(key, sizeof(key), "w%d", a);
        assert_int_equal(avro_value_add(&map, key, &element, NULL, NULL), 0);
        assert_int_equal(avro_value_set_string(&element, attribute), 0);
      }
    }
    assert_int_equal(avro_file_writer_append_value(writer, &value), 0);
  }
  assert_int_equal(avro_file_writer_close(writer), 0);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
}

static bool str_is(cx_str_t str, const char *text) {
  return str.len == strlen(text) && !memcmp(str.ptr, text, str.len);
}

/* Every event read keeps its strings while CX_OCF_READER_KEEP more are read:
 * blocks of a few records each, so the window spans many blocks. */
static void test_strings_stay_valid_for_keep_records_across_blocks(void **unused) {
  (void)unused;
  const char *codecs[] = {"null", "deflate"};
  enum { COUNT = 300, WINDOW = CX_OCF_READER_KEEP + 1 };
  for (int c = 0; c < 2; c++) {
    char file[64];
    snprintf(file, sizeof(file), "/tmp/cx-ocf-keep-%s-%d.avro", codecs[c], (int)getpid());
    write_events(file, codecs[c], COUNT, 128, 0);
    char errstr[512];
    cx_ocf_reader_t *reader = NULL;
    assert_int_equal(cx_ocf_reader_open(file, "schemas", &reader, errstr, sizeof(errstr)), 0);
    static cx_event_t window[WINDOW];
    bool eof = false;
    int read = 0;
    for (;;) {
      cx_event_t *event = &window[read % WINDOW];
      assert_int_equal(cx_ocf_reader_next(reader, event, &eof, errstr, sizeof(errstr)), 0);
      if (eof)
        break;
      assert_true(cx_ocf_reader_last_kept(reader));
      read++;
      /* The events of the last KEEP + 1 reads, oldest first. */
      for (int back = 0; back < WINDOW && back < read; back++) {
        int i = read - 1 - back;
        char id[16], customer[16], attribute[16];
        snprintf(id, sizeof(id), "e%d", i);
        snprintf(customer, sizeof(customer), "C%d", i % 13);
        snprintf(attribute, sizeof(attribute), "v%d", i);
        const cx_event_t *kept = &window[i % WINDOW];
        if (!str_is(kept->event_id, id) || !str_is(kept->customer_id, customer) ||
            kept->attribute_count != 1 || !str_is(kept->attribute_values[0], attribute))
          fail_msg("%s: event %d lost its strings %d reads later", codecs[c], i, back);
      }
    }
    assert_int_equal(read, COUNT);
    cx_ocf_reader_destroy(reader);
    unlink(file);
  }
}

/* The offset of block `number` (its count varint) in a file's bytes. */
static size_t nth_block(const uint8_t *bytes, size_t len, int number) {
  size_t at = first_block(bytes, len);
  for (int b = 0; b < number; b++) {
    int64_t values[2];
    for (int v = 0; v < 2; v++) {
      uint64_t raw = 0;
      for (int shift = 0;; shift += 7) {
        raw |= (uint64_t)(bytes[at] & 0x7f) << shift;
        if (!(bytes[at++] & 0x80))
          break;
      }
      values[v] = (int64_t)(raw >> 1) ^ -(int64_t)(raw & 1);
    }
    at += (size_t)values[1] + 16;
    assert_true(at < len);
  }
  return at;
}

static uint8_t *read_whole(const char *file, size_t *len) {
  FILE *f = fopen(file, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  *len = (size_t)ftell(f);
  rewind(f);
  uint8_t *bytes = malloc(*len);
  assert_int_equal(fread(bytes, 1, *len, f), *len);
  fclose(f);
  return bytes;
}

static char *slurp(const char *file);

/* cx_replay_main of file with -X pairs, output to out; returns its exit code. */
static int replay(const char *file, const char *out, const char *const *pairs, size_t count) {
  char errstr[512];
  cx_config_t *config = NULL;
  assert_int_equal(cx_config_build(NULL, pairs, count, &config, errstr, sizeof(errstr)), 0);
  cx_replay_options_t options = {file, NULL, out, NULL, INT64_MIN, INT64_MAX, NULL, 0, 0, 0, 0};
  int rc = cx_replay_main(config, &options);
  cx_config_destroy(config);
  return rc;
}

/* A null file of 200 events whose fourth block's first record does not
 * parse (its event_id's length becomes 63, past the end of the block); the
 * event in block 0 whose index is dead_at (-1 = none) is before 1970, a
 * dead letter; bad false leaves the fourth block alone. */
static void write_bad_in_fourth_block(const char *file, int dead_at, bool bad) {
  write_events(file, "null", 200, 256, 0);
  size_t len;
  uint8_t *bytes = read_whole(file, &len);
  if (dead_at >= 0) {
    /* "e<dead_at>" then customer "C.." then occurred_at: find the id. */
    char id[16];
    snprintf(id, sizeof(id), "e%d", dead_at);
    size_t id_len = strlen(id);
    size_t at = first_block(bytes, len);
    while (!(bytes[at] == id_len * 2 && !memcmp(bytes + at + 1, id, id_len)))
      at++;
    at += 1 + id_len;
    at += 1 + bytes[at] / 2; /* customer_id */
    bytes[at] |= 1; /* occurred_at's zigzag sign bit: before 1970 */
  }
  size_t block = nth_block(bytes, len, 3);
  size_t record = block;
  while (bytes[record] & 0x80)
    record++;
  record++;
  while (bytes[record] & 0x80)
    record++;
  record++;
  assert_true(bytes[record] == 0x06 || bytes[record] == 0x08); /* "eNN" or "eNNN" */
  if (bad)
    bytes[record] = 0x7e;
  put_file(bytes, len);
  free(bytes);
}

/* A record that does not parse in the fourth block of an uncompressed file:
 * the file is refused before anything is read, and replay exits 1 without
 * creating its output or saying anything of the records before it (the dead
 * letter in block 0): whether the bad record is found by the decoding (the
 * output held) or by the check of the rest of the file after 1 byte of
 * output was held (CX_REPLAY_HOLD_BYTES=1). */
static void test_a_bad_record_in_a_later_block_refuses_the_file_and_replay_writes_nothing(
    void **unused) {
  (void)unused;
  snprintf(path, sizeof(path), "/tmp/cx-ocf-late-%d.avro", (int)getpid());
  write_bad_in_fourth_block(path, -1, true);
  assert_refused(path, "block 3, record 0");
  char out[64], err[64];
  snprintf(out, sizeof(out), "/tmp/cx-ocf-late-%d.jsonl", (int)getpid());
  snprintf(err, sizeof(err), "/tmp/cx-ocf-late-%d.err", (int)getpid());
  /* Without the bad record, event 5 is a dead letter, reported. */
  write_bad_in_fourth_block(path, 5, false);
  fflush(stderr);
  int saved = dup(2);
  assert_non_null(freopen(err, "w", stderr));
  int rc = replay(path, out, NULL, 0);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  assert_int_equal(rc, 0);
  char *said = slurp(err);
  if (!strstr(said, "record 6: bad_time"))
    fail_msg("said '%s'", said);
  free(said);
  write_bad_in_fourth_block(path, 5, true);
  assert_refused(path, "block 3, record 0");
  /* Where the output is held (design note 30): a new --out in its own
   * directory (unnamed, held until the end or released after 1 byte, when
   * the rest of the file is checked), an existing --out in $TMPDIR (it must
   * stay as it was), nowhere (TMPDIR missing: checked first), /dev/null
   * (nothing held). No file may be left in --out's directory. */
  struct {
    const char *hold_bytes;
    bool existing, no_tmpdir;
  } cases[] = {{NULL, false, false}, {"1", false, false}, {"1", false, true},
               {NULL, true, false}, {"1", true, false}, {NULL, true, true}};
  char dir[64], out_in_dir[96];
  snprintf(dir, sizeof(dir), "/tmp/cx-ocf-late-dir-%d", (int)getpid());
  snprintf(out_in_dir, sizeof(out_in_dir), "%s/out.jsonl", dir);
  assert_int_equal(mkdir(dir, 0700), 0);
  for (size_t h = 0; h < sizeof(cases) / sizeof(cases[0]) + 1; h++) {
    bool dev_null = h == sizeof(cases) / sizeof(cases[0]);
    const char *target = dev_null ? "/dev/null" : out_in_dir;
    if (!dev_null) {
      if (cases[h].hold_bytes)
        setenv("CX_REPLAY_HOLD_BYTES", cases[h].hold_bytes, 1);
      if (cases[h].no_tmpdir)
        setenv("TMPDIR", "/nonexistent-cx-tmp", 1);
      unlink(out_in_dir);
      if (cases[h].existing) {
        FILE *before = fopen(out_in_dir, "w");
        assert_non_null(before);
        fputs("before\n", before);
        fclose(before);
      }
    }
    fflush(stderr);
    saved = dup(2);
    assert_non_null(freopen(err, "w", stderr));
    rc = replay(path, target, NULL, 0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    unsetenv("CX_REPLAY_HOLD_BYTES");
    unsetenv("TMPDIR");
    assert_int_equal(rc, 1);
    if (!dev_null && cases[h].existing) {
      char *kept = slurp(out_in_dir);
      assert_string_equal(kept, "before\n");
      free(kept);
      unlink(out_in_dir);
    }
    assert_int_equal(access(out_in_dir, F_OK), -1);
    assert_int_equal(rmdir(dir), 0); /* empty: nothing left behind */
    assert_int_equal(mkdir(dir, 0700), 0);
    said = slurp(err);
    if (!strstr(said, "block 3, record 0") || strstr(said, "record 6:") ||
        strstr(said, "events read"))
      fail_msg("case %zu: said '%s'", h, said);
    free(said);
  }
  rmdir(dir);
  unlink(out);
  unlink(err);
  unlink(path);
}

static char *slurp(const char *file) {
  size_t len;
  uint8_t *bytes = read_whole(file, &len);
  char *text = realloc(bytes, len + 1);
  assert_non_null(text);
  text[len] = '\0';
  return text;
}

/* Replays file on one thread with name=value in the environment; its output
 * must be expected. */
static void replay_ahead_with_env(const char *file, const char *out, const char *const pairs[],
                                  const char *name, const char *value, const char *expected) {
  setenv(name, value, 1);
  assert_int_equal(replay(file, out, pairs, 1), 0);
  unsetenv(name);
  char *got = slurp(out);
  assert_string_equal(got, expected);
  free(got);
}

/* Replay reads 8 events ahead on one thread; with num.stream.threads=2 each
 * event is copied as read and processed on a worker. Both must give the same
 * bytes, for small blocks of both codecs and records of 40 attributes
 * (strings valid only until the next read) among them. */
static void test_replay_ahead_gives_the_bytes_of_one_event_at_a_time(void **unused) {
  (void)unused;
  const char *codecs[] = {"null", "deflate"};
  for (int c = 0; c < 2; c++) {
    char file[64], ahead[64], threads[64];
    snprintf(file, sizeof(file), "/tmp/cx-ocf-ahead-%s-%d.avro", codecs[c], (int)getpid());
    snprintf(ahead, sizeof(ahead), "/tmp/cx-ocf-ahead-%d.jsonl", (int)getpid());
    snprintf(threads, sizeof(threads), "/tmp/cx-ocf-threads-%d.jsonl", (int)getpid());
    write_events(file, codecs[c], 20000, 512, 3);
    static const char *const pairs[] = {"profiles.enabled=true", "num.stream.threads=2"};
    assert_int_equal(replay(file, ahead, pairs, 1), 0);
    assert_int_equal(replay(file, threads, pairs, 2), 0);
    char *a = slurp(ahead), *b = slurp(threads);
    assert_true(strlen(a) > 150000); /* alerts: more than one 64 KB write */
    assert_string_equal(a, b);
    free(a);
    /* The same with the output released after a few bytes (the rest of the
     * file checked then), and with nowhere to hold it (the records checked
     * first). */
    replay_ahead_with_env(file, ahead, pairs, "CX_REPLAY_HOLD_BYTES", "100000", b);
    replay_ahead_with_env(file, ahead, pairs, "TMPDIR", "/nonexistent-cx-tmp", b);
    free(b);
    unlink(file);
    unlink(ahead);
    unlink(threads);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_a_written_file_passes_and_reads_back),
    cmocka_unit_test(test_truncated_file_is_refused),
    cmocka_unit_test(test_block_larger_than_the_file_is_refused),
    cmocka_unit_test(test_record_running_past_its_block_is_refused),
    cmocka_unit_test(test_wrong_sync_marker_is_refused),
    cmocka_unit_test(test_files_the_fuzzer_found_are_refused),
    cmocka_unit_test(test_not_an_ocf_is_refused),
    cmocka_unit_test(test_deflate_and_null_files_read_the_same_events),
    cmocka_unit_test(test_a_record_that_is_not_an_event_is_an_error_and_reading_goes_on),
    cmocka_unit_test(test_a_deflate_block_that_does_not_parse_stops_reading),
    cmocka_unit_test(test_strings_stay_valid_for_keep_records_across_blocks),
    cmocka_unit_test(test_a_bad_record_in_a_later_block_refuses_the_file_and_replay_writes_nothing),
    cmocka_unit_test(test_replay_ahead_gives_the_bytes_of_one_event_at_a_time),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
