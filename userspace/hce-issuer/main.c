// SPDX-License-Identifier: GPL-2.0
/*
 * hce-issuer - the issuer back end: HTTPS service and admin subcommands.
 * Documentation/issuer.md (operation, lifecycle, threat model) and
 * Documentation/issuer-protocol.md (wire protocol).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iss.h"
#include "server.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hce-issuer [-c CONFIG] COMMAND [options]\n"
		"  serve                              run the HTTPS service\n"
		"  init                               create the schema and the HSM master keys\n"
		"  account-create --name N [--cap-amount C] [--cap-count N] [--overdraft O]\n"
		"                 [--max-balance M]   new account and its first enrolment code\n"
		"  enrol-code --account ID            another single-use enrolment code\n"
		"  topup --account ID --amount CENTS --request-id R   web top-up (idempotent by R)\n"
		"  revoke --serial HEX [--reason R]   revoke a token (deny list)\n"
		"  show --account ID                  account, tokens and totals (JSON)\n"
		"  denylist                           the deny list (JSON)\n"
		"  discrepancies                      recorded disagreements\n"
		"  reconcile                          check balance = loads - cleared purchases\n"
		"  terminal-add --id HEX12 --pubkey PEM [--name N]   register a terminal key\n"
		"  psam-export --terminal-pubkey PEM --label hce-mk-dpk-N --so-pin-file F --out BLOB\n"
		"                                     wrap a purchase master key for a PSAM token\n"
		"                                     (Documentation/psam.md)\n"
		"CONFIG defaults to /etc/hce-issuer/hce-issuer.conf.\n");
}

/* --key value options after the command. */
static const char *opt(int argc, char **argv, const char *name)
{
	int i;

	for (i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return NULL;
}

static int opt_int(int argc, char **argv, const char *name, int64_t def, int64_t *out)
{
	const char *v = opt(argc, argv, name);
	char *end;

	*out = def;
	if (!v)
		return 0;
	*out = strtoll(v, &end, 10);
	if (end == v || *end || *out < 0) {
		fprintf(stderr, "hce-issuer: %s: a non-negative integer required\n", name);
		return -1;
	}
	return 0;
}

static int known_opts(int argc, char **argv, const char *const *names)
{
	int i;

	for (i = 0; i < argc; i += 2) {
		const char *const *n;

		for (n = names; *n; n++)
			if (!strcmp(argv[i], *n))
				break;
		if (!*n || i + 1 >= argc) {
			fprintf(stderr, "hce-issuer: unexpected argument '%s'\n", argv[i]);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *conf = "/etc/hce-issuer/hce-issuer.conf", *cmd;
	struct iss s;
	int64_t a, b, c, d;
	int ret = 1, need_hsm;

	if (argc > 2 && !strcmp(argv[1], "-c")) {
		conf = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	argc -= 2;
	argv += 2;
	if (!strcmp(cmd, "psam-export")) {
		static const char *const o[] = { "--terminal-pubkey", "--label", "--so-pin-file",
						 "--out", NULL };

		if (known_opts(argc, argv, o) || !opt(argc, argv, "--terminal-pubkey") ||
		    !opt(argc, argv, "--label") || !opt(argc, argv, "--so-pin-file") ||
		    !opt(argc, argv, "--out")) {
			fprintf(stderr, "hce-issuer: psam-export: --terminal-pubkey, --label, "
				"--so-pin-file and --out are required\n");
			return 2;
		}
		return iss_psam_export(conf, opt(argc, argv, "--terminal-pubkey"),
				       opt(argc, argv, "--label"), opt(argc, argv, "--so-pin-file"),
				       opt(argc, argv, "--out")) ? 1 : 0;
	}
	need_hsm = !strcmp(cmd, "serve") || !strcmp(cmd, "init");
	if (strcmp(cmd, "serve") && strcmp(cmd, "init") && strcmp(cmd, "account-create") &&
	    strcmp(cmd, "enrol-code") && strcmp(cmd, "topup") && strcmp(cmd, "revoke") &&
	    strcmp(cmd, "show") && strcmp(cmd, "denylist") && strcmp(cmd, "discrepancies") &&
	    strcmp(cmd, "reconcile") && strcmp(cmd, "terminal-add")) {
		fprintf(stderr, "hce-issuer: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	if (iss_open(&s, conf, need_hsm))
		return 1;
	if (!strcmp(cmd, "init")) {
		ret = iss_admin_init(&s) ? 1 : 0;
	} else if (!strcmp(cmd, "serve")) {
		ret = iss_serve(&s) ? 1 : 0;
	} else if (!strcmp(cmd, "account-create")) {
		static const char *const o[] = { "--name", "--cap-amount", "--cap-count",
						 "--overdraft", "--max-balance", NULL };

		if (!known_opts(argc, argv, o) && opt(argc, argv, "--name") &&
		    !opt_int(argc, argv, "--cap-amount", -1, &a) &&
		    !opt_int(argc, argv, "--cap-count", -1, &b) &&
		    !opt_int(argc, argv, "--overdraft", -1, &c) &&
		    !opt_int(argc, argv, "--max-balance", -1, &d))
			ret = iss_admin_account_create(&s, opt(argc, argv, "--name"), a, b, c, d) ? 1 : 0;
	} else if (!strcmp(cmd, "enrol-code")) {
		static const char *const o[] = { "--account", NULL };

		if (!known_opts(argc, argv, o) && !opt_int(argc, argv, "--account", 0, &a) && a)
			ret = iss_admin_enrol_code(&s, a) ? 1 : 0;
	} else if (!strcmp(cmd, "topup")) {
		static const char *const o[] = { "--account", "--amount", "--request-id", NULL };

		if (!known_opts(argc, argv, o) && !opt_int(argc, argv, "--account", 0, &a) &&
		    !opt_int(argc, argv, "--amount", 0, &b) && opt(argc, argv, "--request-id"))
			ret = iss_admin_topup(&s, a, b, opt(argc, argv, "--request-id")) ? 1 : 0;
	} else if (!strcmp(cmd, "revoke")) {
		static const char *const o[] = { "--serial", "--reason", NULL };
		const char *r = opt(argc, argv, "--reason");

		if (!known_opts(argc, argv, o) && opt(argc, argv, "--serial"))
			ret = iss_admin_revoke(&s, opt(argc, argv, "--serial"), r ? r : "revoked") ? 1 : 0;
	} else if (!strcmp(cmd, "show")) {
		static const char *const o[] = { "--account", NULL };

		if (!known_opts(argc, argv, o) && !opt_int(argc, argv, "--account", 0, &a) && a)
			ret = iss_admin_show(&s, a) ? 1 : 0;
	} else if (!strcmp(cmd, "denylist")) {
		struct iss_resp r = { 0, NULL };
		char *t;

		if (!iss_denylist(&s, &r) && (t = json_dumps(r.body, JSON_SORT_KEYS))) {
			printf("%s\n", t);
			free(t);
			ret = 0;
		}
		json_decref(r.body);
	} else if (!strcmp(cmd, "discrepancies")) {
		ret = iss_admin_discrepancies(&s) ? 1 : 0;
	} else if (!strcmp(cmd, "reconcile")) {
		ret = iss_admin_reconcile(&s) ? 1 : 0;
	} else if (!strcmp(cmd, "terminal-add")) {
		static const char *const o[] = { "--id", "--pubkey", "--name", NULL };
		const char *n = opt(argc, argv, "--name");

		if (!known_opts(argc, argv, o) && opt(argc, argv, "--id") && opt(argc, argv, "--pubkey"))
			ret = iss_admin_terminal_add(&s, opt(argc, argv, "--id"),
						     opt(argc, argv, "--pubkey"), n ? n : "") ? 1 : 0;
	}
	if (ret && strcmp(cmd, "serve") && strcmp(cmd, "reconcile"))
		fprintf(stderr, "hce-issuer: %s failed (see above, or missing options)\n", cmd);
	iss_close(&s);
	return ret;
}
