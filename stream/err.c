/* Strings for cx_err_t, generated from CX_ERR_MAP in err.h. */
#include "err.h"

static const struct {
  const char *code;
  const char *text;
} err_table[] = {
#define CX__X(name, code, text) {code, text},
  CX_ERR_MAP(CX__X)
#undef CX__X
};

const char *cx_err2str(cx_err_t err) {
  return (unsigned)err < CX_ERR__COUNT ? err_table[err].text : "unknown error";
}

const char *cx_err2code(cx_err_t err) {
  return (unsigned)err < CX_ERR__COUNT ? err_table[err].code : "unknown";
}
