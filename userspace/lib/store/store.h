/* SPDX-License-Identifier: GPL-2.0 */
/*
 * store.h - durable storage of one e-purse card in an SQLite file.
 *
 * The file holds what personalisation wrote (AID, EF 0015/0016/0017, versions, limits, the key
 * index/version/algorithm table WITHOUT key values, CAPP records) and the value state that
 * transactions change (balance, offline counter CTC, online counter, the cyclic log EF 0018,
 * proof data for GET TRANSACTION PROVE, the consecutive MAC-failure count).
 *
 * Durability: journal_mode=WAL, synchronous=FULL. Every value change is ONE SQL transaction
 * (BEGIN IMMEDIATE ... COMMIT): after a crash or power loss at any write or sync, the card is
 * exactly before or exactly after the change, never between. Counters never go back.
 *
 * Keys: never stored here. The vault seals key values; this file only names them.
 *
 * Return contract for every int function: 0 on success, or a negative errno value:
 *   -EINVAL   bad argument (NULL where forbidden, field out of range)
 *   -ENOENT   no card personalised yet / the record or proof asked for does not exist
 *   -EEXIST   hce_store_personalise on a file that already holds a card (without REPLACE)
 *   -ESTALE   a commit whose expected state (balance, counter) no longer matches the file:
 *             nothing was written (another writer got there first)
 *   -ERANGE   a commit that would overflow the balance or a counter: nothing was written
 *   -EILSEQ   the file is not a purse store (foreign SQLite file, wrong schema version,
 *             corrupt content, "file is not a database")
 *   -EIO      any other SQLite failure (disk I/O, full disk, locked): nothing was written
 *   -ENOMEM   out of memory
 *   -EDQUOT   a debit beyond the wallet's offline cap (hce_store_set_offline): nothing written
 * hce_store_errmsg() then describes the last failure in one line (never holds secrets).
 * A store handle is used by one thread at a time.
 */
#ifndef HCE_STORE_H
#define HCE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HCE_STORE_AID_MAX 16
#define HCE_STORE_AID_MIN 5
#define HCE_EF0015_LEN 30		/* public application info */
#define HCE_EF0016_MAX 128		/* holder info: 1..128 bytes (real cards: 55-92) */
#define HCE_EF0017_LEN 60		/* management info */
#define HCE_LOG_RECORDS 10		/* EF 0018: cyclic, newest = record 1 */
#define HCE_LOG_RECORD_LEN 23
#define HCE_CAPP_RECORDS 8		/* EF 001E: record numbers 1..8 */
#define HCE_CAPP_RECORD_LEN 48
#define HCE_STORE_KEYS_MAX 9		/* 4 DPK + 4 DLK + 1 DTK (keys.h HCE_KEY_SLOTS) */
#define HCE_OVERDRAFT_MAX 0xffffffu	/* the overdraft limit field is 3 bytes */
#define HCE_BALANCE_MAX 0x7fffffff	/* the balance is a signed 32-bit amount */
#define HCE_STORE_ERR_MAX 256

/*
 * Balances (Documentation/purse.md "Overdraft"): a signed amount in fen, from
 * -overdraft_limit up to min(max_balance, HCE_BALANCE_MAX). The uint32_t balance fields of
 * this API (hce_card_data, hce_purse_state, the commit structures) hold its 4-byte two's
 * complement form, exactly the bytes GET BALANCE / INITIALIZE answer and MAC1/TAC cover
 * (-5.00 CNY = FFFFFE0C); the file keeps the signed value (SQL INTEGER, bounded by a
 * constraint). Convert with these two; do not compare raw values for order.
 */
static inline int32_t hce_balance_value(uint32_t raw)
{
	return raw > (uint32_t)HCE_BALANCE_MAX ? -(int32_t)~raw - 1 : (int32_t)raw;
}

static inline uint32_t hce_balance_raw(int32_t value)
{
	return (uint32_t)value;
}

