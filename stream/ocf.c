/* OCF writing through Avro-C's file API and value API (never the datum
 * API). Reading: a file is mapped and checked by cx_ocf_check_bytes
 * (ocf_check.c) first; then null and deflate blocks are read here from the
 * same mapping and each record goes through the writer schema's specialised
 * decoder with the guard's checks fused (cx_event_decode_guarded), while
 * snappy and lzma files are read by Avro-C's file reader into one reused
 * generic value. Strings of a null block point into the mapping; a deflate
 * block is inflated into one of a few buffers, reused only once
 * CX_OCF_READER_KEEP records have been read past its last one. */
#include "ocf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "avro_guard.h"
#include "event_avro.h"
#include "ocf_check.h"

struct cx_ocf_writer_s {
  avro_file_writer_t file;     /* Avro-C OCF writer */
  avro_schema_t schema;        /* InteractionEvent */
  avro_value_iface_t *iface;   /* generic class of schema */
  avro_value_t value;          /* reused record */
};

/* A buffer of inflated records, reusable once the reader's position has
 * passed end + CX_OCF_READER_KEEP. */
typedef struct inflated_s {
  uint8_t *data;         /* inflated records */
  size_t capacity;       /* bytes allocated */
  uint64_t end;          /* position after its block's last record */
} inflated_t;

/* Files of the null and deflate codecs are read block by block here: each
 * record's bytes go through the guard and the writer schema's specialised
 * decoder, strings borrowed from the block. Other codecs (snappy, lzma) go
 * through Avro-C's file reader and generic values. */
struct cx_ocf_reader_s {
  avro_schema_t writer_schema;   /* the file's schema */
  avro_schema_t reader_schema;   /* InteractionEvent, to check the schema dir */
  avro_value_iface_t *writer_iface;   /* generic class of the writer schema */
  cx_event_layout_t layout;      /* the event's fields in the writer schema */
  avro_value_t raw;              /* record as written */
  uint64_t position;             /* records read */
  avro_file_reader_t file;       /* Avro-C's reader (snappy, lzma), else NULL */
  /* The block reader (null, deflate) */
  bool in;                       /* the block reader is used */
  cx_ocf_map_t map;              /* the file, mapped */
  size_t next;                   /* offset of the next block in map */
  const char *path;              /* for messages (borrowed from open) */
  uint8_t sync[CX_OCF_SYNC_BYTES]; /* the header's sync marker */
  bool deflate;                  /* blocks are raw deflate */
  cx_avro_guard_t *guard;        /* checks each record (default limits) */
  cx_event_decoder_t *decoder;   /* bytes -> event for the writer schema */
  avro_reader_t memory;          /* Avro-C over one record (the generic fallback) */
  inflated_t *inflated;          /* deflate: buffers of inflated blocks */
  size_t inflated_count;         /* buffers allocated */
  size_t current;                /* the buffer of the current block */
  const uint8_t *records;        /* the current block's records */
  size_t records_len;            /* their bytes */
  size_t at;                     /* offset of the next record in records */
  int64_t records_left;          /* records of the block not read yet */
  uint64_t block_number;         /* blocks read, for messages */
  const uint8_t *last;           /* bytes of the last record read */
  size_t last_len;               /* their length */
  bool raw_current;              /* raw holds the last record */
  bool last_kept;                /* the last event's strings outlive the next call */
  /* Deferred checks (cx_ocf_reader_open_deferred, null codec) */
  bool deferred;                 /* records not all checked yet: each is, as decoded */
  bool refused;                  /* the file failed the full check while being read */
  bool at_end;                   /* every block was read */
  size_t block_start;            /* offset of the current block (its count) */
  size_t released;               /* map given back before this offset */
  uint64_t block_start_number;   /* its number */
};

