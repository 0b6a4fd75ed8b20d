/* ferry schedule next|print|install: fire times, and the schedule as
 * crontab lines or systemd units. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/cli.h"
#include "agent/sched.h"
#include "conf/conf.h"
#include "util/buf.h"
#include "util/cron.h"
#include "util/log.h"
#include "util/outfile.h"
#include "util/proc.h"
#include "util/shquote.h"

/* ---- next --------------------------------------------------------------- */

static int schedule_next(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct cron c = CRON_INIT;
	struct buf expr = BUF_INIT;
	struct err e = ERR_INIT;
	long long count = 1;
	time_t t = time(NULL), *times;
	int ch;

	while ((ch = getopt_long(argc, argv, ":n:", opts, NULL)) != -1) {
		if (ch == 'f') {
			if (cron_parse_utc(optarg, &t) < 0)
				return cli_usage_error("schedule next", "--from "
						       "'%s': expected a UTC time "
						       "as YYYY-MM-DDTHH:MM:SSZ",
						       optarg);
		} else if (ch == 'n') {
			if (cli_num("schedule next", "--count", optarg, 1, 100000,
				    &count))
				return FX_USAGE;
		} else {
			return cli_bad_option("schedule next", ch, argc, argv);
		}
	}
	/* The expression may come as one word or as its five. */
	for (int i = optind; i < argc; i++)
		buf_printf(&expr, "%s%s", i > optind ? " " : "", argv[i]);
	if (!expr.len)
		return cli_usage_error("schedule next", "give a cron expression");
	if (cron_parse(buf_str(&expr), &c, &e) < 0) {
		log_error_in("schedule next", "bad cron expression '%s': %s",
			     buf_str(&expr), e.msg);
		buf_release(&expr);
		return FX_USAGE;
	}
	times = xcalloc((size_t)count, sizeof(*times));
	count = (long long)cron_next_n(&c, t, times, (size_t)count);
	for (long long i = 0; i < count; i++) {
		char when[21];

		cron_utc(times[i], when);
		printf("%s\n", when);
	}
	free(times);
	cron_release(&c);
	buf_release(&expr);
	return fflush(stdout) == 0 ? FX_OK : FX_FAIL;
}

/* ---- the command lines ------------------------------------------------- */

struct paths {
	char *ferry;	/* this binary, absolute */
	char *config;	/* the configuration, absolute */
	char *log;	/* where cron's runs write */
};

static int paths_init(struct paths *p, const struct conf *c, struct err *e)
{
	char buf[PATH_MAX];

	memset(p, 0, sizeof(*p));
	if (!realpath("/proc/self/exe", buf))
		return err_set(e, FX_FAIL, "cannot find ferry's own path: %s",
			       strerror(errno));
	p->ferry = xstrdup(buf);
	if (!realpath(conf_path(c), buf)) {
		free(p->ferry);
		return err_set(e, FX_FAIL, "%s: %s", conf_path(c), strerror(errno));
	}
	p->config = xstrdup(buf);
	p->log = xstrfmt("%s/ferry.log", conf_str(c, "backup", "dir"));
	return 0;
}

static void paths_release(struct paths *p)
{
	free(p->ferry);
	free(p->config);
	free(p->log);
}

/* "FERRY -c CONFIG ARGS" as one shell command. */
static void command(struct buf *b, const struct paths *p, const char *args)
{
	sh_quote(b, p->ferry);
	buf_addstr(b, " -c ");
	sh_quote(b, p->config);
	buf_printf(b, " %s", args);
}

static const char *const job_args[SCHED_N] = { "backup", "prune",
	"verify --latest" };

/* The 5 fields of a job's expression (without CRON_TZ=). */
static void fields_of(const char *expr, struct buf *out)
{
	const char *p = expr + strspn(expr, " \t");

	if (!strncmp(p, "CRON_TZ=", 8) || !strncmp(p, "TZ=", 3)) {
		p += strcspn(p, " \t");
		p += strspn(p, " \t");
	}
	buf_addstr(out, p);
}

/* One crontab line per scheduled job (a zone's CRON_TZ= line before it),
 * jobs without a zone first; '%' escaped for cron. */
