/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_LOG_H
#define PEERWATCH_LOG_H

/* In syslog's order; each has its priority in the journal (log.c). */
enum log_level { LOG_ERR, LOG_WARN, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

/* Messages at or below this level reach stderr. */
extern enum log_level log_max_level;

/*
 * One line; the same line repeated, or too many lines from one call site,
 * within a window are counted and summed up instead (log.c).
 */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Sum up the windows that have ended; the daemon calls it from a timer. */
void log_flush(void);
/* Sum up every window now: at exit, and in tests. */
void log_flush_all(void);

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
