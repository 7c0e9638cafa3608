/* SPDX-License-Identifier: GPL-2.0 */
/*
 * token.h - the gate's check of a card before any value command: the validity dates of
 * EF 0015 against the terminal's date and the card's serial against the issuer's deny list
 * (Documentation/terminal.md "Issuer: deny list and upload"). Pure: no I/O, no allocation.
 * The deny list is fetched and parsed by upload.h and cached by records.h.
 */
#ifndef HCE_TERMINAL_TOKEN_H
#define HCE_TERMINAL_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define HCE_TERM_DENY_MAX 4096
#define HCE_TERM_SERIAL_LEN 10

struct hce_term_denylist {
	int64_t version;	/* < 0: none cached */
	size_t n;
	uint8_t serial[HCE_TERM_DENY_MAX][HCE_TERM_SERIAL_LEN];	/* sorted */
};

enum hce_term_token_verdict {
	HCE_TERM_TOKEN_OK = 0,
	HCE_TERM_TOKEN_NOT_YET = 1,	/* before EF 0015's start date */
	HCE_TERM_TOKEN_EXPIRED = 2,	/* after EF 0015's expiry date */
	HCE_TERM_TOKEN_DENIED = 3,	/* serial on the deny list */
	HCE_TERM_TOKEN_BAD = 4,		/* dates not valid BCD */
};

/*
 * ef0015: 30 bytes as READ BINARY gave them (serial at 10..19, start date at 20..23, expiry
 * at 24..27, BCD YYYYMMDD); today: BCD YYYYMMDD, the terminal's date (NULL: dates not
 * checked, hce-terminal --no-date-check); dl: NULL or version < 0 when no list is cached.
 * Order: dates (BAD, NOT_YET, EXPIRED), then the deny list (DENIED).
 */
enum hce_term_token_verdict hce_term_token_check(const uint8_t ef0015[30],
						 const uint8_t today[4],
						 const struct hce_term_denylist *dl);

/*
 * The same check with the line a holder and an operator read: 0 when the card may pay, else
 * -1 with why = "token revoked (deny list v7)", "token expired 2026-11-24",
 * "token not valid before 2026-11-26" or "token dates malformed".
 */
int hce_term_token_refusal(const uint8_t ef0015[30], const uint8_t today[4],
			   const struct hce_term_denylist *dl, char *why, size_t whylen);

/* Sort the serials of dl (after filling them). */
void hce_term_denylist_sort(struct hce_term_denylist *dl);

#endif /* HCE_TERMINAL_TOKEN_H */