static void crontab_lines(const struct sched *s, const struct paths *p,
			  struct buf *out)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < SCHED_N; i++) {
			const struct sched_job *j = &s->job[i];
			struct buf cmd = BUF_INIT;

			if (!j->expr || j->after_backup || !j->cron.zone != !pass)
				continue;
			if (j->cron.zone)
				buf_printf(out, "CRON_TZ=%s\n", j->cron.zone);
			fields_of(j->expr, out);
			command(&cmd, p, job_args[i]);
			buf_addstr(&cmd, " >>");
			sh_quote(&cmd, p->log);
			buf_addstr(&cmd, " 2>&1");
			/* After a partial backup (exit 5) too, as the daemon
			 * does: a partial archive takes no retention slot. */
			if (i == SCHED_BACKUP && s->job[SCHED_PRUNE].after_backup) {
				buf_addstr(&cmd, "; r=$?; case $r in 0|5) ");
				command(&cmd, p, "prune >>");
				sh_quote(&cmd, p->log);
				buf_addstr(&cmd, " 2>&1;; esac; exit $r");
			}
			buf_addch(out, ' ');
			for (const char *q = buf_str(&cmd); *q; q++) {
				if (*q == '%')
					buf_addch(out, '\\');
				buf_addch(out, *q);
			}
			buf_addch(out, '\n');
			buf_release(&cmd);
		}
	}
}

static int load(struct cli *cli, struct sched *s, struct paths *p,
		struct err *e)
{
	if (cli_conf_for(cli, "backup.dir", e) < 0 ||
	    sched_load(s, cli->conf, e) < 0)
		return -1;
	if (!sched_any(s)) {
		sched_release(s);
		return err_set(e, FX_USAGE, "%s: nothing is scheduled (set "
			       "backup = CRON in [schedule])", conf_path(cli->conf));
	}
	if (paths_init(p, cli->conf, e) < 0) {
		sched_release(s);
		return -1;
	}
	/* Cron's shell cannot redirect into a directory that is not there:
	 * the lines work as printed. */
	if (outfile_mkdirs(conf_str(cli->conf, "backup", "dir"), 0700) < 0)
		log_warn("cannot create %s: %s", conf_str(cli->conf, "backup",
			 "dir"), strerror(errno));
	return 0;
}

static int schedule_print(struct cli *cli, int argc, char **argv)
{
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	struct paths p;
	struct sched s;

	if (argc > 1)
		return cli_usage_error("schedule print", "unexpected argument "
				       "'%s'", argv[1]);
	if (load(cli, &s, &p, &e) < 0)
		return cli_fail(&e);
	crontab_lines(&s, &p, &out);
	fputs(buf_str(&out), stdout);
	buf_release(&out);
	paths_release(&p);
	sched_release(&s);
	return FX_OK;
}

/* ---- install ------------------------------------------------------------ */

/* Runs cmd with input in (may be NULL), its output into out; the exit
 * code, or -1 when it could not run. */
static int run_tool(const char *cmd, const char *in, struct buf *out,
		    struct buf *errout, struct err *e)
{
	struct proc_status st;
	char chunk[4096];
	pid_t pid;
	int fin, fout, ferr;
	ssize_t n;

	if (proc_spawn(cmd, &pid, &fin, &fout, &ferr, e) < 0)
		return -1;
	if (in && write(fin, in, strlen(in)) < 0)
		log_debug("%s: write: %s", cmd, strerror(errno));
	close(fin);
	while ((n = read(fout, chunk, sizeof(chunk))) > 0)
		buf_add(out, chunk, (size_t)n);
	while ((n = read(ferr, chunk, sizeof(chunk))) > 0)
		buf_add(errout, chunk, (size_t)n);
	close(fout);
	close(ferr);
	if (proc_wait(pid, &st, e) < 0)
		return -1;
	return proc_status_code(&st);
}

/* The crontab without the block for this config, then the new block. */
static void merge_crontab(const char *old, const char *begin, const char *end,
			  const char *lines, struct buf *out)
{
	int skipping = 0;

	for (const char *p = old; *p;) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n);

		if (!strcmp(line, begin))
			skipping = 1;
		if (!skipping)
			buf_printf(out, "%s\n", line);
		if (!strcmp(line, end))
			skipping = 0;
		free(line);
		p += n + (p[n] == '\n');
	}
	buf_printf(out, "%s\n%s%s\n", begin, lines, end);
}

static int install_cron(const struct sched *s, const struct paths *p,
			struct err *e)
{
	struct buf old = BUF_INIT, msg = BUF_INIT, lines = BUF_INIT, all = BUF_INIT;
	char *begin = xstrfmt("# >>> ferry %s >>>", p->config);
	char *end = xstrfmt("# <<< ferry %s <<<", p->config);
	int code, r = -1;

	code = run_tool("crontab -l", NULL, &old, &msg, e);
	if (code < 0)
		goto out;
	if (code == 127) {
		err_set(e, FX_FAIL, "crontab: command not found (install cron)");
		goto out;
	}
	if (code != 0)
		buf_reset(&old);	/* "no crontab for USER" */
	crontab_lines(s, p, &lines);
	merge_crontab(buf_str(&old), begin, end, buf_str(&lines), &all);
	buf_reset(&msg);
	code = run_tool("crontab -", buf_str(&all), &old, &msg, e);
	if (code != 0) {
		if (code > 0)
			err_set(e, FX_FAIL, "crontab: exit %d: %s", code,
				buf_str(&msg));
		goto out;
	}
	printf("installed into the crontab:\n%s", buf_str(&lines));
	r = 0;
out:
	free(begin);
	free(end);
	buf_release(&old);
	buf_release(&msg);
	buf_release(&lines);
	buf_release(&all);
	return r;
}

