/* SPDX-License-Identifier: GPL-2.0 */
/*
 * purse_priv.h - the purse's internal state, shared by its files:
 *   purse.c    open/close, command dispatch, session state, accessors
 *   files.c    selection (PPSE, PSE, MF, DF, AID, EF), FCI, READ BINARY, READ RECORD
 *   value.c    GET BALANCE, purchase, load, compound purchase, GET TRANSACTION PROVE,
 *              GET CHALLENGE
 *   pcrypto.c  crypto glue: session keys, MAC1/MAC2/TAC inputs and computation
 */
#ifndef HCE_PURSE_PRIV_H
#define HCE_PURSE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/apdu.h"
#include "codec/buf.h"
#include "purse/purse.h"

/* What is selected. A fresh session starts with the MF (like a card after reset). */
enum purse_sel {
	SEL_MF,		/* MF 3F00 = the PSE DDF "1PAY.SYS.DDF01" */
	SEL_PPSE,	/* "2PAY.SYS.DDF01" */
	SEL_EP,		/* the EP application (AID or DF 1001) */
};

/* The first half of a two-step operation waiting for its second half. */
enum purse_pending {
	PEND_NONE,
	PEND_PURCHASE,		/* INIT FOR PURCHASE done, DEBIT expected */
	PEND_CAPP,		/* INIT FOR CAPP PURCHASE done, UPDATE CAPP DATA CACHE expected */
	PEND_CAPP_CACHED,	/* ... UPDATE done, DEBIT expected */
	PEND_LOAD,		/* INIT FOR LOAD done, CREDIT expected */
};

struct purse_op {
	enum purse_pending kind;
	const struct hce_key_slot *key;	/* DPK or DLK slot in the borrowed keys */
	uint32_t balance;		/* balance the INIT answered */
	uint32_t amount;
	uint16_t counter;		/* CTC (purchase) or online counter (load) answered */
	uint8_t terminal[6];
	uint8_t random[4];
	uint8_t capp_recno;
	uint8_t capp[HCE_CAPP_RECORD_LEN];
};

struct hce_purse {
	struct hce_app app;
	struct hce_store *st;
	const struct hce_card_keys *keys;
	struct hce_card_data card;	/* static personalisation data (no value state) */
	hce_purse_rng_fn rng;
	void *rng_ctx;
	enum purse_sel sel;
	uint16_t cur_ef;		/* current EF FID, 0 when none */
	struct purse_op op;
};

/* A response under construction: data goes to w, the SW is the function's return value. */
struct purse_rsp {
	struct hce_wr w;
	size_t max;	/* most data bytes the caller's buffer takes */
};

/* purse.c */
void purse_cancel(struct hce_purse *p);
int purse_random(struct hce_purse *p, uint8_t *buf, size_t len);
/* True when the response may carry n bytes given Le (absent, exact, or "all"). */
bool purse_le_ok(const struct hce_capdu *c, size_t n);

/* files.c */
uint16_t purse_select(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r);
uint16_t purse_read_binary(struct hce_purse *p, const struct hce_capdu *c,
			   struct purse_rsp *r);
uint16_t purse_read_record(struct hce_purse *p, const struct hce_capdu *c,
			   struct purse_rsp *r);

/* value.c */
uint16_t purse_get_balance(struct hce_purse *p, const struct hce_capdu *c,
			   struct purse_rsp *r);
uint16_t purse_initialize(struct hce_purse *p, const struct hce_capdu *c,
			  struct purse_rsp *r);
uint16_t purse_debit(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r);
uint16_t purse_update_capp(struct hce_purse *p, const struct hce_capdu *c,
			   struct purse_rsp *r);
uint16_t purse_credit(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r);
uint16_t purse_prove(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r);
uint16_t purse_challenge(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r);

/* pcrypto.c: all return 0 or -1; session keys are wiped inside. */
int purse_mac_purchase1(const struct hce_key_slot *dpk, const struct purse_op *op,
			const uint8_t ttc[4], uint8_t type, const uint8_t date[4],
			const uint8_t time[3], uint8_t mac[4]);
int purse_mac_purchase2(const struct hce_key_slot *dpk, const struct purse_op *op,
			const uint8_t ttc[4], uint8_t mac[4]);
int purse_tac_purchase(const struct hce_key_slot *dtk, const struct purse_op *op,
		       uint8_t type, const uint8_t ttc[4], const uint8_t date[4],
		       const uint8_t time[3], uint8_t tac[4]);
int purse_mac_load1(const struct hce_key_slot *dlk, const struct purse_op *op, uint8_t mac[4]);
int purse_mac_load2(const struct hce_key_slot *dlk, const struct purse_op *op,
		    const uint8_t date[4], const uint8_t time[3], uint8_t mac[4]);
int purse_tac_load(const struct hce_key_slot *dtk, const struct purse_op *op,
		   const uint8_t date[4], const uint8_t time[3], uint8_t tac[4]);

#endif /* HCE_PURSE_PRIV_H */
