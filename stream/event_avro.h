/* The InteractionEvent schema and the mapping between cx_event_t and an Avro
 * value of that schema (or of an older or newer writer schema). Field indexes
 * are those of schemas/interaction_event.avsc, the reader schema everywhere. */
#ifndef CX_EVENT_AVRO_H
#define CX_EVENT_AVRO_H

#include <avro.h>
#include <stdbool.h>
#include <stddef.h>

#include "../operators/event.h"
#include "avro_guard.h"
#include "err.h"

/* Reads and parses a schema file. On success *schema is owned by the caller
 * (avro_schema_decref). */
cx_err_t cx_schema_load_file(const char *path, avro_schema_t *schema,
                             char *errstr, size_t errstr_size);

/* Loads <schema_dir>/interaction_event.avsc. */
cx_err_t cx_event_schema_load(const char *schema_dir, avro_schema_t *schema,
                              char *errstr, size_t errstr_size);

#define CX_EVENT_FIELD_COUNT 15
#define CX_EVENT_LAYOUT_MAX_SYMBOLS 256

/* Where each InteractionEvent field sits in one writer schema, found once by
 * name (Avro schema resolution, done here because Avro-C 1.11's resolved
 * reader cannot fill reader fields the writer lacks). Absent optional fields
 * read as null, absent attributes as {}; enum symbols map by name, unknown
 * channel and type symbols to OTHER (the enums' defaults). */
typedef struct cx_event_field_s {
  int index;          /* field index in the writer record; -1 = absent */
  int null_branch;    /* union branch of null; -1 when the field is not a union */
  int value_branch;   /* union branch of the value; -1 when not a union */
  avro_type_t type;   /* writer type of the value */
} cx_event_field_t;

typedef struct cx_event_layout_s {
  cx_event_field_t fields[CX_EVENT_FIELD_COUNT];           /* by reader field order */
  int8_t channel_of[CX_EVENT_LAYOUT_MAX_SYMBOLS];          /* writer symbol -> cx_channel_t */
  int8_t type_of[CX_EVENT_LAYOUT_MAX_SYMBOLS];             /* writer symbol -> cx_event_type_t */
  int8_t outcome_of[CX_EVENT_LAYOUT_MAX_SYMBOLS];          /* writer symbol -> cx_outcome_t, -1 unknown */
  int channel_symbols, type_symbols, outcome_symbols;      /* writer symbol counts */
} cx_event_layout_t;

/* Builds the layout of a writer schema; CX_ERR_MSG_INCOMPATIBLE with the
 * reason when it cannot be read as an InteractionEvent. */
cx_err_t cx_event_layout_init(cx_event_layout_t *layout, avro_schema_t writer_schema,
                              char *errstr, size_t errstr_size);

/* Fills *event from a generic value of the layout's writer schema. Strings
 * in *event borrow from the value and stay valid until it changes. Checks
 * the invariants of the schema (non-empty ids, known enum symbols). */
cx_err_t cx_event_from_avro(const cx_event_layout_t *layout, avro_value_t *record,
                            cx_event_t *event, char *errstr, size_t errstr_size);

/* A decoder specialised to one writer schema: it reads the Avro binary
 * encoding of a record straight into a cx_event_t in one pass, with the
 * layout's resolution compiled into a list of steps (one per writer field:
 * which reader field, how to read it, or how to skip it), without Avro-C's
 * generic values and without allocating. Strings in the event borrow from the
 * input bytes. For every input the guard accepts gives the event and the
 * error that avro_value_read + cx_event_from_avro give (tests/test_fast_decode.c compares
 * them on random records); bytes that do not parse give CX_ERR_MSG_MALFORMED
 * (it never reads past len, but it does not replace the guard: use it after
 * cx_avro_guard_check). A map of more attributes than the event holds sets
 * *generic and returns CX_OK without an event: the caller decodes that record
 * with Avro-C (whose map keeps the last value of a repeated key). */
typedef struct cx_event_decoder_s cx_event_decoder_t;

/* Builds the decoder of a writer schema (borrowed while the decoder lives);
 * CX_ERR_MSG_INCOMPATIBLE with the reason as cx_event_layout_init. */
cx_err_t cx_event_decoder_new(avro_schema_t writer_schema, cx_event_decoder_t **decoder,
                              char *errstr, size_t errstr_size);
void cx_event_decoder_destroy(cx_event_decoder_t *decoder);

/* A writer schema laid out exactly as the reader schema (the fields in its
 * order, with its types and unions of null first) is read by straight-line
 * code rather than the list of steps; cx_event_decoder_is_canonical says
 * which. For tests: cx_event_decoder_new_steps builds a decoder that always
 * uses the steps, to compare both on the same bytes. */
bool cx_event_decoder_is_canonical(const cx_event_decoder_t *decoder);
cx_err_t cx_event_decoder_new_steps(avro_schema_t writer_schema, cx_event_decoder_t **decoder,
                                    char *errstr, size_t errstr_size);

cx_err_t cx_event_decode(const cx_event_decoder_t *decoder, const void *buf, size_t len,
                         cx_event_t *event, bool *generic, char *errstr, size_t errstr_size);

/* The guard and the decoder in one pass over the bytes: the same result as
 * cx_avro_guard_check (used NULL: buf[0..len) is one message) or
 * cx_avro_guard_check_prefix (one record at the start of buf, *used its
 * length) followed, when the guard accepts, by cx_event_decode of the
 * datum. guard must be compiled from the decoder's writer schema. The fields
 * the decoder reads are checked as it reads them, by the guard's rules
 * (declared lengths and counts against the bytes left, strict varints, enum
 * and union ranges, nesting, the element budget, map block sizes, trailing
 * bytes, the size limit); fields it skips go through the guard's own check
 * of that field. Bytes the guard would refuse get the guard's reason and
 * message (it is run again for them: a cold path), and *used 0; *used is
 * the datum's length once it has passed, whatever the decoder then says.
 * With *generic set (more attributes than the event holds) the whole datum
 * has passed the guard. */
cx_err_t cx_event_decode_guarded(const cx_event_decoder_t *decoder, const cx_avro_guard_t *guard,
                                 const void *buf, size_t len, size_t *used, cx_event_t *event,
                                 bool *generic, char *errstr, size_t errstr_size);

/* Sets every field of a record of the reader schema from *event. */
cx_err_t cx_event_to_avro(const cx_event_t *event, avro_value_t *record,
                          char *errstr, size_t errstr_size);

/* Checks what the schema cannot say: occurred_at not before 1970 and at most
 * max_future_ms past now_ms; wait_ms, handle_ms >= 0; sentiment a number in
 * -1..1; csat 1..5; nps 0..10. Returns CX_ERR_MSG_BAD_TIME or
 * CX_ERR_MSG_BAD_VALUE with the reason in errstr. */
cx_err_t cx_event_check_ranges(const cx_event_t *event, int64_t now_ms, int64_t max_future_ms,
                               char *errstr, size_t errstr_size);

#endif
