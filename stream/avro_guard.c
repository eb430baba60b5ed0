/* The Avro guard (see avro_guard.h). A schema becomes an array of ops: a
 * record's fields, a union's branches and an array's or map's item are runs of
 * that array found by index, and a named reference copies the op of the type
 * it names, so recursive types need no lookups. The check handles scalars and
 * unions inline and recurses only into records, arrays and maps (max_depth). */
#include "avro_guard.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__GNUC__)
#define COLD_PRINTF(fmt_arg, first_arg) \
  __attribute__((cold, noinline, format(printf, fmt_arg, first_arg)))
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define COLD_PRINTF(fmt_arg, first_arg)
#define ALWAYS_INLINE inline
#endif

/* Deepest schema the compiler follows; real schemas nest a handful of levels. */
#define COMPILE_DEPTH_MAX 256

/* Scalars come first so that "kind <= OP_ENUM" means "no nested values". */
typedef enum {
  OP_NULL, OP_BOOLEAN, OP_INT, OP_LONG, OP_FLOAT, OP_DOUBLE, OP_BYTES, OP_STRING,
  OP_FIXED, OP_ENUM, OP_UNION, OP_RECORD, OP_ARRAY, OP_MAP
} op_kind_t;

typedef struct {
  uint8_t kind;       /* op_kind_t */
  uint32_t count;     /* enum symbols, fixed bytes, union branches, record fields */
  uint32_t first;     /* ops[] index of the first field or branch, or of the item */
  uint32_t min_bytes; /* a lower bound of the bytes one value takes */
} op_t;

struct cx_avro_guard_s {
  cx_avro_guard_limits_t limits; /* copied from the caller */
  op_t *ops;                     /* ops[0] is the whole datum */
  size_t op_count;               /* entries in ops */
};

void cx_avro_guard_limits_default(cx_avro_guard_limits_t *limits) {
  limits->max_message_bytes = 1024 * 1024;
  limits->max_elements = 10000;
  limits->max_depth = 32;
}

typedef struct {
  avro_schema_t schema; /* a record, enum or fixed (borrowed) */
  op_t op;              /* its op, copied to every reference */
} named_t;

typedef struct {
  op_t *ops;             /* the program being built */
  size_t op_count;       /* entries in use */
  size_t op_capacity;    /* entries allocated */
  named_t *named;        /* named types compiled so far */
  size_t named_count;    /* entries in use */
  size_t named_capacity; /* entries allocated */
  char *errstr;          /* caller's buffer */
  size_t errstr_size;    /* its size */
} compiler_t;

static cx_err_t COLD_PRINTF(3, 4) compile_fail(compiler_t *c, cx_err_t err, const char *fmt, ...) {
  if (c->errstr && c->errstr_size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->errstr, c->errstr_size, fmt, ap);
    va_end(ap);
  }
  return err;
}

/* Appends n op slots and sets *first to the index of the first one. */
static cx_err_t reserve_ops(compiler_t *c, size_t n, uint32_t *first) {
  if (n > UINT32_MAX - c->op_count)
    return compile_fail(c, CX_ERR_SCHEMA, "schema is too large to guard (more than %" PRIu32 " nodes)",
                        UINT32_MAX);
  if (c->op_count + n > c->op_capacity) {
    size_t capacity = c->op_capacity ? c->op_capacity * 2 : 32;
    while (capacity < c->op_count + n)
      capacity *= 2;
    op_t *grown = realloc(c->ops, capacity * sizeof(*grown));
    if (!grown)
      return compile_fail(c, CX_ERR_NOMEM, "out of memory compiling the schema guard");
    c->ops = grown;
    c->op_capacity = capacity;
  }
  *first = (uint32_t)c->op_count;
  for (size_t i = 0; i < n; i++)
    c->ops[c->op_count + i] = (op_t){.kind = OP_NULL};
  c->op_count += n;
  return CX_OK;
}

