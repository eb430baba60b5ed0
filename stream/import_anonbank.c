/* The Anonymous Bank importer (rules in import_anonbank.h). Every file is read
 * into one array of calls whose strings live in one arena; event ids are
 * claimed in input order through a hash set; then the calls are sorted by time
 * with their input position as tie-break, which makes qsort stable, and
 * written. Nothing is written until every input has been read. */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* getline */
#endif
#include "import_anonbank.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "../operators/event.h"
#include "ocf.h"

#define CX_IMPORT_MAX_FIELD_BYTES 255 /* longer fields reject the row */
#define CX_IMPORT_MAX_ID_DIGITS 20    /* call_id and customer_id */
#define CX_IMPORT_MAX_SECONDS 86400   /* q_time and ser_time */
#define CX_IMPORT_NO_STRING SIZE_MAX  /* arena offset of an absent string */
#define CX_IMPORT_NOT_IN_HEADER SIZE_MAX

typedef enum {
  COL_CALL_ID, COL_CUSTOMER_ID, COL_TYPE, COL_DATE, COL_VRU_ENTRY, COL_Q_TIME,
  COL_OUTCOME, COL_SER_TIME, COL_VRU_LINE, COL_PRIORITY, COL_SERVER, COL__COUNT
} column_t;

static const struct {
  const char *name; /* header text */
  bool required;    /* the import fails without it */
} columns[COL__COUNT] = {
  [COL_CALL_ID] = {"call_id", true},       [COL_CUSTOMER_ID] = {"customer_id", true},
  [COL_TYPE] = {"type", true},             [COL_DATE] = {"date", true},
  [COL_VRU_ENTRY] = {"vru_entry", true},   [COL_Q_TIME] = {"q_time", true},
  [COL_OUTCOME] = {"outcome", true},       [COL_SER_TIME] = {"ser_time", true},
  [COL_VRU_LINE] = {"vru+line", false},    [COL_PRIORITY] = {"priority", false},
  [COL_SERVER] = {"server", false},
};

typedef struct import_call_s {
  int64_t occurred_at_ms; /* arrival, ms since the epoch (UTC) */
  int64_t wait_ms;        /* q_time in ms */
  int64_t handle_ms;      /* ser_time in ms */
  cx_outcome_t outcome;   /* COMPLETED, ABANDONED or NONE */
  size_t input_position;  /* order of reading, the sort's tie-break */
  size_t event_id;        /* arena offset of the event id */
  size_t customer_id;     /* arena offset of the customer id */
  size_t topic;           /* arena offset or CX_IMPORT_NO_STRING */
  size_t agent_id;        /* arena offset or CX_IMPORT_NO_STRING */
  size_t vru_line;        /* arena offset or CX_IMPORT_NO_STRING */
  size_t priority;        /* arena offset or CX_IMPORT_NO_STRING */
} import_call_t;

typedef struct importer_s {
  import_call_t *calls;    /* calls to write, in input order until sorted */
  size_t call_count;       /* calls used */
  size_t call_capacity;    /* calls allocated */
  char *arena;             /* the calls' NUL-terminated strings */
  size_t arena_used;       /* bytes used */
  size_t arena_capacity;   /* bytes allocated */
  size_t *id_slots;        /* hash set of event ids: call index + 1, 0 = empty */
  size_t id_slot_count;    /* a power of two, more than twice call_count */
  cx_import_stats_t stats; /* counts so far */
} importer_t;

/* One data row: its fields by column and what parsing made of them. */
typedef struct import_row_s {
  cx_str_t field[COL__COUNT]; /* ptr NULL when the header has no such column */
  int64_t occurred_at_ms;     /* date + vru_entry */
  int64_t wait_ms;            /* q_time * 1000 */
  int64_t handle_ms;          /* ser_time * 1000 */
} import_row_t;

static bool str_is(cx_str_t s, const char *literal) {
  size_t len = strlen(literal);
  return s.len == len && memcmp(s.ptr, literal, len) == 0;
}

static cx_str_t trim_spaces(cx_str_t s) {
  while (s.len && s.ptr[0] == ' ') {
    s.ptr++;
    s.len--;
  }
  while (s.len && s.ptr[s.len - 1] == ' ')
    s.len--;
  return s;
}

