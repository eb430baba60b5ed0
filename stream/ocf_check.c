/* A pass over an Avro object container file before it is read (see
 * ocf_check.h): Avro-C trusts the header's and the blocks' declared sizes (a
 * 2.9 KB file made it ask for 13 GB; a bad header leaked), as it trusts a
 * message's. The file is mapped, not read: the check and then the block
 * reader (ocf.c) walk the same pages without copying them. */
#include "ocf_check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <avro.h>

#include "avro_guard.h"

#define META_VALUE_MAX (16u << 20)   /* a header value (the schema) */
#define META_KEY_MAX 4096u           /* a header key */
#define META_ENTRIES_MAX 1024        /* header entries */
#define BLOCK_MAX (512u << 20)       /* one block's bytes */
#define SYNC_LEN 16

typedef struct scan_s {
  const uint8_t *bytes; /* the file */
  const char *path;
  uint64_t size;        /* file bytes */
  uint64_t at;          /* bytes read */
  char *errstr;
  size_t errstr_size;
} scan_t;

static cx_err_t fail(scan_t *s, const char *fmt, ...) {
  char why[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof(why), fmt, ap);
  va_end(ap);
  snprintf(s->errstr, s->errstr_size, "%s is not a valid Avro object container file: %s "
           "(at byte %llu)", s->path, why, (unsigned long long)s->at);
  return CX_ERR_MSG_MALFORMED;
}

static bool read_bytes(scan_t *s, void *out, size_t len) {
  if (len > s->size - s->at)
    return false;
  if (len)
    memcpy(out, s->bytes + s->at, len);
  s->at += len;
  return true;
}

/* An Avro long (zigzag varint of at most 10 bytes). 0 = ok, 1 = clean end
 * of file before its first byte, -1 = broken. */
static int read_long(scan_t *s, int64_t *out) {
  uint64_t value = 0;
  for (int shift = 0, i = 0; i < 10; i++, shift += 7) {
    if (s->at == s->size)
      return i == 0 ? 1 : -1;
    int c = s->bytes[s->at++];
    value |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      *out = (int64_t)(value >> 1) ^ -(int64_t)(value & 1);
      return 0;
    }
  }
  return -1;
}

/* A length-prefixed byte string of at most max bytes, into a fresh buffer
 * (NUL-terminated) when keep, else skipped. */
static cx_err_t read_string(scan_t *s, const char *what, uint64_t max, char **keep,
                            size_t *len) {
  int64_t n;
  if (read_long(s, &n))
    return fail(s, "%s: truncated length", what);
  if (n < 0 || (uint64_t)n > max || (uint64_t)n > s->size - s->at)
    return fail(s, "%s: length %lld (at most %llu, %llu bytes left)", what, (long long)n,
                (unsigned long long)max, (unsigned long long)(s->size - s->at));
  char *buf = malloc((size_t)n + 1);
  if (!buf)
    return CX_ERR_NOMEM;
  if (!read_bytes(s, buf, (size_t)n)) {
    free(buf);
    return fail(s, "%s: truncated", what);
  }
  buf[n] = '\0';
  *len = (size_t)n;
  if (keep)
    *keep = buf;
  else
    free(buf);
  return CX_OK;
}

/* Header: magic, metadata map (avro.schema, avro.codec kept), sync marker. */
static cx_err_t read_header(scan_t *s, char **schema, size_t *schema_len, char **codec,
                            uint8_t sync[SYNC_LEN]) {
  uint8_t magic[4];
  if (!read_bytes(s, magic, 4) || memcmp(magic, "Obj\1", 4))
    return fail(s, "no 'Obj\\1' magic");
  int entries = 0;
  for (;;) {
    int64_t count;
    if (read_long(s, &count))
      return fail(s, "header: truncated map block");
    if (count == 0)
      break;
    if (count < 0) {
      int64_t block_bytes;
      if (count == INT64_MIN || read_long(s, &block_bytes) || block_bytes < 0)
        return fail(s, "header: bad map block");
      count = -count;
    }
    if (count > META_ENTRIES_MAX - entries)
      return fail(s, "header: more than %d entries", META_ENTRIES_MAX);
    entries += (int)count;
    for (int64_t i = 0; i < count; i++) {
      char *key = NULL;
      size_t key_len, value_len;
      cx_err_t err = read_string(s, "header key", META_KEY_MAX, &key, &key_len);
      if (err)
        return err;
      char **value = !strcmp(key, "avro.schema") ? schema
                     : !strcmp(key, "avro.codec") ? codec : NULL;
      if (value && *value) {
        free(key);
        return fail(s, "header: two %s entries", value == schema ? "avro.schema" : "avro.codec");
      }
      err = read_string(s, "header value", META_VALUE_MAX, value, &value_len);
      if (value == schema && !err)
        *schema_len = value_len;
      free(key);
      if (err)
        return err;
    }
  }
  if (!*schema)
    return fail(s, "header: no avro.schema");
  if (!read_bytes(s, sync, SYNC_LEN))
    return fail(s, "header: truncated sync marker");
  return CX_OK;
}

