/* cx_ocf_check: the pass over an Avro object container file before Avro-C
 * reads it. A file written by cx_ocf_writer passes and reads back; a
 * truncated one, a block declaring more bytes than the file has, a record
 * whose string length runs past its block, a wrong sync marker and the two
 * files the ocf fuzz target found (tests/fuzz/findings/) are refused with a
 * sentence, and cx_ocf_reader_open refuses them too. Run from the
 * repository root (schemas/, tests/fuzz/findings/). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../stream/ocf.h"
#include "../stream/ocf_check.h"
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

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_a_written_file_passes_and_reads_back),
    cmocka_unit_test(test_truncated_file_is_refused),
    cmocka_unit_test(test_block_larger_than_the_file_is_refused),
    cmocka_unit_test(test_record_running_past_its_block_is_refused),
    cmocka_unit_test(test_wrong_sync_marker_is_refused),
    cmocka_unit_test(test_files_the_fuzzer_found_are_refused),
    cmocka_unit_test(test_not_an_ocf_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
