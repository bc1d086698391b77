/*
 * lock.h -- one writer per state database.
 *
 * The writer (meshd, or a foreground `meshctl run`) holds an flock(2) on
 * "<state_db>.lock", which holds its pid.  The kernel drops the lock when
 * the process dies, even by kill -9, so a stale file never blocks a
 * restart.
 */
#ifndef MESHD_LOCK_H
#define MESHD_LOCK_H

#include <sys/types.h>

/*
 * Take the lock without waiting.  Returns the lock's fd (keep it open for
 * as long as the lock is needed), or -1 with cause; when another process
 * holds it, *holder is its pid (0 if unknown) and cause says
 * "/x/state.db is in use by pid 1234 (lock /x/state.db.lock)".
 */
int	state_lock(const char *state_db, pid_t *holder, char **cause);
/* The pid of the process holding the lock, 0 if nobody does, -1 if one
 * does but its pid cannot be read.  Takes a shared lock for an instant
 * to test it. */
pid_t	state_lock_holder(const char *state_db);
/* Release: close the fd and leave the file. */
void	state_unlock(int fd);

#endif
