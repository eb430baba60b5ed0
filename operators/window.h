/* Sliding event-time windows over arrays kept sorted by time. A window at
 * time t of width W holds the entries with time in (t - W, t]: the bound at
 * t - W is exclusive, t itself inclusive. Arrays are small and sorted, so
 * bounds are found by binary search; nothing is copied. */
#ifndef CX_WINDOW_H
#define CX_WINDOW_H

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

#endif