static bool is_blank(const char *text, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
      return false;
  return true;
}

static bool all_digits(cx_str_t s, size_t min_digits, size_t max_digits) {
  if (s.len < min_digits || s.len > max_digits)
    return false;
  for (size_t i = 0; i < s.len; i++)
    if (s.ptr[i] < '0' || s.ptr[i] > '9')
      return false;
  return true;
}

static bool all_zeros(cx_str_t s) {
  for (size_t i = 0; i < s.len; i++)
    if (s.ptr[i] != '0')
      return false;
  return true;
}

/* The value of at most 18 digits. */
static int64_t digits_value(const char *digits, size_t len) {
  int64_t value = 0;
  for (size_t i = 0; i < len; i++)
    value = value * 10 + (digits[i] - '0');
  return value;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t year, int64_t month, int64_t day) {
  year -= month <= 2;
  int64_t era = (year >= 0 ? year : year - 399) / 400;
  int64_t year_of_era = year - era * 400;
  int64_t day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

/* YYMMDD, years as POSIX strptime's %y reads them. */
static bool parse_date(cx_str_t s, int64_t *days) {
  static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (!all_digits(s, 6, 6))
    return false;
  int64_t yy = digits_value(s.ptr, 2), month = digits_value(s.ptr + 2, 2),
          day = digits_value(s.ptr + 4, 2);
  int64_t year = yy >= 69 ? 1900 + yy : 2000 + yy;
  if (month < 1 || month > 12 || day < 1)
    return false;
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > month_days[month - 1] + (month == 2 && leap))
    return false;
  *days = days_from_civil(year, month, day);
  return true;
}

/* H:MM:SS or HH:MM:SS within one day. */
static bool parse_time(cx_str_t s, int64_t *seconds) {
  if (s.len < 7 || s.len > 8)
    return false;
  size_t hour_digits = s.len - 6;
  if (s.ptr[hour_digits] != ':' || s.ptr[hour_digits + 3] != ':')
    return false;
  cx_str_t hour = {s.ptr, hour_digits}, minute = {s.ptr + hour_digits + 1, 2},
           second = {s.ptr + hour_digits + 4, 2};
  if (!all_digits(hour, 1, 2) || !all_digits(minute, 2, 2) || !all_digits(second, 2, 2))
    return false;
  int64_t h = digits_value(hour.ptr, hour.len), m = digits_value(minute.ptr, 2),
          sec = digits_value(second.ptr, 2);
  if (h > 23 || m > 59 || sec > 59)
    return false;
  *seconds = h * 3600 + m * 60 + sec;
  return true;
}

static bool parse_seconds_as_ms(cx_str_t s, int64_t *ms) {
  if (!all_digits(s, 1, 9))
    return false;
  int64_t seconds = digits_value(s.ptr, s.len);
  if (seconds > CX_IMPORT_MAX_SECONDS)
    return false;
  *ms = seconds * 1000;
  return true;
}

