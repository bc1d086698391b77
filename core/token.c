/*
 * token.c -- a bearer token kept in a file (http.token_file,
 * lineage.bearer_token_file, an alert webhook's bearer_token_file).
 *
 * The token is the file's first line without the blanks around it, read
 * each time it is needed, so that a rotated token is used without a
 * reload.  One reader for all three, so they agree on what a token file
 * holds and say the same things when it is wrong.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "token.h"
#include "util.h"

/*
 * The token in `path`, or NULL with cause naming `key` and the path (never
 * the token).  With TOKEN_PRIVATE, a file anyone may read, or that is not
 * a regular file, is refused: judged on the file opened, not on a name
 * that may have moved since.  The caller frees the token, after
 * explicit_bzero() if it cares.
 */
char *
token_read(const char *key, const char *path, int flags, char **cause)
{
	struct stat	 sb;
	char		 buf[TOKEN_MAX + 1], *s, *e, *tok = NULL;
	ssize_t		 r;
	size_t		 n = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		set_cause(cause, "%s: cannot read %s: %s", key, path,
		    strerror(errno));
		return NULL;
	}
	if ((flags & TOKEN_PRIVATE) && fstat(fd, &sb) == -1) {
		set_cause(cause, "%s: cannot read %s: %s", key, path,
		    strerror(errno));
		goto out;
	}
	if ((flags & TOKEN_PRIVATE) && !S_ISREG(sb.st_mode)) {
		set_cause(cause, "%s: %s is not a file", key, path);
		goto out;
	}
	if ((flags & TOKEN_PRIVATE) && (sb.st_mode & S_IROTH)) {
		set_cause(cause, "%s: %s is readable by anyone (mode %04o): "
		    "chmod o-rwx it", key, path,
		    (unsigned int)(sb.st_mode & 07777));
		goto out;
	}
	while (n < sizeof buf - 1 &&
	    (r = read(fd, buf + n, sizeof buf - 1 - n)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			set_cause(cause, "%s: cannot read %s: %s", key, path,
			    strerror(errno));
			goto out;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	s = buf;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strcspn(s, "\r\n");
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	if (*s != '\0')
		tok = xstrdup(s);
	else
		set_cause(cause, "%s: %s holds no token", key, path);
out:
	close(fd);
	explicit_bzero(buf, sizeof buf);
	return tok;
}
