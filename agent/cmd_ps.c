/*
 * ferry ps [--json] [SERVICE...]: the project's containers; compose's own
 * table, or one JSON shape whichever compose runs (v2's ps JSON, v1's
 * docker inspect).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "agent/ops.h"

static int selected(const struct strlist *names, const char *svc)
{
	if (!names->n)
		return 1;
	for (size_t i = 0; i < names->n; i++)
		if (!strcmp(names->v[i], svc))
			return 1;
	return 0;
}

static int print_json(struct ops *o, const struct strlist *names,
		      struct err *e)
{
	struct compose_ctrs all;
	json_t *arr;

	if (compose_containers(o->c, &all, e) < 0)
		return -1;
	arr = json_array();
	for (size_t i = 0; i < all.n; i++) {
		const struct compose_ctr *c = &all.v[i];

		if (!selected(names, c->service))
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, "
			"s:i}", "service", c->service, "name", c->container, "id",
			c->id, "state", c->state, "health", c->health,
			"exit_code", c->exit_code));
	}
	json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(arr);
	compose_ctrs_release(&all);
	return 0;
}

static int cmd_ps(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const args[] = { "ps", NULL };
	struct strlist names = STRLIST_INIT;
	struct ops o = OPS_INIT;
	struct err e = ERR_INIT;
	int ch, code = FX_OK;

	while ((ch = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (ch != 'j')
			return cli_bad_option("ps", ch, argc, argv);
		cli->json = 1;
	}
	for (int i = optind; i < argc; i++)
		ops_add_unique(&names, argv[i]);
	o.what = "ps";
	/* --json: compose lists them all, so names are checked first */
	if (ops_open(&o, cli, &e) < 0 ||
	    (cli->json && ops_check_services(&o, &names, NULL, &e) < 0) ||
	    (cli->json ? print_json(&o, &names, &e) :
	     ops_compose(&o, args, &names, &e)) < 0) {
		ops_explain(&o, &names, &e);
		code = cli_fail(&e);
	}
	ops_close(&o);
	strlist_release(&names);
	return code;
}

const struct cli_cmd cmd_ps_entry = {
	"ps", cmd_ps, "[--json] [SERVICE...]",
	"show the project's containers and their state",
	"  --json            one array: service, name, id, state, health,\n"
	"                    exit_code for each container (stopped ones too)\n"
	"exit 2 for an unknown service, 4 when compose fails or the project\n"
	"is not deployed yet (its compose_dir is not on the server)\n",
	NULL,
};
