/* SPDX-License-Identifier: GPL-2.0 */
/*
 * purse.h - the PBOC 2.0 / JT/T 978 electronic purse (EP) as a reader sees it.
 *
 * An I/O-free card application (struct hce_app, app/app.h) over a store (store/store.h) and
 * borrowed card keys (purse/keys.h). Commands, files, status words and sequencing follow
 * /work/shared/spec/epurse.md; the choices the spec leaves open are documented in
 * Documentation/purse.md:
 *   - GET TRANSACTION PROVE takes the CTC that INITIALIZE FOR PURCHASE returned (not +1);
 *   - a purchase may spend the overdraft: amount <= balance + overdraft limit, the balance
 *     then goes below zero (never below -limit; beyond: 9401); a load repays it first. A
 *     negative balance is the 4-byte two's complement on the wire (store.h "Balances");
 *   - a load that would take the balance beyond the card's max_balance answers 9401 at
 *     INITIALIZE FOR LOAD;
 *   - HCE_PURSE_MAC_FAIL_LIMIT consecutive MAC failures (purchase MAC1, load MAC2) lock the
 *     application: value commands then answer 9303; reads still work. A good MAC resets the
 *     persisted count.
 *   - without keys (keys NULL: the vault is locked) value commands answer 6985.
 * Nothing in the store changes until a MAC check passes; a value change is one store commit.
 *
 * Return contract for int functions: 0 or a negative errno value (store errors pass
 * through, see store.h). Functions returning pointers never fail for a valid purse.
 */
#ifndef HCE_PURSE_H
#define HCE_PURSE_H

#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "purse/keys.h"
#include "store/store.h"

#define HCE_PURSE_MAC_FAIL_LIMIT 3

struct hce_purse;

/*
 * Random source for card challenges (INITIALIZE random, GET CHALLENGE): fill len bytes,
 * return 0, or -1 on failure (the command then answers 6F00). Default: hce_random().
 */
typedef int (*hce_purse_rng_fn)(void *ctx, uint8_t *buf, size_t len);

/*
 * Open the purse over an open store holding a personalised card (-ENOENT otherwise). keys is
 * borrowed (must outlive the purse or be replaced with hce_purse_set_keys) and may be NULL.
 * When keys is not NULL, every key in the store's key table must be present in keys with the
 * same version and algorithm (-EKEYREJECTED otherwise). The store is borrowed too.
 */
int hce_purse_open(struct hce_store *st, const struct hce_card_keys *keys,
		   struct hce_purse **out);

/* The application interface front ends drive. Valid until hce_purse_close(). */
struct hce_app *hce_purse_app(struct hce_purse *p);

/* Free the purse (NULL is a no-op). Session secrets are wiped; store and keys untouched. */
void hce_purse_close(struct hce_purse *p);

/*
 * Replace the borrowed keys (vault unlocked/locked): NULL locks value commands (6985). Any
 * pending operation is cancelled. Same check and errors as hce_purse_open().
 */
int hce_purse_set_keys(struct hce_purse *p, const struct hce_card_keys *keys);

/* Test hook: replace the random source (fn NULL restores hce_random). */
void hce_purse_set_rng(struct hce_purse *p, hce_purse_rng_fn fn, void *ctx);

/* Read-only views for hcectl and tests (all read the store; nothing is cached). */
int hce_purse_balance(struct hce_purse *p, uint32_t *balance);	/* raw: hce_balance_value */
int hce_purse_state(struct hce_purse *p, struct hce_purse_state *state);

/* A parsed EF 0018 record. */
struct hce_purse_log_entry {
	uint16_t counter;	/* CTC (purchase) or online counter (load) the transaction used */
	uint32_t overdraft;	/* 3-byte overdraft limit at the time */
	uint32_t amount;
	uint8_t type;		/* HCE_TX_* */
	uint8_t terminal[6];
	uint8_t date[4];	/* BCD YYYYMMDD */
	uint8_t time[3];	/* BCD hhmmss */
};

/* Log entry n (1 = newest). -ENOENT past the last. */
int hce_purse_log(struct hce_purse *p, unsigned int n, struct hce_purse_log_entry *e);

/* Parse a raw 23-byte log record (also used by readers/terminal code). Never fails. */
void hce_purse_log_parse(const uint8_t rec[HCE_LOG_RECORD_LEN], struct hce_purse_log_entry *e);

/* 1 when the application is locked by MAC failures, 0 when not, negative errno on failure. */
int hce_purse_locked(struct hce_purse *p);

#endif /* HCE_PURSE_H */
