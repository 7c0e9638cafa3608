// SPDX-License-Identifier: GPL-2.0
/*
 * wallet_sync_rsp.c - libFuzzer target for the wallet's parser of the issuer's sync answer
 * (lib/wallet/parse.c). Input: byte 0 = number of records the wallet sent (0..255), the rest
 * the answer. Checks: an accepted answer has exactly one result per record sent, each
 * classified; cap_restored only when every record cleared; token state one of the three.
 */
#include <string.h>

#include "fuzz.h"
#include "wallet/wallet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hce_wallet_sync_rsp r;
	char why[160] = "";
	size_t sent, i;

	if (size < 1 || size > 65536)
		return 0;
	sent = data[0];
	if (hce_wallet_sync_rsp_parse((const char *)data + 1, size - 1, sent, &r, why,
				      sizeof(why))) {
		FUZZ_CHECK(why[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(r.n_results == sent);
	for (i = 0; i < sent; i++) {
		FUZZ_CHECK(r.result[i] == 1 || r.result[i] == 2);
		if (r.cap_restored)
			FUZZ_CHECK(r.result[i] == 1);
	}
	FUZZ_CHECK(!strcmp(r.state, "active") || !strcmp(r.state, "revoked") ||
		   !strcmp(r.state, "expired"));
	return 0;
}