static named_t *find_named(compiler_t *c, avro_schema_t schema) {
  for (size_t i = 0; i < c->named_count; i++)
    if (c->named[i].schema == schema)
      return &c->named[i];
  return NULL;
}

/* Remembers a named type before its fields are compiled, so that references
 * to it from inside (recursive types) find it; returns its index. */
static cx_err_t add_named(compiler_t *c, avro_schema_t schema, op_t op, size_t *index) {
  if (c->named_count == c->named_capacity) {
    size_t capacity = c->named_capacity ? c->named_capacity * 2 : 8;
    named_t *grown = realloc(c->named, capacity * sizeof(*grown));
    if (!grown)
      return compile_fail(c, CX_ERR_NOMEM, "out of memory compiling the schema guard");
    c->named = grown;
    c->named_capacity = capacity;
  }
  c->named[c->named_count] = (named_t){.schema = schema, .op = op};
  *index = c->named_count++;
  return CX_OK;
}

static uint32_t add_saturating(uint32_t a, uint32_t b) {
  return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

/* Compiles schema into c->ops[slot]; c->ops may move, so only indexes are kept. */
static cx_err_t compile(compiler_t *c, avro_schema_t schema, uint32_t slot, size_t depth) {
  op_t op = {.kind = OP_NULL};
  cx_err_t err;
  uint32_t first;

  if (depth > COMPILE_DEPTH_MAX)
    return compile_fail(c, CX_ERR_SCHEMA, "schema nests deeper than %d levels", COMPILE_DEPTH_MAX);
  if (!schema)
    return compile_fail(c, CX_ERR_SCHEMA, "schema has a missing (NULL) node");
  named_t *known = find_named(c, schema);
  if (known) {
    c->ops[slot] = known->op;
    return CX_OK;
  }

  switch (avro_typeof(schema)) {
  case AVRO_NULL: op = (op_t){.kind = OP_NULL, .min_bytes = 0}; break;
  case AVRO_BOOLEAN: op = (op_t){.kind = OP_BOOLEAN, .min_bytes = 1}; break;
  case AVRO_INT32: op = (op_t){.kind = OP_INT, .min_bytes = 1}; break;
  case AVRO_INT64: op = (op_t){.kind = OP_LONG, .min_bytes = 1}; break;
  case AVRO_FLOAT: op = (op_t){.kind = OP_FLOAT, .min_bytes = 4}; break;
  case AVRO_DOUBLE: op = (op_t){.kind = OP_DOUBLE, .min_bytes = 8}; break;
  case AVRO_BYTES: op = (op_t){.kind = OP_BYTES, .min_bytes = 1}; break;
  case AVRO_STRING: op = (op_t){.kind = OP_STRING, .min_bytes = 1}; break;

  case AVRO_LINK:
    return compile(c, avro_schema_link_target(schema), slot, depth + 1);

  case AVRO_ENUM: {
    int symbols = avro_schema_enum_number_of_symbols(schema);
    if (symbols < 0)
      return compile_fail(c, CX_ERR_SCHEMA, "enum %s: cannot count its symbols",
                          avro_schema_name(schema));
    op = (op_t){.kind = OP_ENUM, .count = (uint32_t)symbols, .min_bytes = 1};
    size_t index;
    if ((err = add_named(c, schema, op, &index)))
      return err;
    break;
  }

  case AVRO_FIXED: {
    int64_t size = avro_schema_fixed_size(schema);
    if (size < 0 || size > (int64_t)UINT32_MAX)
      return compile_fail(c, CX_ERR_SCHEMA, "fixed %s: size %" PRId64 " is out of range",
                          avro_schema_name(schema), size);
    op = (op_t){.kind = OP_FIXED, .count = (uint32_t)size, .min_bytes = (uint32_t)size};
    size_t index;
    if ((err = add_named(c, schema, op, &index)))
      return err;
    break;
  }

  case AVRO_RECORD: {
    size_t fields = avro_schema_record_size(schema);
    if ((err = reserve_ops(c, fields, &first)))
      return err;
    op = (op_t){.kind = OP_RECORD, .count = (uint32_t)fields, .first = first};
    size_t index;
    if ((err = add_named(c, schema, op, &index)))
      return err;
    uint32_t min_bytes = 0;
    for (size_t i = 0; i < fields; i++) {
      avro_schema_t field = avro_schema_record_field_get_by_index(schema, (int)i);
      if ((err = compile(c, field, first + (uint32_t)i, depth + 1)))
        return err;
      min_bytes = add_saturating(min_bytes, c->ops[first + i].min_bytes);
    }
    op.min_bytes = min_bytes;
    c->named[index].op.min_bytes = min_bytes;
    break;
  }

  case AVRO_UNION: {
    size_t branches = avro_schema_union_size(schema);
    if ((err = reserve_ops(c, branches, &first)))
      return err;
    uint32_t min_branch = 0;
    for (size_t i = 0; i < branches; i++) {
      avro_schema_t branch = avro_schema_union_branch(schema, (int)i);
      if ((err = compile(c, branch, first + (uint32_t)i, depth + 1)))
        return err;
      if (i == 0 || c->ops[first + i].min_bytes < min_branch)
        min_branch = c->ops[first + i].min_bytes;
    }
    op = (op_t){.kind = OP_UNION, .count = (uint32_t)branches, .first = first,
                .min_bytes = add_saturating(1, min_branch)};
    break;
  }

  case AVRO_ARRAY:
  case AVRO_MAP: {
    bool is_map = avro_typeof(schema) == AVRO_MAP;
    if ((err = reserve_ops(c, 1, &first)))
      return err;
    avro_schema_t item = is_map ? avro_schema_map_values(schema) : avro_schema_array_items(schema);
    if ((err = compile(c, item, first, depth + 1)))
      return err;
    op = (op_t){.kind = is_map ? OP_MAP : OP_ARRAY, .first = first, .min_bytes = 1};
    break;
  }

  default:
    return compile_fail(c, CX_ERR_SCHEMA, "schema kind %d (%s) is not one the guard knows",
                        (int)avro_typeof(schema), avro_schema_type_name(schema));
  }
  c->ops[slot] = op;
  return CX_OK;
}

cx_err_t cx_avro_guard_new(avro_schema_t writer_schema, const cx_avro_guard_limits_t *limits,
                           cx_avro_guard_t **guard, char *errstr, size_t errstr_size) {
  compiler_t c = {.errstr = errstr, .errstr_size = errstr_size};
  cx_avro_guard_t *made = NULL;
  cx_err_t err;
  uint32_t root;

  if (guard)
    *guard = NULL;
  if (!guard || !writer_schema)
    return compile_fail(&c, CX_ERR_INVALID_ARG, "avro guard: %s is NULL",
                        guard ? "the writer schema" : "the guard pointer");
  cx_avro_guard_limits_t chosen;
  if (limits)
    chosen = *limits;
  else
    cx_avro_guard_limits_default(&chosen);
  if (chosen.max_depth < 1 || chosen.max_depth > CX_AVRO_GUARD_DEPTH_CEILING)
    return compile_fail(&c, CX_ERR_INVALID_ARG,
                        "avro guard: max_depth %zu is out of range: expected 1 to %d",
                        chosen.max_depth, CX_AVRO_GUARD_DEPTH_CEILING);

  made = calloc(1, sizeof(*made));
  if (!made) {
    err = compile_fail(&c, CX_ERR_NOMEM, "out of memory creating the avro guard");
    goto err;
  }
  if ((err = reserve_ops(&c, 1, &root)))
    goto err;
  if ((err = compile(&c, writer_schema, root, 0)))
    goto err;
  made->limits = chosen;
  made->ops = c.ops;
  made->op_count = c.op_count;
  free(c.named);
  *guard = made;
  return CX_OK;

err:
  free(c.named);
  free(c.ops);
  free(made);
  return err;
}

void cx_avro_guard_destroy(cx_avro_guard_t *guard) {
  if (!guard)
    return;
  free(guard->ops);
  free(guard);
}

/* The message being checked. The read position is not kept here but passed
 * and returned by value (NULL after an error), so it stays in a register. */
typedef struct {
  const uint8_t *start; /* first byte of the message, for offsets in errors */
  const uint8_t *end;   /* one past the last byte */
  const op_t *ops;      /* the guard's program */
  size_t elements_left; /* array items and map entries still allowed */
  size_t max_elements;  /* the guard's limit, for errors */
  size_t max_depth;     /* the guard's limit */
  cx_err_t err;         /* why the check failed */
  char *errstr;         /* caller's buffer for the reason */
  size_t errstr_size;   /* its size */
} reader_t;

static const uint8_t *COLD_PRINTF(3, 4) fail(reader_t *r, cx_err_t err, const char *fmt, ...) {
  r->err = err;
  if (r->errstr && r->errstr_size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errstr, r->errstr_size, fmt, ap);
    va_end(ap);
  }
  return NULL;
}