cx_err_t cx_ocf_writer_open(const char *path, const char *schema_dir,
                            cx_ocf_writer_t **out, char *errstr, size_t errstr_size) {
  cx_ocf_writer_t *writer = calloc(1, sizeof(*writer));
  if (!writer)
    return CX_ERR_NOMEM;
  cx_err_t err = cx_event_schema_load(schema_dir, &writer->schema, errstr, errstr_size);
  if (err) {
    free(writer);
    return err;
  }
  remove(path);
  if (avro_file_writer_create_with_codec(path, writer->schema, &writer->file, "null",
                                         1 << 20)) {
    snprintf(errstr, errstr_size, "cannot create %s: %s", path, avro_strerror());
    avro_schema_decref(writer->schema);
    free(writer);
    return CX_ERR_IO;
  }
  writer->iface = avro_generic_class_from_schema(writer->schema);
  avro_generic_value_new(writer->iface, &writer->value);
  *out = writer;
  return CX_OK;
}

cx_err_t cx_ocf_writer_append(cx_ocf_writer_t *writer, const cx_event_t *event,
                              char *errstr, size_t errstr_size) {
  cx_err_t err = cx_event_to_avro(event, &writer->value, errstr, errstr_size);
  if (err)
    return err;
  if (avro_file_writer_append_value(writer->file, &writer->value)) {
    snprintf(errstr, errstr_size, "cannot append to OCF: %s", avro_strerror());
    return CX_ERR_IO;
  }
  return CX_OK;
}

cx_err_t cx_ocf_writer_close(cx_ocf_writer_t *writer, char *errstr, size_t errstr_size) {
  if (!writer)
    return CX_OK;
  cx_err_t err = CX_OK;
  if (avro_file_writer_close(writer->file)) {
    snprintf(errstr, errstr_size, "cannot close OCF: %s", avro_strerror());
    err = CX_ERR_IO;
  }
  avro_value_decref(&writer->value);
  avro_value_iface_decref(writer->iface);
  avro_schema_decref(writer->schema);
  free(writer);
  return err;
}

/* Avro-C's file reader for the codecs the block reader does not inflate. */
static cx_err_t open_with_avro_c(cx_ocf_reader_t *reader, const char *path, char *errstr,
                                 size_t errstr_size) {
  if (avro_file_reader(path, &reader->file)) {
    snprintf(errstr, errstr_size, "cannot open %s as an Avro object container file: %s",
             path, avro_strerror());
    reader->file = NULL;
    return CX_ERR_IO;
  }
  reader->writer_schema = avro_file_reader_get_writer_schema(reader->file);
  return CX_OK;
}

static cx_err_t open_blocks(cx_ocf_reader_t *reader, const char *path,
                            const cx_ocf_header_t *header, char *errstr, size_t errstr_size) {
  reader->path = path;
  reader->deflate = !strcmp(header->codec, "deflate");
  memcpy(reader->sync, header->sync, sizeof(reader->sync));
  if (avro_schema_from_json_length(header->schema_json, header->schema_len,
                                   &reader->writer_schema)) {
    snprintf(errstr, errstr_size, "%s: avro.schema does not parse: %s", path, avro_strerror());
    reader->writer_schema = NULL;
    return CX_ERR_SCHEMA;
  }
  reader->in = true;
  reader->next = (size_t)header->data_offset;
  reader->block_start = reader->next;
  reader->memory = avro_reader_memory("", 0);
  return reader->memory ? CX_OK : CX_ERR_NOMEM;
}