/* Transaction types (log record byte 9, spec "Files"). */
#define HCE_TX_LOAD 0x02
#define HCE_TX_PURCHASE 0x06
#define HCE_TX_CAPP 0x09

enum hce_key_kind {
	HCE_KEY_DPK = 1,	/* purchase */
	HCE_KEY_DLK = 2,	/* load */
	HCE_KEY_DTK = 3,	/* TAC */
};

/* One key the card holds, without its value (the vault has it). */
struct hce_key_info {
	uint8_t kind;		/* enum hce_key_kind */
	uint8_t index;		/* key index named by the terminal (DTK: 0) */
	uint8_t version;	/* key version reported to the terminal */
	uint8_t alg;		/* enum hce_alg: 0x00 DES/3DES, 0x04 SM4 */
};

/* Everything personalisation sets. */
struct hce_card_data {
	uint8_t aid[HCE_STORE_AID_MAX];		/* the EP AID, e.g. A000000632010105 */
	size_t aid_len;				/* HCE_STORE_AID_MIN..HCE_STORE_AID_MAX */
	uint8_t app_version;			/* FCI tag 9F08 */
	uint8_t ef0015[HCE_EF0015_LEN];
	uint8_t ef0016[HCE_EF0016_MAX];
	size_t ef0016_len;			/* 1..HCE_EF0016_MAX */
	uint8_t ef0017[HCE_EF0017_LEN];
	uint32_t overdraft_limit;		/* 0..HCE_OVERDRAFT_MAX: may be spent */
	uint32_t max_balance;			/* loads beyond it are refused; >= balance */
	uint32_t balance;			/* initial balance (fen), raw (see above):
						 * -overdraft_limit..min(max_balance,
						 * HCE_BALANCE_MAX) */
	uint16_t ctc;				/* initial offline counter (normally 0) */
	uint16_t online_counter;		/* initial online counter (normally 0) */
	struct hce_key_info keys[HCE_STORE_KEYS_MAX];
	size_t n_keys;				/* (kind,index) pairs unique */
	uint8_t capp[HCE_CAPP_RECORDS][HCE_CAPP_RECORD_LEN];
	uint8_t capp_present[HCE_CAPP_RECORDS];	/* 1: record i+1 exists */
};

/* The value state, as read in one snapshot. */
struct hce_purse_state {
	uint32_t balance;		/* raw two's complement (hce_balance_value) */
	uint16_t ctc;			/* offline counter: the value the next purchase uses */
	uint16_t online_counter;	/* the value the next load uses */
	uint32_t mac_failures;		/* consecutive MAC failures since the last good MAC */
	uint64_t tx_total;		/* transactions committed since personalisation */
};

/* A committed purchase or compound purchase, as GET TRANSACTION PROVE answers it. */
struct hce_proof {
	uint8_t type;			/* HCE_TX_PURCHASE or HCE_TX_CAPP */
	uint16_t ctc;			/* the CTC INITIALIZE FOR PURCHASE returned */
	uint8_t mac2[4];
	uint8_t tac[4];
};

/* A debit the purse has verified (MAC1 good); see hce_store_commit_debit(). */
struct hce_store_debit {
	uint8_t type;			/* HCE_TX_PURCHASE or HCE_TX_CAPP */
	uint32_t old_balance;		/* state the purse computed from (checked: -ESTALE) */
	uint16_t ctc;			/* counter used, before increment (checked: -ESTALE) */
	uint32_t amount;		/* <= old_balance + overdraft_limit (else -ERANGE) */
	uint8_t log[HCE_LOG_RECORD_LEN];	/* the EF 0018 record to prepend */
	uint8_t mac2[4];
	uint8_t tac[4];
	uint8_t capp_recno;		/* HCE_TX_CAPP: record 1..8 to write, 0: none */
	uint8_t capp[HCE_CAPP_RECORD_LEN];
	uint32_t ttc;			/* terminal transaction counter (wallet outbox) */
};

