/* SPDX-License-Identifier: GPL-2.0 */
/*
 * term.h - the terminal's transaction engine: reads a card, runs purchase, compound
 * purchase and load with the PSAM role (psam.h), recovers a purchase whose DEBIT answer was
 * lost, records every transaction (records.h) and prints receipts.
 *
 * Flows (../shared/spec/epurse.md; Documentation/terminal.md has the details):
 *   select:   SELECT EP AID -> READ BINARY EF 0015 (issuer, serial, dates checked)
 *   purchase: select -> GET BALANCE -> record "pending" (TTC taken) -> INITIALIZE FOR PURCHASE
 *             -> MAC1 -> DEBIT FOR PURCHASE -> verify MAC2 and TAC -> record outcome
 *             (no TAC key in the PSAM: the TAC is recorded unverified, "ok-tac-unverified")
 *   capp:     as purchase with INITIALIZE FOR CAPP PURCHASE, UPDATE CAPP DATA CACHE before
 *             DEBIT, type 09
 *   load:     select -> record "pending" -> INITIALIZE FOR LOAD -> verify MAC1 -> CREDIT FOR
 *             LOAD with MAC2 -> verify TAC -> record outcome
 *   recovery: when the DEBIT exchange fails at the transport (the card may have executed it),
 *             the terminal resets the session, re-selects, checks it is the same card and sends
 *             GET TRANSACTION PROVE for the CTC that INITIALIZE FOR PURCHASE returned (the
 *             purse's documented choice): MAC2+TAC that verify -> charged (recorded once, the
 *             same row, recovered = 1); 9406 -> not charged. A lost CREDIT answer is settled
 *             from GET BALANCE and log record 1 (the purse keeps no proof for loads).
 *
 * Every function returns an enum hce_term_status (0 = done); t->err then says what happened
 * in one line (no secret in it). The status values are hce-terminal's exit codes.
 */
#ifndef HCE_TERMINAL_TERM_H
#define HCE_TERMINAL_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "terminal/psam.h"
#include "terminal/records.h"
#include "terminal/token.h"
#include "terminal/transport.h"

enum hce_term_status {
	HCE_TERM_OK = 0,
	HCE_TERM_E_USAGE = 1,		/* bad command line or argument */
	HCE_TERM_E_TRANSPORT = 2,	/* no card / reader / card process, exchange failed */
	HCE_TERM_E_CARD = 3,		/* unexpected status word or malformed answer */
	HCE_TERM_E_DECLINED = 4,	/* card refused (6985, 6901, 9402), other issuer, expired */
	HCE_TERM_E_FUNDS = 5,		/* 9401: insufficient balance (or load over the maximum) */
	HCE_TERM_E_PROOF = 6,		/* MAC2/TAC (load: MAC1) from the card does not verify */
	HCE_TERM_E_KEY = 7,		/* 9302/9403 or key version/algorithm mismatch */
	HCE_TERM_E_LOCKED = 8,		/* 9303: application locked */
	HCE_TERM_E_NOT_CHARGED = 9,	/* answer lost; recovery proved nothing was charged */
	HCE_TERM_E_UNKNOWN = 10,	/* answer lost and recovery failed: outcome unknown */
	HCE_TERM_E_RECORDS = 11,	/* local records database failure */
	HCE_TERM_E_CONFIG = 12,		/* PSAM file unusable or lacking the key needed */
};

/*
 * The record's result of a value transaction done by a PSAM without a TAC key (a token
 * PSAM, Documentation/psam.md): charged (or credited) with MAC2 (load: MAC1) verified, the
 * TAC recorded for clearing but not verified here. The issuer verifies it at clearing.
 */
#define HCE_TERM_RESULT_TAC_UNVERIFIED "ok-tac-unverified"

/* One-word name of a status ("ok", "declined", ...), used as the record's result too. */
const char *hce_term_status_name(int status);

