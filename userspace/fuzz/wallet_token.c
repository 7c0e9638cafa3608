// SPDX-License-Identifier: GPL-2.0
/*
 * wallet_token.c - libFuzzer target for the wallet's TOKEN parser (lib/wallet/parse.c,
 * issuer-protocol.md). Input: arbitrary bytes as the issuer's answer. Checks the documented
 * contract of an accepted token: validity ordered, balance within -overdraft..max (and a
 * signed 32-bit value), overdraft fits the
 * 3-byte field, EF 0015 carries the serial; a refusal always says why.
 */
#include <string.h>

#include "fuzz.h"
#include "wallet/wallet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hce_wallet_token t;
	char why[160] = "";

	if (size > 16384)
		return 0;
	if (hce_wallet_token_parse((const char *)data, size, &t, why, sizeof(why))) {
		FUZZ_CHECK(why[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(t.not_after > t.not_before);
	FUZZ_CHECK(t.balance <= t.max_balance);
	FUZZ_CHECK(t.balance >= -(int64_t)t.overdraft && t.balance <= 0x7fffffff);
	FUZZ_CHECK(t.overdraft <= 0xffffff);
	FUZZ_CHECK(!memcmp(t.ef0015 + 10, t.serial, sizeof(t.serial)));
	return 0;
}
