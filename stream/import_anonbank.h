/* The converter of DESIGN.md section 8: the "Anonymous Bank" call-center files
 * (tab-separated, one row per call, a header row naming the columns) become an
 * OCF of InteractionEvents, one CONTACT per real, identified call, sorted by
 * arrival time. Every data row ends up written, skipped (PHANTOM, customer 0)
 * or rejected with file:line and the reason on stderr; none vanishes.
 *
 * One row, found by header name (column order does not matter):
 *   event_id    "anonbank-<date>-<call_id>", date as the file writes it
 *               (anonbank-990101-33116), exactly as DESIGN.md section 8 says.
 *               call_id is unique per VRU line only, so a few calls of one
 *               date share an id; they are all written (real calls) and
 *               counted in duplicate_ids.
 *   customer_id the id as text: 1 to 20 digits; all zeros = unidentified
 *               (skipped). Anything else ("3.27E+11", where a spreadsheet
 *               rounded the id away) is rejected.
 *   occurred_at date YYMMDD + vru_entry H:MM:SS or HH:MM:SS, read as UTC. Years
 *               follow POSIX strptime's %y: 69..99 -> 1969..1999, 00..68 ->
 *               2000..2068. Impossible dates and times are rejected.
 *   channel     PHONE; type CONTACT.
 *   outcome     AGENT -> COMPLETED, HANG -> ABANDONED, PHANTOM -> row skipped;
 *               any other text -> null (written, with a warning on stderr).
 *   wait_ms     q_time * 1000; handle_ms ser_time * 1000 (whole seconds,
 *               0 .. 86400, else rejected).
 *   topic       the type column (PS, NW, ...); null when empty.
 *   agent_id    the server column; null when empty or NO_SERVER.
 *   attributes  vru_line and priority, when present and not empty.
 * Rows need exactly as many fields as the header; fields are trimmed of
 * spaces; any field over 255 bytes rejects the row. Lines may end in LF or
 * CRLF; blank lines are not rows. The first non-blank line is the header
 * (a UTF-8 BOM is ignored); a header without one of the required columns
 * (call_id, customer_id, type, date, vru_entry, q_time, outcome, ser_time)
 * fails the import. */
#ifndef CX_IMPORT_ANONBANK_H
#define CX_IMPORT_ANONBANK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct cx_import_stats_s {
  uint64_t rows;                 /* data rows read */
  uint64_t events;               /* events written */
  uint64_t skipped_phantom;      /* PHANTOM calls */
  uint64_t skipped_unidentified; /* customer id 0 */
  uint64_t rejected;             /* rows that could not be parsed (each reported on stderr with file:line and why) */
  uint64_t duplicate_ids;        /* events written whose event_id an earlier event already has */
} cx_import_stats_t;

/* Reads paths[0 .. path_count) in that order, sorts all their events by
 * occurred_at (stable: equal times keep file order, files in the order
 * given) and writes them to out_path with the schema of schema_dir. The
 * output is created only after every input was read. rows == events +
 * skipped_phantom + skipped_unidentified + rejected. stats may be NULL.
 * Fails on unreadable files, a bad header or a write error; bad rows do not
 * fail it. Holds all events in memory (about 200 bytes each). */
cx_err_t cx_import_anonbank(const char *const *paths, size_t path_count, const char *out_path,
                            const char *schema_dir, cx_import_stats_t *stats, char *errstr,
                            size_t errstr_size);

#endif
