// SPDX-License-Identifier: GPL-2.0
/*
 * token.c - the gate's token check: EF 0015 dates and the deny list (token.h).
 */
#include "terminal/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bcd_ok(uint8_t b)
{
	return (b >> 4) <= 9 && (b & 0x0f) <= 9;
}

static int bcd_val(uint8_t b)
{
	return (b >> 4) * 10 + (b & 0x0f);
}

/* BCD YYYYMMDD with a plausible century, month and day. */
static int date_ok(const uint8_t d[4])
{
	int i, m, day;

	for (i = 0; i < 4; i++)
		if (!bcd_ok(d[i]))
			return 0;
	m = bcd_val(d[2]);
	day = bcd_val(d[3]);
	return bcd_val(d[0]) >= 19 && m >= 1 && m <= 12 && day >= 1 && day <= 31;
}

static int cmp_serial(const void *a, const void *b)
{
	return memcmp(a, b, HCE_TERM_SERIAL_LEN);
}

void hce_term_denylist_sort(struct hce_term_denylist *dl)
{
	qsort(dl->serial, dl->n, HCE_TERM_SERIAL_LEN, cmp_serial);
}

enum hce_term_token_verdict hce_term_token_check(const uint8_t ef0015[30],
						 const uint8_t today[4],
						 const struct hce_term_denylist *dl)
{
	const uint8_t *start = ef0015 + 20, *end = ef0015 + 24;

	if (today) {
		if (!date_ok(start) || !date_ok(end) || !date_ok(today))
			return HCE_TERM_TOKEN_BAD;
		/* BCD YYYYMMDD compares like the date it encodes. */
		if (memcmp(today, start, 4) < 0)
			return HCE_TERM_TOKEN_NOT_YET;
		if (memcmp(today, end, 4) > 0)
			return HCE_TERM_TOKEN_EXPIRED;
	}
	if (dl && dl->version >= 0 && dl->n &&
	    bsearch(ef0015 + 10, dl->serial, dl->n, HCE_TERM_SERIAL_LEN, cmp_serial))
		return HCE_TERM_TOKEN_DENIED;
	return HCE_TERM_TOKEN_OK;
}

static void date_text(const uint8_t d[4], char out[11])
{
	snprintf(out, 11, "%02X%02X-%02X-%02X", d[0], d[1], d[2], d[3]);
}

int hce_term_token_refusal(const uint8_t ef0015[30], const uint8_t today[4],
			   const struct hce_term_denylist *dl, char *why, size_t whylen)
{
	char date[11];

	switch (hce_term_token_check(ef0015, today, dl)) {
	case HCE_TERM_TOKEN_OK:
		return 0;
	case HCE_TERM_TOKEN_DENIED:
		snprintf(why, whylen, "token revoked (deny list v%lld)", (long long)dl->version);
		break;
	case HCE_TERM_TOKEN_EXPIRED:
		date_text(ef0015 + 24, date);
		snprintf(why, whylen, "token expired %s", date);
		break;
	case HCE_TERM_TOKEN_NOT_YET:
		date_text(ef0015 + 20, date);
		snprintf(why, whylen, "token not valid before %s", date);
		break;
	default:
		snprintf(why, whylen, "token dates malformed");
		break;
	}
	return -1;
}