static cx_err_t open_reader(const char *path, const char *schema_dir, bool deferred,
                            cx_ocf_reader_t **out, char *errstr, size_t errstr_size) {
  cx_ocf_reader_t *reader = calloc(1, sizeof(*reader));
  if (!reader)
    return CX_ERR_NOMEM;
  cx_err_t err = cx_event_schema_load(schema_dir, &reader->reader_schema, errstr, errstr_size);
  if (err) {
    free(reader);
    return err;
  }
  /* Avro-C trusts the file's declared sizes, and so does the block reader
   * below: they are checked first, on the bytes the reader will read. */
  cx_ocf_header_t header;
  memset(&header, 0, sizeof(header));
  err = cx_ocf_map(path, &reader->map, errstr, errstr_size);
  if (!err)
    err = (deferred ? cx_ocf_check_blocks : cx_ocf_check_bytes)(
        path, reader->map.bytes, reader->map.size, &header, errstr, errstr_size);
  if (!err) {
    /* Only null blocks have records the full check looks at. */
    reader->deferred = deferred && !strcmp(header.codec, "null");
    if (!strcmp(header.codec, "null") || !strcmp(header.codec, "deflate")) {
      err = open_blocks(reader, path, &header, errstr, errstr_size);
    } else {
      cx_ocf_unmap(&reader->map);
      err = open_with_avro_c(reader, path, errstr, errstr_size);
    }
  }
  cx_ocf_header_release(&header);
  if (err) {
    cx_ocf_reader_destroy(reader);
    return err;
  }
  reader->writer_iface = avro_generic_class_from_schema(reader->writer_schema);
  char why[256];
  if (!reader->writer_iface ||
      cx_event_layout_init(&reader->layout, reader->writer_schema, why, sizeof(why))) {
    snprintf(errstr, errstr_size, "%s: its writer schema cannot be read as an "
             "InteractionEvent: %s", path, reader->writer_iface ? why : avro_strerror());
    cx_ocf_reader_destroy(reader);
    return CX_ERR_SCHEMA;
  }
  avro_generic_value_new(reader->writer_iface, &reader->raw);
  if (reader->in &&
      ((err = cx_avro_guard_new(reader->writer_schema, NULL, &reader->guard, errstr,
                                errstr_size)) ||
       (err = cx_event_decoder_new(reader->writer_schema, &reader->decoder, errstr,
                                   errstr_size)))) {
    cx_ocf_reader_destroy(reader);
    return err;
  }
  *out = reader;
  return CX_OK;
}

cx_err_t cx_ocf_reader_open(const char *path, const char *schema_dir,
                            cx_ocf_reader_t **out, char *errstr, size_t errstr_size) {
  return open_reader(path, schema_dir, false, out, errstr, errstr_size);
}

cx_err_t cx_ocf_reader_open_deferred(const char *path, const char *schema_dir,
                                     cx_ocf_reader_t **out, char *errstr, size_t errstr_size) {
  cx_err_t err = open_reader(path, schema_dir, true, out, errstr, errstr_size);
  if (err && err != CX_ERR_MSG_MALFORMED) {
    /* A file wrong in two ways gets the message cx_ocf_reader_open gives. */
    char full[512];
    if (cx_ocf_check(path, full, sizeof(full)) == CX_ERR_MSG_MALFORMED) {
      snprintf(errstr, errstr_size, "%s", full);
      return CX_ERR_MSG_MALFORMED;
    }
  }
  return err;
}

/* An Avro long from the file at reader->next: 0 = ok, 1 = clean end of file
 * before it, -1 = broken. */
static int file_long(cx_ocf_reader_t *reader, int64_t *out) {
  uint64_t value = 0;
  for (int i = 0; i < 10; i++) {
    if (reader->next >= reader->map.size)
      return i == 0 ? 1 : -1;
    int c = reader->map.bytes[reader->next++];
    value |= (uint64_t)(c & 0x7f) << (7 * i);
    if (!(c & 0x80)) {
      *out = (int64_t)(value >> 1) ^ -(int64_t)(value & 1);
      return 0;
    }
  }
  return -1;
}

static bool grow(uint8_t **buf, size_t *capacity, size_t wanted) {
  if (wanted <= *capacity)
    return true;
  size_t size = *capacity ? *capacity : 1 << 16;
  while (size < wanted)
    size *= 2;
  uint8_t *bigger = realloc(*buf, size);
  if (!bigger)
    return false;
  *buf = bigger;
  *capacity = size;
  return true;
}