#define HCE_TERM_AID_MAX 16

struct hce_term_card {
	uint8_t ef0015[30];
	uint8_t issuer[8];
	uint8_t app_type;
	uint8_t app_version;
	uint8_t serial[HCE_SERIAL_LEN];
	uint8_t start[4];	/* BCD YYYYMMDD */
	uint8_t expiry[4];
	char number[2 * HCE_SERIAL_LEN + 1];	/* card number: serial's hex digits less the first */
};

struct hce_term_log_entry {
	uint16_t counter;
	uint32_t overdraft;
	uint32_t amount;
	uint8_t type;
	uint8_t terminal[HCE_TERMINAL_ID_LEN];
	uint8_t date[4];
	uint8_t time[3];
};

struct hce_term {
	struct hce_term_transport *tp;		/* borrowed */
	const struct hce_psam *psam;		/* borrowed */
	struct hce_term_db *db;			/* borrowed; every transaction is recorded */
	uint8_t terminal_id[HCE_TERMINAL_ID_LEN];
	uint8_t aid[HCE_TERM_AID_MAX];
	size_t aid_len;
	time_t fixed_time;	/* 0: the clock; else this time (tests, benchmarks) */
	int recovery_tries;	/* session resets tried after a lost answer (default 3) */
	bool check_dates;	/* refuse cards outside start..expiry (default true) */
	/* borrowed; NULL: none. Its serials are refused before any value command. */
	const struct hce_term_denylist *denylist;
	char err[256];
};

/* The outcome of a value transaction. rec is the row as recorded (also on failure). */
struct hce_term_result {
	int status;
	uint16_t sw;			/* last status word from the card (0 when none) */
	struct hce_term_card card;
	struct hce_term_record rec;
	uint8_t key_version;
	uint8_t alg;
};

/* Set up t (terminal id from the PSAM file, else 000000000001; T-Union EP AID). */
void hce_term_init(struct hce_term *t, struct hce_term_transport *tp,
		   const struct hce_psam *psam, struct hce_term_db *db);

int hce_term_select(struct hce_term *t, struct hce_term_card *card);
int hce_term_balance(struct hce_term *t, uint32_t *balance);
/* Up to max log entries (newest first) into e, count in *n. */
int hce_term_read_log(struct hce_term *t, struct hce_term_log_entry *e, size_t max, size_t *n);

int hce_term_purchase(struct hce_term *t, uint32_t amount, struct hce_term_result *res);
#define HCE_TERM_CAPP_LEN 48

/*
 * Compound purchase: rec (1..48 bytes, padded with 00 to the 48-byte record) is written to
 * EF 001E record recno (1..8) with UPDATE CAPP DATA CACHE (80 DC recno F4 30 rec) between
 * INITIALIZE FOR CAPP PURCHASE and DEBIT.
 */
int hce_term_capp(struct hce_term *t, uint32_t amount, uint8_t recno, const uint8_t *rec,
		  size_t rec_len, struct hce_term_result *res);
int hce_term_load(struct hce_term *t, uint32_t amount, struct hce_term_result *res);

/* The receipt of a transaction as text (a few lines, '\n'-terminated). */
int hce_term_receipt(const struct hce_term_result *res, char *out, size_t cap);

/* "12.34" from fen. */
void hce_term_format_amount(uint32_t fen, char out[16]);

/*
 * A card balance as the card sends it (4 bytes, two's complement: a card in its overdraft,
 * Documentation/purse.md) shown signed: "98.50", "-2.00".
 */
void hce_term_format_balance(uint32_t raw, char out[16]);

/*
 * Parse an amount: fen as digits ("150") or yuan with a point and at most 2 decimals
 * ("1.50", "1.5"). 0 on success, -1 on anything else (sign, overflow past 2^32-1, junk).
 */
int hce_term_parse_amount(const char *s, uint32_t *fen);

#endif /* HCE_TERMINAL_TERM_H */
