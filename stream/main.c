/* cxstream: the command line. Subcommands run (production), replay, demo,
 * produce, import, rules and config; each job takes -c FILE and -X key=value
 * like kcat. Help texts come from one table (commands[]) that also writes the
 * man page (`cxstream help --man` > deploy/cxstream.1), so they cannot drift.
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration,
 * 130 replay interrupted. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "clock.h"
#include "config.h"
#include "demo.h"
#include "http.h"
#include "import_anonbank.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "produce.h"
#include "replay.h"
#include "runner.h"
#include "../operators/rules.h"

#ifndef CX_VERSION
#define CX_VERSION "dev"
#endif

typedef struct command_help_s {
  const char *name;        /* subcommand */
  const char *synopsis;    /* usage lines, one per form, '\n'-separated */
  const char *summary;     /* one line for the NAME-like list */
  const char *description; /* paragraphs, '\n'-separated lines of about 78 columns */
} command_help_t;

static const command_help_t commands[] = {
  {"run", "cxstream run -c FILE [-X key=value ...]",
   "the production job",
   "Consume input.topics as a member of consumer group application.id, run the\n"
   "operators per assigned partition and write alerts to output.alerts.topic,\n"
   "profiles to output.profiles.topic, bad messages to output.dlq.topic and late\n"
   "events to output.late.topic (processing.guarantee: at_least_once or\n"
   "exactly_once). Each assigned partition's state is first restored from the\n"
   "changelog <application.id>-state (state.changelog). num.stream.threads=N runs\n"
   "N group members in this process. Serves /metrics, /healthz and /readyz on\n"
   "metrics.listen.\n"
   "SIGTERM/SIGINT finish the batch, commit and leave the group; SIGHUP reloads\n"
   "rules.*, scores.*, actions.* and profiles.* from FILE and -X. Needs -c FILE\n"
   "or at least -X kafka.bootstrap.servers=HOST:PORT."},
  {"replay",
   "cxstream replay [-c FILE] [-X ...] --input-file F.avro --out FILE.jsonl\n"
   "                [--from TIME] [--to TIME] [--pace N] [--partitions N]\n"
   "cxstream replay [-c FILE] [-X ...] --topic T [--from TIME | --from-offsets SPEC]\n"
   "                [--to TIME] (--out FILE.jsonl | --out-topic-prefix P) [--pace N]\n"
   "                [--write-production-topics]",
   "replay a file or a historical topic",
   "Replay a file or a historical topic through the same operators and write\n"
   "alerts and profiles as JSON lines (--out - for stdout) or to topics P +\n"
   "output.*.topic. TIME: ISO-8601 or epoch ms; --from is inclusive, --to\n"
   "exclusive. SPEC: PARTITION:OFFSET,... (0:100,1:250). --pace N: N times the\n"
   "event-time pace (default: as fast as possible). A topic is read with a\n"
   "group id of its own and never commits. A file with --partitions N is\n"
   "replayed as a topic of N partitions written by `produce` would be (murmur2\n"
   "of customer_id), so both replays give byte-identical output.\n"
   "SIGINT/SIGTERM stop reading, write out what was processed and exit 130."},
  {"demo", "cxstream demo [-X ...]",
   "the embedded demo",
   "Start an in-process Kafka cluster, feed it generated journeys, print alerts.\n"
   "With -X kafka.bootstrap.servers=HOST:PORT it uses that broker instead."},
  {"produce", "cxstream produce --input-file F.avro --topic T [--partitions N] [-c FILE] [-X ...]",
   "load an Avro file into a topic",
   "Load an OCF into a topic (Confluent framing, key = customer_id); with\n"
   "--partitions N the topic is created with N partitions when missing."},
  {"import", "cxstream import anonbank FILE... -o OUT.avro [--schema-dir DIR]",
   "convert the Anonymous Bank call-center files",
   "Convert the Anonymous Bank call-center files into InteractionEvents."},
  {"rules", "cxstream rules check FILE [-X key=value ...]",
   "check the rules of a config file",
   "Check a config file as `run` would load it (also on SIGHUP): exit 0 when\n"
   "it is valid, 2 with the reason when not; prints the enabled rules."},
  {"config",
   "cxstream config check -c FILE [-X key=value ...]\n"
   "cxstream config dump [-c FILE] [-X key=value ...]",
   "check a config or print the effective one",
   "check: validate every key of FILE and -X (unknown keys with the closest known\n"
   "one, values with their allowed range, ${ENV} references, kafka.* keys as\n"
   "librdkafka takes them); exit 0 and \"FILE: ok\" when valid, 2 with the reason\n"
   "when not. dump: print the effective configuration (defaults, then FILE, then\n"
   "-X) as a properties file, every key, secrets shown as ********."},
  {"help", "cxstream help [COMMAND]\ncxstream COMMAND --help\ncxstream --help | --version",
   "print help",
   "Print the usage of one command, or of all with the configuration keys."},
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static const char exit_codes[] =
    "Exit codes: 0 success; 1 runtime failure (I/O, Kafka, undeliverable output);\n"
    "2 bad usage or configuration (the message names the flag or key); 130 replay\n"
    "interrupted by SIGINT/SIGTERM (what was processed is written).\n";

static const command_help_t *find_command(const char *name) {
  for (size_t i = 0; i < COMMAND_COUNT; i++)
    if (!strcmp(commands[i].name, name))
      return &commands[i];
  return NULL;
}

/* Prints text with every line indented by indent spaces. */
static void print_indented(FILE *out, const char *text, int indent) {
  while (*text) {
    size_t len = strcspn(text, "\n");
    fprintf(out, "%*s%.*s\n", indent, "", (int)len, text);
    text += len;
    if (*text)
      text++;
  }
}

static void command_usage(FILE *out, const command_help_t *command) {
  fprintf(out, "Usage:\n");
  print_indented(out, command->synopsis, 2);
  fprintf(out, "\n");
  print_indented(out, command->description, 2);
  if (strcmp(command->name, "import") && strcmp(command->name, "help"))
    fprintf(out, "\n  -c FILE         properties file (key=value, # comments, ${ENV} substituted)\n"
                 "  -X key=value    set a key after FILE, in order; see cxstream --help for keys\n");
  fprintf(out, "\n%s", exit_codes);
}

static void usage(FILE *out) {
  fprintf(out, "cxstream %s - spots customer frustration and churn risk in interaction events\n"
               "\nUsage:\n", CX_VERSION);
  for (size_t i = 0; i < COMMAND_COUNT; i++) {
    print_indented(out, commands[i].synopsis, 2);
    print_indented(out, commands[i].description, 6);
  }
  fprintf(out, "\n%s\n", exit_codes);
  cx_config_print_help(out);
}

/* ---- the man page, from the same texts ---- */

/* Writes text for roff: backslashes as \e, a leading dot or quote escaped,
 * hyphens of options as \-. */
static void roff_text(FILE *out, const char *text) {
  bool line_start = true;
  for (const char *c = text; *c; c++) {
    if (line_start && (*c == '.' || *c == '\''))
      fputs("\\&", out);
    line_start = *c == '\n';
    if (*c == '\\')
      fputs("\\e", out);
    else if (*c == '-')
      fputs("\\-", out);
    else
      fputc(*c, out);
  }
}

static void man_key(const char *name, const char *default_value, const char *description,
                    const char *values, void *opaque) {
  FILE *out = opaque;
  fputs(".TP\n.B ", out);
  roff_text(out, name);
  fputs("\n", out);
  roff_text(out, description);
  if (values) {
    fputs(" (", out);
    roff_text(out, values);
    fputs(")", out);
  }
  fputs(". Default: ", out);
  roff_text(out, default_value[0] ? default_value : "\"\"");
  fputs(".\n", out);
}

static void man_page(FILE *out) {
  fprintf(out, ".\\\" Generated by `cxstream help --man`; tests/integration/test_help_man.sh checks it.\n"
               ".TH CXSTREAM 1 \"\" \"cxstream %s\" \"User Commands\"\n"
               ".SH NAME\ncxstream \\- spots customer frustration and churn risk in interaction "
               "events on Kafka\n.SH SYNOPSIS\n.nf\n", CX_VERSION);
  for (size_t i = 0; i < COMMAND_COUNT; i++) {
    roff_text(out, commands[i].synopsis);
    fputs("\n", out);
  }
  fputs(".fi\n.SH DESCRIPTION\n"
        "cxstream reads InteractionEvents from Kafka, keeps per-customer state in event-time\n"
        "windows, and writes alerts and customer profiles back to Kafka; the same operators\n"
        "replay history deterministically.\n.SH COMMANDS\n", out);
  for (size_t i = 0; i < COMMAND_COUNT; i++) {
    fputs(".SS ", out);
    roff_text(out, commands[i].name);
    fputs(" \\(em ", out);
    roff_text(out, commands[i].summary);
    fputs("\n.nf\n", out);
    roff_text(out, commands[i].synopsis);
    fputs("\n.fi\n", out);
    roff_text(out, commands[i].description);
    fputs("\n", out);
  }
  fputs(".SH OPTIONS\n.TP\n.BI \\-c \" FILE\"\nA properties file: key=value lines, # comments, "
        "${NAME} replaced by the environment variable NAME (unset is an error).\n"
        ".TP\n.BI \\-X \" key=value\"\nSets a key after the file, in order; keys under "
        "kafka. go to librdkafka untouched.\n.SH CONFIGURATION\n", out);
  cx_config_each_key(man_key, out);
  fputs(".TP\n.B kafka.*\nAny librdkafka property, e.g. kafka.bootstrap.servers, "
        "kafka.security.protocol, kafka.sasl.mechanism, kafka.sasl.username, "
        "kafka.sasl.password, kafka.ssl.ca.location; applied to every Kafka client.\n"
        ".SH EXIT STATUS\n", out);
  roff_text(out, exit_codes);
  fputs(".SH ENVIRONMENT\nVariables named in ${NAME} references of the config file, "
        "typically secrets such as kafka.sasl.password=${CX_SASL_PASSWORD}.\n"
        ".SH SECURITY\nSecret values (keys containing password, secret, token, "
        "ssl.key, pseudonymize.key) are never logged; config dump masks them.\n"
        ".SH SEE ALSO\nkcat(1), the README of cxstream.\n", out);
}

/* Options every job command shares: -c FILE, -X key=value. The config is
 * built from them (defaults, file, then -X in order) once parsing is done,
 * and rebuilt the same way on SIGHUP. */
typedef struct common_s {
  const char *config_file;   /* -c, or NULL */
  const char **overrides;    /* the -X arguments in order (borrowed from argv) */
  size_t override_count;     /* entries in overrides */
} common_t;

/* Builds the config, checks the kafka.* keys as librdkafka takes them, and
 * sets up logging from it (level, format, secrets never to print). */
static int build_config(const common_t *common, cx_config_t **config) {
  char errstr[512];
  if (cx_config_build(common->config_file, common->overrides, common->override_count, config,
                      errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream: %s\n", errstr);
    return 2;
  }
  cx_log_set_level((cx_log_level_t)(*config)->log_level);
  cx_log_set_format((cx_log_format_t)(*config)->log_format);
  cx_config_register_secrets(*config);
  rd_kafka_conf_t *conf = cx_kafka_conf_new(*config, NULL, errstr, sizeof(errstr));
  if (!conf) {
    fprintf(stderr, "cxstream: %s\n", errstr);
    cx_config_destroy(*config);
    *config = NULL;
    return 2;
  }
  rd_kafka_conf_destroy(conf);
  return 0;
}

/* run: the metrics registry and its HTTP endpoint. An endpoint that cannot
 * listen is logged and the job runs without it: metrics never stop
 * processing (a failing readiness probe and a scrape error say it loudly). */
static cx_metrics_t *start_metrics(const cx_config_t *config, cx_http_t **http) {
  *http = NULL;
  if (!config->metrics_listen[0])
    return NULL; /* no endpoint, no registry: recording costs one test per call */
  cx_metrics_t *metrics = cx_metrics_new(config->liveness_timeout_ms);
  char errstr[512];
  if (!metrics)
    return NULL;
  cx_metrics_set_global(metrics);
  if (cx_http_start(metrics, config->metrics_listen, http, errstr, sizeof(errstr)))
    cx_log(CX_LOG_ERROR, "%s; running without /metrics, /healthz and /readyz", errstr);
  else
    cx_log(CX_LOG_INFO, "serving /metrics, /healthz and /readyz on %s (port %d)",
           config->metrics_listen, cx_http_port(*http));
  return metrics;
}

static void stop_metrics(cx_metrics_t *metrics, cx_http_t *http) {
  cx_http_stop(http);
  cx_metrics_set_global(NULL);
  cx_metrics_destroy(metrics);
}

enum { OPT_INPUT_FILE = 256, OPT_OUT, OPT_FROM, OPT_TO, OPT_TOPIC, OPT_OUT_TOPIC_PREFIX,
       OPT_FROM_OFFSETS, OPT_PACE, OPT_WRITE_PRODUCTION_TOPICS, OPT_PARTITIONS };

static const struct option job_options[] = {
  {"config", required_argument, NULL, 'c'},
  {"help", no_argument, NULL, 'h'},
  {"input-file", required_argument, NULL, OPT_INPUT_FILE},
  {"out", required_argument, NULL, OPT_OUT},
  {"from", required_argument, NULL, OPT_FROM},
  {"to", required_argument, NULL, OPT_TO},
  {"topic", required_argument, NULL, OPT_TOPIC},
  {"out-topic-prefix", required_argument, NULL, OPT_OUT_TOPIC_PREFIX},
  {"from-offsets", required_argument, NULL, OPT_FROM_OFFSETS},
  {"pace", required_argument, NULL, OPT_PACE},
  {"write-production-topics", no_argument, NULL, OPT_WRITE_PRODUCTION_TOPICS},
  {"partitions", required_argument, NULL, OPT_PARTITIONS},
  {NULL, 0, NULL, 0},
};

static int parse_time_arg(const char *flag, const char *text, int64_t *ms) {
  if (cx_clock_parse_time(text, ms)) {
    fprintf(stderr, "cxstream: %s '%s': expected an ISO-8601 time such as "
                    "2026-01-05T10:00:00Z, a date such as 2026-01-05, or epoch milliseconds\n",
            flag, text);
    return 2;
  }
  return 0;
}

static int parse_pace_arg(const char *text, double *pace) {
  char *end = NULL;
  double value = strtod(text, &end);
  if (!*text || *end || !(value > 0) || value > 1e12) {
    fprintf(stderr, "cxstream: --pace '%s': expected a number greater than 0, such as 60 "
                    "(one hour of event time per minute) or 0.5\n", text);
    return 2;
  }
  *pace = value;
  return 0;
}

static int parse_partitions_arg(const char *text, int *partitions) {
  char *end = NULL;
  long value = strtol(text, &end, 10);
  if (!*text || *end || value < 1 || value > 100000) {
    fprintf(stderr, "cxstream: --partitions '%s': expected a whole number from 1 to 100000\n",
            text);
    return 2;
  }
  *partitions = (int)value;
  return 0;
}

/* Parses the options of run, replay, demo and produce. */
static int job_command(const char *command, int argc, char **argv) {
  common_t common = {NULL, calloc((size_t)argc + 1, sizeof(char *)), 0};
  cx_config_t *config = NULL;
  cx_replay_options_t replay = {NULL, NULL, NULL, NULL, INT64_MIN, INT64_MAX, NULL, 0, 0, 0, 0};
  int partitions = 0;
  int rc = 0, opt;
  if (!common.overrides) {
    fprintf(stderr, "cxstream: out of memory\n");
    return 1;
  }
  optind = 1;
  while (!rc && (opt = getopt_long(argc, argv, "c:X:h", job_options, NULL)) != -1) {
    switch (opt) {
    case 'c':
      if (common.config_file) {
        fprintf(stderr, "cxstream %s: -c given twice\n", command);
        rc = 2;
      }
      common.config_file = optarg;
      break;
    case 'X': common.overrides[common.override_count++] = optarg; break;
    case 'h': command_usage(stdout, find_command(command)); free(common.overrides); return 0;
    case OPT_INPUT_FILE: replay.input_file = optarg; break;
    case OPT_OUT: replay.out_file = optarg; break;
    case OPT_FROM: rc = parse_time_arg("--from", optarg, &replay.from_ms); break;
    case OPT_TO: rc = parse_time_arg("--to", optarg, &replay.to_ms); break;
    case OPT_TOPIC: replay.topic = optarg; break;
    case OPT_OUT_TOPIC_PREFIX: replay.out_topic_prefix = optarg; break;
    case OPT_FROM_OFFSETS: replay.from_offsets = optarg; break;
    case OPT_PACE: rc = parse_pace_arg(optarg, &replay.pace); break;
    case OPT_WRITE_PRODUCTION_TOPICS: replay.write_production_topics = 1; break;
    case OPT_PARTITIONS: rc = parse_partitions_arg(optarg, &partitions); break;
    default:
      fprintf(stderr, "cxstream %s: see cxstream --help\n", command);
      rc = 2;
    }
  }
  if (!rc && optind < argc) {
    fprintf(stderr, "cxstream %s: unexpected argument '%s' (see cxstream --help)\n", command,
            argv[optind]);
    rc = 2;
  }
  if (!rc)
    rc = build_config(&common, &config);
  if (!rc) {
    if (!strcmp(command, "run")) {
      if (!common.config_file && !cx_config_kafka_get(config, "bootstrap.servers")) {
        fprintf(stderr, "cxstream run: give a config file (-c FILE) or at least "
                        "-X kafka.bootstrap.servers=HOST:PORT\n");
        rc = 2;
      } else {
        cx_http_t *http = NULL;
        cx_metrics_t *metrics = start_metrics(config, &http);
        rc = cx_run_main(config, common.config_file, common.overrides, common.override_count);
        cx_metrics_set_stopping(metrics);
        stop_metrics(metrics, http);
      }
    } else if (!strcmp(command, "replay")) {
      replay.partitions = partitions;
      if (replay.from_ms >= replay.to_ms) {
        fprintf(stderr, "cxstream replay: --from must be before --to\n");
        rc = 2;
      } else if (partitions && replay.topic) {
        fprintf(stderr, "cxstream replay: --partitions applies to --input-file (a topic "
                        "replays its own partitions)\n");
        rc = 2;
      } else {
        replay.exit_after = 1; /* main returns next */
        rc = cx_replay_main(config, &replay);
      }
    } else if (!strcmp(command, "demo")) {
      rc = cx_demo_main(config);
    } else if (!strcmp(command, "produce")) {
      if (!replay.input_file || !replay.topic) {
        fprintf(stderr, "cxstream produce: needs --input-file F.avro and --topic T\n");
        rc = 2;
      } else {
        rc = cx_produce_main(config, replay.input_file, replay.topic, partitions);
      }
    }
  }
  cx_config_destroy(config);
  free(common.overrides);
  return rc;
}

/* `cxstream rules check FILE [-X ...]`: what SIGHUP would load, checked. */
static int rules_command(int argc, char **argv) {
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    command_usage(stdout, find_command("rules"));
    return 0;
  }
  if (argc < 3 || strcmp(argv[1], "check")) {
    fprintf(stderr, "cxstream rules: usage: cxstream rules check FILE [-X key=value ...]\n");
    return 2;
  }
  common_t common = {argv[2], calloc((size_t)argc, sizeof(char *)), 0};
  if (!common.overrides)
    return 1;
  for (int i = 3; i < argc; i++) {
    if (!strcmp(argv[i], "-X") && i + 1 < argc) {
      common.overrides[common.override_count++] = argv[++i];
    } else {
      fprintf(stderr, "cxstream rules check: unexpected argument '%s'\n", argv[i]);
      free(common.overrides);
      return 2;
    }
  }
  cx_config_t *config = NULL;
  int rc = build_config(&common, &config);
  if (!rc) {
    int enabled = 0;
    printf("%s: ok; rules enabled:", argv[2]);
    for (int r = 0; r < CX_RULE__COUNT; r++) {
      if (config->processor.rules.common[r].enabled) {
        printf(" %s", cx_rule_name((cx_rule_t)r));
        enabled++;
      }
    }
    printf("%s (%d of %d)\n", enabled ? "" : " none", enabled, CX_RULE__COUNT);
  }
  cx_config_destroy(config);
  free(common.overrides);
  return rc;
}

static int import_command(int argc, char **argv) {
  if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
    command_usage(stdout, find_command("import"));
    return 0;
  }
  if (argc < 2 || strcmp(argv[1], "anonbank")) {
    fprintf(stderr, "cxstream import: the only format is anonbank: "
                    "cxstream import anonbank FILE... -o OUT.avro\n");
    return 2;
  }
  const char *out = NULL, *schema_dir = "schemas";
  const char **files = calloc((size_t)argc, sizeof(*files));
  size_t file_count = 0;
  if (!files)
    return 1;
  for (int i = 2; i < argc; i++) {
    if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--out")) && i + 1 < argc) {
      out = argv[++i];
    } else if (!strcmp(argv[i], "--schema-dir") && i + 1 < argc) {
      schema_dir = argv[++i];
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "cxstream import: unknown option '%s'\n", argv[i]);
      free(files);
      return 2;
    } else {
      files[file_count++] = argv[i];
    }
  }
  if (!out || !file_count) {
    fprintf(stderr, "cxstream import anonbank: needs FILE... and -o OUT.avro\n");
    free(files);
    return 2;
  }
  char errstr[512];
  cx_import_stats_t stats;
  cx_err_t err = cx_import_anonbank(files, file_count, out, schema_dir, &stats, errstr,
                                    sizeof(errstr));
  free(files);
  if (err) {
    fprintf(stderr, "cxstream import: %s\n", errstr);
    return 1;
  }
  fprintf(stderr,
          "import: %llu rows, %llu events written to %s, %llu PHANTOM skipped, "
          "%llu unidentified skipped, %llu rejected, %llu with a repeated event_id\n",
          (unsigned long long)stats.rows, (unsigned long long)stats.events, out,
          (unsigned long long)stats.skipped_phantom,
          (unsigned long long)stats.skipped_unidentified, (unsigned long long)stats.rejected,
          (unsigned long long)stats.duplicate_ids);
  return 0;
}

