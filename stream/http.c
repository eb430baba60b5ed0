/* The operations endpoint on libmicrohttpd (see http.h): one internal
 * polling thread, GET only, three paths, responses rendered per request. */
#include "http.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "buf.h"

struct cx_http_s {
  struct MHD_Daemon *daemon;  /* libmicrohttpd */
  cx_metrics_t *metrics;      /* borrowed */
  int port;                   /* bound port */
};

int cx_http_parse_listen(const char *listen, char *host, size_t host_size, int *port) {
  const char *colon;
  const char *host_start = listen;
  size_t host_len;
  if (listen[0] == '[') {
    const char *close = strchr(listen, ']');
    if (!close || close[1] != ':')
      return -1;
    host_start = listen + 1;
    host_len = (size_t)(close - host_start);
    colon = close + 1;
  } else {
    colon = strrchr(listen, ':');
    if (!colon)
      return -1;
    host_len = (size_t)(colon - listen);
  }
  if (!host_len || host_len >= host_size)
    return -1;
  char *end = NULL;
  long value = strtol(colon + 1, &end, 10);
  if (!colon[1] || *end || value < 0 || value > 65535)
    return -1;
  memcpy(host, host_start, host_len);
  host[host_len] = '\0';
  *port = (int)value;
  return 0;
}

static enum MHD_Result reply(struct MHD_Connection *connection, unsigned int status,
                             const char *content_type, const void *body, size_t len) {
  struct MHD_Response *response =
      MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (!response)
    return MHD_NO;
  MHD_add_response_header(response, "Content-Type", content_type);
  MHD_add_response_header(response, "Cache-Control", "no-store");
  enum MHD_Result result = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return result;
}

static enum MHD_Result on_request(void *opaque, struct MHD_Connection *connection,
                                  const char *url, const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **request_state) {
  (void)version;
  (void)upload_data;
  cx_http_t *http = opaque;
  static int first_call;
  /* libmicrohttpd calls twice per request: first with the headers only. */
  if (*request_state != &first_call) {
    *request_state = &first_call;
    return MHD_YES;
  }
  if (*upload_data_size) {
    *upload_data_size = 0;
    return MHD_YES;
  }
  static const char text[] = "text/plain; charset=utf-8";
  if (strcmp(method, "GET") && strcmp(method, "HEAD"))
    return reply(connection, MHD_HTTP_METHOD_NOT_ALLOWED, text, "GET only\n", 9);
  if (!strcmp(url, "/metrics")) {
    cx_buf_t body = {0};
    enum MHD_Result result;
    if (cx_metrics_render(http->metrics, &body))
      result = reply(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, text, "out of memory\n", 14);
    else
      result = reply(connection, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
                     body.data ? (const char *)body.data : "", body.len);
    cx_buf_free(&body);
    return result;
  }
  if (!strcmp(url, "/healthz") || !strcmp(url, "/readyz")) {
    char why[256] = "";
    char body[300];
    int ok = url[1] == 'h' ? cx_metrics_healthy(http->metrics, why, sizeof(why))
                           : cx_metrics_ready(http->metrics, why, sizeof(why));
    int len = snprintf(body, sizeof(body), "%s%s%s\n", ok ? "ok" : "not ", ok ? "" : "ok: ", why);
    if (len >= (int)sizeof(body))
      len = (int)sizeof(body) - 1;
    return reply(connection, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, text, body,
                 (size_t)len);
  }
  if (!strcmp(url, "/")) {
    static const char index[] = "cxstream: /metrics /healthz /readyz\n";
    return reply(connection, MHD_HTTP_OK, text, index, sizeof(index) - 1);
  }
  return reply(connection, MHD_HTTP_NOT_FOUND, text, "not found\n", 10);
}

cx_err_t cx_http_start(cx_metrics_t *metrics, const char *listen, cx_http_t **out, char *errstr,
                       size_t errstr_size) {
  char host[256], service[16];
  int port = 0;
  if (cx_http_parse_listen(listen, host, sizeof(host), &port)) {
    snprintf(errstr, errstr_size,
             "metrics.listen: '%s': expected HOST:PORT such as 127.0.0.1:9464, 0.0.0.0:9464 "
             "or [::1]:9464 (port 0 to 65535)", listen);
    return CX_ERR_CONFIG;
  }
  snprintf(service, sizeof(service), "%d", port);
  struct addrinfo hints = {0}, *address = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int gai = getaddrinfo(host, service, &hints, &address);
  if (gai) {
    snprintf(errstr, errstr_size, "metrics.listen: '%s': %s", listen, gai_strerror(gai));
    return CX_ERR_CONFIG;
  }
  cx_http_t *http = calloc(1, sizeof(*http));
  if (!http) {
    freeaddrinfo(address);
    return CX_ERR_NOMEM;
  }
  http->metrics = metrics;
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
  if (address->ai_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  http->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, http,
                                  MHD_OPTION_SOCK_ADDR, address->ai_addr,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
                                  MHD_OPTION_END);
  freeaddrinfo(address);
  if (!http->daemon) {
    snprintf(errstr, errstr_size,
             "metrics.listen: cannot listen on %s (address in use or not local?)", listen);
    free(http);
    return CX_ERR_IO;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_BIND_PORT);
  http->port = info ? (int)info->port : port;
  *out = http;
  return CX_OK;
}

int cx_http_port(const cx_http_t *http) {
  return http ? http->port : 0;
}

void cx_http_stop(cx_http_t *http) {
  if (!http)
    return;
  MHD_stop_daemon(http->daemon);
  free(http);
}
