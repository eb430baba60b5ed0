/* The message codec: bytes from Kafka to a cx_event_t, and alerts, profiles
 * and events to Confluent-framed Avro. Writer schemas come from schema.dir
 * (ids listed in registry.properties); each writer schema gets, once, a guard
 * that validates untrusted bytes before Avro-C sees them, a reused value and
 * a field layout (event_avro.h) that reads it as an InteractionEvent. Not
 * thread-safe: one codec per processing thread. */
#ifndef CX_CODEC_H
#define CX_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../operators/alert.h"
#include "../operators/event.h"
#include "../operators/profile.h"
#include "buf.h"
#include "config.h"
#include "err.h"

typedef struct cx_codec_s cx_codec_t;

cx_err_t cx_codec_new(const cx_config_t *config, cx_codec_t **codec, char *errstr,
                      size_t errstr_size);
void cx_codec_destroy(cx_codec_t *codec);

/* Wall-clock time used to refuse events from the far future (set per batch). */
void cx_codec_set_now(cx_codec_t *codec, int64_t now_ms);

/* Decodes one message (format per input.format). On error the return value
 * is the dead-letter reason and errstr says what was wrong. Strings in *event
 * borrow from buf and from the codec: valid while buf is and until the next
 * decode. */
cx_err_t cx_codec_decode(cx_codec_t *codec, const void *buf, size_t len, cx_event_t *event,
                         char *errstr, size_t errstr_size);

/* Confluent-framed Avro of an event with the id of interaction_event.avsc. */
cx_err_t cx_codec_encode_event(cx_codec_t *codec, const cx_event_t *event, cx_buf_t *out,
                               char *errstr, size_t errstr_size);
/* Confluent-framed Avro of an alert; emitted_at_ms < 0 writes null. */
cx_err_t cx_codec_encode_alert(cx_codec_t *codec, const cx_alert_t *alert,
                               int64_t emitted_at_ms, cx_buf_t *out, char *errstr,
                               size_t errstr_size);

/* Confluent-framed Avro of a profile (CustomerProfile, the id of
 * customer_profile.avsc); emitted_at_ms < 0 writes null. A deleted profile
 * is a tombstone: out is left empty (len 0), to be produced as a null value. */
cx_err_t cx_codec_encode_profile(cx_codec_t *codec, const cx_profile_t *profile,
                                 int64_t emitted_at_ms, cx_buf_t *out, char *errstr,
                                 size_t errstr_size);

/* Alerts and profiles are written by avro_out.h when their schemas have its
 * layout, else through Avro-C's generic values; generic = true makes this
 * codec use Avro-C's for both (tests compare the two), false goes back. */
void cx_codec_use_avro_c(cx_codec_t *codec, bool generic);
/* Whether both alerts and profiles are written by avro_out.h. */
bool cx_codec_writes_by_hand(const cx_codec_t *codec);

/* Schema id registered for a schema file name in registry.properties, or -1. */
int32_t cx_codec_schema_id(const cx_codec_t *codec, const char *file_name);

#endif
