/* Alerts and profiles as Avro binary, written field by field (no Avro-C
 * generic values): the bytes Avro-C's generic encoding gives for
 * schemas/alert.avsc and schemas/customer_profile.avsc. A schema.dir may
 * hold other versions of those files: the codec uses these writers only for
 * a schema whose layout (field names and order, types, enum symbols, union
 * branches) is the one they were written for, checked once at start, and
 * Avro-C's generic encoding otherwise. */
#ifndef CX_AVRO_OUT_H
#define CX_AVRO_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include <avro.h>

#include "../operators/alert.h"
#include "../operators/profile.h"
#include "buf.h"

/* Whether schema has the layout the writers below produce. */
bool cx_avro_out_alert_layout(avro_schema_t schema);
bool cx_avro_out_profile_layout(avro_schema_t schema);

/* Appends the Avro binary body of an alert (emitted_at_ms < 0: null) or of
 * a profile that is not deleted to out. Returns -1 when out of memory. */
int cx_avro_out_alert(const cx_alert_t *alert, int64_t emitted_at_ms, cx_buf_t *out);
int cx_avro_out_profile(const cx_profile_t *profile, int64_t emitted_at_ms, cx_buf_t *out);

#endif
