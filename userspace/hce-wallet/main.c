// SPDX-License-Identifier: GPL-2.0
/*
 * hce-wallet - the wallet's side of hce-issuer from the command line (lib/wallet,
 * Documentation/wallet.md): enrol, token status, sync now, offline cap, issuer loads, renew.
 * hced/hcectl call the same library; this program is what scripts and the test suites drive.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <time.h>

#include <curl/curl.h>

#include "profile/conf.h"
#include "purse/purse.h"
#include "store/store.h"
#include "vault/vault.h"
#include "wallet/http.h"
#include "wallet/wallet.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hce-wallet [--config F] --dir D --card DB [--url U --cacert PEM] [--profile P]\n"
		"                  [--device-secret PATH] [--scrypt-log2n N] [--pin-file F]\n"
		"                  COMMAND\n"
		"  --config F: the [wallet] file hcectl uses (Documentation/wallet.md); options given\n"
		"  here override it.\n"
		"Commands:\n"
		"  enrol CODE [--keep-pin]   enrol this device, install the token as the card\n"
		"  status                    token, card balance, offline cap, unsynced records\n"
		"  cap                       the offline cap alone (amount/count used and allowed)\n"
		"  sync                      upload records, receive balance and a fresh cap\n"
		"  loads [--wait S]          take pending issuer loads onto the card (long poll S s)\n"
		"  renew [--force]           renew the token (when due, or now)\n"
		"  watch [--wait S] [--rounds N]\n"
		"                            keep in step beside hced: sync when records wait (a fare\n"
		"                            ends the long poll within ~1 s) or every S s, long-poll\n"
		"                            the issuer S s for\n"
		"                            loads and put them on the card (keys: --pin-file or the\n"
		"                            kept PIN), renew when due (--pin-file); N rounds (0: ever)\n"
		"Exit codes: 0 done; 1 usage; 2 issuer refused; 3 transport (retry); 4 card/vault;\n"
		"  5 not enrolled; 6 sync done but a discrepancy or rejected record was reported.\n");
}

static int exit_of(int ret)
{
	switch (ret) {
	case 0:
		return 0;
	case -EACCES:
		return 2;
	case -EIO:
		return 3;
	case -ENOENT:
		return 5;
	case -EINVAL:
		return 1;
	default:
		return 4;
	}
}

static void money(char *out, size_t cap, int64_t fen)
{
	snprintf(out, cap, "%s%" PRId64 ".%02" PRId64, fen < 0 ? "-" : "",
		 (fen < 0 ? -fen : fen) / 100, (fen < 0 ? -fen : fen) % 100);
}

static int cmd_status(struct hce_wallet *w, bool cap_only)
{
	struct hce_wallet_status s;
	char a[32], b[32], c[32];
	int ret = hce_wallet_status(w, &s);
	int64_t now = time(NULL);

	if (ret) {
		fprintf(stderr, "hce-wallet: %s\n", hce_wallet_errmsg(w));
		return exit_of(ret);
	}
	if (!s.enrolled) {
		printf("not enrolled\n");
		return 5;
	}
	money(a, sizeof(a), s.offline.spent);
	money(b, sizeof(b), s.offline.cap_amount);
	printf("offline %s of %s, %u of %u fares since the last sync\n", a, b, s.offline.count,
	       s.offline.cap_count);
	if (cap_only)
		return 0;
	money(a, sizeof(a), s.card_balance);
	money(b, sizeof(b), s.account_balance);
	money(c, sizeof(c), s.expected_balance);
	printf("device %s account %s\ntoken %s state %s valid until %" PRId64 " (%s)\n",
	       s.device_id, s.account_id, s.serial, s.state[0] ? s.state : "unknown", s.not_after,
	       now > s.not_after ? "EXPIRED: the card refuses to pay" : "valid");
	printf("card balance %s\nunsynced records %zu\n", a, s.outbox);
	if (s.last_sync)
		printf("last sync %" PRId64 " s ago: account %s, card expected %s%s\n",
		       now - s.last_sync, b, c,
		       s.expected_balance != (int64_t)s.card_balance ?
		       " (DISCREPANCY reported to the issuer)" : "");
	else
		printf("never synced\n");
	if (s.pending_load[0])
		printf("load %s credited, confirmation pending\n", s.pending_load);
	return 0;
}

static int cmd_sync(struct hce_wallet *w)
{
	struct hce_wallet_sync r;
	char a[32], b[32], c[32];
	int ret = hce_wallet_sync(w, &r);

	if (ret) {
		fprintf(stderr, "hce-wallet: sync failed: %s\n", hce_wallet_errmsg(w));
		return exit_of(ret);
	}
	money(a, sizeof(a), r.account_balance);
	money(b, sizeof(b), r.card_balance);
	money(c, sizeof(c), r.expected_balance);
	printf("sync: %zu records sent, %zu cleared, %zu rejected; cap %s; token %s\n",
	       r.uploaded, r.acknowledged, r.rejected, r.cap_restored ? "restored" : "NOT restored",
	       r.state);
	printf("account %s, card %s, issuer expects %s%s; %zu loads pending\n", a, b, c,
	       r.discrepancy ? " (DISCREPANCY)" : "", r.pending_loads);
	return r.rejected || r.discrepancy ? 6 : 0;
}

static volatile sig_atomic_t stop;

/*
 * watch: the long poll is abandoned (lib/wallet/http.h, checked about once a second) when the
 * outbox holds more records than when the poll began, i.e. a fare was made meanwhile, or on
 * SIGTERM; the next round then syncs at once. Records the issuer rejected stay in the outbox
 * without cancelling anything (only growth counts).
 */