static inline size_t offset_of(const reader_t *r, const uint8_t *at) {
  return (size_t)(at - r->start);
}

static inline size_t bytes_left(const reader_t *r, const uint8_t *p) {
  return (size_t)(r->end - p);
}

/* Called once read_varint gave up at p: says which rule the varint broke. */
static const uint8_t *varint_fail(reader_t *r, const uint8_t *p, const char *what,
                                  unsigned max_bytes) {
  unsigned i = 0;
  while (p + i < r->end && i < max_bytes - 1 && (p[i] & 0x80))
    i++;
  if (p + i == r->end)
    return fail(r, CX_ERR_MSG_MALFORMED, "%s at byte %zu is cut off: the message ends inside its varint",
                what, offset_of(r, p));
  if (p[i] & 0x80)
    return fail(r, CX_ERR_MSG_MALFORMED, "%s at byte %zu is a varint longer than %u bytes",
                what, offset_of(r, p), max_bytes);
  return fail(r, CX_ERR_MSG_MALFORMED, "%s at byte %zu does not fit in %u bits",
              what, offset_of(r, p), max_bytes == 10 ? 64u : 32u);
}

/* Reads a varint of at most max_bytes bytes whose last possible byte is at
 * most last_byte_max, which keeps the value within 64 bits (long: 10 bytes,
 * last 0x01) or 32 bits (int: 5 bytes, last 0x0f). Returns the position after
 * it with the still zig-zagged value in *raw. */
