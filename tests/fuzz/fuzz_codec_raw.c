/* libFuzzer target: raw Avro binary (input.format=raw) through
 * cx_codec_decode. The first byte picks the writer schema: even = the current
 * interaction_event.avsc (no resolution), odd = interaction_event_v0.avsc
 * (resolved to the current schema); the rest is the message. A decoded event
 * must survive an encode/decode round trip. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_codec_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cx_config_t *current_config, *v0_config, *confluent_config;
  static cx_codec_t *current, *v0, *confluent;
  if (!current) {
    current = fuzz_codec_new(&current_config, "raw", "interaction_event.avsc");
    v0 = fuzz_codec_new(&v0_config, "raw", "interaction_event_v0.avsc");
    confluent = fuzz_codec_new(&confluent_config, "confluent", NULL);
  }
  if (size < 1)
    return 0;
  cx_codec_t *codec = (data[0] & 1) ? v0 : current;
  cx_event_t event;
  cx_event_clear(&event);
  char errstr[512];
  if (cx_codec_decode(codec, data + 1, size - 1, &event, errstr, sizeof(errstr)) == CX_OK)
    fuzz_check_round_trip(confluent, confluent, &event);
  return 0;
}
