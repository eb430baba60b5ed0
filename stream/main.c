/* cxstream: the command line. Subcommands run (production), replay, demo,
 * produce and import; each takes -c FILE and -X key=value like kcat.
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "demo.h"
#include "import_anonbank.h"
#include "produce.h"
#include "replay.h"
#include "runner.h"
#include "../operators/rules.h"

#ifndef CX_VERSION
#define CX_VERSION "dev"
#endif

static void usage(FILE *out) {
  fprintf(out,
    "cxstream %s - spots customer frustration and churn risk in interaction events\n"
    "\n"
    "Usage:\n"
    "  cxstream run -c FILE [-X key=value ...]\n"
    "      Consume input.topics as a member of group application.id, write alerts to\n"
    "      output.alerts.topic, bad messages to output.dlq.topic. Stops on SIGTERM/SIGINT;\n"
    "      SIGHUP reloads rules.*, scores.*, actions.* and profiles.* from FILE and -X.\n"
    "  cxstream replay [-c FILE] [-X ...] --input-file F.avro --out FILE.jsonl\n"
    "                  [--from TIME] [--to TIME] [--pace N] [--partitions N]\n"
    "  cxstream replay [-c FILE] [-X ...] --topic T [--from TIME | --from-offsets SPEC]\n"
    "                  [--to TIME] (--out FILE.jsonl | --out-topic-prefix P) [--pace N]\n"
    "                  [--write-production-topics]\n"
    "      Replay a file or a historical topic through the same operators and write\n"
    "      alerts and profiles as JSON lines (--out - for stdout) or to topics P +\n"
    "      output.*.topic. TIME: ISO-8601 or epoch ms; --from is inclusive, --to\n"
    "      exclusive. SPEC: PARTITION:OFFSET,... (0:100,1:250). --pace N: N times the\n"
    "      event-time pace (default: as fast as possible). A topic is read with a\n"
    "      group id of its own and never commits. A file with --partitions N is\n"
    "      replayed as a topic of N partitions written by `produce` would be (murmur2\n"
    "      of customer_id), so both replays give byte-identical output.\n"
    "  cxstream demo [-X ...]\n"
    "      Start an in-process Kafka cluster, feed it generated journeys, print alerts.\n"
    "      With -X kafka.bootstrap.servers=HOST:PORT it uses that broker instead.\n"
    "  cxstream produce --input-file F.avro --topic T [--partitions N] [-c FILE] [-X ...]\n"
    "      Load an OCF into a topic (Confluent framing, key = customer_id); with\n"
    "      --partitions N the topic is created with N partitions when missing.\n"
    "  cxstream import anonbank FILE... -o OUT.avro\n"
    "      Convert the Anonymous Bank call-center files into InteractionEvents.\n"
    "  cxstream rules check FILE [-X key=value ...]\n"
    "      Check a config file as `run` would load it (also on SIGHUP): exit 0 when\n"
    "      it is valid, 2 with the reason when not.\n"
    "  cxstream --help | --version\n"
    "\n"
    "Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.\n"
    "\n", CX_VERSION);
  cx_config_print_help(out);
}

/* Options every job command shares: -c FILE, -X key=value. The config is
 * built from them (defaults, file, then -X in order) once parsing is done,
 * and rebuilt the same way on SIGHUP. */
typedef struct common_s {
  const char *config_file;   /* -c, or NULL */
  const char **overrides;    /* the -X arguments in order (borrowed from argv) */
  size_t override_count;     /* entries in overrides */
} common_t;

static int build_config(const common_t *common, cx_config_t **config) {
  char errstr[512];
  if (cx_config_build(common->config_file, common->overrides, common->override_count, config,
                      errstr, sizeof(errstr))) {
    fprintf(stderr, "cxstream: %s\n", errstr);
    return 2;
  }
  return 0;
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
  cx_replay_options_t replay = {NULL, NULL, NULL, NULL, INT64_MIN, INT64_MAX, NULL, 0, 0, 0};
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
    case 'h': usage(stdout); free(common.overrides); return 0;
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
      } else if (config->num_stream_threads > 1) {
        fprintf(stderr, "cxstream run: num.stream.threads > 1 is not available for run in this "
                        "version (replay --out uses it); run one process per group of "
                        "partitions instead\n");
        rc = 2;
      } else {
        rc = cx_run_main(config, common.config_file, common.overrides, common.override_count);
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

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *command = argv[1];
  if (!strcmp(command, "--help") || !strcmp(command, "-h") || !strcmp(command, "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(command, "--version") || !strcmp(command, "-V")) {
    printf("cxstream %s\n", CX_VERSION);
    return 0;
  }
  if (!strcmp(command, "run") || !strcmp(command, "replay") || !strcmp(command, "demo") ||
      !strcmp(command, "produce"))
    return job_command(command, argc - 1, argv + 1);
  if (!strcmp(command, "import"))
    return import_command(argc - 1, argv + 1);
  if (!strcmp(command, "rules"))
    return rules_command(argc - 1, argv + 1);
  fprintf(stderr, "cxstream: unknown command '%s' (commands: run, replay, demo, produce, "
                  "import, rules; see cxstream --help)\n", command);
  return 2;
}
