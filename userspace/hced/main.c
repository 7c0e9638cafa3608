// SPDX-License-Identifier: GPL-2.0
/*
 * hced - the card side: unlocks the card's keys from the vault, opens the purse over its store
 * and serves it through one front end (Documentation/hced.md).
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "frontend.h"
#include "hced.h"
#include "log.h"
#include "purse/purse.h"
#include "store/store.h"
#include "vault/vault.h"

volatile sig_atomic_t hced_stop;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hced [--config FILE] [--card DB] [--pin-file F | --pin-fd N]\n"
		"            [--device-secret PATH] (--stdio | --pcsc [--vpcd HOST:PORT] |\n"
		"            --nfc [DEVICE]) [--control PATH] [--control-group GROUP]\n"
		"            [--trace FILE] [--ndef-uri URI | --ndef-text TEXT]\n"
		"            [--log-level LEVEL]\n"
		"\n"
		"Serves the e-purse card in DB (made by hce-personalise) to a reader.\n"
		"Command-line options override the configuration file (see packaging/hced.conf).\n"
		"\n"
		"  --config FILE         configuration file (Documentation/hced.md)\n"
		"  --card DB             the card file\n"
		"  --pin-file F          unlock the keys with the PIN on the first line of F\n"
		"  --pin-fd N            ... read from file descriptor N\n"
		"                        (neither: the PIN kept on the device, hce-personalise\n"
		"                        --keep-pin)\n"
		"  --device-secret PATH  device secret (default $HCE_DEVICE_SECRET or\n"
		"                        " HCE_VAULT_DEFAULT_SECRET ")\n"
		"  --stdio               one hex C-APDU per input line, one hex R-APDU per output\n"
		"                        line; '#' comments and blank lines ignored; '!reset' ends the\n"
		"                        RF session; a malformed line is answered 6700; EOF ends\n"
		"  --pcsc                a virtual card on pcscd through vsmartcard's vpcd\n"
		"  --vpcd HOST:PORT      where vpcd listens (default 127.0.0.1:35963)\n"
		"  --nfc [DEVICE]        the nfc_hce card device (nfcN or index; default: the first\n"
		"                        unbound one): listen, answer, recover\n"
		"  --control PATH        control socket for hcectl ('none': no socket)\n"
		"  --control-group G     group allowed on the control socket besides root\n"
		"  --trace FILE          start an APDU trace (secrets redacted) in FILE\n"
		"  --ndef-uri URI        also serve an NFC Forum Type 4 Tag with this URI record\n"
		"  --ndef-text TEXT      ... with this text record (language en); the purse and the\n"
		"                        tag then go behind the AID router\n"
		"  --log-level LEVEL     error, warn, info (default) or debug (APDU headers and\n"
		"                        status words; never data, keys or PINs); logs go to stderr\n"
		"  -h, --help            this text\n"
		"\n"
		"Exit codes: 0 clean end (EOF, SIGTERM, SIGINT); 1 usage or configuration error;\n"
		"  2 card file error; 3 vault error (wrong PIN, locked out, no keys, device secret);\n"
		"  4 front end error; 5 control socket error.\n");
}

static void on_signal(int sig)
{
	(void)sig;
	hced_stop = 1;
}

void hced_log_apdu(const char *fe, const uint8_t *capdu, size_t len, const uint8_t *rapdu,
		   size_t rlen)
{
	if (!hced_log_enabled(HCED_LOG_DEBUG))
		return;
	if (len >= 4)
		hced_dbg("%s: C-APDU %02X %02X %02X %02X (%zu bytes) -> %zu bytes, SW %02X%02X",
			 fe, capdu[0], capdu[1], capdu[2], capdu[3], len, rlen,
			 rlen >= 2 ? rapdu[rlen - 2] : 0, rlen >= 2 ? rapdu[rlen - 1] : 0);
	else
		hced_dbg("%s: C-APDU of %zu bytes -> SW %02X%02X", fe, len,
			 rlen >= 2 ? rapdu[rlen - 2] : 0, rlen >= 2 ? rapdu[rlen - 1] : 0);
}

static int install_signals(void)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: blocking reads return EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
		return -1;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL))
		return -1;
	/* Blocked everywhere except in hced_wait(). */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	return sigprocmask(SIG_BLOCK, &block, &hced_orig_mask);
}

static int set_str(char *dst, size_t cap, const char *v, const char *opt)
{
	if (strlen(v) >= cap || !*v) {
		fprintf(stderr, "hced: %s: empty or too long\n", opt);
		return -1;
	}
	strcpy(dst, v);
	return 0;
}

