/*
 * ferry logs [-f] [-n NUM|--tail NUM] [--since DURATION|TIME]
 * [--timestamps] [SERVICE...]: compose logs, live (deploy/logs.c).
 * Ctrl-C ends it within a second, the server's side included; with -f a
 * dropped connection is retried with backoff and resumed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/ops.h"
#include "deploy/logs.h"
#include "util/value.h"

#define RETRIES 10

static int stop_pipe[2] = { -1, -1 };
static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	int saved = errno;

	caught = sig;
	if (write(stop_pipe[1], "x", 1) < 0) {
		/* the pipe is full: a stop is already pending */
	}
	errno = saved;
}

/* Ctrl-C (even where a shell's background job ignores it) and TERM stop
 * the stream; HUP too unless nohup asked otherwise. */
static int catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		if (sigs[i] == SIGHUP && sigaction(SIGHUP, NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
	return 0;
}

/* "10m" -> "600s" (docker reads Go durations, which have no d or w);
 * times go as written. */
static int since_arg(const char *s, struct buf *out)
{
	long long ms;

	if (value_duration_ms(s, &ms) == 0) {
		buf_printf(out, "%llds", (ms + 999) / 1000);
		return 0;
	}
	if (strlen(s) >= 10 && s[4] == '-' && s[7] == '-' &&
	    !strpbrk(s, " \t'\"$`\\;&|<>")) {
		buf_addstr(out, s);
		return 0;
	}
	return -1;
}

static int cmd_logs(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "tail", required_argument, NULL, 'n' },
		{ "since", required_argument, NULL, 'S' },
		{ "timestamps", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct strlist names = STRLIST_INIT;
	struct logs_opts lo = { 0 };
	struct buf since = BUF_INIT;
	struct ops o = OPS_INIT;
	struct err e = ERR_INIT;
	enum logs_end end = LOGS_DONE;
	long long num;
	int ch, code = FX_OK;

	while ((ch = getopt_long(argc, argv, ":fn:t", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			lo.follow = 1;
			break;
		case 'n':
			if (strcmp(optarg, "all") &&
			    value_int(optarg, 0, 100000000, &num) < 0) {
				code = cli_usage_error("logs", "-n takes a number of "
						       "lines or 'all', not '%s'",
						       optarg);
				goto out;
			}
			lo.tail = optarg;
			break;
		case 'S':
			buf_reset(&since);
			if (since_arg(optarg, &since) < 0) {
				code = cli_usage_error("logs", "--since takes a "
						       "duration (10m, 2h) or a time "
						       "(2026-01-02T15:04:05Z), not "
						       "'%s'", optarg);
				goto out;
			}
			lo.since = buf_str(&since);
			break;
		case 't':
			lo.timestamps = 1;
			break;
		default:
			code = cli_bad_option("logs", ch, argc, argv);
			goto out;
		}
	}
	for (int i = optind; i < argc; i++)
		ops_add_unique(&names, argv[i]);
	o.what = "logs";
	if (ops_open(&o, cli, &e) < 0)
		goto fail;
	if (catch_signals() < 0) {
		err_set(&e, FX_FAIL, "pipe: %s", strerror(errno));
		goto fail;
	}
	lo.server = &cli->server.xo;
	lo.compose = &cli->server.co;
	lo.services = &names;
	lo.stop_fd = stop_pipe[0];
	lo.retries = RETRIES;
	fflush(stdout);
	if (logs_run(&lo, &o.x, &o.c, &end, &e) < 0) {
		ops_explain(&o, &names, &e);
		goto fail;
	}
	goto out;
fail:
	code = cli_fail(&e);
out:
	ops_close(&o);
	strlist_release(&names);
	buf_release(&since);
	if (end == LOGS_STOPPED && caught) {
		/* Interrupted: end as the signal would have. */
		signal(caught, SIG_DFL);
		raise(caught);
	}
	return code;
}

const struct cli_cmd cmd_logs_entry = {
	"logs", cmd_logs,
	"[-f] [-n NUM|--tail NUM] [--since DURATION|TIME] [--timestamps] "
	"[SERVICE...]",
	"show the services' logs, live",
	"  -f, --follow      keep streaming new lines; a dropped connection is\n"
	"                    retried with backoff and resumes after the last\n"
	"                    line shown, without repeating or losing lines\n"
	"  -n, --tail NUM    only the last NUM lines of each container\n"
	"  --since WHEN      lines since a duration ago (10m) or a time\n"
	"                    (2026-01-02T15:04:05Z)\n"
	"  -t, --timestamps  show each line's time\n"
	"stdout carries the log lines, stderr compose's own messages; Ctrl-C\n"
	"ends it within a second, on the server too\n"
	"exit 2 for an unknown service, 4 when compose fails or the project is\n"
	"not deployed yet, 3 when the server cannot be reached again\n",
	NULL,
};