static ALWAYS_INLINE const uint8_t *read_varint(reader_t *r, const uint8_t *p, const char *what,
                                                unsigned max_bytes, uint8_t last_byte_max,
                                                uint64_t *raw) {
  if (p < r->end && *p < 0x80) {
    *raw = *p;
    return p + 1;
  }
  uint64_t value = 0;
  size_t left = bytes_left(r, p);
  size_t limit = left < max_bytes ? left : max_bytes;
  for (size_t i = 0; i < limit; i++) {
    uint8_t b = p[i];
    value |= (uint64_t)(b & 0x7f) << (7 * i);
    if (b < 0x80) {
      if (i == max_bytes - 1 && b > last_byte_max)
        break;
      *raw = value;
      return p + i + 1;
    }
  }
  return varint_fail(r, p, what, max_bytes);
}

static ALWAYS_INLINE const uint8_t *read_long(reader_t *r, const uint8_t *p, const char *what,
                                              int64_t *value) {
  uint64_t raw = 0;
  p = read_varint(r, p, what, 10, 0x01, &raw);
  *value = (int64_t)((raw >> 1) ^ (0 - (raw & 1)));
  return p;
}

static ALWAYS_INLINE const uint8_t *skip_bytes(reader_t *r, const uint8_t *p, const char *what,
                                               size_t n) {
  if (bytes_left(r, p) < n)
    return fail(r, CX_ERR_MSG_MALFORMED, "%s at byte %zu needs %zu bytes but only %zu are left",
                what, offset_of(r, p), n, bytes_left(r, p));
  return p + n;
}

