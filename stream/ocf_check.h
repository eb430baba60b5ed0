/* Checks that a file is an Avro object container file whose declared sizes
 * can be trusted, before it is read (ocf.c's block reader, or Avro-C's file
 * reader for snappy and lzma): the header (magic,
 * metadata of bounded size with avro.schema, sync marker), then every block
 * (record count and byte size within the file, the sync marker after it)
 * and, for uncompressed blocks, every record through the avro guard of the
 * file's writer schema, which must end exactly at the block's end. One
 * sequential pass over the file, mapped (cx_ocf_map). */
#ifndef CX_OCF_CHECK_H
#define CX_OCF_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CX_OCF_SYNC_BYTES 16
#define CX_OCF_BLOCK_MAX (512u << 20) /* bytes of one block, stored or inflated */

/* What the header says, for a reader that goes on from data_offset. */
typedef struct cx_ocf_header_s {
  char *schema_json;                /* avro.schema, NUL-terminated (owned) */
  size_t schema_len;                /* its bytes */
  char codec[16];                   /* avro.codec; "null" when absent */
  uint8_t sync[CX_OCF_SYNC_BYTES];  /* the file's sync marker */
  uint64_t data_offset;             /* byte offset of the first block */
} cx_ocf_header_t;

/* CX_OK, CX_ERR_IO (cannot open), CX_ERR_MSG_MALFORMED with a sentence naming
 * the byte offset and what is wrong, or CX_ERR_NOMEM. */
cx_err_t cx_ocf_check(const char *path, char *errstr, size_t errstr_size);

/* cx_ocf_check that also fills *header when the file passes (release it with
 * cx_ocf_header_release). */
cx_err_t cx_ocf_check_header(const char *path, cx_ocf_header_t *header, char *errstr,
                             size_t errstr_size);
/* The same check of a file's bytes (file[0 .. size); path names it in
 * messages). */
cx_err_t cx_ocf_check_bytes(const char *path, const uint8_t *file, size_t size,
                            cx_ocf_header_t *header, char *errstr, size_t errstr_size);

/* The header and the blocks' framing only (no record checks): what a reader
 * that checks every record as it decodes it needs before reading. A file
 * this refuses gets the full check's message (its first error). */
cx_err_t cx_ocf_check_blocks(const char *path, const uint8_t *file, size_t size,
                             cx_ocf_header_t *header, char *errstr, size_t errstr_size);
/* The full check of the blocks from the one at byte offset (a block's start
 * after the header; block_number its number) to the end, with the messages
 * the full check gives there. */
cx_err_t cx_ocf_check_records_from(const char *path, const uint8_t *file, size_t size,
                                   uint64_t offset, uint64_t block_number, char *errstr,
                                   size_t errstr_size);

/* A file mapped read-only, whole. A file that shrinks while it is mapped
 * ends the process with SIGBUS when the lost pages are read: replay's
 * input is not expected to change under it. */
typedef struct cx_ocf_map_s {
  const uint8_t *bytes;   /* NULL for an empty file */
  size_t size;            /* bytes */
} cx_ocf_map_t;

/* CX_OK, or CX_ERR_IO with "cannot open/stat/map PATH: why". */
cx_err_t cx_ocf_map(const char *path, cx_ocf_map_t *map, char *errstr, size_t errstr_size);
/* Gives back the pages of map before byte offset `before` that were read
 * (MADV_DONTNEED: they count in the process's resident memory while
 * mapped); reading them again maps them again from the file. Done every
 * 1 MB, from the last offset given back (*released). */
void cx_ocf_map_release(const cx_ocf_map_t *map, size_t before, size_t *released);
/* Unmaps; a zeroed map is a no-op. */
void cx_ocf_unmap(cx_ocf_map_t *map);

/* Frees what *header owns; a zeroed header is a no-op. */
void cx_ocf_header_release(cx_ocf_header_t *header);

#endif
