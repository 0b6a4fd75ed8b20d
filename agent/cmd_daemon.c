/*
 * ferry daemon: runs [schedule]'s jobs in the foreground until SIGTERM or
 * SIGINT.  Each job is this binary run again (`ferry -c CONFIG backup`),
 * exactly what cron runs, so a run is notified and recorded the same way
 * however it was started; one job at a time, in its own process group.
 *
 * Signals arrive through a signalfd and the next fire time through a
 * timerfd on the real-time clock (absolute, cancelled when the clock is
 * set), so a suspend or a clock jump is noticed at once.  SIGHUP reloads the
 * configuration (a bad one is reported and the old one kept).  SIGTERM or
 * SIGINT during a job is passed on to it as SIGTERM (a backup then removes
 * its partial archive), and the daemon exits 0 once it has ended.
 *
 * A run is notified and recorded once, by the job, which knows what it did
 * (a backup interrupted after publishing says so).  The job tells the
 * daemon on a pipe that it has (agent/job.h); the daemon reports a run
 * only when the job could not: killed, or ended before it began its run.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/cli.h"
#include "agent/job.h"
#include "agent/sched.h"
#include "backup/backup.h"
#include "conf/conf.h"
#include "util/buf.h"
#include "util/elapsed.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/outfile.h"

/* How long a job may take to end after SIGTERM before it is killed. */
#define STOP_GRACE 60

struct daemon {
	struct cli *cli;
	struct sched s;
	char self[PATH_MAX], config[PATH_MAX];
	int sigfd, timerfd;
	sigset_t old_mask;
	int stop, reload;
};

static const char *const job_argv[SCHED_N][3] = {
	{ "backup", NULL, NULL },
	{ "prune", NULL, NULL },
	{ "verify", "--latest", NULL },
};

/* What the daemon itself reads, its problems raised before it starts (or
 * reloads); the jobs it runs check their own.  Loads the schedule. */
static int need(const struct conf *c, struct sched *s, struct err *e)
{
	if (conf_need(c, "backup", "dir", e) < 0 ||
	    conf_need(c, "notify", NULL, e) < 0 ||
	    conf_need(c, "log", NULL, e) < 0)
		return -1;
	return sched_load(s, c, e);
}

static void log_plan(const struct daemon *d)
{
	for (int i = 0; i < SCHED_N; i++) {
		char when[21];

		if (!d->s.next[i])
			continue;
		cron_utc(d->s.next[i], when);
		log_info("%s next at %s (%s)", d->s.job[i].name, when,
			 d->s.job[i].expr);
	}
}

/* A slot found long past (a suspend, a clock set forward, a job that
 * overran) is said: it runs once now, however many were missed. */
static void log_missed(const struct daemon *d, int i)
{
	time_t now = time(NULL), slot = d->s.next[i];
	char when[21];

	if (now - slot < 60)
		return;
	cron_utc(slot, when);
	log_info("%s: missed its %s slot (asleep, or the clock jumped); "
		 "running it once now", d->s.job[i].name, when);
}

/* Takes signals off the signalfd; returns when none is left. */
static void take_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			if (!d->stop)
				log_info("%s: stopping", strsignal((int)si.ssi_signo));
			d->stop = 1;
		} else if (si.ssi_signo == SIGHUP) {
			d->reload = 1;
		}
	}
}

static void reload(struct daemon *d)
{
	struct conf *c = NULL;
	struct sched s;
	struct err e = ERR_INIT;

	d->reload = 0;
	if (conf_load(&c, d->config, &e) < 0 || need(c, &s, &e) < 0) {
		log_error("reload: %s; keeping the configuration loaded before",
			  e.msg);
		conf_free(c);
		return;
	}
	if (!sched_any(&s)) {
		log_error("reload: %s schedules nothing; keeping the "
			  "configuration loaded before", d->config);
		sched_release(&s);
		conf_free(c);
		return;
	}
	conf_free(d->cli->conf);
	d->cli->conf = c;
	sched_release(&d->s);
	d->s = s;
	sched_start(&d->s, time(NULL));
	log_set_syslog((int)conf_num(c, "log", "syslog"));
	log_info("reloaded %s", d->config);
	log_plan(d);
}

/* Starts the job; *told is the read end of the pipe it reports on (-1 when
 * there is none: the daemon cannot tell, and reports as it did before). */