/* `cxstream config check|dump [-c FILE] [-X ...]`. */
static int config_command(int argc, char **argv) {
  const char *action = argc >= 2 ? argv[1] : "";
  if (!strcmp(action, "--help") || !strcmp(action, "-h")) {
    command_usage(stdout, find_command("config"));
    return 0;
  }
  if (strcmp(action, "check") && strcmp(action, "dump")) {
    fprintf(stderr, "cxstream config: usage: cxstream config check -c FILE [-X key=value ...] | "
                    "cxstream config dump [-c FILE] [-X key=value ...]\n");
    return 2;
  }
  common_t common = {NULL, calloc((size_t)argc, sizeof(char *)), 0};
  if (!common.overrides)
    return 1;
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "-X") && i + 1 < argc) {
      common.overrides[common.override_count++] = argv[++i];
    } else if (!strcmp(argv[i], "-c") && i + 1 < argc && !common.config_file) {
      common.config_file = argv[++i];
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      command_usage(stdout, find_command("config"));
      free(common.overrides);
      return 0;
    } else {
      fprintf(stderr, "cxstream config %s: unexpected argument '%s' (see cxstream config --help)\n",
              action, argv[i]);
      free(common.overrides);
      return 2;
    }
  }
  if (!strcmp(action, "check") && !common.config_file) {
    fprintf(stderr, "cxstream config check: needs -c FILE\n");
    free(common.overrides);
    return 2;
  }
  cx_config_t *config = NULL;
  int rc = build_config(&common, &config);
  if (!rc) {
    if (!strcmp(action, "check"))
      printf("%s: ok\n", common.config_file);
    else
      cx_config_dump(config, stdout);
  }
  cx_config_destroy(config);
  free(common.overrides);
  return rc;
}

