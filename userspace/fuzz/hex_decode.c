// SPDX-License-Identifier: GPL-2.0
/*
 * hex_decode.c - libFuzzer target for codec/hex.h.
 *
 * Input: arbitrary text. Checks hce_hex_decode() against a model of its documented grammar
 * (hex digit pairs; blanks, tabs and ':' only between pairs; bounded by cap), at two
 * capacities, and the encode/decode round trip.
 */
#include <string.h>

#include "codec/hex.h"
#include "fuzz.h"

/* The documented grammar, written out plainly: returns the byte count or -1. */
static ssize_t model_decode(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0, digits = 0;
	uint8_t cur = 0;

	for (; *s; s++) {
		char c = *s;
		int v;

		if (c == ' ' || c == '\t' || c == ':') {
			if (digits % 2)
				return -1;
			continue;
		}
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -1;
		cur = (uint8_t)(cur << 4 | v);
		if (++digits % 2 == 0) {
			if (n == cap)
				return -1;
			out[n++] = cur;
			cur = 0;
		}
	}
	return digits % 2 ? -1 : (ssize_t)n;
}

static void check_cap(const char *text, size_t cap)
{
	uint8_t *a = malloc(cap + 1), *b = malloc(cap + 1);
	ssize_t na, nb;

	FUZZ_CHECK(a && b);
	na = hce_hex_decode(text, a, cap);
	nb = model_decode(text, b, cap);
	FUZZ_CHECK(na == nb);
	FUZZ_CHECK(na < 0 || (size_t)na <= cap);
	if (na > 0) {
		size_t tcap = 2 * (size_t)na + 1;
		char *t = malloc(tcap);
		uint8_t *c = malloc((size_t)na);

		FUZZ_CHECK(t && c);
		FUZZ_CHECK(memcmp(a, b, (size_t)na) == 0);
		/* Round trip through the encoder: exact capacity works, one less fails with "". */
		FUZZ_CHECK(hce_hex_encode(a, (size_t)na, t, tcap) == 0);
		FUZZ_CHECK(strlen(t) == 2 * (size_t)na);
		FUZZ_CHECK(hce_hex_decode(t, c, (size_t)na) == na);
		FUZZ_CHECK(memcmp(a, c, (size_t)na) == 0);
		FUZZ_CHECK(hce_hex_encode(a, (size_t)na, t, tcap - 1) == -1 && t[0] == '\0');
		free(t);
		free(c);
	}
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	FUZZ_CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	check_cap(text, size / 2 + 1);	/* large enough for any valid input */
	check_cap(text, size / 5);	/* often too small: must fail cleanly, not overflow */
	check_cap(text, 0);
	free(text);
	return 0;
}
