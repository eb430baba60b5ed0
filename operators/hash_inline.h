/* cx_hash_inline: cx_state_hash (XXH3-64 of a key) compiled into the caller
 * (XXH_INLINE_ALL), so the per-event hashes of short keys (customer ids,
 * sessions, elements, cases) skip the shared library's call and dispatch.
 * Same values as cx_state_hash; include it only in files that do not also
 * include <xxhash.h> for the library's symbols. */
#ifndef CX_HASH_INLINE_H
#define CX_HASH_INLINE_H

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "event.h"

static inline uint64_t cx_hash_inline(cx_str_t key) {
  return XXH3_64bits(key.ptr, key.len);
}

#endif