cx_err_t cx_ocf_check(const char *path, char *errstr, size_t errstr_size) {
  return cx_ocf_check_header(path, NULL, errstr, errstr_size);
}

void cx_ocf_header_release(cx_ocf_header_t *header) {
  if (!header)
    return;
  free(header->schema_json);
  header->schema_json = NULL;
}

cx_err_t cx_ocf_map(const char *path, cx_ocf_map_t *map, char *errstr, size_t errstr_size) {
  memset(map, 0, sizeof(*map));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(errstr, errstr_size, "cannot open %s: %s", path, strerror(errno));
    return CX_ERR_IO;
  }
  struct stat st;
  if (fstat(fd, &st)) {
    snprintf(errstr, errstr_size, "cannot stat %s: %s", path, strerror(errno));
    close(fd);
    return CX_ERR_IO;
  }
  if (st.st_size > 0) {
    void *bytes = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (bytes == MAP_FAILED) {
      snprintf(errstr, errstr_size, "cannot map %s (a regular file is needed): %s", path,
               strerror(errno));
      close(fd);
      return CX_ERR_IO;
    }
    /* Read front to back, twice (check, then replay): ask for read-ahead. */
    madvise(bytes, (size_t)st.st_size, MADV_SEQUENTIAL);
    map->bytes = bytes;
    map->size = (size_t)st.st_size;
  }
  close(fd);
  return CX_OK;
}

static void release_pages(const cx_ocf_map_t *map, size_t before, size_t *released) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t end = before / page * page;
  if (map->bytes && end > *released) {
    madvise((void *)(map->bytes + *released), end - *released, MADV_DONTNEED);
    *released = end;
  }
}

void cx_ocf_map_release(const cx_ocf_map_t *map, size_t before, size_t *released) {
  if (before >= *released + ((size_t)1 << 20))
    release_pages(map, before, released);
}

void cx_ocf_unmap(cx_ocf_map_t *map) {
  if (map && map->bytes)
    munmap((void *)map->bytes, map->size);
  if (map)
    memset(map, 0, sizeof(*map));
}

cx_err_t cx_ocf_check_header(const char *path, cx_ocf_header_t *header, char *errstr,
                             size_t errstr_size) {
  cx_ocf_map_t map;
  cx_err_t err = cx_ocf_map(path, &map, errstr, errstr_size);
  if (err) {
    if (header)
      memset(header, 0, sizeof(*header));
    return err;
  }
  err = cx_ocf_check_bytes(path, map.bytes, map.size, header, errstr, errstr_size);
  cx_ocf_unmap(&map);
  return err;
}

/* The check; records = whether null blocks' records go through the guard;
 * from_offset (0 = the first block) and from_block: where the blocks'
 * checks start, and that block's number. */
