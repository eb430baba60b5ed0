/* The operations endpoint: GET /metrics (Prometheus text format 0.0.4),
 * /healthz (the process is alive and its loops are not stuck) and /readyz
 * (every assigned partition restored and consuming), served by
 * libmicrohttpd's own thread from a cx_metrics_t. It only reads the
 * registry, so a slow scraper never slows processing. */
#ifndef CX_HTTP_H
#define CX_HTTP_H

#include <stddef.h>

#include "err.h"
#include "metrics.h"

typedef struct cx_http_s cx_http_t;

/* Listens on "HOST:PORT" ("127.0.0.1:9464", "0.0.0.0:9464", "[::1]:9464";
 * port 0 = any free port, see cx_http_port). metrics is borrowed and must
 * outlive the server. Errors name the address and the reason. */
cx_err_t cx_http_start(cx_metrics_t *metrics, const char *listen, cx_http_t **http,
                       char *errstr, size_t errstr_size);
/* The port it listens on. */
int cx_http_port(const cx_http_t *http);
/* Stops serving and frees; NULL is a no-op. */
void cx_http_stop(cx_http_t *http);

/* Splits "HOST:PORT" (IPv6 hosts in brackets); 0 or -1 when malformed. */
int cx_http_parse_listen(const char *listen, char *host, size_t host_size, int *port);

#endif
