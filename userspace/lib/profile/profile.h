/* SPDX-License-Identifier: GPL-2.0 */
/*
 * profile.h - card profiles (Documentation/profile.md): what hce-personalise creates.
 *
 * A profile gives the card's data (struct hce_card_data, store/store.h) and its keys (struct
 * hce_card_keys, purse/keys.h), the latter either directly or as issuer master keys
 * diversified with the application serial's last 8 bytes (hce_diversify).
 *
 * Contract: 0 on success; -1 on failure with a one-line message "file:line: what" in err
 * (errlen bytes, may be 0), never containing a key value. On failure *p is wiped. The caller
 * wipes a loaded profile with hce_profile_wipe() (it holds card keys).
 */
#ifndef HCE_PROFILE_PROFILE_H
#define HCE_PROFILE_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "purse/keys.h"
#include "store/store.h"

#define HCE_PROFILE_SERIAL_LEN 10

struct hce_profile {
	struct hce_card_data card;	/* EF 0015 built from the [card] fields */
	struct hce_card_keys keys;	/* secret: the card keys (diversified when masters given) */
	uint8_t serial[HCE_PROFILE_SERIAL_LEN];	/* also in card.ef0015[10..19] */
};

/* Parse a profile from memory (name used in messages). */
int hce_profile_parse(struct hce_profile *p, const char *name, const char *text, size_t len,
		      char *err, size_t errlen);

/* Read and parse the profile file at path. */
int hce_profile_load(struct hce_profile *p, const char *path, char *err, size_t errlen);

/* Wipe the whole profile (keys included). */
void hce_profile_wipe(struct hce_profile *p);

/*
 * Parse a date "YYYYMMDD" (a valid Gregorian date, years 1900..2099) into 4 BCD bytes.
 * 0 or -1.
 */
int hce_profile_parse_date(const char *text, uint8_t bcd[4]);

#endif /* HCE_PROFILE_PROFILE_H */