static pid_t spawn(struct daemon *d, int job, int *told)
{
	const char *argv[12];
	int n = 0, p[2];
	pid_t pid;

	argv[n++] = d->self;
	argv[n++] = "-c";
	argv[n++] = d->config;
	if (log_get_format() == LOG_JSON)
		argv[n++] = "--log-format=json";
	if (log_get_level() == LOG_QUIET)
		argv[n++] = "-q";
	else if (log_get_level() >= LOG_VERBOSE)
		argv[n++] = log_get_level() >= LOG_DEBUG ? "-vv" : "-v";
	for (int i = 0; job_argv[job][i]; i++)
		argv[n++] = job_argv[job][i];
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_warn("%s: no pipe for its report (%s): a run it reports "
			 "itself may be reported twice", d->s.job[job].name,
			 strerror(errno));
		p[0] = p[1] = -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char fd[16];

		/* Its own group: a terminal's ^C reaches the daemon, which
		 * decides; the signals blocked here must not stay blocked. */
		setpgid(0, 0);
		sigprocmask(SIG_SETMASK, &d->old_mask, NULL);
		/* The daemon is one thread: setenv() is safe after fork. */
		if (p[1] >= 0 && fcntl(p[1], F_SETFD, 0) == 0 &&
		    snprintf(fd, sizeof(fd), "%d", p[1]) < (int)sizeof(fd))
			setenv(JOB_REPORT_FD_ENV, fd, 1);
		execv(d->self, (char *const *)argv);
		_exit(127);
	}
	if (pid > 0)
		setpgid(pid, pid);
	if (p[1] >= 0)
		close(p[1]);
	if (pid < 0 && p[0] >= 0) {
		close(p[0]);
		p[0] = -1;
	}
	*told = p[0];
	return pid;
}

/* Whether the ended job said it reported its run of name ("NAME\n" among
 * its lines: a backup's prune after it says "prune").  Closes fd. */
static int job_told(int fd, const char *name)
{
	char got[256], want[40];
	size_t n = 1;
	ssize_t k;

	got[0] = '\n';
	while (n < sizeof(got) - 1 &&
	       (k = read(fd, got + n, sizeof(got) - 1 - n)) > 0)
		n += (size_t)k;
	got[n] = '\0';
	close(fd);
	snprintf(want, sizeof(want), "\n%s\n", name);
	return strstr(got, want) != NULL;
}

/* Waits for the job, passing a stop on to it; its wait status. */
static int await(struct daemon *d, pid_t pid)
{
	struct pollfd p = { d->sigfd, POLLIN, 0 };
	time_t deadline = 0;
	int st = 0, killed = 0;

	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid || (w < 0 && errno != EINTR))
			return w == pid ? st : -1;
		if (d->stop && !deadline) {
			kill(-pid, SIGTERM);
			deadline = time(NULL) + STOP_GRACE;
		}
		if (deadline && !killed && time(NULL) >= deadline) {
			log_warn("job pid %ld did not end %ds after SIGTERM; "
				 "killing it", (long)pid, STOP_GRACE);
			kill(-pid, SIGKILL);
			killed = 1;
		}
		/* SIGCHLD wakes this; the timeout only bounds the grace. */
		if (poll(&p, 1, 1000) > 0)
			take_signals(d);
	}
}

/* The report of a failed run the job did not make itself. */
static void report_for(struct daemon *d, const char *name, int code,
		       const char *why, time_t started, double duration)
{
	struct job_report r;

	memset(&r, 0, sizeof(r));
	r.job = name;
	r.exit = code;
	r.status = "failed";
	r.error = why;
	r.started = started;
	r.finished = time(NULL);
	r.duration = duration;
	job_end_report(d->cli->conf, &r);
}

/* One job run to its end: its exit code, or -1 when it did not exit. */
static int run_job(struct daemon *d, int job)
{
	const char *name = d->s.job[job].name;
	struct timespec t0;
	time_t started = time(NULL);
	pid_t pid;
	int st, code, pipe_fd, told;
	char *why;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = spawn(d, job, &pipe_fd);
	if (pid < 0) {
		log_error("%s: cannot start: %s", name, strerror(errno));
		return -1;
	}
	log_info("%s: started (pid %ld)", name, (long)pid);
	st = await(d, pid);
	/* Without the pipe, as before: a job that exited reported. */
	told = pipe_fd >= 0 ? job_told(pipe_fd, name) :
		st >= 0 && WIFEXITED(st);
	if (st >= 0 && WIFEXITED(st)) {
		code = WEXITSTATUS(st);
		if (code == 0) {
			log_info("%s: ok in %.1fs", name, elapsed_since(&t0));
			return code;
		}
		log_error("%s: failed with exit %d in %.1fs", name, code,
			  elapsed_since(&t0));
		/* Its error went to stderr, this log, before its run began
		 * (a bad [postgres], say): the outside world hears it too. */
		if (!told) {
			why = xstrfmt("exited %d before reporting its run (its "
				      "error is in ferry daemon's log)", code);
			report_for(d, name, code, why, started,
				   elapsed_since(&t0));
			free(why);
		}
		return code;
	}
	code = st >= 0 && WIFSIGNALED(st) ? WTERMSIG(st) : SIGKILL;
	why = xstrfmt("ended by signal %s%s", sigabbrev_np(code) ?
		      sigabbrev_np(code) : "?", d->stop ?
		      " (ferry daemon stopping)" : "");
	log_error("%s: %s after %.1fs%s", name, why, elapsed_since(&t0),
		  told ? "; it reported its run itself" : "");
	/* Killed before it could say what it did: the daemon says this. */
	if (!told)
		report_for(d, name, 128 + code, why, started, elapsed_since(&t0));
	free(why);
	return -1;
}