/* A load the purse has verified (MAC2 good); see hce_store_commit_load(). */
struct hce_store_load {
	uint32_t old_balance;		/* checked: -ESTALE */
	uint16_t online_counter;	/* counter used, before increment (checked: -ESTALE) */
	uint32_t amount;		/* old_balance + amount <= max_balance, HCE_BALANCE_MAX
					 * (else -ERANGE) */
	uint8_t log[HCE_LOG_RECORD_LEN];
	uint8_t tac[4];			/* the load's TAC (wallet outbox) */
};

struct hce_store;

/* Flags for hce_store_open(). */
#define HCE_STORE_CREATE 0x1	/* create the file (mode 0600) if it does not exist */
#define HCE_STORE_READONLY 0x2	/* open read-only (hcectl status): commits give -EIO */

/*
 * Open (or create, with HCE_STORE_CREATE) the store at path; sets WAL and synchronous=FULL,
 * checks the schema (creating it in a new or empty file). On success *out is the handle.
 * On failure *out is NULL and, when errbuf is not NULL, errbuf (HCE_STORE_ERR_MAX bytes)
 * holds the reason. -EILSEQ for a foreign or corrupt file, -ENOENT when the file is missing
 * and HCE_STORE_CREATE was not given.
 */
int hce_store_open(const char *path, unsigned int flags, struct hce_store **out, char *errbuf);

/* Close (NULL is a no-op). Pending statements are finalised. */
void hce_store_close(struct hce_store *st);

/* The last failure on this handle, one line ("" when none). Valid until the next call. */
const char *hce_store_errmsg(const struct hce_store *st);

/* 1 when a card is personalised in this file, 0 when not, negative errno on failure. */
int hce_store_has_card(struct hce_store *st);

#define HCE_STORE_REPLACE 0x1	/* hce_store_personalise: replace an existing card */

/*
 * Validate card and write it in one transaction: static data, key table, initial value
 * state, empty log, no proofs, mac_failures 0. -EEXIST if a card is present and flags lacks
 * HCE_STORE_REPLACE (file untouched); -EINVAL (with the field named in errmsg) for invalid
 * data (file untouched). With HCE_STORE_REPLACE over an existing card the counters never go
 * back: CTC and online counter become max(existing, card->ctc / card->online_counter), so
 * (serial, counter) stays unique for the issuer's clearing.
 */
int hce_store_personalise(struct hce_store *st, const struct hce_card_data *card,
			  unsigned int flags);

/* Read the personalised data into *card. -ENOENT when no card. */
int hce_store_card(struct hce_store *st, struct hce_card_data *card);

/* Read the value state in one snapshot. -ENOENT when no card. */
int hce_store_state(struct hce_store *st, struct hce_purse_state *state);

/*
 * Log record n (1 = newest .. HCE_LOG_RECORDS) into rec. -ENOENT when fewer than n
 * transactions were logged.
 */
int hce_store_log(struct hce_store *st, unsigned int n, uint8_t rec[HCE_LOG_RECORD_LEN]);

/* CAPP record recno (1..HCE_CAPP_RECORDS). -ENOENT when it does not exist. */
int hce_store_capp(struct hce_store *st, unsigned int recno,
		   uint8_t rec[HCE_CAPP_RECORD_LEN]);

/*
 * Proof of the committed purchase whose CTC (as returned by INITIALIZE FOR PURCHASE) is ctc.
 * The proofs of the last HCE_LOG_RECORDS purchases are kept. -ENOENT when none.
 */
int hce_store_proof(struct hce_store *st, uint16_t ctc, struct hce_proof *proof);

/*
 * Commit a verified debit in ONE transaction: balance -= amount, CTC += 1, prepend the log
 * record (keeping HCE_LOG_RECORDS), store the proof, write the CAPP record (if any), reset
 * mac_failures to 0, tx_total += 1. -ESTALE when balance/CTC differ from the expected values,
 * -ERANGE when the balance would go below -overdraft_limit or CTC is 0xFFFF; in every error
 * case nothing was written. The file itself refuses (constraint) any write of a balance below
 * -overdraft_limit, whatever the path.
 */
