/* SPDX-License-Identifier: GPL-2.0 */
/*
 * records.h - the terminal's local records: its transaction serial (TTC) and one row per
 * transaction, kept in SQLite for later upload to the issuer.
 *
 * Schema (user_version 2; a version 1 file is migrated on open, in one transaction):
 *   terminal_state(terminal_id TEXT PRIMARY KEY, ttc INTEGER)   last TTC used per terminal id
 *   records(id, terminal_id, ttc, card_serial, counter, type, amount, balance_before,
 *           balance_after, date, time, mac2, tac, result, recovered, uploaded,
 *           upload_batch, upload_result)
 *           UNIQUE(terminal_id, ttc): a transaction is one row, whatever happened to it.
 *   upload_batches(request_id TEXT PRIMARY KEY, created, state 'pending'|'done')
 *           a batch of records sent to the issuer: stored (with records.upload_batch set)
 *           BEFORE it is sent, so a retry after a lost answer is the same request
 *   denylist_state(one row: version, fetched)  +  denylist(serial TEXT PRIMARY KEY)
 *           the issuer's deny list as last fetched
 * Binary fields are upper-case hex text; date is YYYYMMDD and time hhmmss (the BCD digits
 * sent to the card); absent values are NULL.
 *
 * A transaction is recorded in two steps: hce_term_db_begin_tx() takes the next TTC and
 * inserts the row with result "pending" in ONE SQL transaction (so the TTC never goes back,
 * even across a crash, and a crash after it leaves a pending row that says the card may have
 * been charged); hce_term_db_finish_tx() writes the outcome into the same row.
 *
 * Modes: DURABLE = journal_mode=WAL + synchronous=FULL (the product); FAST =
 * journal_mode=MEMORY + synchronous=OFF (benchmarks without the durable commit; not
 * crash-safe). Path ":memory:" gives a private in-memory database.
 *
 * Contract: int functions return 0 on success, -1 on failure with a message in
 * hce_term_db_error(). No secret is ever written here (MAC2 and TAC are public proofs).
 */
#ifndef HCE_TERMINAL_RECORDS_H
#define HCE_TERMINAL_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "terminal/psam.h"

enum hce_term_db_mode {
	HCE_TERM_DB_DURABLE,
	HCE_TERM_DB_FAST,
};

#define HCE_TERM_RESULT_LEN 24
#define HCE_TERM_REQID_MAX 65	/* issuer request id: 1..64 chars of [A-Za-z0-9._-] + NUL */
#define HCE_TERM_BATCH_MAX 1000	/* records per issuer batch (HCE_ISS_MAX_RECORDS) */

struct hce_term_record {
	int64_t id;
	uint8_t terminal_id[HCE_TERMINAL_ID_LEN];
	uint32_t ttc;
	bool has_serial;
	uint8_t serial[HCE_SERIAL_LEN];
	bool has_counter;
	uint16_t counter;	/* CTC (purchase) or online counter (load), as the card gave it */
	uint8_t type;		/* HCE_TX_* */
	uint32_t amount;
	bool has_balance;
	uint32_t balance_before;
	uint32_t balance_after;
	uint8_t date[4];	/* BCD YYYYMMDD */
	uint8_t time[3];	/* BCD hhmmss */
	bool has_mac2;
	uint8_t mac2[4];
	bool has_tac;
	uint8_t tac[4];
	char result[HCE_TERM_RESULT_LEN];	/* "pending", "ok", "declined", ... */
	bool recovered;		/* outcome learnt through recovery (GET TRANSACTION PROVE) */
	bool uploaded;		/* the issuer answered for it (upload_result) */
	/* Upload state: read by hce_term_db_foreach/batch_next; never written by begin/finish. */
	char upload_batch[HCE_TERM_REQID_MAX];	/* request id of its batch, "" when none */
	char upload_result[HCE_TERM_RESULT_LEN];	/* "accepted", "bad_tac"..., "" before */
};

struct hce_term_db;

int hce_term_db_open(struct hce_term_db **out, const char *path, enum hce_term_db_mode mode,
		     char *err, size_t errlen);
void hce_term_db_close(struct hce_term_db *db);
const char *hce_term_db_error(const struct hce_term_db *db);

/*
 * Take the next TTC for r->terminal_id (last + 1, starting at 1) into r->ttc, insert r as a
 * new row with result "pending" and set r->id, all in one SQL transaction. Fails when the
 * TTC would wrap (0xFFFFFFFF used).
 */
