/* Sliding event-time windows over arrays kept sorted by time. A window at
 * time t of width W holds the entries with time in (t - W, t]: the bound at
 * t - W is exclusive, t itself inclusive. Arrays are small and sorted, so
 * bounds are found by binary search; nothing is copied. For counts over
 * whole UTC days there is a fixed ring of per-day counters (cx_window_days_*). */
#ifndef CX_WINDOW_H
#define CX_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An index range [begin, end) into a sorted array. */
typedef struct cx_window_range_s {
  size_t begin; /* first entry inside */
  size_t end;   /* one past the last entry inside */
} cx_window_range_t;

/* Entries with time in (end_ms - width_ms, end_ms] of an array of count
 * elements of stride bytes whose int64_t time sits at time_offset, sorted by
 * time. Entries with a time equal to end_ms are all inside. */
cx_window_range_t cx_window_sliding(const void *base, size_t count, size_t stride,
                                    size_t time_offset, int64_t end_ms, int64_t width_ms);

/* Start of the window (t - W, t], saturating instead of overflowing. */
int64_t cx_window_start(int64_t end_ms, int64_t width_ms);

/* Per-day counters: how many events fell on each of the newest
 * CX_WINDOW_DAYS UTC days (day = floor(t / CX_WINDOW_DAY_MS)), in a fixed
 * ring. Adding to a newer day clears the days that leave the ring; counts
 * saturate at UINT16_MAX. A count is one byte until some count of the ring
 * first passes 255: then a side array of the high bytes is allocated (and
 * kept until cx_window_days_release), so counts stay exact at 56 bytes
 * instead of 88 for the usual few events a day. A zeroed struct is an empty
 * ring (all counts 0, newest day 0). */
#define CX_WINDOW_DAY_MS 86400000LL
#define CX_WINDOW_DAYS 40

typedef struct cx_window_days_s {
  int64_t newest_day;            /* the ring holds newest_day - CX_WINDOW_DAYS + 1 .. newest_day */
  uint8_t *high;                 /* owned: high bytes of the counts, NULL = all 0 */
  uint8_t low[CX_WINDOW_DAYS];   /* day d's count at slot d mod CX_WINDOW_DAYS: low byte */
} cx_window_days_t;

/* UTC day of an event time: floor(t_ms / CX_WINDOW_DAY_MS), also for t < 0. */
static inline int64_t cx_window_day(int64_t t_ms) {
  int64_t day = t_ms / CX_WINDOW_DAY_MS;
  return t_ms % CX_WINDOW_DAY_MS < 0 ? day - 1 : day;
}

/* First and last millisecond of a day (saturating at the int64 range). */
static inline int64_t cx_window_day_start_ms(int64_t day) {
  if (day > INT64_MAX / CX_WINDOW_DAY_MS)
    return INT64_MAX;
  if (day < INT64_MIN / CX_WINDOW_DAY_MS)
    return INT64_MIN;
  return day * CX_WINDOW_DAY_MS;
}

static inline int64_t cx_window_day_end_ms(int64_t day) {
  if (day >= INT64_MAX / CX_WINDOW_DAY_MS)
    return INT64_MAX;
  int64_t next_start = cx_window_day_start_ms(day + 1);
  return next_start == INT64_MIN ? INT64_MIN : next_start - 1;
}

/* Adds count to day's counter, first moving the ring forward when day is
 * newer than newest_day. Returns 1, or 0, changing nothing, when day is
 * older than the oldest day held, or -1, changing nothing, when out of
 * memory for the high bytes. */
int cx_window_days_add(cx_window_days_t *days, int64_t day, uint32_t count);
/* The count of ring slot `slot` (< CX_WINDOW_DAYS), and setting it (count <=
 * UINT16_MAX; -1, changing nothing, when out of memory). */
uint32_t cx_window_days_count(const cx_window_days_t *days, size_t slot);
int cx_window_days_set(cx_window_days_t *days, size_t slot, uint32_t count);
/* Frees the high bytes (the counts stay readable as their low bytes only:
 * call it when the ring goes). */
void cx_window_days_release(cx_window_days_t *days);
/* Heap bytes of the ring (the high bytes when allocated). */
size_t cx_window_days_heap_bytes(const cx_window_days_t *days);
/* Oldest day whose count is still held: days from here on are exact (days
 * after newest_day count 0), days before it are forgotten. */
int64_t cx_window_days_oldest(const cx_window_days_t *days);
/* Sum of the counts of first_day .. last_day, both included; days not held
 * count 0; an empty range (last_day < first_day) sums to 0. */
uint32_t cx_window_days_sum(const cx_window_days_t *days, int64_t first_day, int64_t last_day);

#endif
