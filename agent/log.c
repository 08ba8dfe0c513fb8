// SPDX-License-Identifier: GPL-2.0
/*
 * One line per message on stderr, written with a single write() so lines
 * from the daemon never interleave: prefixed with a UTC timestamp, or,
 * when stderr is the journal (systemd's JOURNAL_STREAM names it), with
 * the syslog priority "<N>" that journald reads (it adds its own time).
 *
 * No message repeats without bound: an agent at a limit (accept failing
 * at the descriptor limit, an engine resetting every connection, a
 * discovery file broken on every reload) would otherwise fill the journal.
 * Within a window of LOG_WINDOW_MS:
 * - the same line (call site and text) is written once; its repeats are
 *   counted and summed up in one line when the window ends;
 * - one call site writes at most LOG_SITE_BUDGET different lines (one per
 *   engine, say); the rest are counted and summed up the same way.
 * Windows end when the next message comes or at log_flush(), which the
 * daemon calls from a timer. The table is small and fixed: a line that
 * finds no free slot is written, still under its call site's budget.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_WINDOW_MS		10000
#define LOG_SITE_BUDGET		1000
#define LOG_LINES		256	/* distinct lines tracked */
#define LOG_PROBE		8	/* slots tried for one line */
#define LOG_SITES		64	/* call sites tracked */
#define LOG_KEPT		160	/* text kept for the summing-up line */

enum log_level log_max_level = LOG_INFO;

struct log_line {
	uint64_t hash;			/* of call site and text; 0: free */
	uint64_t since;			/* window start, monotonic ms */
	uint64_t repeats;		/* not written in this window */
	enum log_level level;
	char text[LOG_KEPT];
};

struct log_site {
	const char *fmt;		/* NULL: free */
	uint64_t since;
	unsigned int lines;		/* written in this window */
	uint64_t dropped;		/* not written: over the budget */
	enum log_level level;
};

static struct log_line lines[LOG_LINES];
static struct log_site sites[LOG_SITES];
static int journal = -1;		/* unknown yet */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* systemd sets JOURNAL_STREAM=DEV:INODE of the stream it gave us. */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st))
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

static void emit(enum log_level level, const char *text)
{
	static const char *const names[] = {
		"error", "warn", "notice", "info", "debug"
	};
	static const char prio[] = { '3', '4', '5', '6', '7' };
	char line[1100];
	struct timespec ts;
	struct tm tm;
	int n;

	if (journal < 0)
		journal = stderr_is_journal();
	if (journal) {
		n = snprintf(line, sizeof(line), "<%c>%s: %s\n", prio[level],
			     names[level], text);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line),
			     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: %s\n",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec,
			     ts.tv_nsec / 1000000, names[level], text);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line);
		line[n - 1] = '\n';
	}
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}

static uint64_t hash_of(const char *fmt, const char *text)
{
	uint64_t h = 1469598103934665603ULL ^ (uintptr_t)fmt;

	for (; *text; text++)
		h = (h ^ (unsigned char)*text) * 1099511628211ULL;
	return h ? h : 1;
}

static void line_close(struct log_line *l)
{
	char msg[LOG_KEPT + 64];

	if (l->repeats) {
		snprintf(msg, sizeof(msg), "%s (repeated %llu times in %u s)",
			 l->text, (unsigned long long)l->repeats,
			 LOG_WINDOW_MS / 1000);
		emit(l->level, msg);
	}
	l->hash = 0;
}

static void site_close(struct log_site *s)
{
	char msg[LOG_KEPT + 96];

	if (s->dropped) {
		snprintf(msg, sizeof(msg),
			 "%llu more lines like \"%.*s\" in %u s, not written",
			 (unsigned long long)s->dropped, LOG_KEPT, s->fmt,
			 LOG_WINDOW_MS / 1000);
		emit(s->level, msg);
	}
	s->fmt = NULL;
}

void log_flush(void)
{
	uint64_t now = mono_ms();
	size_t i;

	for (i = 0; i < LOG_LINES; i++)
		if (lines[i].hash && now - lines[i].since >= LOG_WINDOW_MS)
			line_close(&lines[i]);
	for (i = 0; i < LOG_SITES; i++)
		if (sites[i].fmt && now - sites[i].since >= LOG_WINDOW_MS)
			site_close(&sites[i]);
}

void log_flush_all(void)
{
	size_t i;

	for (i = 0; i < LOG_LINES; i++)
		if (lines[i].hash)
			line_close(&lines[i]);
	for (i = 0; i < LOG_SITES; i++)
		if (sites[i].fmt)
			site_close(&sites[i]);
}

/* The call site's slot, or NULL when all are taken by live windows. */
static struct log_site *site_of(const char *fmt, enum log_level level,
				uint64_t now)
{
	struct log_site *free_slot = NULL;
	size_t i;

	for (i = 0; i < LOG_SITES; i++) {
		if (sites[i].fmt == fmt)
			return &sites[i];
		if (!free_slot && !sites[i].fmt)
			free_slot = &sites[i];
	}
	if (free_slot) {
		free_slot->fmt = fmt;
		free_slot->since = now;
		free_slot->lines = 0;
		free_slot->dropped = 0;
		free_slot->level = level;
	}
	return free_slot;
}

/* True if the line is to be written now. */
static bool admit(const char *fmt, enum log_level level, const char *text)
{
	uint64_t now = mono_ms(), h = hash_of(fmt, text);
	struct log_line *l, *free_slot = NULL;
	struct log_site *s;
	size_t i;

	log_flush();
	/*
	 * A few slots from the hash's: two lines that share one (a reload's
	 * and an engine's, say) are both tracked, not the second written
	 * every time for as long as the first holds it.
	 */
	for (i = 0; i < LOG_PROBE; i++) {
		l = &lines[(h + i) % LOG_LINES];
		if (l->hash == h && !strncmp(l->text, text, LOG_KEPT - 1)) {
			l->repeats++;
			return false;
		}
		if (!l->hash && !free_slot)
			free_slot = l;
	}
	s = site_of(fmt, level, now);
	if (s && s->lines >= LOG_SITE_BUDGET) {
		s->dropped++;
		return false;
	}
	if (s)
		s->lines++;
	if (free_slot) {
		free_slot->hash = h;
		free_slot->since = now;
		free_slot->repeats = 0;
		free_slot->level = level;
		snprintf(free_slot->text, sizeof(free_slot->text), "%s", text);
	}
	return true;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (level > log_max_level)
		return;
	va_start(ap, fmt);
	if (vsnprintf(text, sizeof(text), fmt, ap) < 0)
		text[0] = '\0';
	va_end(ap);
	if (admit(fmt, level, text))
		emit(level, text);
}
