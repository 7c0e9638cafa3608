// SPDX-License-Identifier: GPL-2.0
/*
 * hced_conf.c - libFuzzer target for hced's configuration parser (ctl/hconf.h) and its own
 * value parsers beyond profile/conf.h (device designation, HOST:PORT, UID, levels).
 *
 * Input: a configuration text (exact-size buffer). Checks: a failure leaves the config
 * empty and gives a "fuzz.conf:LINE: " message; a success gives values inside their bounds
 * (UID 4/7/10 bytes not starting with 88, FSCI <= 8, FWI/SFGI <= 14, WTX <= 60, at most 15
 * historical bytes, NUL-terminated strings, a device designation and vpcd address that the
 * helpers accept again, an absolute or "none" socket path), and merging it over an empty
 * configuration reproduces it.
 */
#include <string.h>

#include "ctl/hconf.h"
#include "fuzz.h"

static const char name[] = "fuzz.conf";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hced_conf cf, merged;
	char err[HCE_CONF_ERR_MAX], host[HCED_NAME_MAX];
	unsigned int idx, port;
	const struct hce_nfcnl_listen *l = &cf.listen;

	if (hced_conf_parse(&cf, name, (const char *)data, size, err, sizeof(err))) {
		FUZZ_CHECK(!strncmp(err, name, strlen(name)) && err[strlen(name)] == ':');
		FUZZ_CHECK(cf.frontend == HCED_FE_UNSET && !cf.card_db[0] && !l->has_uid);
		return 0;
	}
	FUZZ_CHECK(memchr(cf.card_db, 0, sizeof(cf.card_db)) &&
		   memchr(cf.nfc_device, 0, sizeof(cf.nfc_device)) &&
		   memchr(cf.ctl_socket, 0, sizeof(cf.ctl_socket)));
	if (l->has_uid && !l->uid_random)
		FUZZ_CHECK((l->uid_len == 4 || l->uid_len == 7 || l->uid_len == 10) &&
			   l->uid[0] != 0x88);
	FUZZ_CHECK(!l->has_fsci || l->fsci <= 8);
	FUZZ_CHECK(!l->has_fwi || l->fwi <= 14);
	FUZZ_CHECK(!l->has_sfgi || l->sfgi <= 14);
	FUZZ_CHECK(!l->has_wtx_max || l->wtx_max <= 60);
	FUZZ_CHECK(!l->has_hist || l->hist_len <= 15);
	FUZZ_CHECK(hced_conf_device(cf.nfc_device, &idx) >= 0);
	FUZZ_CHECK(!cf.vpcd[0] || !hced_conf_hostport(cf.vpcd, host, sizeof(host), &port));
	FUZZ_CHECK(!cf.ctl_socket[0] || cf.ctl_socket[0] == '/' || !strcmp(cf.ctl_socket, "none"));
	FUZZ_CHECK(cf.log_level >= -1 && cf.log_level <= 3);
	FUZZ_CHECK(cf.trace_on != 1 || cf.trace_file[0]);
	hced_conf_init(&merged);
	hced_conf_merge(&merged, &cf);
	FUZZ_CHECK(!memcmp(&merged, &cf, sizeof(cf)));
	return 0;
}