/* Checks and converts the row's fields; on failure says why. */
static bool parse_row(import_row_t *row, char *why, size_t why_size) {
  const cx_str_t *f = row->field;
  int64_t days = 0, seconds = 0;
  if (!all_digits(f[COL_CALL_ID], 1, CX_IMPORT_MAX_ID_DIGITS)) {
    snprintf(why, why_size, "call_id '%.*s' is not 1 to %d digits", (int)f[COL_CALL_ID].len,
             f[COL_CALL_ID].ptr, CX_IMPORT_MAX_ID_DIGITS);
    return false;
  }
  if (!all_digits(f[COL_CUSTOMER_ID], 1, CX_IMPORT_MAX_ID_DIGITS)) {
    bool scientific = memchr(f[COL_CUSTOMER_ID].ptr, 'E', f[COL_CUSTOMER_ID].len) != NULL;
    snprintf(why, why_size, "customer_id '%.*s' is not 1 to %d digits%s",
             (int)f[COL_CUSTOMER_ID].len, f[COL_CUSTOMER_ID].ptr, CX_IMPORT_MAX_ID_DIGITS,
             scientific ? " (a spreadsheet rounded it to scientific notation: the customer "
                          "cannot be told apart)" : "");
    return false;
  }
  if (!parse_date(f[COL_DATE], &days)) {
    snprintf(why, why_size, "date '%.*s' is not a date YYMMDD", (int)f[COL_DATE].len,
             f[COL_DATE].ptr);
    return false;
  }
  if (!parse_time(f[COL_VRU_ENTRY], &seconds)) {
    snprintf(why, why_size, "vru_entry '%.*s' is not a time H:MM:SS", (int)f[COL_VRU_ENTRY].len,
             f[COL_VRU_ENTRY].ptr);
    return false;
  }
  row->occurred_at_ms = (days * 86400 + seconds) * 1000;
  if (!parse_seconds_as_ms(f[COL_Q_TIME], &row->wait_ms)) {
    snprintf(why, why_size, "q_time '%.*s' is not whole seconds from 0 to %d",
             (int)f[COL_Q_TIME].len, f[COL_Q_TIME].ptr, CX_IMPORT_MAX_SECONDS);
    return false;
  }
  if (!parse_seconds_as_ms(f[COL_SER_TIME], &row->handle_ms)) {
    snprintf(why, why_size, "ser_time '%.*s' is not whole seconds from 0 to %d",
             (int)f[COL_SER_TIME].len, f[COL_SER_TIME].ptr, CX_IMPORT_MAX_SECONDS);
    return false;
  }
  return true;
}

static bool arena_push(importer_t *imp, cx_str_t s, size_t *offset) {
  if (!s.ptr) {
    *offset = CX_IMPORT_NO_STRING;
    return true;
  }
  if (imp->arena_used + s.len + 1 > imp->arena_capacity) {
    size_t capacity = imp->arena_capacity ? imp->arena_capacity : 1 << 16;
    while (imp->arena_used + s.len + 1 > capacity)
      capacity *= 2;
    char *grown = realloc(imp->arena, capacity);
    if (!grown)
      return false;
    imp->arena = grown;
    imp->arena_capacity = capacity;
  }
  *offset = imp->arena_used;
  memcpy(imp->arena + imp->arena_used, s.ptr, s.len);
  imp->arena[imp->arena_used + s.len] = '\0';
  imp->arena_used += s.len + 1;
  return true;
}

static uint64_t hash_string(const char *s) {
  uint64_t hash = 14695981039346656037ULL; /* FNV-1a */
  for (; *s; s++)
    hash = (hash ^ (uint8_t)*s) * 1099511628211ULL;
  return hash;
}

/* The slot holding id, or the empty slot where it would go. */
static size_t *id_slot(importer_t *imp, const char *id) {
  size_t mask = imp->id_slot_count - 1;
  for (size_t i = (size_t)hash_string(id) & mask;; i = (i + 1) & mask) {
    size_t call = imp->id_slots[i];
    if (call == 0 || strcmp(imp->arena + imp->calls[call - 1].event_id, id) == 0)
      return &imp->id_slots[i];
  }
}

/* Keeps the set at most half full, with room for one more id. */
static bool id_set_reserve(importer_t *imp) {
  if ((imp->call_count + 1) * 2 <= imp->id_slot_count)
    return true;
  size_t old_count = imp->id_slot_count;
  size_t *old_slots = imp->id_slots;
  size_t count = old_count ? old_count * 2 : 1 << 12;
  size_t *slots = calloc(count, sizeof(*slots));
  if (!slots)
    return false;
  imp->id_slots = slots;
  imp->id_slot_count = count;
  for (size_t i = 0; i < old_count; i++)
    if (old_slots[i])
      *id_slot(imp, imp->arena + imp->calls[old_slots[i] - 1].event_id) = old_slots[i];
  free(old_slots);
  return true;
}

static bool calls_reserve(importer_t *imp) {
  if (imp->call_count < imp->call_capacity)
    return true;
  size_t capacity = imp->call_capacity ? imp->call_capacity * 2 : 1024;
  import_call_t *grown = realloc(imp->calls, capacity * sizeof(*grown));
  if (!grown)
    return false;
  imp->calls = grown;
  imp->call_capacity = capacity;
  return true;
}

static void report_rejected(importer_t *imp, const char *path, size_t line_number,
                            const char *why) {
  imp->stats.rejected++;
  fprintf(stderr, "anonbank import: %s:%zu: %s; row rejected\n", path, line_number, why);
}

