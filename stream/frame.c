/* Confluent framing (see frame.h for the layout). */
#include "frame.h"

cx_err_t cx_frame_parse(const void *buf, size_t len, int32_t *schema_id,
                        const void **payload, size_t *payload_len) {
  const uint8_t *bytes = buf;
  if (!buf || len < CX_FRAME_HEADER_BYTES)
    return CX_ERR_MSG_TOO_SHORT;
  if (bytes[0] != 0)
    return CX_ERR_MSG_BAD_MAGIC;
  *schema_id = (int32_t)(((uint32_t)bytes[1] << 24) | ((uint32_t)bytes[2] << 16) |
                         ((uint32_t)bytes[3] << 8) | (uint32_t)bytes[4]);
  *payload = bytes + CX_FRAME_HEADER_BYTES;
  *payload_len = len - CX_FRAME_HEADER_BYTES;
  return CX_OK;
}

void cx_frame_write_header(uint8_t out[CX_FRAME_HEADER_BYTES], int32_t schema_id) {
  uint32_t id = (uint32_t)schema_id;
  out[0] = 0;
  out[1] = (uint8_t)(id >> 24);
  out[2] = (uint8_t)(id >> 16);
  out[3] = (uint8_t)(id >> 8);
  out[4] = (uint8_t)id;
}
