/*
 * worker.h -- the worker process of the executor.
 *
 * Internal to the executor.  A worker is forked by the supervisor and runs
 * worker_main() until it is told to exit, its socket closes or its parent
 * dies.  It never returns into the code that forked it.
 */
#ifndef MESHD_WORKER_H
#define MESHD_WORKER_H

#include <sys/types.h>

#include <stdint.h>

#include "executor.h"

/*
 * Run a worker on socket `fd` (one end of the socketpair; the other end
 * belongs to `parent`, the supervisor).  Call it in the child right after
 * fork(): it arranges to die with the parent (and exits at once if the
 * parent is gone already), becomes a child subreaper in a process group
 * of its own, closes every inherited descriptor but 0, 1, 2 and `fd`,
 * applies the memory limit of `opts`, then serves tasks.  Every message it
 * sends carries `nonce`, the attempt id and a sequence number (wire.h).
 * After each stage it kills and reaps every process the plugin started,
 * and resets the signal mask and dispositions (see worker.c for how).
 * Ends with _exit(), so the parent's atexit handlers and stdio buffers are
 * never run or flushed by the worker.
 */
/* A worker whose socket was taken from it (a plugin closed or replaced
 * it) exits with this status once its stage returns: it cannot report. */
#define WORKER_EXIT_LOST	125

void	worker_main(int fd, pid_t parent, const struct executor_opts *opts,
	    uint64_t nonce) __attribute__((noreturn));

#endif
