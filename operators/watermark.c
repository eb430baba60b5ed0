/* Event-time watermark with bounded lateness (see watermark.h). */
#include "watermark.h"

void cx_watermark_init(cx_watermark_t *watermark, int64_t lateness_ms) {
  watermark->lateness_ms = lateness_ms < 0 ? 0 : lateness_ms;
  watermark->max_seen_ms = CX_WATERMARK_NONE;
}

int64_t cx_watermark_current(const cx_watermark_t *watermark) {
  if (watermark->max_seen_ms == CX_WATERMARK_NONE)
    return CX_WATERMARK_NONE;
  /* Event times are validated as non-negative, so this cannot overflow. */
  return watermark->max_seen_ms - watermark->lateness_ms;
}

bool cx_watermark_observe(cx_watermark_t *watermark, int64_t event_time_ms) {
  int64_t current = cx_watermark_current(watermark);
  if (current != CX_WATERMARK_NONE && event_time_ms < current)
    return true;
  if (watermark->max_seen_ms == CX_WATERMARK_NONE || event_time_ms > watermark->max_seen_ms)
    watermark->max_seen_ms = event_time_ms;
  return false;
}
