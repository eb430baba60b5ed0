/* The InteractionEvent schema and the mapping between cx_event_t and an Avro
 * value of that schema (or a resolved reader that presents it). Field indexes
 * are those of schemas/interaction_event.avsc, the reader schema everywhere. */
#ifndef CX_EVENT_AVRO_H
#define CX_EVENT_AVRO_H

#include <avro.h>
#include <stddef.h>

#include "../operators/event.h"
#include "err.h"

/* Reads and parses a schema file. On success *schema is owned by the caller
 * (avro_schema_decref). */
cx_err_t cx_schema_load_file(const char *path, avro_schema_t *schema,
                             char *errstr, size_t errstr_size);

/* Loads <schema_dir>/interaction_event.avsc. */
cx_err_t cx_event_schema_load(const char *schema_dir, avro_schema_t *schema,
                              char *errstr, size_t errstr_size);

/* Fills *event from a record of the reader schema. Strings in *event borrow
 * from the value and stay valid until the value is changed or freed. Checks
 * the invariants of the schema README (non-empty ids, ranges of enums). */
cx_err_t cx_event_from_avro(avro_value_t *record, cx_event_t *event,
                            char *errstr, size_t errstr_size);

/* Sets every field of a record of the reader schema from *event. */
cx_err_t cx_event_to_avro(const cx_event_t *event, avro_value_t *record,
                          char *errstr, size_t errstr_size);

#endif
