// SPDX-License-Identifier: GPL-2.0
/*
 * issuer_sealed.c - libFuzzer target for the other issuer inputs parsed from JSON bodies and
 * headers (issuer/issuer.h): the SEALED object a wallet opens, the INITIALIZE FOR LOAD answer
 * of /v1/wallet/load/mac2, request signatures (X-HCE-Signature base64) and request ids.
 *
 * Input: byte 0 selects the parser, the rest is its input. Contract checked: unseal never
 * succeeds on an object this run did not seal (AES-GCM tag) and never writes past the output
 * capacity; a decoded key blob only holds kinds 1..3 within the slot limits; the load answer
 * parses exactly at 16 bytes; a signature not made by the key never verifies; request ids
 * follow the documented grammar.
 */
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "fuzz.h"
#include "issuer/issuer.h"

static EVP_PKEY *key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return key ? 0 : -1;
}

static int reqid_model(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", s[i]))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t serial[10] = { 0x31, 0x05, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t out[64 + 16];
	char *s;
	size_t n;

	if (!size)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0: {
		json_t *o = json_loads(s, 0, NULL);

		if (o) {
			memset(out + 64, 0xA5, 16);
			FUZZ_CHECK(hce_iss_unseal(key, serial, o, out, 64, &n) == -1);
			FUZZ_CHECK(out[64] == 0xA5 && out[79] == 0xA5);
			json_decref(o);
		}
		break;
	}
	case 1: {
		struct hce_card_keys k;
		struct hce_iss_load_init li;
		size_t i, dpk = 0;

		if (!hce_iss_keys_decode(data + 1, size - 1, &k)) {
			FUZZ_CHECK((size - 1) % HCE_ISS_SEAL_ENTRY == 0);
			for (i = 0; i < HCE_KEY_SLOTS; i++)
				dpk += k.dpk[i].present;
			FUZZ_CHECK(dpk <= HCE_KEY_SLOTS);
			hce_card_keys_wipe(&k);
		}
		FUZZ_CHECK((hce_iss_load_init_parse(data + 1, size - 1, &li) == 0) == (size - 1 == 16));
		break;
	}
	case 2:
		FUZZ_CHECK(hce_iss_verify(key, "HCE1\nPOST\n/v1/x\ndev:1\nr\n1\n00", s) == 0);
		break;
	default:
		FUZZ_CHECK(hce_iss_reqid_ok(s) == reqid_model(s));
		break;
	}
	free(s);
	return 0;
}
