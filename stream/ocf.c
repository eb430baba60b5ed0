/* OCF reading and writing through Avro-C's file API and value API (never the
 * datum API). One value is reused for every record; reading maps the file's
 * writer schema to the event's fields once (cx_event_layout_t). A file is
 * checked by cx_ocf_check (ocf_check.c) before Avro-C reads it. */
#include "ocf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_avro.h"
#include "ocf_check.h"

struct cx_ocf_writer_s {
  avro_file_writer_t file;     /* Avro-C OCF writer */
  avro_schema_t schema;        /* InteractionEvent */
  avro_value_iface_t *iface;   /* generic class of schema */
  avro_value_t value;          /* reused record */
};

struct cx_ocf_reader_s {
  avro_file_reader_t file;       /* Avro-C OCF reader */
  avro_schema_t writer_schema;   /* the file's schema */
  avro_schema_t reader_schema;   /* InteractionEvent, to check the schema dir */
  avro_value_iface_t *writer_iface;   /* generic class of the writer schema */
  cx_event_layout_t layout;      /* the event's fields in the writer schema */
  avro_value_t raw;              /* record as written */
  uint64_t position;             /* records read */
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

cx_err_t cx_ocf_reader_open(const char *path, const char *schema_dir,
                            cx_ocf_reader_t **out, char *errstr, size_t errstr_size) {
  cx_ocf_reader_t *reader = calloc(1, sizeof(*reader));
  if (!reader)
    return CX_ERR_NOMEM;
  cx_err_t err = cx_event_schema_load(schema_dir, &reader->reader_schema, errstr, errstr_size);
  if (err) {
    free(reader);
    return err;
  }
  /* Avro-C trusts the file's declared sizes: they are checked first. */
  err = cx_ocf_check(path, errstr, errstr_size);
  if (err) {
    avro_schema_decref(reader->reader_schema);
    free(reader);
    return err;
  }
  if (avro_file_reader(path, &reader->file)) {
    snprintf(errstr, errstr_size, "cannot open %s as an Avro object container file: %s",
             path, avro_strerror());
    avro_schema_decref(reader->reader_schema);
    free(reader);
    return CX_ERR_IO;
  }
  reader->writer_schema = avro_file_reader_get_writer_schema(reader->file);
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
  *out = reader;
  return CX_OK;
}

cx_err_t cx_ocf_reader_next(cx_ocf_reader_t *reader, cx_event_t *event, bool *eof,
                            char *errstr, size_t errstr_size) {
  *eof = false;
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
  return &reader->raw;
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
  avro_file_reader_close(reader->file);
  avro_schema_decref(reader->reader_schema);
  free(reader);
}
