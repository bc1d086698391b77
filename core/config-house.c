/*
 * config-house.c -- history_retention and log_retention of meshd.conf
 * (config.h): how long meshd keeps finished runs and their attempts'
 * logs (housekeep.h).  A whole number of seconds, as the other
 * retentions take, or a string with a unit ("90d", "12h", "2w"); 0 keeps
 * for ever, which is the default: deleting history is the operator's
 * choice.
 */
#include <libconfig.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "housekeep.h"
#include "limit.h"
#include "util.h"

int
config_house_is_key(const char *name)
{
	return strcmp(name, "history_retention") == 0 ||
	    strcmp(name, "log_retention") == 0;
}

void
config_house_parse(struct meshd_config *cfg, const config_setting_t *s,
    const char *path, struct errlist *errs)
{
	const char	*name = config_setting_name(s);
	int64_t		 v;
	char		*cause = NULL;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		if (v < 0 || v > HOUSE_MAX_DURATION) {
			limit_error(errs, path, s, "'%s' must be from 0 (keep "
			    "for ever) to %lld seconds, not %lld", name,
			    (long long)HOUSE_MAX_DURATION, (long long)v);
			return;
		}
		break;
	case CONFIG_TYPE_STRING:
		if (house_duration(config_setting_get_string(s), &v,
		    &cause) != 0) {
			limit_error(errs, path, s, "'%s': %s", name, cause);
			free(cause);
			return;
		}
		break;
	default:
		limit_error(errs, path, s, "'%s' must be a duration: seconds, "
		    "or a string such as \"90d\"", name);
		return;
	}
	if (strcmp(name, "history_retention") == 0)
		cfg->history_retention_s = v;
	else
		cfg->log_retention_s = v;
}