/* Turns one parsed row into a call, or counts why not. Only running out of
 * memory is an error. */
static cx_err_t import_row(importer_t *imp, const char *path, size_t line_number,
                           const import_row_t *row) {
  const cx_str_t *f = row->field;
  cx_outcome_t outcome = CX_OUTCOME_NONE;
  if (str_is(f[COL_OUTCOME], "PHANTOM")) {
    imp->stats.skipped_phantom++;
    return CX_OK;
  }
  if (all_zeros(f[COL_CUSTOMER_ID])) {
    imp->stats.skipped_unidentified++;
    return CX_OK;
  }
  if (str_is(f[COL_OUTCOME], "AGENT"))
    outcome = CX_OUTCOME_COMPLETED;
  else if (str_is(f[COL_OUTCOME], "HANG"))
    outcome = CX_OUTCOME_ABANDONED;

  if (!calls_reserve(imp) || !id_set_reserve(imp))
    return CX_ERR_NOMEM;
  char id[64 + 2 * CX_IMPORT_MAX_FIELD_BYTES];
  snprintf(id, sizeof(id), "anonbank-%.*s-%.*s", (int)f[COL_DATE].len, f[COL_DATE].ptr,
           (int)f[COL_CALL_ID].len, f[COL_CALL_ID].ptr);
  /* DESIGN.md section 8 fixes the id as anonbank-<date>-<call_id>. The files
   * reuse a call_id on another VRU line of the same date now and then: such
   * calls are still written (they are real calls) under the same id, and
   * counted so the summary says how many ids repeat. */
  size_t *slot = id_slot(imp, id);
  if (*slot)
    imp->stats.duplicate_ids++;

  import_call_t *call = &imp->calls[imp->call_count];
  call->occurred_at_ms = row->occurred_at_ms;
  call->wait_ms = row->wait_ms;
  call->handle_ms = row->handle_ms;
  call->outcome = outcome;
  call->input_position = imp->call_count;
  cx_str_t topic = f[COL_TYPE].len ? f[COL_TYPE] : (cx_str_t){NULL, 0};
  cx_str_t agent = f[COL_SERVER];
  if (agent.len == 0 || str_is(agent, "NO_SERVER"))
    agent = (cx_str_t){NULL, 0};
  cx_str_t vru_line = f[COL_VRU_LINE].len ? f[COL_VRU_LINE] : (cx_str_t){NULL, 0};
  cx_str_t priority = f[COL_PRIORITY].len ? f[COL_PRIORITY] : (cx_str_t){NULL, 0};
  if (!arena_push(imp, cx_str(id), &call->event_id) ||
      !arena_push(imp, f[COL_CUSTOMER_ID], &call->customer_id) ||
      !arena_push(imp, topic, &call->topic) || !arena_push(imp, agent, &call->agent_id) ||
      !arena_push(imp, vru_line, &call->vru_line) ||
      !arena_push(imp, priority, &call->priority))
    return CX_ERR_NOMEM;
  ++imp->call_count;
  if (!*slot)
    *slot = imp->call_count;

  if (outcome == CX_OUTCOME_NONE)
    fprintf(stderr,
            "anonbank import: %s:%zu: outcome '%.*s' is not AGENT, HANG or PHANTOM; "
            "written with outcome null\n",
            path, line_number, (int)f[COL_OUTCOME].len, f[COL_OUTCOME].ptr);
  return CX_OK;
}

/* Splits text at tabs into fields[0 .. capacity) and returns how many fields
 * the line has (which may exceed capacity). */
static size_t split_tabs(const char *text, size_t len, cx_str_t *fields, size_t capacity) {
  size_t count = 0, start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && text[i] != '\t')
      continue;
    if (count < capacity)
      fields[count] = trim_spaces((cx_str_t){text + start, i - start});
    count++;
    start = i + 1;
  }
  return count;
}

/* Per-file reading state: the header's shape. */
typedef struct import_file_s {
  const char *path;                 /* as given, for messages */
  cx_str_t *fields;                 /* one row's fields, header_fields of them */
  size_t header_fields;             /* fields in the header row */
  size_t position[COL__COUNT];      /* field index of each column, or CX_IMPORT_NOT_IN_HEADER */
} import_file_t;

