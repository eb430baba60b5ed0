/* libFuzzer target: Confluent-framed messages (magic byte, schema id, Avro)
 * through cx_codec_decode, with the registry of schemas/: id 1 is the current
 * InteractionEvent (no resolution), id 4 the older v0 schema (resolved by
 * name to the current one); other ids are refused. A decoded event must
 * survive an encode/decode round trip. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_codec_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cx_config_t *config;
  static cx_codec_t *codec, *encoder;
  if (!codec) {
    codec = fuzz_codec_new(&config, "confluent", NULL);
    encoder = codec;
  }
  cx_event_t event;
  cx_event_clear(&event);
  char errstr[512];
  if (cx_codec_decode(codec, data, size, &event, errstr, sizeof(errstr)) == CX_OK)
    fuzz_check_round_trip(encoder, codec, &event);
  return 0;
}
