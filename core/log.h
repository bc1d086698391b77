/*
 * log.h -- the daemon's log: stderr (default, for systemd's journal) or
 * syslog, or the journal with priorities and fields when stderr is the
 * journal (log.c).  Lines read "LEVEL job=J run=N partition=K task=T: message"
 * when they concern a job, so one grep follows a run.
 */
#ifndef MESHD_LOG_H
#define MESHD_LOG_H

#include "util.h"

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Send the log to syslog (ident "meshd") instead of stderr. */
void	log_open_syslog(void);
void	log_set_level(enum log_level);
/* Is stderr the journal (JOURNAL_STREAM names its device and inode)? */
int	log_stderr_is_journal(void);
void	log_msg(enum log_level, const char *, ...) PRINTFLIKE(2, 3);
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