static cx_err_t read_header(import_file_t *file, size_t line_number, const char *text,
                            size_t len, char *errstr, size_t errstr_size) {
  if (memchr(text, '\0', len)) {
    snprintf(errstr, errstr_size, "%s:%zu: the header row contains a NUL byte", file->path,
             line_number);
    return CX_ERR_INVALID_ARG;
  }
  file->header_fields = split_tabs(text, len, NULL, 0);
  file->fields = calloc(file->header_fields, sizeof(*file->fields));
  if (!file->fields)
    return CX_ERR_NOMEM;
  split_tabs(text, len, file->fields, file->header_fields);
  for (size_t column = 0; column < COL__COUNT; column++) {
    file->position[column] = CX_IMPORT_NOT_IN_HEADER;
    for (size_t i = 0; i < file->header_fields; i++) {
      if (!str_is(file->fields[i], columns[column].name))
        continue;
      if (file->position[column] != CX_IMPORT_NOT_IN_HEADER) {
        snprintf(errstr, errstr_size, "%s:%zu: the header names column '%s' twice",
                 file->path, line_number, columns[column].name);
        return CX_ERR_INVALID_ARG;
      }
      file->position[column] = i;
    }
    if (columns[column].required && file->position[column] == CX_IMPORT_NOT_IN_HEADER) {
      snprintf(errstr, errstr_size,
               "%s:%zu: the header has no column '%s'; expected the Anonymous Bank header "
               "(vru+line, call_id, customer_id, priority, type, date, vru_entry, ...)",
               file->path, line_number, columns[column].name);
      return CX_ERR_INVALID_ARG;
    }
  }
  return CX_OK;
}

static cx_err_t read_data_row(importer_t *imp, import_file_t *file, size_t line_number,
                              const char *text, size_t len) {
  char why[512];
  imp->stats.rows++;
  if (memchr(text, '\0', len)) {
    report_rejected(imp, file->path, line_number, "the row contains a NUL byte");
    return CX_OK;
  }
  size_t count = split_tabs(text, len, file->fields, file->header_fields);
  if (count != file->header_fields) {
    snprintf(why, sizeof(why), "%zu tab-separated fields where the header has %zu", count,
             file->header_fields);
    report_rejected(imp, file->path, line_number, why);
    return CX_OK;
  }
  for (size_t i = 0; i < count; i++) {
    if (file->fields[i].len > CX_IMPORT_MAX_FIELD_BYTES) {
      snprintf(why, sizeof(why), "field %zu is longer than %d bytes", i + 1,
               CX_IMPORT_MAX_FIELD_BYTES);
      report_rejected(imp, file->path, line_number, why);
      return CX_OK;
    }
  }
  import_row_t row;
  memset(&row, 0, sizeof(row));
  for (size_t column = 0; column < COL__COUNT; column++)
    if (file->position[column] != CX_IMPORT_NOT_IN_HEADER)
      row.field[column] = file->fields[file->position[column]];
  if (!parse_row(&row, why, sizeof(why))) {
    report_rejected(imp, file->path, line_number, why);
    return CX_OK;
  }
  return import_row(imp, file->path, line_number, &row);
}

static cx_err_t import_file(importer_t *imp, const char *path, char *errstr,
                            size_t errstr_size) {
  import_file_t file = {.path = path};
  char *line = NULL;
  size_t line_capacity = 0, line_number = 0;
  bool have_header = false;
  cx_err_t err = CX_OK;
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(errstr, errstr_size, "cannot open %s: %s", path, strerror(errno));
    return CX_ERR_IO;
  }
  ssize_t got;
  while ((got = getline(&line, &line_capacity, fp)) != -1) {
    const char *text = line;
    size_t len = (size_t)got;
    line_number++;
    if (line_number == 1 && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
      text += 3;
      len -= 3;
    }
    if (len && text[len - 1] == '\n')
      len--;
    if (len && text[len - 1] == '\r')
      len--;
    if (is_blank(text, len))
      continue;
    if (!have_header) {
      if ((err = read_header(&file, line_number, text, len, errstr, errstr_size)))
        goto done;
      have_header = true;
      continue;
    }
    if ((err = read_data_row(imp, &file, line_number, text, len)))
      goto done;
  }
  if (ferror(fp)) {
    snprintf(errstr, errstr_size, "cannot read %s: %s", path, strerror(errno));
    err = CX_ERR_IO;
  } else if (!have_header) {
    snprintf(errstr, errstr_size, "%s: no header row (the file is empty)", path);
    err = CX_ERR_INVALID_ARG;
  }
