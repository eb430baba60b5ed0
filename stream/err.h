/* Error codes of the runtime and their human strings, from one X-macro list
 * so the enum and cx_err2str() never drift apart. 0 is success. Codes that
 * name why a message went to the dead-letter topic double as its reason code
 * (cx_err2code() gives the stable lower-case name used in headers). */
#ifndef CX_ERR_H
#define CX_ERR_H

#define CX_ERR_MAP(X) \
  X(OK,                 "ok",                  "success") \
  X(INVALID_ARG,        "invalid_argument",    "invalid argument") \
  X(CONFIG,             "config",              "bad configuration") \
  X(IO,                 "io",                  "input/output error") \
  X(NOMEM,              "out_of_memory",       "out of memory") \
  X(SCHEMA,             "schema",              "schema error") \
  X(KAFKA,              "kafka",               "Kafka client error") \
  X(FATAL,              "fatal",               "fatal error") \
  X(MSG_TOO_SHORT,      "frame_too_short",     "message shorter than the Confluent frame header") \
  X(MSG_BAD_MAGIC,      "bad_magic_byte",      "message does not start with the Confluent magic byte 0") \
  X(MSG_UNKNOWN_SCHEMA, "unknown_schema_id",   "message names a schema id that is not known") \
  X(MSG_INCOMPATIBLE,   "incompatible_schema", "writer schema cannot be read as an InteractionEvent") \
  X(MSG_TOO_LARGE,      "message_too_large",   "message larger than input.message.max.bytes") \
  X(MSG_LIMIT,          "limit_exceeded",      "message has more array/map elements or deeper nesting than allowed") \
  X(MSG_MALFORMED,      "malformed_avro",      "bytes are not valid Avro for the writer schema") \
  X(MSG_TRAILING,       "trailing_bytes",      "bytes left over after the Avro record") \
  X(MSG_NO_CUSTOMER,    "missing_customer_id", "customer_id is empty") \
  X(MSG_NO_EVENT_ID,    "missing_event_id",    "event_id is empty") \
  X(MSG_BAD_TIME,       "bad_timestamp",       "occurred_at is negative or too far in the future") \
  X(MSG_BAD_VALUE,      "bad_value",           "a field is out of its documented range")

typedef enum {
#define CX__X(name, code, text) CX_ERR_##name,
  CX_ERR_MAP(CX__X)
#undef CX__X
  CX_ERR__COUNT
} cx_err_t;

#define CX_OK CX_ERR_OK

/* A sentence for people ("message names a schema id that is not known"). */
const char *cx_err2str(cx_err_t err);
/* A stable identifier for machines ("unknown_schema_id"). */
const char *cx_err2code(cx_err_t err);

#endif