/* A bit set as a systemd calendar list: "*" when full, else "03,15". */
static void cal_list(struct buf *b, uint64_t bits, int lo, int hi)
{
	uint64_t full = 0;
	int n = 0;

	for (int v = lo; v <= hi; v++)
		full |= 1ULL << v;
	if ((bits & full) == full) {
		buf_addch(b, '*');
		return;
	}
	for (int v = lo; v <= hi; v++)
		if ((bits >> v) & 1)
			buf_printf(b, "%s%02d", n++ ? "," : "", v);
}

/* One OnCalendar= value: days given by dom (and all weekdays) or by
 * weekday (and all days of the month). */
static void cal_spec(struct buf *b, const struct cron *c, uint32_t dom,
		     uint32_t dow)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	int n = 0;

	if ((dow & 0x7f) != 0x7f) {
		for (int i = 0; i < 7; i++)
			if ((dow >> i) & 1)
				buf_printf(b, "%s%s", n++ ? "," : "", wd[i]);
		buf_addch(b, ' ');
	}
	buf_addstr(b, "*-");
	cal_list(b, c->month, 1, 12);
	buf_addch(b, '-');
	cal_list(b, dom, 1, 31);
	buf_addch(b, ' ');
	cal_list(b, c->hour, 0, 23);
	buf_addch(b, ':');
	cal_list(b, c->minute, 0, 59);
	buf_addstr(b, ":00");
	if (c->zone)
		buf_printf(b, " %s", c->zone);
}

/* OnCalendar= lines for an expression.  Vixie's rule (both day fields
 * restricted: either matches) is two lines, whose union systemd takes. */
static void on_calendar(struct buf *b, const struct cron *c)
{
	buf_addstr(b, "OnCalendar=");
	if (c->dom_star || c->dow_star) {
		cal_spec(b, c, c->dom, c->dow);
		buf_addch(b, '\n');
		return;
	}
	cal_spec(b, c, c->dom, 0x7f);
	buf_addstr(b, "\nOnCalendar=");
	cal_spec(b, c, ~0U, c->dow);
	buf_addch(b, '\n');
}

/* Text in a unit file: systemd expands '%' specifiers everywhere. */
static void unit_text(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '%')
			buf_addch(b, '%');
		buf_addch(b, *s);
	}
}

/* A word of ExecStart=: systemd expands '%' and splits on blanks. */
static void unit_word(struct buf *b, const char *s)
{
	int quote = strpbrk(s, " \t\"\\'") != NULL;

	if (quote)
		buf_addch(b, '"');
	for (; *s; s++) {
		if (*s == '%')
			buf_addch(b, '%');
		else if (quote && (*s == '"' || *s == '\\'))
			buf_addch(b, '\\');
		buf_addch(b, *s);
	}
	if (quote)
		buf_addch(b, '"');
}

static void exec_line(struct buf *b, const struct paths *p, const char *args)
{
	buf_addstr(b, "ExecStart=");
	unit_word(b, p->ferry);
	buf_addstr(b, " -c ");
	unit_word(b, p->config);
	buf_printf(b, " %s\n", args);
}

static char *unit_dir(const char *given)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (given)
		return xstrdup(given);
	if (geteuid() == 0)
		return xstrdup("/etc/systemd/system");
	if (xdg && *xdg)
		return xstrfmt("%s/systemd/user", xdg);
	return xstrfmt("%s/.config/systemd/user", home ? home : ".");
}

