/* Checks that a file is an Avro object container file whose declared sizes
 * can be trusted, before Avro-C's file reader opens it: the header (magic,
 * metadata of bounded size with avro.schema, sync marker), then every block
 * (record count and byte size within the file, the sync marker after it)
 * and, for uncompressed blocks, every record through the avro guard of the
 * file's writer schema, which must end exactly at the block's end. One
 * sequential read of the file. */
#ifndef CX_OCF_CHECK_H
#define CX_OCF_CHECK_H

#include <stddef.h>

#include "err.h"

/* CX_OK, CX_ERR_IO (cannot open), CX_ERR_MSG_MALFORMED with a sentence naming
 * the byte offset and what is wrong, or CX_ERR_NOMEM. */
cx_err_t cx_ocf_check(const char *path, char *errstr, size_t errstr_size);

#endif