/* A string, bytes value or map key: a long length, then that many bytes. */
static ALWAYS_INLINE const uint8_t *skip_length_prefixed(reader_t *r, const uint8_t *p,
                                                         const char *what) {
  const uint8_t *at = p;
  int64_t length = 0;
  if (!(p = read_long(r, p, what, &length)))
    return NULL;
  if (length < 0)
    return fail(r, CX_ERR_MSG_MALFORMED, "%s %" PRId64 " at byte %zu is negative",
                what, length, offset_of(r, at));
  if ((uint64_t)length > bytes_left(r, p))
    return fail(r, CX_ERR_MSG_MALFORMED, "%s %" PRId64 " at byte %zu exceeds the %zu bytes left",
                what, length, offset_of(r, at), bytes_left(r, p));
  return p + length;
}

static ALWAYS_INLINE const uint8_t *check_scalar(reader_t *r, const op_t *op, const uint8_t *p) {
  int64_t value = 0;
  uint64_t raw = 0;
  const uint8_t *at = p;

  switch ((op_kind_t)op->kind) {
  case OP_NULL:
    return p;
  case OP_BOOLEAN:
    if (p == r->end)
      return fail(r, CX_ERR_MSG_MALFORMED, "boolean at byte %zu is missing: the message ends there",
                  offset_of(r, p));
    if (*p > 1)
      return fail(r, CX_ERR_MSG_MALFORMED, "boolean at byte %zu is %u: expected 0 or 1",
                  offset_of(r, p), (unsigned)*p);
    return p + 1;
  case OP_INT:
    return read_varint(r, p, "int", 5, 0x0f, &raw);
  case OP_LONG:
    return read_long(r, p, "long", &value);
  case OP_FLOAT:
    return skip_bytes(r, p, "float", 4);
  case OP_DOUBLE:
    return skip_bytes(r, p, "double", 8);
  case OP_FIXED:
    return skip_bytes(r, p, "fixed", op->count);
  case OP_BYTES:
    return skip_length_prefixed(r, p, "bytes length");
  case OP_STRING:
    return skip_length_prefixed(r, p, "string length");
  case OP_ENUM:
    if (!(p = read_long(r, p, "enum index", &value)))
      return NULL;
    if (value < 0 || value >= (int64_t)op->count)
      return fail(r, CX_ERR_MSG_MALFORMED, "enum index %" PRId64 " at byte %zu is outside the %" PRIu32 " symbols",
                  value, offset_of(r, at), op->count);
    return p;
  case OP_UNION:
  case OP_RECORD:
  case OP_ARRAY:
  case OP_MAP:
    break;
  }
  return fail(r, CX_ERR_FATAL, "avro guard: op %u at byte %zu is not a scalar (a bug in the guard)",
              (unsigned)op->kind, offset_of(r, at));
}

static const uint8_t *check_nested(reader_t *r, const op_t *op, const uint8_t *p, size_t depth);

/* depth is that of the union itself; a nested branch is one deeper. */
static ALWAYS_INLINE const uint8_t *check_union(reader_t *r, const op_t *op, const uint8_t *p,
                                                size_t depth) {
  const uint8_t *at = p;
  int64_t index = 0;
  if (depth > r->max_depth)
    return fail(r, CX_ERR_MSG_LIMIT, "union at byte %zu nests %zu deep, more than the limit of %zu",
                offset_of(r, at), depth, r->max_depth);
  if (!(p = read_long(r, p, "union index", &index)))
    return NULL;
  if (index < 0 || index >= (int64_t)op->count)
    return fail(r, CX_ERR_MSG_MALFORMED, "union index %" PRId64 " at byte %zu is outside the %" PRIu32 " branches",
                index, offset_of(r, at), op->count);
  const op_t *branch = &r->ops[op->first + (uint32_t)index];
  if (branch->kind == OP_NULL)
    return p;
  if (branch->kind <= OP_ENUM)
    return check_scalar(r, branch, p);
  return check_nested(r, branch, p, depth + 1);
}