/* A buffer for the next inflated block: one whose records were all read at
 * least CX_OCF_READER_KEEP records ago (never the current block's), or a new
 * one. With blocks of one record at most KEEP + 1 buffers exist. */
static inflated_t *free_buffer(cx_ocf_reader_t *reader) {
  for (size_t i = 0; i < reader->inflated_count; i++)
    if (i != reader->current &&
        reader->inflated[i].end + CX_OCF_READER_KEEP <= reader->position) {
      reader->current = i;
      return &reader->inflated[i];
    }
  inflated_t *more = realloc(reader->inflated, (reader->inflated_count + 1) * sizeof(*more));
  if (!more)
    return NULL;
  reader->inflated = more;
  reader->current = reader->inflated_count++;
  memset(&more[reader->current], 0, sizeof(*more));
  return &more[reader->current];
}

/* Inflates the stored block (raw deflate, as Avro writes it) into a free buffer. */
static cx_err_t inflate_block(cx_ocf_reader_t *reader, const uint8_t *stored, size_t stored_len,
                              char *errstr, size_t errstr_size) {
  inflated_t *buffer = free_buffer(reader);
  if (!buffer)
    return CX_ERR_NOMEM;
  buffer->end = UINT64_MAX - CX_OCF_READER_KEEP; /* in use until its count is known */
  z_stream zs;
  memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, -15) != Z_OK)
    return CX_ERR_NOMEM;
  zs.next_in = (Bytef *)stored;
  zs.avail_in = (uInt)stored_len;
  size_t produced = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (produced >= CX_OCF_BLOCK_MAX) {
      inflateEnd(&zs);
      snprintf(errstr, errstr_size, "block %llu inflates past %u bytes",
               (unsigned long long)reader->block_number, CX_OCF_BLOCK_MAX);
      return CX_ERR_MSG_MALFORMED;
    }
    if (produced == buffer->capacity &&
        !grow(&buffer->data, &buffer->capacity,
              produced < stored_len * 4 ? stored_len * 4 : produced * 2)) {
      inflateEnd(&zs);
      return CX_ERR_NOMEM;
    }
    size_t room = buffer->capacity - produced;
    if (room > CX_OCF_BLOCK_MAX - produced)
      room = CX_OCF_BLOCK_MAX - produced;
    zs.next_out = buffer->data + produced;
    zs.avail_out = (uInt)room;
    rc = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && zs.avail_out == 0)) {
      inflateEnd(&zs);
      snprintf(errstr, errstr_size, "block %llu does not inflate: %s",
               (unsigned long long)reader->block_number, zs.msg ? zs.msg : "truncated data");
      return CX_ERR_MSG_MALFORMED;
    }
  }
  inflateEnd(&zs);
  reader->records = buffer->data;
  reader->records_len = produced;
  return CX_OK;
}

