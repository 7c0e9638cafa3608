// SPDX-License-Identifier: GPL-2.0
/*
 * conf.c - the wallet's config file (wallet.h hce_wallet_cfg_load, Documentation/wallet.md).
 */
#include "wallet/wallet.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile/conf.h"

int hce_wallet_cfg_load(const char *path, struct hce_conf *c, struct hce_wallet_cfg *cfg,
			char *err, size_t errlen)
{
	const char *url = NULL, *cacert = NULL, *dir = NULL, *card = NULL, *profile = NULL;
	const char *secret = NULL;
	uint64_t log2n = 0, timeout = 0, margin = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (hce_conf_load(c, path) ||
	    hce_conf_get_text(c, "wallet", "url", true, 200, &url) < 0 ||
	    hce_conf_get_text(c, "wallet", "cacert", true, 400, &cacert) < 0 ||
	    hce_conf_get_text(c, "wallet", "dir", true, 400, &dir) < 0 ||
	    hce_conf_get_text(c, "wallet", "card", true, 400, &card) < 0 ||
	    hce_conf_get_text(c, "wallet", "profile", false, 400, &profile) < 0 ||
	    hce_conf_get_text(c, "wallet", "device-secret", false, 400, &secret) < 0 ||
	    hce_conf_get_uint(c, "wallet", "scrypt-log2n", false, 10, 20, &log2n) < 0 ||
	    hce_conf_get_uint(c, "wallet", "timeout", false, 1, 600, &timeout) < 0 ||
	    hce_conf_get_uint(c, "wallet", "renew-margin", false, 60, 86400 * 30, &margin) < 0 ||
	    hce_conf_check_unused(c)) {
		snprintf(err, errlen, "%s", hce_conf_error(c));
		return -EINVAL;
	}
	if (strncmp(url, "https://", 8)) {
		snprintf(err, errlen, "%s: [wallet] url must be https://", path);
		return -EINVAL;
	}
	cfg->url = url;
	cfg->cacert = cacert;
	cfg->dir = dir;
	cfg->card = card;
	cfg->profile = profile;
	cfg->device_secret = secret;
	cfg->log2n = (unsigned int)log2n;
	cfg->timeout = (long)timeout;
	cfg->renew_margin = (long)margin;
	return 0;
}
