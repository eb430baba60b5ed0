/* A small strict JSON (RFC 8259) checker for the fuzz targets and tests:
 * json_check_value parses one value at *at and returns 1 when it is valid;
 * strings must be valid UTF-8 and hold no raw control characters. When
 * decoded is not NULL, the first string value met is unescaped into it
 * (json_check_string does that for one string on its own). */
#ifndef CX_JSON_CHECK_H
#define CX_JSON_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct json_cursor_s {
  const uint8_t *at;  /* next byte */
  const uint8_t *end; /* one past the last byte */
  int depth;          /* nesting so far */
} json_cursor_t;

static int json_check_value(json_cursor_t *c);

static void json_skip_space(json_cursor_t *c) {
  while (c->at < c->end && (*c->at == ' ' || *c->at == '\t' || *c->at == '\r' || *c->at == '\n'))
    c->at++;
}

static int json_hex(uint8_t b) {
  if (b >= '0' && b <= '9')
    return b - '0';
  if (b >= 'a' && b <= 'f')
    return b - 'a' + 10;
  if (b >= 'A' && b <= 'F')
    return b - 'A' + 10;
  return -1;
}

/* Length of the valid UTF-8 sequence at p (no overlongs, surrogates or
 * values past U+10FFFF), or 0. */
static size_t json_utf8_len(const uint8_t *p, const uint8_t *end) {
  uint8_t b = p[0];
  size_t len;
  uint32_t cp;
  if (b < 0x80)
    return 1;
  if (b >= 0xc2 && b <= 0xdf) {
    len = 2;
    cp = b & 0x1f;
  } else if (b >= 0xe0 && b <= 0xef) {
    len = 3;
    cp = b & 0x0f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    len = 4;
    cp = b & 0x07;
  } else {
    return 0;
  }
  if ((size_t)(end - p) < len)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

static void json_put_utf8(uint8_t **out, uint32_t cp) {
  uint8_t *o = *out;
  if (cp < 0x80) {
    *o++ = (uint8_t)cp;
  } else if (cp < 0x800) {
    *o++ = (uint8_t)(0xc0 | (cp >> 6));
    *o++ = (uint8_t)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *o++ = (uint8_t)(0xe0 | (cp >> 12));
    *o++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    *o++ = (uint8_t)(0x80 | (cp & 0x3f));
  } else {
    *o++ = (uint8_t)(0xf0 | (cp >> 18));
    *o++ = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    *o++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    *o++ = (uint8_t)(0x80 | (cp & 0x3f));
  }
  *out = o;
}

/* A string at c->at; unescaped into *out (room for as many bytes as the
 * string's text) when out is not NULL. */
static int json_check_string_into(json_cursor_t *c, uint8_t **out) {
  if (c->at >= c->end || *c->at != '"')
    return 0;
  c->at++;
  while (c->at < c->end) {
    uint8_t b = *c->at;
    if (b == '"') {
      c->at++;
      return 1;
    }
    if (b < 0x20)
      return 0;
    if (b == '\\') {
      if (c->end - c->at < 2)
        return 0;
      uint8_t e = c->at[1];
      const char *simple = strchr("\"\\/bfnrt", e);
      if (e && simple) {
        static const char plain[] = "\"\\/\b\f\n\r\t";
        if (out)
          *(*out)++ = (uint8_t)plain[simple - "\"\\/bfnrt"];
        c->at += 2;
        continue;
      }
      if (e != 'u' || c->end - c->at < 6)
        return 0;
      uint32_t cp = 0;
      for (int i = 2; i < 6; i++) {
        int h = json_hex(c->at[i]);
        if (h < 0)
          return 0;
        cp = (cp << 4) | (uint32_t)h;
      }
      c->at += 6;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        if (c->end - c->at < 6 || c->at[0] != '\\' || c->at[1] != 'u')
          return 0;
        uint32_t low = 0;
        for (int i = 2; i < 6; i++) {
          int h = json_hex(c->at[i]);
          if (h < 0)
            return 0;
          low = (low << 4) | (uint32_t)h;
        }
        if (low < 0xdc00 || low > 0xdfff)
          return 0;
        c->at += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
      } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        return 0;
      }
      if (out)
        json_put_utf8(out, cp);
      continue;
    }
    size_t len = json_utf8_len(c->at, c->end);
    if (!len)
      return 0;
    if (out) {
      memcpy(*out, c->at, len);
      *out += len;
    }
    c->at += len;
  }
  return 0;
}