static cx_err_t check(const char *path, const uint8_t *file, size_t size, cx_ocf_header_t *header,
                      bool records, uint64_t from_offset, uint64_t from_block, char *errstr,
                      size_t errstr_size) {
  if (header)
    memset(header, 0, sizeof(*header));
  scan_t s = {.bytes = file, .path = path, .size = size, .errstr = errstr,
              .errstr_size = errstr_size};
  char *schema_json = NULL, *codec = NULL;
  size_t schema_len = 0;
  uint8_t sync[SYNC_LEN], block_sync[SYNC_LEN];
  avro_schema_t schema = NULL;
  cx_avro_guard_t *guard = NULL;
  cx_err_t err = read_header(&s, &schema_json, &schema_len, &codec, sync);
  uint64_t data_offset = s.at;
  /* Records are checked one by one when they are stored as they are (the
   * null codec) and the guard knows the writer schema; compressed blocks
   * get the structural checks only. */
  bool check_records = records && !err && (!codec || !strcmp(codec, "null"));
  /* Avro-C leaks what it read of a header with a codec it does not know. */
  if (!err && codec && strcmp(codec, "null") && strcmp(codec, "deflate") &&
      strcmp(codec, "snappy") && strcmp(codec, "lzma"))
    err = fail(&s, "header: codec '%.32s' is not one of null, deflate, snappy, lzma", codec);
  if (!err && avro_schema_from_json_length(schema_json, schema_len, &schema)) {
    err = fail(&s, "header: avro.schema does not parse: %s", avro_strerror());
  }
  if (!err && check_records) {
    char why[256];
    if (cx_avro_guard_new(schema, NULL, &guard, why, sizeof(why)))
      check_records = false;
  }
  if (!err && from_offset) {
    if (from_offset < data_offset || from_offset > s.size) {
      snprintf(errstr, errstr_size, "%s: no block at byte %llu", path,
               (unsigned long long)from_offset);
      err = CX_ERR_INVALID_ARG;
    }
    s.at = from_offset;
  }
  cx_ocf_map_t map = {file, size};
  size_t released = (size_t)s.at / 4096 * 4096;
  for (uint64_t number = from_block; !err; number++) {
    cx_ocf_map_release(&map, (size_t)s.at, &released);
    int64_t count, bytes;
    int rc = read_long(&s, &count);
    if (rc == 1)
      break; /* the end, between blocks */
    if (rc || read_long(&s, &bytes)) {
      err = fail(&s, "block %llu: truncated header", (unsigned long long)number);
      break;
    }
    if (count < 0 || bytes < 0 || (uint64_t)bytes > s.size - s.at || bytes > BLOCK_MAX ||
        (check_records && count > bytes)) {
      err = fail(&s, "block %llu: %lld records in %lld bytes (%llu bytes left)",
                 (unsigned long long)number, (long long)count, (long long)bytes,
                 (unsigned long long)(s.size - s.at));
      break;
    }
    if (check_records) {
      /* bytes <= size - at was checked above. */
      const uint8_t *block = s.bytes + s.at;
      s.at += (uint64_t)bytes;
      size_t at = 0;
      for (int64_t i = 0; i < count && !err; i++) {
        size_t used;
        char why[256];
        if (cx_avro_guard_check_prefix(guard, block + at, (size_t)bytes - at, &used, why,
                                       sizeof(why)))
          err = fail(&s, "block %llu, record %lld: %s", (unsigned long long)number,
                     (long long)i, why);
        at += used;
      }
      if (!err && at != (size_t)bytes)
        err = fail(&s, "block %llu: %zu bytes after its %lld records", (unsigned long long)number,
                   (size_t)bytes - at, (long long)count);
    } else {
      s.at += (uint64_t)bytes;
    }
    if (!err && (!read_bytes(&s, block_sync, SYNC_LEN) || memcmp(block_sync, sync, SYNC_LEN)))
      err = fail(&s, "block %llu: sync marker missing or wrong", (unsigned long long)number);
  }
  release_pages(&map, (size_t)s.at, &released); /* the reader maps them again */
  if (!err && header) {
    header->schema_json = schema_json;
    header->schema_len = schema_len;
    schema_json = NULL;
    snprintf(header->codec, sizeof(header->codec), "%s", codec ? codec : "null");
    memcpy(header->sync, sync, SYNC_LEN);
    header->data_offset = data_offset;
  }
  cx_avro_guard_destroy(guard);
  if (schema)
    avro_schema_decref(schema);
  free(schema_json);
  free(codec);
  return err;
}

cx_err_t cx_ocf_check_bytes(const char *path, const uint8_t *file, size_t size,
                            cx_ocf_header_t *header, char *errstr, size_t errstr_size) {
  return check(path, file, size, header, true, 0, 0, errstr, errstr_size);
}

cx_err_t cx_ocf_check_blocks(const char *path, const uint8_t *file, size_t size,
                             cx_ocf_header_t *header, char *errstr, size_t errstr_size) {
  cx_err_t err = check(path, file, size, header, false, 0, 0, errstr, errstr_size);
  /* The full check's first error is the one to report. */
  return err ? cx_ocf_check_bytes(path, file, size, header, errstr, errstr_size) : CX_OK;
}

cx_err_t cx_ocf_check_records_from(const char *path, const uint8_t *file, size_t size,
                                   uint64_t offset, uint64_t block_number, char *errstr,
                                   size_t errstr_size) {
  return check(path, file, size, NULL, true, offset, block_number, errstr, errstr_size);
}
