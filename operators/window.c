/* Sliding windows (see window.h): two binary searches over a sorted array. */
#include "window.h"

#include <string.h>

static int64_t time_at(const void *base, size_t stride, size_t time_offset, size_t index) {
  int64_t t;
  memcpy(&t, (const char *)base + index * stride + time_offset, sizeof(t));
  return t;
}

/* First index whose time is > bound. */
static size_t upper_bound(const void *base, size_t count, size_t stride, size_t time_offset,
                          int64_t bound) {
  size_t low = 0, high = count;
  while (low < high) {
    size_t mid = low + (high - low) / 2;
    if (time_at(base, stride, time_offset, mid) > bound)
      high = mid;
    else
      low = mid + 1;
  }
  return low;
}

int64_t cx_window_start(int64_t end_ms, int64_t width_ms) {
  if (width_ms > 0 && end_ms < INT64_MIN + width_ms)
    return INT64_MIN;
  return end_ms - width_ms;
}

cx_window_range_t cx_window_sliding(const void *base, size_t count, size_t stride,
                                    size_t time_offset, int64_t end_ms, int64_t width_ms) {
  cx_window_range_t range;
  range.begin = upper_bound(base, count, stride, time_offset, cx_window_start(end_ms, width_ms));
  range.end = upper_bound(base, count, stride, time_offset, end_ms);
  if (range.end < range.begin)
    range.end = range.begin;
  return range;
}
