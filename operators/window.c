/* Sliding windows (see window.h): two binary searches over a sorted array.
 * Day counters: a ring indexed by day mod CX_WINDOW_DAYS. */
#include "window.h"

#include <stdlib.h>
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

static size_t ring_index(int64_t day) {
  int64_t index = day % CX_WINDOW_DAYS;
  return (size_t)(index < 0 ? index + CX_WINDOW_DAYS : index);
}

int64_t cx_window_days_oldest(const cx_window_days_t *days) {
  return days->newest_day - (CX_WINDOW_DAYS - 1);
}

uint32_t cx_window_days_count(const cx_window_days_t *days, size_t slot) {
  return days->low[slot] | (days->high ? (uint32_t)days->high[slot] << 8 : 0);
}

int cx_window_days_set(cx_window_days_t *days, size_t slot, uint32_t count) {
  if (count > UINT8_MAX && !days->high) {
    days->high = calloc(CX_WINDOW_DAYS, 1);
    if (!days->high)
      return -1;
  }
  days->low[slot] = (uint8_t)count;
  if (days->high)
    days->high[slot] = (uint8_t)(count >> 8);
  return 0;
}

void cx_window_days_release(cx_window_days_t *days) {
  free(days->high);
  days->high = NULL;
}

size_t cx_window_days_heap_bytes(const cx_window_days_t *days) {
  return days->high ? CX_WINDOW_DAYS : 0;
}

static void clear_slot(cx_window_days_t *days, size_t slot) {
  days->low[slot] = 0;
  if (days->high)
    days->high[slot] = 0;
}

int cx_window_days_add(cx_window_days_t *days, int64_t day, uint32_t count) {
  /* The usual case: one more event on the newest day, its count staying a byte. */
  if (day == days->newest_day && !days->high) {
    size_t slot = ring_index(day);
    if (count <= (uint32_t)(UINT8_MAX - days->low[slot])) {
      days->low[slot] = (uint8_t)(days->low[slot] + count);
      return 1;
    }
  }
  if (day <= days->newest_day && day < cx_window_days_oldest(days))
    return 0;
  size_t slot = ring_index(day);
  /* A newer day's slot held a day that leaves the ring: it starts at 0. */
  uint32_t old = day > days->newest_day ? 0 : cx_window_days_count(days, slot);
  uint32_t sum = count >= UINT16_MAX - old ? UINT16_MAX : old + count;
  if (sum > UINT8_MAX && !days->high) {
    days->high = calloc(CX_WINDOW_DAYS, 1);
    if (!days->high)
      return -1;
  }
  if (day > days->newest_day) {
    if ((uint64_t)day - (uint64_t)days->newest_day >= CX_WINDOW_DAYS) {
      memset(days->low, 0, sizeof(days->low));
      if (days->high)
        memset(days->high, 0, CX_WINDOW_DAYS);
    } else {
      for (int64_t d = days->newest_day + 1; d <= day; d++)
        clear_slot(days, ring_index(d));
    }
    days->newest_day = day;
  }
  cx_window_days_set(days, slot, sum); /* cannot fail: the high bytes are there when needed */
  return 1;
}

uint32_t cx_window_days_sum(const cx_window_days_t *days, int64_t first_day, int64_t last_day) {
  int64_t oldest = cx_window_days_oldest(days);
  if (first_day < oldest)
    first_day = oldest;
  if (last_day > days->newest_day)
    last_day = days->newest_day;
  uint32_t sum = 0;
  if (first_day > last_day)
    return 0;
  /* At most two runs of slots: first_day's to the ring's end, then from 0. */
  size_t slot = ring_index(first_day), n = (size_t)(last_day - first_day) + 1;
  size_t first_run = n < CX_WINDOW_DAYS - slot ? n : CX_WINDOW_DAYS - slot;
  const uint8_t *low = days->low, *high = days->high;
  for (size_t i = slot; i < slot + first_run; i++)
    sum += low[i];
  for (size_t i = 0; i < n - first_run; i++)
    sum += low[i];
  if (high) {
    uint32_t high_sum = 0;
    for (size_t i = slot; i < slot + first_run; i++)
      high_sum += high[i];
    for (size_t i = 0; i < n - first_run; i++)
      high_sum += high[i];
    sum += high_sum << 8;
  }
  return sum;
}