static int install_systemd(const struct sched *s, const struct paths *p,
			   const char *given, struct err *e)
{
	char *dir = unit_dir(given);
	struct buf timers = BUF_INIT;
	int r = -1;

	if (outfile_mkdirs(dir, 0755) < 0) {
		err_set(e, FX_FAIL, "create %s: %s", dir, strerror(errno));
		goto out;
	}
	for (int i = 0; i < SCHED_N; i++) {
		const struct sched_job *j = &s->job[i];
		struct buf svc = BUF_INIT, tim = BUF_INIT;
		char *spath, *tpath;
		int wr;

		if (!j->expr || j->after_backup)
			continue;
		buf_printf(&svc, "[Unit]\nDescription=ferry %s (", j->name);
		unit_text(&svc, p->config);
		buf_addstr(&svc, ")\nWants=network-online.target\n"
			   "After=network-online.target\n\n"
			   "[Service]\nType=oneshot\n");
		exec_line(&svc, p, job_args[i]);
		/* A oneshot's next ExecStart runs only after a success: a
		 * partial backup (exit 5) is one for the prune after it. */
		if (i == SCHED_BACKUP && s->job[SCHED_PRUNE].after_backup) {
			buf_addstr(&svc, "SuccessExitStatus=5\n");
			exec_line(&svc, p, "prune");
		}
		buf_printf(&tim, "[Unit]\nDescription=ferry %s: ", j->name);
		unit_text(&tim, j->expr);
		buf_addstr(&tim, "\n\n[Timer]\n");
		on_calendar(&tim, &j->cron);
		/* A run missed while the machine was off runs once at boot. */
		buf_addstr(&tim, "Persistent=true\n\n[Install]\n"
			   "WantedBy=timers.target\n");
		spath = xstrfmt("%s/ferry-%s.service", dir, j->name);
		tpath = xstrfmt("%s/ferry-%s.timer", dir, j->name);
		wr = outfile_write(spath, buf_str(&svc), 0644, e) < 0 ||
			outfile_write(tpath, buf_str(&tim), 0644, e) < 0 ? -1 : 0;
		if (wr == 0) {
			printf("wrote %s\nwrote %s\n", spath, tpath);
			buf_printf(&timers, " ferry-%s.timer", j->name);
		}
		free(spath);
		free(tpath);
		buf_release(&svc);
		buf_release(&tim);
		if (wr < 0)
			goto out;
	}
	printf("enable with: systemctl%s daemon-reload && systemctl%s enable "
	       "--now%s\n", geteuid() ? " --user" : "", geteuid() ? " --user" : "",
	       buf_str(&timers));
	r = 0;
out:
	free(dir);
	buf_release(&timers);
	return r;
}

static int schedule_install(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cron", no_argument, NULL, 'c' },
		{ "systemd", no_argument, NULL, 's' },
		{ "dir", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct err e = ERR_INIT;
	const char *dir = NULL;
	int ch, cron = 0, systemd = 0, r;
	struct paths p;
	struct sched s;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch == 'c')
			cron = 1;
		else if (ch == 's')
			systemd = 1;
		else if (ch == 'd')
			dir = optarg;
		else
			return cli_bad_option("schedule install", ch, argc, argv);
	}
	if (optind < argc)
		return cli_usage_error("schedule install", "unexpected argument "
				       "'%s'", argv[optind]);
	if (cron + systemd != 1)
		return cli_usage_error("schedule install", "give --cron or "
				       "--systemd");
	if (dir && !systemd)
		return cli_usage_error("schedule install", "--dir goes with "
				       "--systemd");
	if (load(cli, &s, &p, &e) < 0)
		return cli_fail(&e);
	r = cron ? install_cron(&s, &p, &e) :
		install_systemd(&s, &p, dir, &e);
	paths_release(&p);
	sched_release(&s);
	return r < 0 ? cli_fail(&e) : FX_OK;
}

static int cmd_schedule(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	/* The subcommand's options start after its name; 0 makes glibc's
	 * getopt start over on the new argv. */
	optind = 0;
	if (!strcmp(sub, "next"))
		return schedule_next(argc - 1, argv + 1);
	if (!strcmp(sub, "print"))
		return schedule_print(cli, argc - 1, argv + 1);
	if (!strcmp(sub, "install"))
		return schedule_install(cli, argc - 1, argv + 1);
	if (!*sub)
		return cli_usage_error("schedule", "give next, print or install");
	return cli_usage_error("schedule", "unknown subcommand '%s'", sub);
}

const struct cli_cmd cmd_schedule_entry = {
	"schedule", cmd_schedule,
	"next EXPR [--from TIME] [--count N] | print | install --cron|--systemd "
	"[--dir DIR]",
	"show fire times; print or install the schedule for cron or systemd",
	"  next EXPR         the next fire times of a cron expression, one a\n"
	"                    line, as YYYY-MM-DDTHH:MM:SSZ (UTC); no config needed\n"
	"    --from TIME     start after TIME (same form; default: now)\n"
	"    --count N       how many (default 1)\n"
	"  print             crontab lines for [schedule] (absolute paths, -c with\n"
	"                    the config, output appended to <backup dir>/ferry.log)\n"
	"  install --cron    put those lines into the user's crontab (again:\n"
	"                    replaced, not doubled)\n"
	"  install --systemd write ferry-JOB.service and ferry-JOB.timer units\n"
	"    --dir DIR       into DIR (default: /etc/systemd/system for root,\n"
	"                    else ~/.config/systemd/user)\n",
	NULL,
};
