// SPDX-License-Identifier: GPL-2.0
/* hex.c - hexadecimal text <-> bytes; see hex.h. */
#include "codec/hex.h"

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

ssize_t hce_hex_decode(const char *text, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *text; text++) {
		int v;

		if (*text == ' ' || *text == '\t' || *text == ':') {
			if (hi >= 0)
				return -1;	/* separator inside a byte */
			continue;
		}
		v = nibble(*text);
		if (v < 0)
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		return -1;
	return (ssize_t)n;
}

int hce_hex_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i;

	if (cap < 1 || (cap - 1) / 2 < len) {
		if (cap)
			out[0] = '\0';
		return -1;
	}
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
	return 0;
}
