/*
 * read-schema.c -- print the JSON Schema of read questions, for the
 * end-to-end tests that validate documents against their own schema:
 *	read-schema NAME	the schema of question NAME
 *	read-schema		every question's name, one a line
 * Exit 2 for an unknown question.
 */
#include <stdio.h>

#include "read.h"

int
main(int argc, char **argv)
{
	const struct read_question *q;

	if (argc < 2) {
		for (q = read_questions; q->name != NULL; q++)
			printf("%s\n", q->name);
		return 0;
	}
	if ((q = read_find(argv[1])) == NULL) {
		fprintf(stderr, "read-schema: no question '%s'\n", argv[1]);
		return 2;
	}
	printf("%s\n", q->schema);
	return 0;
}