/* The control group's id; -1 none; -2 unknown group (error printed). */
static long control_gid(const char *name)
{
	struct group *g;

	if (!name[0])
		return -1;
	g = getgrnam(name);
	if (!g) {
		hced_err("control socket: no group '%s'", name);
		return -2;
	}
	return (long)g->gr_gid;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'C' },
		{ "card", required_argument, NULL, 'c' },
		{ "pin-file", required_argument, NULL, 'f' },
		{ "pin-fd", required_argument, NULL, 'd' },
		{ "device-secret", required_argument, NULL, 's' },
		{ "stdio", no_argument, NULL, 'S' },
		{ "pcsc", no_argument, NULL, 'P' },
		{ "nfc", optional_argument, NULL, 'N' },
		{ "vpcd", required_argument, NULL, 'v' },
		{ "control", required_argument, NULL, 'k' },
		{ "control-group", required_argument, NULL, 'g' },
		{ "trace", required_argument, NULL, 't' },
		{ "ndef-uri", required_argument, NULL, 'U' },
		{ "ndef-text", required_argument, NULL, 'T' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct hced_frontend_ops *fe = NULL;
	struct hced_frontend_opts fe_opts = { 0 };
	struct rlimit no_core = { 0, 0 };
	struct hce_vault_cfg cfg = { 0 };
	struct hced_conf cli;
	struct hced_conf *cf = &hced.conf;
	const char *config = NULL, *env_secret = getenv("HCE_DEVICE_SECRET");
	enum hced_log_level level;
	char err[HCE_VAULT_ERR_MAX > HCE_STORE_ERR_MAX ? HCE_VAULT_ERR_MAX : HCE_STORE_ERR_MAX];
	char cerr[HCE_CONF_ERR_MAX];
	char pin[HCE_VAULT_PIN_MAX + 1];
	int pin_fd = -1, pin_len = 0, c, ret, rc = 0, n_fe = 0;
	bool ctl_open = false;
	long lv, gid;
	char *end;

	hced_conf_init(&cli);
	hced_conf_init(cf);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'C':
			config = optarg;
			break;
		case 'c':
			if (set_str(cli.card_db, sizeof(cli.card_db), optarg, "--card"))
				return 1;
			break;
		case 'f':
			if (set_str(cli.pin_file, sizeof(cli.pin_file), optarg, "--pin-file"))
				return 1;
			break;
		case 'd':
			errno = 0;
			lv = strtol(optarg, &end, 10);
			if (errno || *end || lv < 0 || lv > 1024) {
				fprintf(stderr, "hced: --pin-fd: bad descriptor\n");
				return 1;
			}
			pin_fd = (int)lv;
			break;
		case 's':
			if (set_str(cli.device_secret, sizeof(cli.device_secret), optarg,
				    "--device-secret"))
				return 1;
			break;
		case 'S':
			cli.frontend = HCED_FE_STDIO;
			n_fe++;
			break;
		case 'P':
			cli.frontend = HCED_FE_PCSC;
			n_fe++;
			break;
		case 'N':
			cli.frontend = HCED_FE_NFC;
			n_fe++;
			/* "--nfc nfc0" as well as "--nfc=nfc0" */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			if (optarg) {
				unsigned int idx;

				if (hced_conf_device(optarg, &idx) <= 0 ||
				    set_str(cli.nfc_device, sizeof(cli.nfc_device), optarg, "--nfc")) {
					fprintf(stderr, "hced: --nfc: nfcN, a device index or a name\n");
					return 1;
				}
			}
			break;
		case 'v':
			if (set_str(cli.vpcd, sizeof(cli.vpcd), optarg, "--vpcd"))
				return 1;
			break;
		case 'k':
			if (set_str(cli.ctl_socket, sizeof(cli.ctl_socket), optarg, "--control"))
				return 1;
			break;
		case 'g':
			if (set_str(cli.ctl_group, sizeof(cli.ctl_group), optarg, "--control-group"))
				return 1;
			break;
		case 't':
			if (set_str(cli.trace_file, sizeof(cli.trace_file), optarg, "--trace"))
				return 1;
			cli.trace_on = 1;
			break;
		case 'U':
			if (set_str(cli.ndef_uri, sizeof(cli.ndef_uri), optarg, "--ndef-uri"))
				return 1;
			break;
		case 'T':
			if (set_str(cli.ndef_text, sizeof(cli.ndef_text), optarg, "--ndef-text"))
				return 1;
			break;
		case 'l':
			if (hced_log_parse_level(optarg, &level)) {
				fprintf(stderr, "hced: --log-level: error, warn, info or debug\n");
				return 1;
			}
			cli.log_level = (int)level;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc || n_fe > 1) {
		if (n_fe > 1)
			fprintf(stderr, "hced: give one front end\n");
		usage(stderr);
		return 1;
	}
	if (cli.ndef_uri[0] && cli.ndef_text[0]) {
		fprintf(stderr, "hced: give --ndef-uri or --ndef-text, not both\n");
		return 1;
	}
	if (config && hced_conf_load(cf, config, cerr, sizeof(cerr))) {
		fprintf(stderr, "hced: %s\n", cerr);
		return 1;
	}
	/* Command-line options win over the file, field by field. */
	if (pin_fd >= 0)
		cf->pin_file[0] = '\0';
	hced_conf_merge(cf, &cli);
	if (!cf->card_db[0] || cf->frontend == HCED_FE_UNSET ||
	    (cf->pin_file[0] && pin_fd >= 0) ||
	    (cf->vpcd[0] && cf->frontend != HCED_FE_PCSC && cli.vpcd[0])) {
		if (!cf->card_db[0])
			fprintf(stderr, "hced: no card: --card DB or [card] db\n");
		if (cf->frontend == HCED_FE_UNSET)
			fprintf(stderr, "hced: no front end: --stdio, --pcsc, --nfc or "
				"[frontend] type\n");
		usage(stderr);
		return 1;
	}
	fe = cf->frontend == HCED_FE_STDIO ? &hced_fe_stdio :
	     cf->frontend == HCED_FE_PCSC ? &hced_fe_pcsc : &hced_fe_kernel;
	fe_opts.vpcd = cf->vpcd[0] ? cf->vpcd : NULL;
	if (cf->log_level >= 0)
		hced_log_set_level((enum hced_log_level)cf->log_level);
	cfg.device_secret = cf->device_secret[0] ? cf->device_secret : env_secret;
	hced.frontend = fe->name;

	/* This process holds card keys: no core dumps, no ptrace by other users. */
	if (prctl(PR_SET_DUMPABLE, 0) || setrlimit(RLIMIT_CORE, &no_core))
		hced_warn("cannot disable core dumps: %s", strerror(errno));
	if (install_signals()) {
		hced_err("cannot install signal handlers: %s", strerror(errno));
		return 4;
	}

	ret = hce_store_open(cf->card_db, 0, &hced.st, err);
	if (ret) {
		hced_err("%s: %s", cf->card_db, err);
		return 2;
	}
	ret = hce_vault_open(cf->card_db, &cfg, &hced.vault, err);
	if (ret) {
		hced_err("vault: %s", err);
		rc = 3;
		goto out;
	}
	if (cf->pin_file[0] || pin_fd >= 0) {
		pin_len = hce_vault_read_pin(cf->pin_file[0] ? cf->pin_file : NULL, pin_fd, pin);
		if (pin_len < 0) {
			hced_err("cannot read the PIN from %s: %s",
				 cf->pin_file[0] ? cf->pin_file : "--pin-fd",
				 pin_len == -EINVAL ? "must be one line of 4..64 bytes" :
				 strerror(-pin_len));
			rc = 3;
			goto out;
		}
	}
	ret = hce_vault_unlock(hced.vault, pin_len ? pin : NULL, (size_t)pin_len);
	hce_wipe(pin, sizeof(pin));
	if (ret) {
		hced_err("vault: %s", hce_vault_errmsg(hced.vault));
		rc = 3;
		goto out;
	}
	hced_info("keys unlocked (held in locked memory)");
	ret = hce_purse_open(hced.st, hce_vault_keys(hced.vault), &hced.purse);
	if (ret) {
		hced_err("purse: cannot open the card in %s: %s", cf->card_db, strerror(-ret));
		rc = 2;
		goto out;
	}
	ret = hced_apps_open(cf->app_purse == 0 ? NULL : hce_purse_app(hced.purse));
	if (ret) {
		rc = 1;
		goto out;
	}
	if (cf->ctl_socket[0] && strcmp(cf->ctl_socket, "none")) {
		gid = control_gid(cf->ctl_group);
		if (gid == -2) {
			rc = 5;
			goto out;
		}
		ret = hced_ctl_open(cf->ctl_socket, gid);
		if (ret) {
			hced_err("control socket %s: %s", cf->ctl_socket,
				 ret == -EADDRINUSE ? "another hced is serving it" : strerror(-ret));
			rc = 5;
			goto out;
		}
		ctl_open = true;
		hced_info("control socket %s (root%s%s)", cf->ctl_socket,
			  gid >= 0 ? " and group " : " only", gid >= 0 ? cf->ctl_group : "");
	}
	if (cf->trace_on == 1) {
		ret = hced_trace_start(cf->trace_file);
		if (ret)
			hced_warn("cannot open the trace file %s: %s", cf->trace_file,
				  strerror(-ret));
	}
	hced_info("serving %s through %s", hced.apps, fe->name);
	ret = fe->run(hced.app, &fe_opts);
	if (ret)
		rc = 4;
	if (hced_stop)
		hced_info("stopping on signal");
out:
	hced_trace_stop();
	hced_apps_close();
	if (ctl_open)
		hced_ctl_close();
	hce_purse_close(hced.purse);
	if (hced.vault) {
		hce_vault_close(hced.vault);	/* wipes the keys */
		hced_info("keys wiped");
	}
	hce_store_close(hced.st);
	return rc;
}