done:
  free(file.fields);
  free(line);
  fclose(fp);
  return err;
}

static int compare_calls(const void *a, const void *b) {
  const import_call_t *x = a, *y = b;
  if (x->occurred_at_ms != y->occurred_at_ms)
    return x->occurred_at_ms < y->occurred_at_ms ? -1 : 1;
  return x->input_position < y->input_position ? -1 : x->input_position > y->input_position;
}

static cx_str_t arena_str(const importer_t *imp, size_t offset) {
  return offset == CX_IMPORT_NO_STRING ? (cx_str_t){NULL, 0} : cx_str(imp->arena + offset);
}

static cx_err_t write_calls(importer_t *imp, const char *out_path, const char *schema_dir,
                            char *errstr, size_t errstr_size) {
  cx_ocf_writer_t *writer = NULL;
  cx_err_t err = cx_ocf_writer_open(out_path, schema_dir, &writer, errstr, errstr_size);
  if (err)
    return err;
  cx_event_t event;
  for (size_t i = 0; i < imp->call_count; i++) {
    const import_call_t *call = &imp->calls[i];
    cx_event_clear(&event);
    event.event_id = arena_str(imp, call->event_id);
    event.customer_id = arena_str(imp, call->customer_id);
    event.occurred_at_ms = call->occurred_at_ms;
    event.channel = CX_CHANNEL_PHONE;
    event.type = CX_EVENT_CONTACT;
    event.outcome = call->outcome;
    event.topic = arena_str(imp, call->topic);
    event.agent_id = arena_str(imp, call->agent_id);
    event.has_wait_ms = true;
    event.wait_ms = call->wait_ms;
    event.has_handle_ms = true;
    event.handle_ms = call->handle_ms;
    if (call->vru_line != CX_IMPORT_NO_STRING) {
      event.attribute_keys[event.attribute_count] = cx_str("vru_line");
      event.attribute_values[event.attribute_count++] = arena_str(imp, call->vru_line);
    }
    if (call->priority != CX_IMPORT_NO_STRING) {
      event.attribute_keys[event.attribute_count] = cx_str("priority");
      event.attribute_values[event.attribute_count++] = arena_str(imp, call->priority);
    }
    if ((err = cx_ocf_writer_append(writer, &event, errstr, errstr_size)))
      goto err;
    imp->stats.events++;
  }
  return cx_ocf_writer_close(writer, errstr, errstr_size);

err:
  cx_ocf_writer_close(writer, NULL, 0);
  return err;
}

cx_err_t cx_import_anonbank(const char *const *paths, size_t path_count, const char *out_path,
                            const char *schema_dir, cx_import_stats_t *stats, char *errstr,
                            size_t errstr_size) {
  importer_t imp;
  cx_err_t err = CX_OK;
  memset(&imp, 0, sizeof(imp));
  if (!paths || path_count == 0 || !out_path || !schema_dir) {
    snprintf(errstr, errstr_size,
             "anonbank import needs at least one input file, an output path and a schema "
             "directory");
    err = CX_ERR_INVALID_ARG;
    goto done;
  }
  for (size_t i = 0; i < path_count; i++)
    if ((err = import_file(&imp, paths[i], errstr, errstr_size)))
      goto done;
  if (imp.call_count)
    qsort(imp.calls, imp.call_count, sizeof(*imp.calls), compare_calls);
  err = write_calls(&imp, out_path, schema_dir, errstr, errstr_size);
done:
  if (err == CX_ERR_NOMEM)
    snprintf(errstr, errstr_size, "anonbank import: out of memory after %llu rows",
             (unsigned long long)imp.stats.rows);
  if (stats)
    *stats = imp.stats;
  free(imp.id_slots);
  free(imp.arena);
  free(imp.calls);
  return err;
}