static ALWAYS_INLINE const uint8_t *check_value(reader_t *r, const op_t *op, const uint8_t *p,
                                                size_t depth) {
  if (op->kind <= OP_ENUM)
    return check_scalar(r, op, p);
  if (op->kind == OP_UNION)
    return check_union(r, op, p, depth);
  return check_nested(r, op, p, depth);
}

/* Arrays and maps: blocks of items, each block a long count (negative: its
 * absolute value, then a long byte size of the block), ended by count 0. */
static const uint8_t *check_blocks(reader_t *r, const op_t *op, const uint8_t *p, size_t depth) {
  bool is_map = op->kind == OP_MAP;
  const char *name = is_map ? "map" : "array";
  const op_t *item = &r->ops[op->first];
  size_t item_min_bytes = (size_t)item->min_bytes + (is_map ? 1 : 0);

  for (;;) {
    const uint8_t *at = p;
    int64_t count = 0;
    if (!(p = read_long(r, p, is_map ? "map block count" : "array block count", &count)))
      return NULL;
    if (count == 0)
      return p;
    uint64_t items = count < 0 ? 0 - (uint64_t)count : (uint64_t)count;
    const uint8_t *block_start = NULL;
    int64_t block_bytes = 0;
    if (count < 0) {
      const uint8_t *size_at = p;
      if (!(p = read_long(r, p, is_map ? "map block size" : "array block size", &block_bytes)))
        return NULL;
      if (block_bytes < 0)
        return fail(r, CX_ERR_MSG_MALFORMED, "%s block size %" PRId64 " at byte %zu is negative",
                    name, block_bytes, offset_of(r, size_at));
      if ((uint64_t)block_bytes > bytes_left(r, p))
        return fail(r, CX_ERR_MSG_MALFORMED, "%s block size %" PRId64 " at byte %zu exceeds the %zu bytes left",
                    name, block_bytes, offset_of(r, size_at), bytes_left(r, p));
      block_start = p;
    }
    if (items > r->elements_left)
      return fail(r, CX_ERR_MSG_LIMIT,
                  "%s block of %" PRIu64 " items at byte %zu takes the message past its limit of %zu elements",
                  name, items, offset_of(r, at), r->max_elements);
    if (item_min_bytes && items > bytes_left(r, p) / item_min_bytes)
      return fail(r, CX_ERR_MSG_MALFORMED,
                  "%s block of %" PRIu64 " items at byte %zu needs at least %zu bytes per item but only %zu bytes are left",
                  name, items, offset_of(r, at), item_min_bytes, bytes_left(r, p));
    r->elements_left -= (size_t)items;

    if (is_map) {
      for (uint64_t i = 0; i < items; i++) {
        if (!(p = skip_length_prefixed(r, p, "map key length")))
          return NULL;
        if (!(p = check_value(r, item, p, depth + 1)))
          return NULL;
      }
    } else if (item->kind != OP_NULL) {
      for (uint64_t i = 0; i < items; i++)
        if (!(p = check_value(r, item, p, depth + 1)))
          return NULL;
    }
    if (block_start && p != block_start + block_bytes)
      return fail(r, CX_ERR_MSG_MALFORMED, "%s block at byte %zu declares %" PRId64 " bytes but its items take %zu",
                  name, offset_of(r, at), block_bytes, (size_t)(p - block_start));
  }
}

/* Records, arrays and maps (and a union nested directly in a union, which
 * Avro forbids but a hand-built schema might hold); depth is their own. */