static int help_command(int argc, char **argv) {
  if (argc < 2) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    command_usage(stdout, find_command("help"));
    return 0;
  }
  if (!strcmp(argv[1], "--man")) {
    man_page(stdout);
    return 0;
  }
  const command_help_t *command = find_command(argv[1]);
  if (!command) {
    fprintf(stderr, "cxstream help: unknown command '%s'\n", argv[1]);
    return 2;
  }
  command_usage(stdout, command);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *command = argv[1];
  if (!strcmp(command, "--help") || !strcmp(command, "-h")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(command, "help"))
    return help_command(argc - 1, argv + 1);
  if (!strcmp(command, "--version") || !strcmp(command, "-V")) {
    printf("cxstream %s (librdkafka %s, libmicrohttpd %s)\n", CX_VERSION, rd_kafka_version_str(),
           MHD_get_version());
    return 0;
  }
  if (!strcmp(command, "run") || !strcmp(command, "replay") || !strcmp(command, "demo") ||
      !strcmp(command, "produce"))
    return job_command(command, argc - 1, argv + 1);
  if (!strcmp(command, "import"))
    return import_command(argc - 1, argv + 1);
  if (!strcmp(command, "rules"))
    return rules_command(argc - 1, argv + 1);
  if (!strcmp(command, "config"))
    return config_command(argc - 1, argv + 1);
  fprintf(stderr, "cxstream: unknown command '%s' (commands: run, replay, demo, produce, "
                  "import, rules, config, help; see cxstream --help)\n", command);
  return 2;
}
