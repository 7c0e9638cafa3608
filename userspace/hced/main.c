// SPDX-License-Identifier: GPL-2.0
/*
 * hced - the card side: unlocks the card's keys from the vault, opens the purse over its store
 * and serves it through one front end (Documentation/hced.md).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "frontend.h"
#include "log.h"
#include "purse/purse.h"
#include "store/store.h"
#include "vault/vault.h"

volatile sig_atomic_t hced_stop;
static sigset_t orig_mask;

int hced_wait(int fd, int timeout_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	struct timespec ts, *tsp = NULL;
	int n;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	for (;;) {
		if (hced_stop)
			return -1;
		n = ppoll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, tsp, &orig_mask);
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
		/* EINTR: loop to look at hced_stop (a timeout restarts: fine for our uses) */
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hced --card DB [--pin-file F | --pin-fd N] [--device-secret PATH]\n"
		"            (--stdio | --pcsc [--vpcd HOST:PORT]) [--log-level LEVEL]\n"
		"\n"
		"Serves the e-purse card in DB (made by hce-personalise) to a reader.\n"
		"\n"
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
		"  --log-level LEVEL     error, warn, info (default) or debug (APDU headers and\n"
		"                        status words; never data, keys or PINs); logs go to stderr\n"
		"  -h, --help            this text\n"
		"\n"
		"Exit codes: 0 clean end (EOF, SIGTERM, SIGINT); 1 usage; 2 card file error;\n"
		"  3 vault error (wrong PIN, locked out, no keys, device secret); 4 front end error.\n");
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
	return sigprocmask(SIG_BLOCK, &block, &orig_mask);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "card", required_argument, NULL, 'c' },
		{ "pin-file", required_argument, NULL, 'f' },
		{ "pin-fd", required_argument, NULL, 'd' },
		{ "device-secret", required_argument, NULL, 's' },
		{ "stdio", no_argument, NULL, 'S' },
		{ "pcsc", no_argument, NULL, 'P' },
		{ "vpcd", required_argument, NULL, 'v' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct hced_frontend_ops *fe = NULL;
	struct hced_frontend_opts fe_opts = { 0 };
	struct rlimit no_core = { 0, 0 };
	struct hce_vault_cfg cfg = { 0 };
	const char *db = NULL, *pin_file = NULL;
	struct hce_store *st = NULL;
	struct hce_vault *v = NULL;
	struct hce_purse *purse = NULL;
	enum hced_log_level level;
	char err[HCE_VAULT_ERR_MAX > HCE_STORE_ERR_MAX ? HCE_VAULT_ERR_MAX : HCE_STORE_ERR_MAX];
	char pin[HCE_VAULT_PIN_MAX + 1];
	int pin_fd = -1, pin_len = 0, c, ret, rc = 0;
	long lv;
	char *end;

	cfg.device_secret = getenv("HCE_DEVICE_SECRET");
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			db = optarg;
			break;
		case 'f':
			pin_file = optarg;
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
			cfg.device_secret = optarg;
			break;
		case 'S':
		case 'P':
			if (fe) {
				fprintf(stderr, "hced: give one front end\n");
				return 1;
			}
			fe = c == 'S' ? &hced_fe_stdio : &hced_fe_pcsc;
			break;
		case 'v':
			fe_opts.vpcd = optarg;
			break;
		case 'l':
			if (hced_log_parse_level(optarg, &level)) {
				fprintf(stderr, "hced: --log-level: error, warn, info or debug\n");
				return 1;
			}
			hced_log_set_level(level);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc || !db || !fe || (pin_file && pin_fd >= 0) ||
	    (fe_opts.vpcd && fe != &hced_fe_pcsc)) {
		usage(stderr);
		return 1;
	}

	/* This process holds card keys: no core dumps, no ptrace by other users. */
	if (prctl(PR_SET_DUMPABLE, 0) || setrlimit(RLIMIT_CORE, &no_core))
		hced_warn("cannot disable core dumps: %s", strerror(errno));
	if (install_signals()) {
		hced_err("cannot install signal handlers: %s", strerror(errno));
		return 4;
	}

	ret = hce_store_open(db, 0, &st, err);
	if (ret) {
		hced_err("%s: %s", db, err);
		return 2;
	}
	ret = hce_vault_open(db, &cfg, &v, err);
	if (ret) {
		hced_err("vault: %s", err);
		rc = 3;
		goto out;
	}
	if (pin_file || pin_fd >= 0) {
		pin_len = hce_vault_read_pin(pin_file, pin_fd, pin);
		if (pin_len < 0) {
			hced_err("cannot read the PIN from %s: %s", pin_file ? pin_file : "--pin-fd",
				 pin_len == -EINVAL ? "must be one line of 4..64 bytes" :
				 strerror(-pin_len));
			rc = 3;
			goto out;
		}
	}
	ret = hce_vault_unlock(v, pin_len ? pin : NULL, (size_t)pin_len);
	hce_wipe(pin, sizeof(pin));
	if (ret) {
		hced_err("vault: %s", hce_vault_errmsg(v));
		rc = 3;
		goto out;
	}
	hced_info("keys unlocked (held in locked memory)");
	ret = hce_purse_open(st, hce_vault_keys(v), &purse);
	if (ret) {
		hced_err("purse: cannot open the card in %s: %s", db, strerror(-ret));
		rc = 2;
		goto out;
	}
	hced_info("serving %s through %s", hce_purse_app(purse)->ops->name, fe->name);
	ret = fe->run(hce_purse_app(purse), &fe_opts);
	if (ret)
		rc = 4;
	if (hced_stop)
		hced_info("stopping on signal");
out:
	hce_purse_close(purse);
	if (v) {
		hce_vault_close(v);	/* wipes the keys */
		hced_info("keys wiped");
	}
	hce_store_close(st);
	return rc;
}