/* Reads the next block: 1 = one with records is ready, 0 = the end, or -err. */
static int next_block(cx_ocf_reader_t *reader, char *errstr, size_t errstr_size) {
  for (;;) {
    int64_t count, bytes;
    reader->block_start = reader->next;
    reader->block_start_number = reader->block_number;
    /* Kept strings may point a few blocks back: give back what is 1 MB
     * behind (a string read again there maps its page again). */
    if (reader->next > (1u << 20))
      cx_ocf_map_release(&reader->map, reader->next - (1u << 20), &reader->released);
    int rc = file_long(reader, &count);
    if (rc == 1) {
      reader->at_end = true;
      return 0;
    }
    if (rc || file_long(reader, &bytes) || count < 0 || bytes < 0 ||
        bytes > (int64_t)CX_OCF_BLOCK_MAX) {
      snprintf(errstr, errstr_size, "block %llu: bad header",
               (unsigned long long)reader->block_number);
      return -CX_ERR_MSG_MALFORMED;
    }
    size_t left = reader->map.size - reader->next;
    const uint8_t *stored = reader->map.bytes + reader->next;
    if ((uint64_t)bytes > left || left - (size_t)bytes < CX_OCF_SYNC_BYTES ||
        memcmp(stored + bytes, reader->sync, CX_OCF_SYNC_BYTES)) {
      snprintf(errstr, errstr_size, "block %llu: truncated or without its sync marker",
               (unsigned long long)reader->block_number);
      return -CX_ERR_MSG_MALFORMED;
    }
    reader->next += (size_t)bytes + CX_OCF_SYNC_BYTES;
    if (reader->deflate) {
      cx_err_t err = inflate_block(reader, stored, (size_t)bytes, errstr, errstr_size);
      if (err)
        return -(int)err;
      reader->inflated[reader->current].end = reader->position + (uint64_t)count;
    } else {
      reader->records = stored;
      reader->records_len = (size_t)bytes;
    }
    reader->block_number++;
    reader->at = 0;
    reader->records_left = count;
    if (count > 0)
      return 1;
  }
}

/* With deferred checks, bytes that do not read mean a file the full check
 * refuses: its message replaces errstr's ("cannot read" stays when the full
 * check passes, which only a file changed while read can do). */
static cx_err_t refuse(cx_ocf_reader_t *reader, cx_err_t err, char *errstr, size_t errstr_size) {
  if (!reader->deferred)
    return err;
  char cannot_read[512];
  snprintf(cannot_read, sizeof(cannot_read), "%s", errstr);
  if (cx_ocf_check_bytes(reader->path, reader->map.bytes, reader->map.size, NULL, errstr,
                         errstr_size) == CX_ERR_MSG_MALFORMED) {
    reader->refused = true;
    return CX_ERR_MSG_MALFORMED;
  }
  snprintf(errstr, errstr_size, "%s", cannot_read);
  return err;
}

static cx_err_t next_record(cx_ocf_reader_t *reader, cx_event_t *event, bool *eof,
                            char *errstr, size_t errstr_size) {
  if (reader->records_left == 0) {
    int rc = next_block(reader, errstr, errstr_size);
    if (rc <= 0) {
      *eof = true;
      if (rc == 0)
        return CX_OK;
      char why[256];
      snprintf(why, sizeof(why), "%s", errstr);
      snprintf(errstr, errstr_size, "record %llu: cannot read: %s",
               (unsigned long long)reader->position, why);
      return refuse(reader, (cx_err_t)-rc, errstr, errstr_size);
    }
  }
  const uint8_t *record = reader->records + reader->at;
  size_t left = reader->records_len - reader->at, used = 0;
  bool generic = false;
  cx_err_t err = cx_event_decode_guarded(reader->decoder, reader->guard, record, left, &used,
                                         event, &generic, errstr, errstr_size);
  if (err && !used) {
    /* Not a datum of the writer schema (the guard's reason). */
    char why[256];
    snprintf(why, sizeof(why), "%s", errstr);
    snprintf(errstr, errstr_size, "record %llu: cannot read: %s",
             (unsigned long long)reader->position, why);
    *eof = true; /* a broken block cannot be skipped reliably */
    return refuse(reader, CX_ERR_MSG_MALFORMED, errstr, errstr_size);
  }
  reader->at += used;
  reader->records_left--;
  if (reader->deferred && reader->records_left == 0 && reader->at != reader->records_len) {
    /* Bytes after the block's last record: the full check refuses that. */
    snprintf(errstr, errstr_size, "record %llu: cannot read: bytes after the last record of "
             "block %llu", (unsigned long long)reader->position,
             (unsigned long long)reader->block_start_number);
    *eof = true;
    return refuse(reader, CX_ERR_MSG_MALFORMED, errstr, errstr_size);
  }
  reader->position++;
  reader->last = record;
  reader->last_len = used;
  reader->raw_current = false;
  reader->last_kept = !generic;
  if (err || !generic)
    return err;
  avro_value_t *raw = cx_ocf_reader_raw_value(reader);
  if (!reader->raw_current) {
    snprintf(errstr, errstr_size, "record %llu: cannot read: %s",
             (unsigned long long)reader->position - 1, avro_strerror());
    *eof = true;
    return CX_ERR_MSG_MALFORMED;
  }
  return cx_event_from_avro(&reader->layout, raw, event, errstr, errstr_size);
}

