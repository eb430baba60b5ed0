/* Confluent wire framing: magic byte 0, then the schema id as a 4-byte
 * big-endian integer, then the Avro binary body.
 *
 *   +------+----------------------+-------------------...
 *   | 0x00 | schema id (int32 BE) | Avro binary
 *   +------+----------------------+-------------------...
 */
#ifndef CX_FRAME_H
#define CX_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CX_FRAME_HEADER_BYTES 5

/* Splits a framed message; *payload borrows from buf. */
cx_err_t cx_frame_parse(const void *buf, size_t len, int32_t *schema_id,
                        const void **payload, size_t *payload_len);

/* Writes the 5-byte header for schema_id into out. */
void cx_frame_write_header(uint8_t out[CX_FRAME_HEADER_BYTES], int32_t schema_id);

#endif