int hce_term_db_begin_tx(struct hce_term_db *db, struct hce_term_record *r);

/* Overwrite the row r->id with every field of r (outcome, counter, balances, proofs). */
int hce_term_db_finish_tx(struct hce_term_db *db, const struct hce_term_record *r);

/* The last TTC used by a terminal id (0 when none). */
int hce_term_db_last_ttc(struct hce_term_db *db, const uint8_t tid[HCE_TERMINAL_ID_LEN],
			 uint32_t *ttc);

/*
 * Call cb for every row in id order; cb returns 0 to go on, non-zero to stop (that value is
 * then returned). Returns 0 after the last row, or -1 on a database error.
 */
int hce_term_db_foreach(struct hce_term_db *db,
			int (*cb)(const struct hce_term_record *r, void *arg), void *arg);

/* Number of rows. */
int hce_term_db_count(struct hce_term_db *db, int64_t *n);

/* ---- upload to the issuer (POST /v1/terminal/batch) ------------------------------------- */

/*
 * true when the issuer clears r from a terminal batch: a purchase or compound purchase (type
 * 06/09) with card serial, counter and TAC (whatever the terminal's own verdict: the issuer
 * verifies the TAC). Loads are not (they clear through the issuer's own load protocol), nor
 * rows without a TAC (pending, unknown, not charged).
 */
bool hce_term_record_uploadable(const struct hce_term_record *r);

/*
 * The next batch to send, in recs (room for HCE_TERM_BATCH_MAX records), *n records in id
 * order, its request id in reqid:
 *   - the pending batch when there is one (sent before, answer never recorded): the same
 *     request id and the same records, whatever max is (*resumed = true);
 *   - else up to max (1..HCE_TERM_BATCH_MAX) records not yet in a batch that are
 *     uploadable and were made under terminal id tid; new_reqid (1..64 chars of
 *     [A-Za-z0-9._-]) becomes their batch's request id, stored as 'pending' with the
 *     records' upload_batch in ONE transaction before this returns (*resumed = false).
 * *n = 0: nothing to send. 0 or -1.
 */
int hce_term_db_batch_next(struct hce_term_db *db, const uint8_t tid[HCE_TERMINAL_ID_LEN],
			   size_t max, const char *new_reqid, char reqid[HCE_TERM_REQID_MAX],
			   struct hce_term_record *recs, size_t *n, bool *resumed);

/*
 * The issuer answered batch reqid: record ids[i] got results[i] (a non-empty word). In ONE
 * transaction every record is marked uploaded with its result and the batch 'done'. Fails
 * (nothing written) when the batch is not pending, a record is not in it, or a record of
 * the batch has no result (it would be stranded: never sent again).
 */
int hce_term_db_batch_done(struct hce_term_db *db, const char *reqid, const int64_t *ids,
			   const char *const *results, size_t n);

/*
 * Give a pending batch up (the issuer refused the request as such, e.g. replay_conflict: the
 * records changed since it was first sent): its records return to the queue for a new batch
 * with a new request id (the issuer counts a transaction once by its natural key, whatever
 * the request). One transaction.
 */
int hce_term_db_batch_drop(struct hce_term_db *db, const char *reqid);

/* ---- deny list cache ------------------------------------------------------------------ */

struct hce_term_deny_info {
	int64_t version;	/* -1: no list stored yet */
	int64_t fetched;	/* Unix time of the fetch that stored it */
	size_t n;		/* serials in it */
};

/*
 * Store a fetched deny list (n serials of HCE_SERIAL_LEN bytes, any order, duplicates
 * allowed) unless the stored one has a higher version: version, fetch time and serials are
 * replaced in ONE transaction (*stored = true; an equal version is refreshed), or nothing is
 * written (*stored = false). 0 or -1.
 */
int hce_term_db_deny_store(struct hce_term_db *db, int64_t version, int64_t fetched,
			   const uint8_t *serials, size_t n, bool *stored);

/*
 * The stored deny list: info, and when serials is not NULL its serials in ascending byte
 * order (max of them; more stored than max is an error). 0 or -1.
 */
int hce_term_db_deny_get(struct hce_term_db *db, struct hce_term_deny_info *info,
			 uint8_t *serials, size_t max);

#endif /* HCE_TERMINAL_RECORDS_H */