struct fare_watch {
	struct hce_store *st;
	size_t at_start;
	struct hce_store_outrec *buf;	/* at_start + 1 records */
};

static int fare_made(void *arg)
{
	struct fare_watch *fw = arg;
	size_t n = 0;

	if (stop)
		return 1;
	if (!fw->buf || hce_store_outbox(fw->st, fw->buf, fw->at_start + 1, &n))
		return 0;
	return n > fw->at_start;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_loads(struct hce_wallet *w, const char *card, const char *secret,
		     unsigned int log2n, const char *pin_file, unsigned int wait,
		     unsigned long rounds, bool watch)
{
	struct hce_vault_cfg vc = { .device_secret = secret, .log2n = log2n };
	char err[HCE_VAULT_ERR_MAX > HCE_STORE_ERR_MAX ? HCE_VAULT_ERR_MAX : HCE_STORE_ERR_MAX];
	char pin[HCE_VAULT_PIN_MAX + 1];
	struct hce_store *st = NULL;
	struct hce_vault *v = NULL;
	struct hce_purse *p = NULL;
	unsigned int n = 0;
	uint32_t amount = 0;
	int ret, pl = 0;

	ret = hce_store_open(card, 0, &st, err);
	if (!ret)
		ret = hce_vault_open(card, &vc, &v, err);
	if (ret) {
		fprintf(stderr, "hce-wallet: %s\n", err);
		goto out;
	}
	if (pin_file) {
		pl = hce_vault_read_pin(pin_file, -1, pin);
		if (pl < 0) {
			fprintf(stderr, "hce-wallet: cannot read the PIN\n");
			ret = pl;
			goto out;
		}
	}
	ret = hce_vault_unlock(v, pin_file ? pin : NULL, (size_t)pl);
	if (ret) {
		fprintf(stderr, "hce-wallet: vault: %s\n", hce_vault_errmsg(v));
		goto out;
	}
	ret = hce_purse_open(st, hce_vault_keys(v), &p);
	if (ret) {
		fprintf(stderr, "hce-wallet: purse: %s\n", strerror(-ret));
		goto out;
	}
	if (!watch) {
		ret = hce_wallet_loads(w, hce_purse_app(p), wait, &n, &amount);
		if (ret)
			fprintf(stderr, "hce-wallet: loads: %s\n", hce_wallet_errmsg(w));
		printf("loads: %u applied, %u.%02u\n", n, amount / 100, amount % 100);
		goto out;
	}
	/*
	 * watch: one round = sync when records wait or the last sync is older than wait,
	 * then a long poll for loads. Transport failures are logged and retried next round
	 * (request ids make the retry safe); a refusal by the issuer ends the watch.
	 */
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	for (unsigned long i = 0; !stop && (!rounds || i < rounds); i++) {
		struct hce_wallet_status s;
		struct hce_wallet_sync r;

		ret = hce_wallet_status(w, &s);
		if (!ret && (s.outbox || time(NULL) - s.last_sync >= (time_t)wait)) {
			ret = hce_wallet_sync(w, &r);
			if (!ret)
				printf("sync: %zu sent, %zu cleared, cap %s, account %" PRId64
				       ", card %d%s, token %s\n", r.uploaded, r.acknowledged,
				       r.cap_restored ? "restored" : "kept", r.account_balance,
				       r.card_balance, r.discrepancy ? " DISCREPANCY" : "", r.state);
			fflush(stdout);
		}
		if (!ret && pl > 0 && hce_wallet_renew(w, pin, (size_t)pl, false) == 1) {
			printf("renewed\n");
			/* The card file was re-personalised: take the new keys. */
			hce_purse_close(p);
			p = NULL;
			ret = hce_vault_unlock(v, pin, (size_t)pl);
			if (!ret)
				ret = hce_purse_open(st, hce_vault_keys(v), &p);
		}
		if (!ret) {
			struct fare_watch fw = { .st = st };

			n = 0;
			amount = 0;
			ret = hce_wallet_status(w, &s);
			if (!ret) {
				fw.at_start = s.outbox;
				fw.buf = calloc(fw.at_start + 1, sizeof(*fw.buf));
				hce_iss_http_set_cancel(fare_made, &fw);
				ret = hce_wallet_loads(w, hce_purse_app(p), wait, &n, &amount);
				hce_iss_http_set_cancel(NULL, NULL);
				free(fw.buf);
			}
			if (n)
				printf("loads: %u applied, %u.%02u\n", n, amount / 100,
				       amount % 100);
			if (ret == -ECANCELED)
				ret = 0;	/* a fare was made: sync now */
		}
		fflush(stdout);
		if (ret == -EIO) {
			fprintf(stderr, "hce-wallet: watch: %s (retrying)\n", hce_wallet_errmsg(w));
			sleep(wait ? wait : 1);
			ret = 0;
		} else if (ret) {
			fprintf(stderr, "hce-wallet: watch: %s\n", hce_wallet_errmsg(w));
			break;
		}
	}
out:
	memset(pin, 0, sizeof(pin));
	hce_purse_close(p);
	hce_vault_close(v);
	hce_store_close(st);
	return exit_of(ret);
}

/* --config: the [wallet] file (as hcectl's); options given on the command line win. */
static int merge_config(const char *path, struct hce_conf *conf, struct hce_wallet_cfg *cfg)
{
	struct hce_wallet_cfg f;
	char err[256];

	if (hce_wallet_cfg_load(path, conf, &f, err, sizeof(err))) {
		fprintf(stderr, "hce-wallet: %s\n", err);
		return -1;
	}
#define TAKE(field) do { if (!cfg->field) cfg->field = f.field; } while (0)
	TAKE(url);
	TAKE(cacert);
	TAKE(dir);
	TAKE(card);
	TAKE(profile);
	TAKE(device_secret);
	TAKE(log2n);
	TAKE(timeout);
	TAKE(renew_margin);
#undef TAKE
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'o' },
		{ "dir", required_argument, NULL, 'D' },
		{ "card", required_argument, NULL, 'c' },
		{ "url", required_argument, NULL, 'u' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "profile", required_argument, NULL, 'p' },
		{ "device-secret", required_argument, NULL, 's' },
		{ "scrypt-log2n", required_argument, NULL, 'n' },
		{ "pin-file", required_argument, NULL, 'f' },
		{ "keep-pin", no_argument, NULL, 'k' },
		{ "force", no_argument, NULL, 'F' },
		{ "wait", required_argument, NULL, 'w' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hce_wallet_cfg cfg = { .device_secret = getenv("HCE_DEVICE_SECRET") };
	const char *pin_file = NULL, *config = NULL, *cmd;
	struct hce_conf conf = { 0 };
	char pin[HCE_VAULT_PIN_MAX + 1], err[HCE_WALLET_ERR_MAX];
	bool keep_pin = false, force = false;
	unsigned int wait = 0;
	unsigned long rounds = 0;
	struct hce_wallet *w;
	int c, ret, rc, pl;

	prctl(PR_SET_DUMPABLE, 0);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			config = optarg;
			break;
		case 'D':
			cfg.dir = optarg;
			break;
		case 'c':
			cfg.card = optarg;
			break;
		case 'u':
			cfg.url = optarg;
			break;
		case 'C':
			cfg.cacert = optarg;
			break;
		case 'p':
			cfg.profile = optarg;
			break;
		case 's':
			cfg.device_secret = optarg;
			break;
		case 'n':
			cfg.log2n = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			pin_file = optarg;
			break;
		case 'k':
			keep_pin = true;
			break;
		case 'F':
			force = true;
			break;
		case 'w':
			wait = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = strtoul(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (config && merge_config(config, &conf, &cfg)) {
		hce_conf_free(&conf);
		return 1;
	}
	if (optind >= argc || !cfg.dir || !cfg.card || wait > 60) {
		hce_conf_free(&conf);
		usage(stderr);
		return 1;
	}
	cmd = argv[optind++];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = hce_wallet_open(&cfg, &w, err);
	if (ret) {
		fprintf(stderr, "hce-wallet: %s\n", err);
		hce_conf_free(&conf);
		return 4;
	}
	if (!strcmp(cmd, "status") || !strcmp(cmd, "cap")) {
		rc = cmd_status(w, !strcmp(cmd, "cap"));
	} else if (!strcmp(cmd, "sync")) {
		rc = cmd_sync(w);
	} else if (!strcmp(cmd, "loads")) {
		rc = cmd_loads(w, cfg.card, cfg.device_secret, cfg.log2n, pin_file, wait, 0, false);
	} else if (!strcmp(cmd, "watch")) {
		rc = cmd_loads(w, cfg.card, cfg.device_secret, cfg.log2n, pin_file, wait ? wait : 30,
			       rounds, true);
	} else if (!strcmp(cmd, "enrol") || !strcmp(cmd, "renew")) {
		bool enrol = !strcmp(cmd, "enrol");

		pl = pin_file ? hce_vault_read_pin(pin_file, -1, pin) : -EINVAL;
		if (pl < 0 || (enrol && optind >= argc)) {
			fprintf(stderr, "hce-wallet: %s needs --pin-file%s\n", cmd,
				enrol ? " and the enrolment code" : "");
			rc = 1;
		} else {
			ret = enrol ? hce_wallet_enrol(w, argv[optind], pin, (size_t)pl, keep_pin) :
				      hce_wallet_renew(w, pin, (size_t)pl, force);
			if (ret < 0)
				fprintf(stderr, "hce-wallet: %s: %s\n", cmd, hce_wallet_errmsg(w));
			else if (enrol)
				printf("enrolled\n");
			else
				printf("%s\n", ret ? "renewed" : "not due");
			rc = exit_of(ret < 0 ? ret : 0);
		}
		memset(pin, 0, sizeof(pin));
	} else {
		usage(stderr);
		rc = 1;
	}
	hce_wallet_close(w);
	hce_conf_free(&conf);
	curl_global_cleanup();
	return rc;
}