/* Sleeps until the next fire time, a signal or a clock change. */
static void sleep_until(struct daemon *d, time_t wake)
{
	struct itimerspec its;
	struct pollfd p[2] = { { d->sigfd, POLLIN, 0 }, { d->timerfd, POLLIN, 0 } };
	uint64_t ticks;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = wake;
	if (timerfd_settime(d->timerfd, TFD_TIMER_ABSTIME |
			    TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0)
		log_debug("timerfd: %s", strerror(errno));
	/* The minute's bound is a second line behind the timer. */
	if (poll(p, 2, 60000) > 0) {
		if (p[0].revents)
			take_signals(d);
		if (p[1].revents && read(d->timerfd, &ticks, sizeof(ticks)) < 0 &&
		    errno == ECANCELED)
			log_verbose("the clock was set");
	}
}

static int setup(struct daemon *d, struct err *e)
{
	sigset_t mask;

	if (!realpath("/proc/self/exe", d->self))
		return err_set(e, FX_FAIL, "cannot find ferry's own path: %s",
			       strerror(errno));
	if (!realpath(conf_path(d->cli->conf), d->config))
		return err_set(e, FX_FAIL, "%s: %s", conf_path(d->cli->conf),
			       strerror(errno));
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, &d->old_mask) < 0)
		return err_set(e, FX_FAIL, "sigprocmask: %s", strerror(errno));
	d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	d->timerfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->sigfd < 0 || d->timerfd < 0)
		return err_set(e, FX_FAIL, "signalfd/timerfd: %s", strerror(errno));
	return 0;
}

static int cmd_daemon(struct cli *cli, int argc, char **argv)
{
	struct daemon d;
	struct lock lk = LOCK_INIT;
	struct err e = ERR_INIT;
	char *lockpath = NULL;
	int r = -1;

	memset(&d, 0, sizeof(d));
	d.cli = cli;
	d.sigfd = d.timerfd = -1;
	if (argc > 1)
		return cli_usage_error("daemon", "unexpected argument '%s'",
				       argv[1]);
	if (cli_conf(cli, &e) < 0 || need(cli->conf, &d.s, &e) < 0)
		return cli_fail(&e);
	if (!sched_any(&d.s)) {
		sched_release(&d.s);
		err_set(&e, FX_USAGE, "%s: nothing is scheduled (set backup = "
			"CRON in [schedule])", conf_path(cli->conf));
		return cli_fail(&e);
	}
	/* One daemon per backup directory; jobs take the backup lock. */
	lockpath = xstrfmt("%s/.ferry-daemon.lock", conf_str(cli->conf, "backup",
							     "dir"));
	if (outfile_mkdirs(conf_str(cli->conf, "backup", "dir"), 0700) < 0) {
		err_set(&e, FX_FAIL, "create %s: %s", conf_str(cli->conf,
			"backup", "dir"), strerror(errno));
		goto out;
	}
	if (lock_take(&lk, lockpath, &e) < 0 || setup(&d, &e) < 0)
		goto out;
	log_info("daemon started (pid %ld) with %s", (long)getpid(), d.config);
	sched_start(&d.s, time(NULL));
	log_plan(&d);
	while (!d.stop) {
		int i = sched_due(&d.s, time(NULL)), code;

		if (d.reload) {
			reload(&d);
			continue;
		}
		if (i < 0) {
			sleep_until(&d, sched_wake(&d.s));
			continue;
		}
		log_missed(&d, i);
		/* A partial archive (exit 5) takes no retention slot, so the
		 * prune after it is as safe as after a complete one. */
		code = run_job(&d, i);
		if ((code == FX_OK || code == FX_PARTIAL) && i == SCHED_BACKUP &&
		    d.s.job[SCHED_PRUNE].after_backup && !d.stop)
			(void)run_job(&d, SCHED_PRUNE);
		sched_ran(&d.s, i, time(NULL));
		if (!d.stop)
			log_plan(&d);
	}
	log_info("daemon stopped");
	r = 0;
out:
	if (d.sigfd >= 0)
		close(d.sigfd);
	if (d.timerfd >= 0)
		close(d.timerfd);
	lock_release(&lk);
	free(lockpath);
	sched_release(&d.s);
	return r < 0 ? cli_fail(&e) : FX_OK;
}

const struct cli_cmd cmd_daemon_entry = {
	"daemon", cmd_daemon, "",
	"run the [schedule] jobs in the foreground",
	"runs each job as `ferry -c CONFIG JOB` at its fire times, one at a\n"
	"time; a job missed (suspend, clock jump) runs once.  SIGHUP reloads\n"
	"the config; SIGTERM or SIGINT stops the running job cleanly and\n"
	"exits 0.  Exit 7 when another daemon serves the same backup dir.\n",
	NULL,
};