cx_err_t cx_ocf_reader_next(cx_ocf_reader_t *reader, cx_event_t *event, bool *eof,
                            char *errstr, size_t errstr_size) {
  *eof = false;
  reader->last_kept = false;
  if (reader->in)
    return next_record(reader, event, eof, errstr, errstr_size);
  int rc = avro_file_reader_read_value(reader->file, &reader->raw);
  if (rc == EOF) {
    *eof = true;
    return CX_OK;
  }
  if (rc) {
    snprintf(errstr, errstr_size, "record %llu: cannot read: %s",
             (unsigned long long)reader->position, avro_strerror());
    *eof = true; /* a broken block cannot be skipped reliably */
    return CX_ERR_MSG_MALFORMED;
  }
  reader->position++;
  return cx_event_from_avro(&reader->layout, &reader->raw, event, errstr, errstr_size);
}

avro_schema_t cx_ocf_reader_schema(const cx_ocf_reader_t *reader) {
  return reader->writer_schema;
}

avro_value_t *cx_ocf_reader_raw_value(cx_ocf_reader_t *reader) {
  /* The block reader fills the generic value only when asked. */
  if (reader->in && !reader->raw_current && reader->last) {
    avro_reader_memory_set_source(reader->memory, (const char *)reader->last,
                                  (int64_t)reader->last_len);
    reader->raw_current = avro_value_read(reader->memory, &reader->raw) == 0;
  }
  return &reader->raw;
}

cx_err_t cx_ocf_reader_check_rest(cx_ocf_reader_t *reader, char *errstr, size_t errstr_size) {
  if (!reader->deferred)
    return CX_OK;
  if (!reader->at_end) {
    cx_err_t err = cx_ocf_check_records_from(reader->path, reader->map.bytes, reader->map.size,
                                             reader->block_start, reader->block_start_number,
                                             errstr, errstr_size);
    if (err) {
      reader->refused = err == CX_ERR_MSG_MALFORMED;
      return err;
    }
  }
  reader->deferred = false;
  return CX_OK;
}

bool cx_ocf_reader_refused(const cx_ocf_reader_t *reader) {
  return reader->refused;
}

bool cx_ocf_reader_last_kept(const cx_ocf_reader_t *reader) {
  return reader->last_kept;
}

uint64_t cx_ocf_reader_position(const cx_ocf_reader_t *reader) {
  return reader->position;
}

void cx_ocf_reader_destroy(cx_ocf_reader_t *reader) {
  if (!reader)
    return;
  if (reader->raw.iface)
    avro_value_decref(&reader->raw);
  if (reader->writer_iface)
    avro_value_iface_decref(reader->writer_iface);
  /* avro_file_reader_get_writer_schema() hands out a reference of its own. */
  if (reader->writer_schema)
    avro_schema_decref(reader->writer_schema);
  if (reader->file)
    avro_file_reader_close(reader->file);
  cx_ocf_unmap(&reader->map);
  if (reader->memory)
    avro_reader_free(reader->memory);
  cx_event_decoder_destroy(reader->decoder);
  cx_avro_guard_destroy(reader->guard);
  for (size_t i = 0; i < reader->inflated_count; i++)
    free(reader->inflated[i].data);
  free(reader->inflated);
  avro_schema_decref(reader->reader_schema);
  free(reader);
}
