/*
 * config-http.c -- http = { listen = "127.0.0.1:8642"; token_file = "..."; }
 * of meshd.conf (config.h): where the HTTP child listens and the token
 * that write requests must present.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "limit.h"
#include "suggest.h"
#include "token.h"
#include "util.h"

static const char *const http_keys[] = { "listen", "token_file", NULL };

/* The largest token file read: a token is a line, not a document. */

/* limit_error(), under the short name this file's lines are wrapped for. */
#define herr(...) limit_error(__VA_ARGS__)

int
config_http_addr(const char *listen, struct sockaddr_storage *ss,
    unsigned int *len, char **cause)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[64];
	const char		*colon, *port, *p;
	size_t			 n;
	long			 v;
	char			*end;

	memset(ss, 0, sizeof *ss);
	if (listen[0] == '[') {
		if ((colon = strchr(listen, ']')) == NULL || colon[1] != ':')
			goto bad;
		n = (size_t)(colon - listen - 1);
		port = colon + 2;
		if (n == 0 || n >= sizeof host)
			goto bad;
		memcpy(host, listen + 1, n);
		host[n] = '\0';
	} else if ((colon = strrchr(listen, ':')) != NULL) {
		n = (size_t)(colon - listen);
		port = colon + 1;
		if (n == 0 || n >= sizeof host)
			goto bad;
		memcpy(host, listen, n);
		host[n] = '\0';
	} else {
		/* A port alone: loopback, the safe default. */
		snprintf(host, sizeof host, "127.0.0.1");
		port = listen;
	}
	for (p = port; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			goto bad;
	errno = 0;
	v = strtol(port, &end, 10);
	if (*port == '\0' || *end != '\0' || errno != 0 || v < 1 ||
	    v > 65535) {
		*cause = xasprintf("http.listen: port must be 1 to 65535 in "
		    "\"%s\"", listen);
		return -1;
	}
	if (listen[0] != '[' && inet_pton(AF_INET, host, &sin->sin_addr) ==
	    1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)v);
		*len = sizeof *sin;
		return 0;
	}
	if (listen[0] == '[' && inet_pton(AF_INET6, host, &sin6->sin6_addr) ==
	    1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)v);
		*len = sizeof *sin6;
		return 0;
	}
bad:
	*cause = xasprintf("http.listen must be \"ADDRESS:PORT\" with a "
	    "numeric IPv4 address or [IPv6] address (\"127.0.0.1:8642\", "
	    "\"[::1]:8642\", \"0.0.0.0:8642\"), not \"%s\"", listen);
	return -1;
}

void
config_http_parse(struct meshd_config *cfg, const config_setting_t *g,
    const char *path, const char *dir, struct errlist *errs)
{
	config_setting_t	*e;
	struct sockaddr_storage	 ss;
	unsigned int		 sslen;
	const char		*k, *v;
	char			*cause, *msg;
	int			 i, n;

	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		herr(errs, path, g, "'http' must be a group: http = { listen "
		    "= \"127.0.0.1:8642\"; }");
		return;
	}
	free(cfg->http_listen);
	cfg->http_listen = NULL;
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(g, (unsigned int)i);
		k = config_setting_name(e);
		if (strcmp(k, "listen") != 0 && strcmp(k, "token_file") != 0) {
			msg = suggest_unknown_key(k, "in 'http'", http_keys);
			herr(errs, path, e, "%s", msg);
			free(msg);
			continue;
		}
		v = config_setting_type(e) == CONFIG_TYPE_STRING ?
		    config_setting_get_string(e) : NULL;
		if (v == NULL || *v == '\0') {
			herr(errs, path, e, "'http.%s' must be a non-empty "
			    "string", k);
			continue;
		}
		if (strcmp(k, "listen") == 0) {
			if (config_http_addr(v, &ss, &sslen, &cause) != 0) {
				herr(errs, path, e, "%s", cause);
				free(cause);
				continue;
			}
			free(cfg->http_listen);
			cfg->http_listen = xstrdup(v);
		} else {
			free(cfg->http_token_file);
			cfg->http_token_file = path_join(dir, v);
			free(cfg->http_where);
			cfg->http_where = xasprintf("%s:%d",
			    config_setting_source_file(e) != NULL ?
			    config_setting_source_file(e) : path,
			    config_setting_source_line(e));
		}
	}
	/* A group that names no address would be a listener nobody asked
	 * for, or a typo: say which. */
	if (cfg->http_listen == NULL && config_setting_get_member(g,
	    "listen") == NULL)
		herr(errs, path, g, "http needs listen = \"127.0.0.1:8642\" "
		    "(or remove the group: no listener)");
}

char *
config_http_token(const char *path, char **cause)
{
	return token_read("http.token_file", path, 0, cause);
}

int
config_http_check(const struct meshd_config *cfg, char **cause)
{
	char	*tok, *why = NULL;

	if (cfg->http_listen == NULL || cfg->http_token_file == NULL)
		return 0;
	if ((tok = config_http_token(cfg->http_token_file, &why)) == NULL) {
		*cause = xasprintf("%s: %s", cfg->http_where != NULL ?
		    cfg->http_where : cfg->file, why);
		free(why);
		return -1;
	}
	explicit_bzero(tok, strlen(tok));
	free(tok);
	return 0;
}

static int
str_ne(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

int
config_http_differ(const struct meshd_config *a, const struct meshd_config *b)
{
	return str_ne(a->http_listen, b->http_listen) ||
	    str_ne(a->http_token_file, b->http_token_file);
}