int hce_store_commit_debit(struct hce_store *st, const struct hce_store_debit *d);

/*
 * Commit a verified load in ONE transaction: balance += amount, online counter += 1, prepend
 * the log record, reset mac_failures to 0, tx_total += 1. -ESTALE / -ERANGE as above
 * (-ERANGE: beyond max_balance or online counter 0xFFFF); nothing written on error.
 */
int hce_store_commit_load(struct hce_store *st, const struct hce_store_load *l);

/*
 * Count one more consecutive MAC failure (one transaction) and return the new count in
 * *count (may be NULL).
 */
int hce_store_mac_failure(struct hce_store *st, uint32_t *count);

/*
 * Reset the MAC-failure count to 0 (unlocks a locked application: an issuer/administrator
 * action, e.g. `hcectl unlock`; the purse never calls it on its own).
 */
int hce_store_reset_mac_failures(struct hce_store *st);

/*
 * Offline cap and token validity, set by the wallet (lib/wallet, Documentation/wallet.md):
 * spending since the last successful sync is capped by an amount and a count; the purse
 * refuses a purchase beyond it, and every value command once the wall clock is past
 * not_after. Kept in its own table of the card file (created by read-write opens).
 */
struct hce_store_offline {
	bool set;		/* false: no cap (a card personalised without a token) */
	uint32_t cap_amount;	/* fen allowed since the last sync */
	uint32_t cap_count;	/* purchases allowed since the last sync */
	uint32_t spent;		/* fen spent since the last sync */
	uint32_t count;		/* purchases since the last sync */
	int64_t not_after;	/* Unix seconds; 0: no expiry */
};

/* Read the cap (o->set false when none). */
int hce_store_offline(struct hce_store *st, struct hce_store_offline *o);

/* true when a purchase of amount stays within the cap (always true when none is set). */
bool hce_store_offline_allows(const struct hce_store_offline *o, uint32_t amount);

/*
 * Set the cap and validity in one transaction. reset: spent and count back to 0 (a
 * successful sync); otherwise they are kept (a new cap from a sync that did not clear).
 * hce_store_commit_debit() counts each debit in its own transaction and refuses (-EDQUOT,
 * nothing written) a debit beyond the cap.
 */
int hce_store_set_offline(struct hce_store *st, uint32_t cap_amount, uint32_t cap_count,
			  int64_t not_after, bool reset);

/*
 * The wallet's upload queue: with a cap set, every committed debit and load also leaves its
 * record (log fields + TTC + TAC, what the issuer's clearing needs; loads: TTC 0, their TAC
 * confirms a load whose confirmation was lost) in the outbox, in the same transaction. The wallet uploads them (lib/wallet) and removes the acknowledged ones.
 */
struct hce_store_outrec {
	uint8_t type;		/* HCE_TX_PURCHASE, HCE_TX_CAPP or HCE_TX_LOAD */
	uint16_t counter;	/* CTC used (loads: online counter used) */
	uint32_t amount;
	uint8_t terminal[6];
	uint32_t ttc;
	uint8_t date[4];
	uint8_t time[3];
	uint8_t tac[4];
};

/* Up to cap records, oldest first, into out; *n receives how many. */
int hce_store_outbox(struct hce_store *st, struct hce_store_outrec *out, size_t cap, size_t *n);

/*
 * One transaction: remove the n acknowledged records; when restore (the issuer restored the
 * cap), set the cap to cap_amount/cap_count and recount spent/count from the records still
 * in the outbox (debits made while the sync was in flight stay counted).
 */
int hce_store_outbox_done(struct hce_store *st, const struct hce_store_outrec *r, size_t n,
			  bool restore, uint32_t cap_amount, uint32_t cap_count);

#endif /* HCE_STORE_H */