static const uint8_t *check_nested(reader_t *r, const op_t *op, const uint8_t *p, size_t depth) {
  if (op->kind == OP_UNION)
    return check_union(r, op, p, depth);
  if (depth > r->max_depth)
    return fail(r, CX_ERR_MSG_LIMIT, "%s at byte %zu nests %zu deep, more than the limit of %zu",
                op->kind == OP_RECORD ? "record" : op->kind == OP_MAP ? "map" : "array",
                offset_of(r, p), depth, r->max_depth);
  if (op->kind != OP_RECORD)
    return check_blocks(r, op, p, depth);
  const op_t *field = &r->ops[op->first];
  for (uint32_t i = 0; i < op->count; i++, field++)
    if (!(p = check_value(r, field, p, depth + 1)))
      return NULL;
  return p;
}

cx_err_t cx_avro_guard_check_prefix(const cx_avro_guard_t *guard, const void *buf, size_t len,
                                    size_t *used, char *errstr, size_t errstr_size) {
  static const uint8_t empty[1];
  reader_t r = {.errstr = errstr, .errstr_size = errstr_size};
  *used = 0;
  if (!guard || (!buf && len)) {
    fail(&r, CX_ERR_INVALID_ARG, "avro guard: %s is NULL", guard ? "the buffer" : "the guard");
    return r.err;
  }
  r.start = buf ? buf : empty;
  r.end = r.start + len;
  r.ops = guard->ops;
  r.elements_left = guard->limits.max_elements;
  r.max_elements = guard->limits.max_elements;
  r.max_depth = guard->limits.max_depth;
  const uint8_t *p = check_value(&r, &guard->ops[0], r.start, 1);
  if (!p)
    return r.err;
  *used = (size_t)(p - r.start);
  if (*used > guard->limits.max_message_bytes) {
    fail(&r, CX_ERR_MSG_TOO_LARGE, "datum of %zu bytes exceeds the limit of %zu bytes", *used,
         guard->limits.max_message_bytes);
    return r.err;
  }
  return CX_OK;
}

cx_err_t cx_avro_guard_check(const cx_avro_guard_t *guard, const void *buf, size_t len,
                             char *errstr, size_t errstr_size) {
  if (guard && len > guard->limits.max_message_bytes) {
    if (errstr && errstr_size)
      snprintf(errstr, errstr_size, "message of %zu bytes exceeds the limit of %zu bytes", len,
               guard->limits.max_message_bytes);
    return CX_ERR_MSG_TOO_LARGE;
  }
  size_t used;
  cx_err_t err = cx_avro_guard_check_prefix(guard, buf, len, &used, errstr, errstr_size);
  if (err)
    return err;
  if (used != len) {
    if (errstr && errstr_size)
      snprintf(errstr, errstr_size, "%zu bytes left over at byte %zu after the datum ends",
               len - used, used);
    return CX_ERR_MSG_TRAILING;
  }
  return CX_OK;
}

const cx_avro_guard_limits_t *cx_avro_guard_limits(const cx_avro_guard_t *guard) {
  return &guard->limits;
}

cx_err_t cx_avro_guard_check_field(const cx_avro_guard_t *guard, size_t field,
                                   const uint8_t *start, const uint8_t *end, const uint8_t **pos,
                                   size_t *elements_left, char *errstr, size_t errstr_size) {
  reader_t r = {.errstr = errstr, .errstr_size = errstr_size};
  const op_t *root = &guard->ops[0];
  if (root->kind != OP_RECORD || field >= root->count) {
    fail(&r, CX_ERR_INVALID_ARG, "avro guard: the schema has no record field %zu", field);
    return r.err;
  }
  r.start = start;
  r.end = end;
  r.ops = guard->ops;
  r.elements_left = *elements_left;
  r.max_elements = guard->limits.max_elements;
  r.max_depth = guard->limits.max_depth;
  /* The record itself is at depth 1 (cx_avro_guard_check_prefix), its fields at 2. */
  const uint8_t *p = check_value(&r, &guard->ops[root->first + field], *pos, 2);
  if (!p)
    return r.err;
  *pos = p;
  *elements_left = r.elements_left;
  return CX_OK;
}
