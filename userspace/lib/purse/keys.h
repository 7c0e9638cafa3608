/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keys.h - a card's secret keys as the purse uses them in memory.
 *
 * Produced by the vault (unsealed under the holder's PIN, kept in locked memory) or by tests;
 * borrowed by the purse, which never copies them to storage, logs or traces. The owner wipes
 * them with hce_card_keys_wipe() when the card is locked or the process exits.
 */
#ifndef HCE_PURSE_KEYS_H
#define HCE_PURSE_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto/crypto.h"

/* Key indexes a card may hold per key kind (INITIALIZE FOR PURCHASE/LOAD byte 1). */
#define HCE_KEY_SLOTS 4

struct hce_key_slot {
	bool present;
	uint8_t index;		/* key index named by the terminal, 0x01.. */
	uint8_t version;	/* key version reported to the terminal */
	uint8_t alg;		/* enum hce_alg: 0x00 DES/3DES, 0x04 SM4 */
	uint8_t key[HCE_KEY_LEN];
};

struct hce_card_keys {
	struct hce_key_slot dpk[HCE_KEY_SLOTS];	/* purchase keys (DPK), by index */
	struct hce_key_slot dlk[HCE_KEY_SLOTS];	/* load keys (DLK), by index */
	struct hce_key_slot dtk;		/* TAC key (DTK) */
};

static inline void hce_card_keys_wipe(struct hce_card_keys *k)
{
	hce_wipe(k, sizeof(*k));
}

#endif /* HCE_PURSE_KEYS_H */
