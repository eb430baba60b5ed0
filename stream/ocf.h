/* Avro object container files (OCF) of InteractionEvents: a writer for the
 * importer and the generator, a reader for replay and produce. The reader
 * reads null and deflate files block by block and decodes each record with
 * the decoder specialised to the file's writer schema (guard checks fused),
 * strings borrowed from the block, which stays in memory long enough for a
 * caller to decode a window of events ahead (CX_OCF_READER_KEEP). */
#ifndef CX_OCF_H
#define CX_OCF_H

#include <avro.h>
#include <stdbool.h>

#include "../operators/event.h"
#include "err.h"

/* Records a caller may read ahead while keeping an earlier one's strings. */
#define CX_OCF_READER_KEEP 16

typedef struct cx_ocf_writer_s cx_ocf_writer_t;
typedef struct cx_ocf_reader_s cx_ocf_reader_t;

/* Creates (truncates) path and writes the header with the InteractionEvent
 * schema from schema_dir. */
cx_err_t cx_ocf_writer_open(const char *path, const char *schema_dir,
                            cx_ocf_writer_t **writer, char *errstr, size_t errstr_size);
cx_err_t cx_ocf_writer_append(cx_ocf_writer_t *writer, const cx_event_t *event,
                              char *errstr, size_t errstr_size);
/* Flushes, closes and frees; returns the first error of the flush. NULL is a no-op. */
cx_err_t cx_ocf_writer_close(cx_ocf_writer_t *writer, char *errstr, size_t errstr_size);

/* Opens an OCF whose writer schema can be read as an InteractionEvent. */
cx_err_t cx_ocf_reader_open(const char *path, const char *schema_dir,
                            cx_ocf_reader_t **reader, char *errstr, size_t errstr_size);
/* cx_ocf_reader_open that leaves the checks of a null file's records to the
 * reading, which checks each record as it decodes it (the same guard):
 * open checks the header and the blocks' framing only. Until
 * cx_ocf_reader_check_rest has passed (or every record was read), the file
 * is not known to be valid: a record that does not read makes
 * cx_ocf_reader_next return, with *eof, the message open would have given
 * (cx_ocf_reader_refused then true). For a caller that holds its output
 * until the file is known valid. Other codecs: cx_ocf_reader_open. */
cx_err_t cx_ocf_reader_open_deferred(const char *path, const char *schema_dir,
                                     cx_ocf_reader_t **reader, char *errstr,
                                     size_t errstr_size);
/* Checks the records not read yet (from the current block) as open would
 * have; CX_OK at once when nothing is deferred any more. On a refusal,
 * open's message and cx_ocf_reader_refused true. */
cx_err_t cx_ocf_reader_check_rest(cx_ocf_reader_t *reader, char *errstr, size_t errstr_size);
/* The file was found invalid after a deferred open (see above). */
bool cx_ocf_reader_refused(const cx_ocf_reader_t *reader);
/* Reads the next record into *event. Sets *eof at the end. A record that
 * fails validation returns its error with *eof false; the caller may count
 * it and go on. Strings are borrowed from the reader: when
 * cx_ocf_reader_last_kept() says so, they stay valid while the next
 * CX_OCF_READER_KEEP records are read (across blocks) and until the reader
 * is destroyed; otherwise only until the next call. */
cx_err_t cx_ocf_reader_next(cx_ocf_reader_t *reader, cx_event_t *event, bool *eof,
                            char *errstr, size_t errstr_size);
/* Whether the event the last cx_ocf_reader_next gave keeps its strings for
 * CX_OCF_READER_KEEP more records: true for the null and deflate codecs,
 * false for a record of more than CX_EVENT_MAX_ATTRIBUTES attributes (read
 * through Avro-C's generic value) and for snappy and lzma files. */
bool cx_ocf_reader_last_kept(const cx_ocf_reader_t *reader);
/* The file's own writer schema (borrowed). */
avro_schema_t cx_ocf_reader_schema(const cx_ocf_reader_t *reader);
/* The last record read, as a value of the file's writer schema (borrowed). */
avro_value_t *cx_ocf_reader_raw_value(cx_ocf_reader_t *reader);
/* Records read so far, including the last one. */
uint64_t cx_ocf_reader_position(const cx_ocf_reader_t *reader);
void cx_ocf_reader_destroy(cx_ocf_reader_t *reader);

#endif
