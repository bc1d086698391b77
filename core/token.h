/* token.h -- bearer tokens kept in files. */
#ifndef MESHD_TOKEN_H
#define MESHD_TOKEN_H

#define TOKEN_MAX	4096	/* a longer first line is cut here */
#define TOKEN_PRIVATE	0x1	/* refuse a file that others may read */

char	*token_read(const char *key, const char *path, int flags,
	    char **cause);

#endif
