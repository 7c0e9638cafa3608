// SPDX-License-Identifier: GPL-2.0
/*
 * psam_blob.c - libFuzzer target for the PSAM key blob parser (hsm/blob.h), the one input of
 * hce-psam import that comes from outside (the issuer's psam-export, carried by hand).
 *
 * Input: the blob text (in an exact-size buffer so ASan sees any read past it). Contract
 * checked: an error has the "name:line: " form and leaves the struct zeroed; a parsed blob
 * has a purchase master key label whose number is its index, alg 00, a wrapped key of
 * 256..384 bytes; formatting it and parsing the text again gives the same blob (the format
 * is the parser's exact inverse on what it accepts).
 */
#include <string.h>

#include "fuzz.h"
#include "hsm/blob.h"

static const char name[] = "fuzz.blob";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct hce_psam_blob zero;
	struct hce_psam_blob b, b2;
	char err[512], text[HCE_BLOB_TEXT_MAX];
	char *in = malloc(size ? size : 1);

	FUZZ_CHECK(in);
	memcpy(in, data, size);
	if (hce_psam_blob_parse(&b, name, in, size, err, sizeof(err))) {
		FUZZ_CHECK(strncmp(err, name, strlen(name)) == 0 && err[strlen(name)] == ':');
		FUZZ_CHECK(memcmp(&b, &zero, sizeof(b)) == 0);
		free(in);
		return 0;
	}
	free(in);
	FUZZ_CHECK(hce_psam_blob_label_index(b.label) == b.index && b.index >= 1);
	FUZZ_CHECK(b.alg == 0x00);
	FUZZ_CHECK(b.wrapped_len >= HCE_BLOB_WRAPPED_MIN && b.wrapped_len <= sizeof(b.wrapped));
	FUZZ_CHECK(hce_psam_blob_format(&b, text, sizeof(text)) == 0);
	FUZZ_CHECK(hce_psam_blob_parse(&b2, name, text, strlen(text), err, sizeof(err)) == 0);
	FUZZ_CHECK(memcmp(&b, &b2, sizeof(b)) == 0);
	return 0;
}
