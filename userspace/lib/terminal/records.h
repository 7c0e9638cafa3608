/* SPDX-License-Identifier: GPL-2.0 */
/*
 * records.h - the terminal's local records: its transaction serial (TTC) and one row per
 * transaction, kept in SQLite for later upload to the issuer.
 *
 * Schema (user_version 1):
 *   terminal_state(terminal_id TEXT PRIMARY KEY, ttc INTEGER)   last TTC used per terminal id
 *   records(id, terminal_id, ttc, card_serial, counter, type, amount, balance_before,
 *           balance_after, date, time, mac2, tac, result, recovered, uploaded)
 *           UNIQUE(terminal_id, ttc): a transaction is one row, whatever happened to it.
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
	bool uploaded;
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

#endif /* HCE_TERMINAL_RECORDS_H */
