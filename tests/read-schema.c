/*
 * read-schema.c -- print the JSON Schema of read question NAME (read.h),
 * so that a test can validate what `meshctl NAME --json` prints against
 * the very schema the HTTP API publishes.  Exit 2 for an unknown
 * question.
 */
#include <stdio.h>

#include "read.h"

int
main(int argc, char **argv)
{
	const struct read_question *q;

	if (argc != 2 || (q = read_find(argv[1])) == NULL) {
		fprintf(stderr, "usage: read-schema QUESTION\n");
		return 2;
	}
	printf("%s\n", q->schema);
	return 0;
}
