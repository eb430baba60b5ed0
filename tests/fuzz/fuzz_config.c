/* libFuzzer target: the config parser. The input up to its first NUL byte is
 * a properties file given to cx_config_build; what follows, split at NUL and
 * newline bytes, are -X key=value pairs; every pair's value also goes
 * through cx_config_parse_duration. Any input may fail, none may crash or
 * leak. The file lives in a memfd, so no disk is touched. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../stream/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_PAIRS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("cx-fuzz-config", 0);
    if (fd < 0)
      abort();
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    setenv("CX_FUZZ_VAR", "fuzz-value", 1);
  }
  const uint8_t *nul = memchr(data, 0, size);
  size_t file_len = nul ? (size_t)(nul - data) : size;
  if (ftruncate(fd, 0) || (file_len && pwrite(fd, data, file_len, 0) != (ssize_t)file_len))
    abort();

  char *rest = NULL;
  const char *pairs[FUZZ_MAX_PAIRS];
  size_t pair_count = 0;
  if (nul) {
    size_t rest_len = size - file_len - 1;
    rest = malloc(rest_len + 1);
    if (!rest)
      abort();
    memcpy(rest, nul + 1, rest_len);
    rest[rest_len] = '\0';
    for (char *at = rest; at < rest + rest_len && pair_count < FUZZ_MAX_PAIRS;) {
      size_t len = strcspn(at, "\n");
      at[len] = '\0';
      pairs[pair_count++] = at;
      at += len + 1;
      while (at < rest + rest_len && !*at)
        at++;
    }
  }
  for (size_t i = 0; i < pair_count; i++) {
    const char *eq = strchr(pairs[i], '=');
    int64_t ms;
    (void)cx_config_parse_duration(eq ? eq + 1 : pairs[i], &ms);
  }
  cx_config_t *config = NULL;
  char errstr[1024] = "";
  cx_err_t err = cx_config_build(path, pairs, pair_count, &config, errstr, sizeof(errstr));
  if (err == CX_OK)
    cx_config_destroy(config);
  else if (err != CX_ERR_NOMEM && !errstr[0]) {
    fprintf(stderr, "fuzz: a config error without a message\n");
    abort();
  }
  free(rest);
  return 0;
}
