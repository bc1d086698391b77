/*
 * metrics.h -- /metrics, the Prometheus text exposition (version 0.0.4)
 * of meshd, served by the HTTP child (http.h declares metrics_new,
 * metrics_free and metrics_render; this header adds what tests and
 * benchmarks use).
 *
 * struct metrics keeps running aggregates between scrapes: counts of
 * attempts by job, stage and state with their duration histograms, runs
 * by job and final state, publications and rows by product.  A scrape
 * reads only what changed since the previous one (read-metrics.h) and
 * adds it, so counters never go down while the HTTP child lives; a new
 * child reads the history once, at its first scrape.  Gauges (queues,
 * outboxes, workers, loop lag) are read afresh every scrape, from the
 * state's indexes and from meshd's health file.
 *
 * Since 0.6.0.
 */
#ifndef MESHD_METRICS_H
#define MESHD_METRICS_H

#include <stdint.h>

#include "http.h"

/* Content type of the exposition. */
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/*
 * Append s as the inside of a label value: backslash, double quote and
 * line feed escaped as \\, \" and \n (the exposition's rules); every other
 * byte as it is.  NULL appends nothing.
 */
void	metrics_escape_label(struct http_reply *, const char *s);
/* Append s for a HELP line: backslash and line feed escaped. */
void	metrics_escape_help(struct http_reply *, const char *s);

/* How many times the history was read (1 after the first scrape), for
 * tests that check a scrape reads only what changed. */
int64_t	metrics_history_reads(struct metrics *);

#endif
