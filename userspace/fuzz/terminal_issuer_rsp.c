// SPDX-License-Identifier: GPL-2.0
/*
 * terminal_issuer_rsp.c - libFuzzer target for the terminal's parsers of the issuer's answers
 * (lib/terminal/upload.c): the batch answer and the deny list. Input: byte 0 = number of
 * records the terminal sent (1..255; 0 selects the deny list parser), the rest the JSON
 * answer. Checks: an accepted batch answer classifies every record sent exactly once; an
 * accepted deny list has a version >= 0, at most HCE_TERM_DENY_MAX serials, sorted; a refused
 * one leaves nothing behind.
 */
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "terminal/upload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hce_term_denylist dl;
	uint8_t result[255];
	json_error_t je;
	json_t *body;
	size_t n, i;

	if (size < 1 || size > 262144)
		return 0;
	n = data[0];
	body = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, &je);
	if (!body)
		return 0;
	if (n) {
		if (hce_term_upload_results_parse(body, n, result) == 0) {
			for (i = 0; i < n; i++)
				FUZZ_CHECK(result[i] >= HCE_TERM_UP_ACCEPTED &&
					   result[i] <= HCE_TERM_UP_UNKNOWN_CARD);
		} else {
			for (i = 0; i < n; i++)
				FUZZ_CHECK(result[i] == HCE_TERM_UP_NONE);
		}
	} else if (hce_term_denylist_parse(body, &dl) == 0) {
		FUZZ_CHECK(dl.version >= 0 && dl.n <= HCE_TERM_DENY_MAX);
		for (i = 1; i < dl.n; i++)
			FUZZ_CHECK(memcmp(dl.serial[i - 1], dl.serial[i], HCE_ISS_SERIAL_LEN) <= 0);
	} else {
		FUZZ_CHECK(dl.n == 0 && dl.version == 0);
	}
	json_decref(body);
	return 0;
}
