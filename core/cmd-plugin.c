/* cmd-plugin.c -- meshctl plugin info: describe a plugin, or say why it is
 * refused.  The plugin is loaded in a child process, never in meshctl. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "meshctl.h"

static int	cmd_plugin_exec(struct ctl *, int, char **);

const struct cmd_entry cmd_plugin_entry = {
	.name = "plugin",
	.args = "info FILE.so [--json]",
	.summary = "print a plugin's descriptor, or why it is refused",
	.help =
	"Loads the plugin in a child process, checks its file permissions and\n"
	"descriptor exactly as a worker would, and prints the descriptor: ABI,\n"
	"name, version, domain, owner, stages and the data products it builds.\n"
	"\n"
	"      --json      the descriptor as JSON (with a \"warnings\" array)\n"
	"\n"
	"It also reads the plugin's symbol table and warns (on stderr) about\n"
	"symbols it exports beyond meshd_plugin_descriptor (build with\n"
	"-fvisibility=hidden) and symbols it uses that none of the libraries it\n"
	"links defines (it works only while meshd happens to have loaded them).\n"
	"\n"
	"Exit status: 0 if the plugin is loadable (warnings or not), 1 if it is\n"
	"refused.\n",
	.exec = cmd_plugin_exec,
};

static json_t *
info_json(const struct plugin_info *pi)
{
	json_t	*prods = json_array(), *stages = json_array();
	size_t	 i;

	for (i = 0; i < 3; i++)
		if (pi->has_stage[i])
			json_array_append_new(stages,
			    json_string(stage_name((int)i)));
	for (i = 0; i < pi->nproducts; i++) {
		const struct plugin_product_info *p = &pi->products[i];

		json_array_append_new(prods, json_pack("{s:s, s:s?, s:s?, s:s?, "
		    "s:s?, s:s?, s:I}", "name", p->name, "description",
		    p->description, "owner", p->owner, "contract_version",
		    p->contract_version, "tags", p->tags, "location",
		    p->location, "freshness_seconds",
		    (json_int_t)p->freshness_seconds));
	}
	json_t	*warns = json_array();

	for (i = 0; i < pi->nwarnings; i++)
		json_array_append_new(warns, json_string(pi->warnings[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:i, s:i, s:o, s:b, "
	    "s:b, s:o, s:o}", "path", pi->path, "name", pi->name, "version",
	    pi->version, "domain", pi->domain, "owner", pi->owner,
	    "description", pi->description, "abi_major", pi->abi_major,
	    "abi_minor", pi->abi_minor, "stages", stages, "init", pi->has_init,
	    "fini", pi->has_fini, "products", prods, "warnings", warns);
}

static void
info_text(const struct plugin_info *pi)
{
	size_t	i;
	int	n = 0;

	printf("file:        %s\n", pi->path);
	printf("name:        %s %s\n", pi->name, pi->version);
	printf("abi:         %d.%d\n", pi->abi_major, pi->abi_minor);
	printf("domain:      %s\n", pi->domain);
	printf("owner:       %s\n", pi->owner);
	if (pi->description != NULL)
		printf("description: %s\n", pi->description);
	printf("stages:     ");
	for (i = 0; i < 3; i++)
		if (pi->has_stage[i]) {
			printf(" %s", stage_name((int)i));
			n++;
		}
	printf("%s%s%s\n", n == 0 ? " none" : "",
	    pi->has_init ? " (+init)" : "", pi->has_fini ? " (+fini)" : "");
	for (i = 0; i < pi->nproducts; i++) {
		const struct plugin_product_info *p = &pi->products[i];

		printf("product:     %s", p->name);
		if (p->contract_version != NULL)
			printf(" (contract %s)", p->contract_version);
		printf("\n");
		if (p->description != NULL)
			printf("  description: %s\n", p->description);
		if (p->owner != NULL)
			printf("  owner:       %s\n", p->owner);
		if (p->tags != NULL && *p->tags != '\0')
			printf("  tags:        %s\n", p->tags);
		if (p->location != NULL)
			printf("  location:    %s\n", p->location);
		if (p->freshness_seconds > 0)
			printf("  freshness:   within %llds of interval end\n",
			    p->freshness_seconds);
	}
}

static int
cmd_plugin_exec(struct ctl *ctl, int argc, char **argv)
{
	struct plugin_info	*pi;
	char			*cause = NULL, *path;
	size_t			 i;
	int			 c, json = 0;
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			return ctl_help(ctl);
		default:
			return ctl_usage(ctl);
		}
	}
	if (argc - optind != 2 || strcmp(argv[optind], "info") != 0)
		return ctl_usage(ctl);
	/* dlopen() searches the library path for a name without '/'. */
	path = strchr(argv[optind + 1], '/') != NULL ?
	    xstrdup(argv[optind + 1]) : xasprintf("./%s", argv[optind + 1]);
	pi = loader_probe_warn(path, &cause);
	free(path);
	if (pi == NULL) {
		ctl_error("refused: %s", cause);
		free(cause);
		return CTL_EXIT_FAILED;
	}
	/* Warnings go to stderr, so that stdout stays the descriptor. */
	for (i = 0; i < pi->nwarnings; i++)
		fprintf(stderr, "meshctl: warning: %s\n", pi->warnings[i]);
	if (json)
		ctl_json_out(info_json(pi));
	else
		info_text(pi);
	plugin_info_free(pi);
	return CTL_EXIT_OK;
}