static int json_check_number(json_cursor_t *c) {
  const uint8_t *start = c->at;
  if (c->at < c->end && *c->at == '-')
    c->at++;
  if (c->at >= c->end)
    return 0;
  if (*c->at == '0') {
    c->at++;
  } else if (*c->at >= '1' && *c->at <= '9') {
    while (c->at < c->end && *c->at >= '0' && *c->at <= '9')
      c->at++;
  } else {
    return 0;
  }
  if (c->at < c->end && *c->at == '.') {
    c->at++;
    const uint8_t *digits = c->at;
    while (c->at < c->end && *c->at >= '0' && *c->at <= '9')
      c->at++;
    if (c->at == digits)
      return 0;
  }
  if (c->at < c->end && (*c->at == 'e' || *c->at == 'E')) {
    c->at++;
    if (c->at < c->end && (*c->at == '+' || *c->at == '-'))
      c->at++;
    const uint8_t *digits = c->at;
    while (c->at < c->end && *c->at >= '0' && *c->at <= '9')
      c->at++;
    if (c->at == digits)
      return 0;
  }
  return c->at > start;
}

static int json_check_literal(json_cursor_t *c, const char *word) {
  size_t len = strlen(word);
  if ((size_t)(c->end - c->at) < len || memcmp(c->at, word, len))
    return 0;
  c->at += len;
  return 1;
}

static int json_check_value(json_cursor_t *c) {
  json_skip_space(c);
  if (c->at >= c->end || ++c->depth > 256)
    return 0;
  int ok;
  switch (*c->at) {
  case '{':
    c->at++;
    json_skip_space(c);
    if (c->at < c->end && *c->at == '}') {
      c->at++;
      ok = 1;
      break;
    }
    for (;;) {
      json_skip_space(c);
      if (!json_check_string_into(c, NULL))
        return 0;
      json_skip_space(c);
      if (c->at >= c->end || *c->at++ != ':' || !json_check_value(c))
        return 0;
      json_skip_space(c);
      if (c->at >= c->end)
        return 0;
      if (*c->at == ',') {
        c->at++;
        continue;
      }
      if (*c->at++ != '}')
        return 0;
      break;
    }
    ok = 1;
    break;
  case '[':
    c->at++;
    json_skip_space(c);
    if (c->at < c->end && *c->at == ']') {
      c->at++;
      ok = 1;
      break;
    }
    for (;;) {
      if (!json_check_value(c))
        return 0;
      json_skip_space(c);
      if (c->at >= c->end)
        return 0;
      if (*c->at == ',') {
        c->at++;
        continue;
      }
      if (*c->at++ != ']')
        return 0;
      break;
    }
    ok = 1;
    break;
  case '"':
    ok = json_check_string_into(c, NULL);
    break;
  case 't':
    ok = json_check_literal(c, "true");
    break;
  case 'f':
    ok = json_check_literal(c, "false");
    break;
  case 'n':
    ok = json_check_literal(c, "null");
    break;
  default:
    ok = json_check_number(c);
  }
  c->depth--;
  return ok;
}

/* 1 when bytes[0..len) is exactly one JSON object followed by one '\n' and
 * nothing else (one JSON-lines line). */
static int json_check_line(const uint8_t *bytes, size_t len) {
  if (len < 2 || bytes[len - 1] != '\n' || bytes[0] != '{')
    return 0;
  if (memchr(bytes, '\n', len - 1))
    return 0;
  json_cursor_t c = {bytes, bytes + len - 1, 0};
  return json_check_value(&c) && c.at == c.end;
}

/* 1 when bytes[0..len) is exactly one JSON string; its text goes to out
 * (room for len bytes) and its length to *out_len. */
static int json_check_string(const uint8_t *bytes, size_t len, uint8_t *out, size_t *out_len) {
  json_cursor_t c = {bytes, bytes + len, 0};
  uint8_t *o = out;
  if (!json_check_string_into(&c, &o) || c.at != c.end)
    return 0;
  *out_len = (size_t)(o - out);
  return 1;
}

#endif
