// SPDX-License-Identifier: GPL-2.0
/*
 * apps.c - the applications hced serves ([apps] in the configuration).
 *
 * The purse alone is served directly (exactly what it answers by itself). With the NDEF Type 4
 * Tag configured (ndef-uri / ndef-text / ndef-message), both go behind the AID router
 * (Documentation/router.md): the purse under its card's EP AID in the payment category (label
 * "EP", priority 1, listed in the PPSE/PSE the router builds) with file ids 3F00 and 1001 for
 * FID-first readers; the tag under D2760000850101 in the "other" category; the default
 * application (implicitly selected) from [apps] default (purse when served).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "hced.h"
#include "log.h"
#include "ndef/ndef.h"
#include "purse/purse.h"
#include "router/router.h"
#include "store/store.h"

static struct hce_router *router;
static struct hce_app *ndef;

static int build_ndef(uint8_t *msg, size_t cap, size_t *len)
{
	const struct hced_conf *cf = &hced.conf;

	if (cf->ndef_uri[0])
		return hce_ndef_build_uri(cf->ndef_uri, msg, cap, len);
	if (cf->ndef_text[0])
		return hce_ndef_build_text(cf->ndef_lang[0] ? cf->ndef_lang : "en", cf->ndef_text,
					   msg, cap, len);
	memcpy(msg, cf->ndef_msg, cf->ndef_msg_len);
	*len = cf->ndef_msg_len;
	return 0;
}

int hced_apps_open(struct hce_app *purse_app)
{
	const struct hced_conf *cf = &hced.conf;
	static const uint16_t fids[] = { 0x3F00, 0x1001 };
	struct hce_app *dflt = NULL;
	struct hce_card_data cd;
	struct hce_aid ep, tag;
	uint8_t msg[2 * HCED_PATH_MAX + 16];
	char err[256];
	size_t len;
	int rc;

	snprintf(hced.apps, sizeof(hced.apps), "%s", purse_app ? "purse" : "");
	if (!cf->ndef_uri[0] && !cf->ndef_text[0] && !cf->ndef_msg_len) {
		if (!purse_app) {
			hced_err("apps: nothing to serve ([apps] purse = no and no NDEF message)");
			return -EINVAL;
		}
		hced.app = purse_app;
		return 0;
	}
	rc = build_ndef(msg, sizeof(msg), &len);
	if (rc) {
		hced_err("apps: cannot build the NDEF message: %s", strerror(-rc));
		return rc;
	}
	rc = hce_ndef_app_new(msg, len, &ndef, err, sizeof(err));
	if (rc) {
		hced_err("apps: NDEF message refused: %s", rc == -EBADMSG ? err : strerror(-rc));
		return rc;
	}
	rc = hce_router_new(&router);
	if (rc)
		return rc;
	if (purse_app) {
		struct hce_aid_group g = { HCE_AID_PAYMENT, "EP", 1, &ep, 1 };

		rc = hce_store_card(hced.st, &cd);
		if (rc) {
			hced_err("apps: cannot read the card's AID: %s", strerror(-rc));
			return rc;
		}
		memset(&ep, 0, sizeof(ep));
		ep.len = (uint8_t)cd.aid_len;
		memcpy(ep.b, cd.aid, cd.aid_len);
		hce_wipe(&cd, sizeof(cd));
		rc = hce_router_add(router, purse_app, &g, 1, err, sizeof(err));
		if (!rc)
			rc = hce_router_add_fids(router, purse_app, fids, 2, err, sizeof(err));
		if (rc) {
			hced_err("apps: purse: %s", err);
			return rc;
		}
	}
	{
		struct hce_aid_group g = { HCE_AID_OTHER, NULL, 0, &tag, 1 };

		memset(&tag, 0, sizeof(tag));
		tag.len = HCE_NDEF_AID_LEN;
		memcpy(tag.b, hce_ndef_aid, HCE_NDEF_AID_LEN);
		rc = hce_router_add(router, ndef, &g, 1, err, sizeof(err));
		if (rc) {
			hced_err("apps: ndef: %s", err);
			return rc;
		}
	}
	if (!strcmp(cf->app_default, "ndef"))
		dflt = ndef;
	else if (strcmp(cf->app_default, "none"))
		dflt = purse_app;
	if (!strcmp(cf->app_default, "purse") && !purse_app) {
		hced_err("apps: default = purse, but the purse is not served");
		return -EINVAL;
	}
	rc = hce_router_set_default(router, dflt);
	if (rc)
		return rc;
	snprintf(hced.apps, sizeof(hced.apps), "%s%sndef (%zu-byte NDEF message), router",
		 purse_app ? "purse" : "", purse_app ? ", " : "", len);
	hced.app = hce_router_app(router);
	return 0;
}

void hced_apps_close(void)
{
	hce_router_free(router);
	router = NULL;
	hce_ndef_app_free(ndef);
	ndef = NULL;
}

const char *hced_apps_current(void)
{
	const struct hce_app *a;

	if (!router)
		return NULL;
	a = hce_router_current(router);
	return a ? a->ops->name : "none";
}
