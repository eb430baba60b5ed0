/* libFuzzer target: untrusted changelog records through
 * cx_state_codec_decode. A record that decodes must encode, decode again and
 * encode to the same bytes (the decoder and encoder agree), and must be
 * restorable into a state table and findable by its key. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../operators/state.h"
#include "../../operators/state_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cx_customer_t customer, again;
  char errstr[256];
  if (cx_state_codec_decode(data, size, &customer, errstr, sizeof(errstr)))
    return 0;
  cx_state_codec_buf_t first = {0}, second = {0};
  if (cx_state_codec_encode(&customer, &first) ||
      cx_state_codec_decode(first.bytes, first.len, &again, errstr, sizeof(errstr))) {
    fprintf(stderr, "fuzz: a decoded record does not encode and decode again: %s\n", errstr);
    abort();
  }
  if (cx_state_codec_encode(&again, &second) || first.len != second.len ||
      memcmp(first.bytes, second.bytes, first.len)) {
    fprintf(stderr, "fuzz: a record's second encoding differs from its first\n");
    abort();
  }
  cx_customer_release(&again);
  cx_state_t *state = cx_state_new();
  if (!state)
    abort();
  cx_str_t key = cx_customer_key(&customer);
  if (!cx_state_restore(state, &customer))
    abort();
  if (!cx_state_find(state, key, cx_state_hash(key)) || cx_state_customer_count(state) != 1) {
    fprintf(stderr, "fuzz: a restored customer is not found by its key\n");
    abort();
  }
  cx_state_destroy(state);
  cx_state_codec_buf_free(&first);
  cx_state_codec_buf_free(&second);
  return 0;
}
