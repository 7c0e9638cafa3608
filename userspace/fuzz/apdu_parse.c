// SPDX-License-Identifier: GPL-2.0
/*
 * apdu_parse.c - libFuzzer target for the C-APDU parser and builders (codec/apdu.h).
 *
 * Input: one C-APDU, parsed from an exact-size copy (ASan sees any read past the end).
 * Checks: the outcome matches a model of ISO 7816-4's seven cases as apdu.h lists them
 * (case, Nc, Ne, data pointer inside the buffer); a malformed APDU gives 6700 and a zeroed
 * struct; hce_capdu_build() re-encodes a parsed APDU to bytes that parse to the same fields,
 * and to the very same bytes when the input was already in the shortest form; and
 * hce_rapdu_build() respects its capacity.
 */
#include <string.h>

#include "codec/apdu.h"
#include "fuzz.h"

struct model {
	int icase;		/* 0: malformed */
	int ext;
	size_t nc, ne, data_off;
};

static struct model classify(const uint8_t *b, size_t len)
{
	struct model m = { 0, 0, 0, 0, 0 };
	size_t body, lc;

	if (len < 4)
		return m;
	body = len - 4;
	if (body == 0) {
		m.icase = 1;
		return m;
	}
	if (body == 1) {
		m.icase = 2;
		m.ne = b[4] ? b[4] : 256;
		return m;
	}
	if (b[4]) {
		lc = b[4];
		if (body == 1 + lc) {
			m.icase = 3;
		} else if (body == 2 + lc) {
			m.icase = 4;
			m.ne = b[len - 1] ? b[len - 1] : 256;
		} else {
			return m;
		}
		m.nc = lc;
		m.data_off = 5;
		return m;
	}
	if (body < 3)
		return m;
	m.ext = 1;
	if (body == 3) {
		m.icase = 2;
		m.ne = ((size_t)b[5] << 8 | b[6]) ? ((size_t)b[5] << 8 | b[6]) : 65536;
		return m;
	}
	lc = (size_t)b[5] << 8 | b[6];
	if (lc && body == 3 + lc) {
		m.icase = 3;
	} else if (lc && body == 5 + lc) {
		size_t le = (size_t)b[len - 2] << 8 | b[len - 1];

		m.icase = 4;
		m.ne = le ? le : 65536;
	} else {
		m.icase = 0;
		return m;
	}
	m.nc = lc;
	m.data_off = 7;
	return m;
}

static void check_rapdu(const uint8_t *data, size_t size)
{
	uint8_t out[300];
	size_t n = size > 256 ? 256 : size, cap, r;
	uint16_t sw = size >= 2 ? (uint16_t)(data[0] << 8 | data[1]) : 0x9000;

	for (cap = n; cap <= n + 3 && cap <= sizeof(out); cap++) {
		memset(out, 0xEE, sizeof(out));
		r = hce_rapdu_build(out, cap, data, n, sw);
		if (cap < n + 2) {
			FUZZ_CHECK(r == 0);
			continue;
		}
		FUZZ_CHECK(r == n + 2);
		FUZZ_CHECK(memcmp(out, data, n) == 0);
		FUZZ_CHECK(out[n] == (uint8_t)(sw >> 8) && out[n + 1] == (uint8_t)sw);
		FUZZ_CHECK(cap == sizeof(out) || out[cap] == 0xEE);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1), *re;
	struct hce_capdu c, c2, zero;
	struct model m = classify(data, size);
	uint16_t sw;
	size_t n;

	FUZZ_CHECK(buf);
	memcpy(buf, data, size);
	memset(&zero, 0, sizeof(zero));
	memset(&c, 0xA5, sizeof(c));
	sw = hce_capdu_parse(buf, size, &c);
	if (!m.icase) {
		FUZZ_CHECK(sw == HCE_SW_WRONG_LENGTH);
		FUZZ_CHECK(memcmp(&c, &zero, sizeof(c)) == 0);
		free(buf);
		check_rapdu(data, size);
		return 0;
	}
	FUZZ_CHECK(sw == 0);
	FUZZ_CHECK(c.cla == buf[0] && c.ins == buf[1] && c.p1 == buf[2] && c.p2 == buf[3]);
	FUZZ_CHECK(c.icase == m.icase && c.extended == !!m.ext);
	FUZZ_CHECK(c.nc == m.nc && c.ne == m.ne && c.has_le == (m.ne != 0));
	if (c.nc) {
		FUZZ_CHECK(c.data == buf + m.data_off);
		FUZZ_CHECK(m.data_off + c.nc <= size);
	} else {
		FUZZ_CHECK(c.data == NULL);
	}

	/* Re-encode, re-parse: same fields; same bytes when the input was the shortest form. */
	re = malloc(size + 8);
	FUZZ_CHECK(re);
	n = hce_capdu_build(&c, re, size + 8);
	FUZZ_CHECK(n > 0 && n <= size);
	FUZZ_CHECK(hce_capdu_parse(re, n, &c2) == 0);
	FUZZ_CHECK(c2.cla == c.cla && c2.ins == c.ins && c2.p1 == c.p1 && c2.p2 == c.p2);
	FUZZ_CHECK(c2.icase == c.icase && c2.nc == c.nc && c2.ne == c.ne);
	FUZZ_CHECK(!c.nc || memcmp(c2.data, c.data, c.nc) == 0);
	if (!(c.extended && c.nc <= 255 && c.ne <= 256))
		FUZZ_CHECK(n == size && memcmp(re, buf, size) == 0);
	/* One byte short of the needed capacity must fail. */
	FUZZ_CHECK(hce_capdu_build(&c, re, n - 1) == 0);
	free(re);
	free(buf);
	check_rapdu(data, size);
	return 0;
}
