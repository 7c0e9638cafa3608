// SPDX-License-Identifier: GPL-2.0
/*
 * wallet.c - hcectl's wallet commands (enrol, token, sync, cap), run here with lib/wallet on
 * the card file hced serves (SQLite: the card's own transactions keep the two apart).
 * Documentation/wallet.md; the wallet config: --wallet-conf (default HCECTL_WALLET_CONF).
 */
#include "hcectl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "ctl/ctl.h"
#include "profile/conf.h"
#include "wallet/wallet.h"

static void money(char *out, size_t cap, int64_t fen)
{
	int64_t a = fen < 0 ? -fen : fen;

	snprintf(out, cap, "%s%" PRId64 ".%02" PRId64, fen < 0 ? "-" : "", a / 100, a % 100);
}

static int code_of(int ret)
{
	if (!ret)
		return HCE_CTL_EXIT_OK;
	if (ret == -EINVAL)
		return HCE_CTL_EXIT_USAGE;
	if (ret == -EIO)
		return HCE_CTL_EXIT_CONNECT;
	return HCE_CTL_EXIT_FAILED;
}

static int show(struct hce_wallet *w, bool cap_only)
{
	struct hce_wallet_status s;
	char a[32], b[32], c[32];
	int64_t now = time(NULL);
	int ret = hce_wallet_status(w, &s);

	if (ret) {
		fprintf(stderr, "hcectl: %s\n", hce_wallet_errmsg(w));
		return code_of(ret);
	}
	if (!s.enrolled) {
		fprintf(stderr, "hcectl: not enrolled (hcectl enrol CODE)\n");
		return HCE_CTL_EXIT_FAILED;
	}
	money(a, sizeof(a), s.offline.spent);
	money(b, sizeof(b), s.offline.cap_amount);
	printf("offline-spent %s\noffline-cap %s\noffline-fares %u\noffline-fares-cap %u\n", a, b,
	       s.offline.count, s.offline.cap_count);
	if (s.offline.count >= s.offline.cap_count || s.offline.spent >= s.offline.cap_amount)
		printf("offline-reason the offline cap is reached: fares are refused (6985) until "
		       "the next sync\n");
	if (cap_only)
		return HCE_CTL_EXIT_OK;
	money(a, sizeof(a), s.card_balance);
	printf("device %s\naccount %s\ntoken %s\ntoken-state %s\nnot-after %" PRId64 "\n",
	       s.device_id, s.account_id, s.serial, s.state[0] ? s.state : "unknown", s.not_after);
	if (now > s.not_after)
		printf("token-reason expired: the card refuses value commands (6A81) until "
		       "renewed\n");
	printf("card-balance %s\nunsynced-records %zu\n", a, s.outbox);
	if (s.last_sync) {
		money(b, sizeof(b), s.account_balance);
		money(c, sizeof(c), s.expected_balance);
		printf("last-sync-age %" PRId64 "\naccount-balance %s\nexpected-card-balance %s\n",
		       now - s.last_sync, b, c);
		if (s.expected_balance != (int64_t)s.card_balance)
			printf("discrepancy card %s, issuer expects %s (reported)\n", a, c);
	}
	if (s.pending_load[0])
		printf("load-pending %s\n", s.pending_load);
	return HCE_CTL_EXIT_OK;
}

int hcectl_wallet(const char *conf_path, int argc, char **argv, const char *pin, size_t pin_len)
{
	struct hce_wallet_cfg cfg;
	struct hce_conf conf;
	struct hce_wallet *w = NULL;
	char err[HCE_WALLET_ERR_MAX];
	const char *cmd = argv[0];
	int rc, ret;

	memset(&conf, 0, sizeof(conf));
	if (hce_wallet_cfg_load(conf_path, &conf, &cfg, err, sizeof(err))) {
		fprintf(stderr, "hcectl: wallet config: %s\n", err);
		hce_conf_free(&conf);
		return HCE_CTL_EXIT_USAGE;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ret = hce_wallet_open(&cfg, &w, err);
	if (ret) {
		fprintf(stderr, "hcectl: %s\n", err);
		rc = HCE_CTL_EXIT_FAILED;
	} else if (!strcmp(cmd, "token") || !strcmp(cmd, "cap")) {
		rc = argc == 1 ? show(w, !strcmp(cmd, "cap")) : HCE_CTL_EXIT_USAGE;
	} else if (!strcmp(cmd, "sync")) {
		struct hce_wallet_sync r;
		char a[32], b[32], c[32];

		ret = hce_wallet_sync(w, &r);
		if (ret) {
			fprintf(stderr, "hcectl: sync: %s\n", hce_wallet_errmsg(w));
			rc = code_of(ret);
		} else {
			money(a, sizeof(a), r.account_balance);
			money(b, sizeof(b), r.card_balance);
			money(c, sizeof(c), r.expected_balance);
			printf("sent %zu\ncleared %zu\nrejected %zu\ncap %s\ntoken-state %s\n"
			       "account-balance %s\ncard-balance %s\nexpected-card-balance %s\n"
			       "pending-loads %zu\n", r.uploaded, r.acknowledged, r.rejected,
			       r.cap_restored ? "restored" : "not-restored", r.state, a, b, c,
			       r.pending_loads);
			if (r.discrepancy || r.rejected)
				printf("discrepancy reported to the issuer\n");
			rc = HCE_CTL_EXIT_OK;
		}
	} else if (!strcmp(cmd, "enrol")) {
		if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "keep-pin"))) {
			fprintf(stderr, "hcectl: enrol CODE [keep-pin]\n");
			rc = HCE_CTL_EXIT_USAGE;
		} else {
			ret = hce_wallet_enrol(w, argv[1], pin, pin_len, argc == 3);
			if (ret)
				fprintf(stderr, "hcectl: enrol: %s\n", hce_wallet_errmsg(w));
			else
				printf("enrolled\n");
			rc = code_of(ret);
		}
	} else {
		rc = HCE_CTL_EXIT_USAGE;
	}
	hce_wallet_close(w);
	hce_conf_free(&conf);
	curl_global_cleanup();
	return rc;
}
