// SPDX-License-Identifier: GPL-2.0
/*
 * value.c - the value commands of the e-purse: GET BALANCE, INITIALIZE FOR PURCHASE / CAPP
 * PURCHASE / LOAD, UPDATE CAPP DATA CACHE, DEBIT FOR PURCHASE, CREDIT FOR LOAD, GET
 * TRANSACTION PROVE, GET CHALLENGE.
 *
 * Order of checks in every command: P1/P2 (6A86), lengths (6700), selection (6985),
 * MAC lock (9303), keys present (6985), key index (9403), counter (9402), amount (9401).
 * Nothing is written before a MAC check passes, except the MAC-failure count after a bad MAC.
 * A value change is ONE store commit; if it fails the answer is 6581 and nothing changed.
 *
 * Balances are signed (Documentation/purse.md "Overdraft"): a purchase may take the balance
 * down to -overdraft_limit; every balance field on the wire (GET BALANCE, the INITIALIZE
 * answers, load MAC1 and TAC) is its 4-byte two's complement, which is what the store's raw
 * uint32_t already holds (store.h "Balances").
 */
#include "purse/purse_priv.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"

#define P2_EP 0x02
#define P1_INIT_LOAD 0x00
#define P1_INIT_PURCHASE 0x01
#define P1_INIT_CAPP 0x03

/* Read the state; check selection and lock. Value commands also need keys. */
static uint16_t ready(struct hce_purse *p, struct hce_purse_state *s, bool need_keys)
{
	if (p->sel != SEL_EP)
		return HCE_SW_CONDITIONS;
	if (hce_store_state(p->st, s))
		return HCE_SW_UNKNOWN;
	if (s->mac_failures >= HCE_PURSE_MAC_FAIL_LIMIT)
		return HCE_SW_APP_LOCKED;
	if (need_keys && !p->keys)
		return HCE_SW_CONDITIONS;
	return HCE_SW_OK;
}

static const struct hce_key_slot *key_slot(const struct hce_key_slot *slots, uint8_t index)
{
	int i;

	for (i = 0; i < HCE_KEY_SLOTS; i++) {
		if (slots[i].present && slots[i].index == index)
			return &slots[i];
	}
	return NULL;
}

/* A bad MAC: count it durably, drop the pending operation, answer 9302. */
static uint16_t mac_failed(struct hce_purse *p)
{
	purse_cancel(p);
	if (hce_store_mac_failure(p->st, NULL))
		return HCE_SW_MEMORY_FAILURE;
	return HCE_SW_MAC_INVALID;
}

uint16_t purse_get_balance(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r)
{
	struct hce_purse_state s;

	/* P1 00 (standard) and 01..03 (asked by some readers) all answer the EP balance. */
	if (c->p1 > 0x03 || c->p2 != P2_EP)
		return HCE_SW_WRONG_P1P2;
	if (c->nc || !purse_le_ok(c, 4))
		return HCE_SW_WRONG_LENGTH;
	if (p->sel != SEL_EP)
		return HCE_SW_CONDITIONS;
	if (hce_store_state(p->st, &s))
		return HCE_SW_UNKNOWN;
	hce_wr_be32(&r->w, s.balance);
	return HCE_SW_OK;
}

/* The data of every INITIALIZE: key index (1), amount (4), terminal (6). */
struct init_req {
	uint8_t index;
	uint32_t amount;
	uint8_t terminal[6];
};

static int parse_init(const struct hce_capdu *c, struct init_req *q)
{
	struct hce_rd rd = hce_rd_init(c->data, c->nc);

	if (hce_rd_u8(&rd, &q->index) || hce_rd_be32(&rd, &q->amount) ||
	    hce_rd_bytes(&rd, q->terminal, sizeof(q->terminal)) || hce_rd_left(&rd))
		return -1;
	return 0;
}

static uint16_t init_purchase(struct hce_purse *p, const struct hce_capdu *c,
			      struct purse_rsp *r, const struct hce_purse_state *s,
			      const struct init_req *q)
{
	const struct hce_key_slot *k;
	struct purse_op *op = &p->op;
	uint8_t index = q->index;
	uint32_t amount = q->amount;

	k = key_slot(p->keys->dpk, index);
	if (!k)
		return HCE_SW_KEY_INDEX;
	if (s->ctc == 0xffff)
		return HCE_SW_COUNTER_MAX;
	/* Into the overdraft down to -limit; beyond: 9401 (the store re-checks at commit). */
	if ((int64_t)amount > (int64_t)hce_balance_value(s->balance) + p->card.overdraft_limit)
		return HCE_SW_INSUFFICIENT;
	if (!p->keys->dtk.present)
		return HCE_SW_CONDITIONS;
	if (purse_random(p, op->random, sizeof(op->random)))
		return HCE_SW_UNKNOWN;
	op->kind = c->p1 == P1_INIT_CAPP ? PEND_CAPP : PEND_PURCHASE;
	op->key = k;
	op->balance = s->balance;
	op->amount = amount;
	op->counter = s->ctc;
	memcpy(op->terminal, q->terminal, 6);
	hce_wr_be32(&r->w, s->balance);
	hce_wr_be16(&r->w, s->ctc);
	hce_wr_be24(&r->w, p->card.overdraft_limit);
	hce_wr_u8(&r->w, k->version);
	hce_wr_u8(&r->w, k->alg);
	hce_wr_bytes(&r->w, op->random, 4);
	return HCE_SW_OK;
}

static uint16_t init_load(struct hce_purse *p, struct purse_rsp *r,
			  const struct hce_purse_state *s, const struct init_req *q)
{
	const struct hce_key_slot *k;
	struct purse_op *op = &p->op;
	uint8_t index = q->index, mac1[4];
	uint32_t amount = q->amount;

	k = key_slot(p->keys->dlk, index);
	if (!k)
		return HCE_SW_KEY_INDEX;
	if (s->online_counter == 0xffff)
		return HCE_SW_COUNTER_MAX;
	/* A load repays the overdraft first; beyond the maximum balance (and 2^31 - 1): 9401. */
	if ((int64_t)hce_balance_value(s->balance) + amount >
	    (p->card.max_balance > HCE_BALANCE_MAX ? HCE_BALANCE_MAX :
						      (int64_t)p->card.max_balance))
		return HCE_SW_INSUFFICIENT;
	if (!p->keys->dtk.present)
		return HCE_SW_CONDITIONS;
	if (purse_random(p, op->random, sizeof(op->random)))
		return HCE_SW_UNKNOWN;
	op->key = k;
	op->balance = s->balance;
	op->amount = amount;
	op->counter = s->online_counter;
	memcpy(op->terminal, q->terminal, 6);
	if (purse_mac_load1(k, op, mac1)) {
		purse_cancel(p);
		return HCE_SW_UNKNOWN;
	}
	op->kind = PEND_LOAD;
	hce_wr_be32(&r->w, s->balance);
	hce_wr_be16(&r->w, s->online_counter);
	hce_wr_u8(&r->w, k->version);
	hce_wr_u8(&r->w, k->alg);
	hce_wr_bytes(&r->w, op->random, 4);
	hce_wr_bytes(&r->w, mac1, 4);
	return HCE_SW_OK;
}

/*
 * The wallet's token validity and offline cap (store.h hce_store_offline, wallet.md):
 * past not_after by the wallet's own clock (the terminal's date is not trusted) every value
 * command answers 6A81; a purchase beyond the offline cap answers 6985. Checked after the
 * state checks, before the key index, so nothing is started.
 */
static uint16_t offline_check(struct hce_purse *p, bool load, uint32_t amount)
{
	struct hce_store_offline o;

	if (hce_store_offline(p->st, &o))
		return HCE_SW_UNKNOWN;
	if (!o.set)
		return HCE_SW_OK;
	if (o.not_after && time(NULL) > o.not_after)
		return HCE_SW_FUNC_NOT_SUPPORTED;
	if (!load && !hce_store_offline_allows(&o, amount))
		return HCE_SW_CONDITIONS;
	return HCE_SW_OK;
}

uint16_t purse_initialize(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r)
{
	struct hce_purse_state s;
	bool load = c->p1 == P1_INIT_LOAD;
	struct init_req q;
	uint16_t sw;

	if ((c->p1 != P1_INIT_LOAD && c->p1 != P1_INIT_PURCHASE && c->p1 != P1_INIT_CAPP) ||
	    c->p2 != P2_EP)
		return HCE_SW_WRONG_P1P2;
	if (parse_init(c, &q) || !purse_le_ok(c, load ? 16 : 15))
		return HCE_SW_WRONG_LENGTH;
	sw = ready(p, &s, true);
	if (sw != HCE_SW_OK)
		return sw;
	sw = offline_check(p, load, q.amount);
	if (sw != HCE_SW_OK)
		return sw;
	return load ? init_load(p, r, &s, &q) : init_purchase(p, c, r, &s, &q);
}

uint16_t purse_update_capp(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r)
{
	uint8_t sfi = c->p2 >> 3, mode = c->p2 & 0x07, rec[HCE_CAPP_RECORD_LEN];
	unsigned int recno = 0, i;

	if (p->op.kind != PEND_CAPP) {
		purse_cancel(p);
		return HCE_SW_NOT_ALLOWED;
	}
	/* P2 = SFI 1E << 3 | 4: P1 is the record number; | 0: P1 is the record id (byte 0). */
	if (sfi != 0x1E || (mode != 4 && mode != 0) || c->p1 == 0) {
		purse_cancel(p);
		return HCE_SW_WRONG_P1P2;
	}
	if (c->nc != HCE_CAPP_RECORD_LEN || c->has_le) {
		purse_cancel(p);
		return HCE_SW_WRONG_LENGTH;
	}
	if (mode == 4) {
		if (c->p1 > HCE_CAPP_RECORDS) {
			purse_cancel(p);
			return HCE_SW_RECORD_NOT_FOUND;
		}
		recno = c->p1;
	} else {
		if (c->data[0] != c->p1) {
			purse_cancel(p);
			return HCE_SW_WRONG_DATA;
		}
		for (i = 1; i <= HCE_CAPP_RECORDS && !recno; i++) {
			int ret = hce_store_capp(p->st, i, rec);

			if (ret && ret != -ENOENT) {
				purse_cancel(p);
				return HCE_SW_UNKNOWN;
			}
			if (!ret && rec[0] == c->p1)
				recno = i;
		}
		if (!recno) {
			purse_cancel(p);
			return HCE_SW_RECORD_NOT_FOUND;
		}
	}
	p->op.capp_recno = (uint8_t)recno;
	memcpy(p->op.capp, c->data, HCE_CAPP_RECORD_LEN);
	p->op.kind = PEND_CAPP_CACHED;
	(void)r;
	return HCE_SW_OK;
}

static void log_record(const struct hce_purse *p, uint16_t counter, uint32_t amount,
		       uint8_t type, const uint8_t terminal[6], const uint8_t date[4],
		       const uint8_t time[3], uint8_t rec[HCE_LOG_RECORD_LEN])
{
	struct hce_wr w = hce_wr_init(rec, HCE_LOG_RECORD_LEN);

	hce_wr_be16(&w, counter);
	hce_wr_be24(&w, p->card.overdraft_limit);
	hce_wr_be32(&w, amount);
	hce_wr_u8(&w, type);
	hce_wr_bytes(&w, terminal, 6);
	hce_wr_bytes(&w, date, 4);
	hce_wr_bytes(&w, time, 3);
}

static uint16_t commit_sw(int ret)
{
	if (ret == -ESTALE || ret == -ERANGE)
		return HCE_SW_CONDITIONS;
	return HCE_SW_MEMORY_FAILURE;
}

uint16_t purse_debit(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r)
{
	const uint8_t *ttc, *date, *time, *mac1;
	struct hce_purse_state s;
	struct hce_store_debit d;
	struct hce_rd rd;
	uint8_t mac[4];
	uint16_t sw;
	int ret;

	if (p->op.kind != PEND_PURCHASE && p->op.kind != PEND_CAPP_CACHED) {
		purse_cancel(p);
		return HCE_SW_NOT_ALLOWED;
	}
	if (c->p1 != 0x01 || c->p2 != 0x00) {
		purse_cancel(p);
		return HCE_SW_WRONG_P1P2;
	}
	rd = hce_rd_init(c->data, c->nc);
	if (hce_rd_view(&rd, &ttc, 4) || hce_rd_view(&rd, &date, 4) ||
	    hce_rd_view(&rd, &time, 3) || hce_rd_view(&rd, &mac1, 4) || hce_rd_left(&rd) ||
	    !purse_le_ok(c, 8)) {
		purse_cancel(p);
		return HCE_SW_WRONG_LENGTH;
	}
	sw = ready(p, &s, true);
	if (sw != HCE_SW_OK) {
		purse_cancel(p);
		return sw;
	}
	memset(&d, 0, sizeof(d));
	d.type = p->op.kind == PEND_CAPP_CACHED ? HCE_TX_CAPP : HCE_TX_PURCHASE;
	if (purse_mac_purchase1(p->op.key, &p->op, ttc, d.type, date, time, mac)) {
		purse_cancel(p);
		return HCE_SW_UNKNOWN;
	}
	if (!hce_ct_equal(mac, mac1, 4))
		return mac_failed(p);
	if (purse_mac_purchase2(p->op.key, &p->op, ttc, d.mac2) ||
	    purse_tac_purchase(&p->keys->dtk, &p->op, d.type, ttc, date, time, d.tac)) {
		purse_cancel(p);
		return HCE_SW_UNKNOWN;
	}
	d.old_balance = p->op.balance;
	d.ctc = p->op.counter;
	d.ttc = hce_get_be32(ttc);
	d.amount = p->op.amount;
	log_record(p, p->op.counter, p->op.amount, d.type, p->op.terminal, date, time, d.log);
	if (d.type == HCE_TX_CAPP) {
		d.capp_recno = p->op.capp_recno;
		memcpy(d.capp, p->op.capp, HCE_CAPP_RECORD_LEN);
	}
	purse_cancel(p);
	ret = hce_store_commit_debit(p->st, &d);
	if (ret)
		return commit_sw(ret);
	hce_wr_bytes(&r->w, d.tac, 4);
	hce_wr_bytes(&r->w, d.mac2, 4);
	return HCE_SW_OK;
}

uint16_t purse_credit(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r)
{
	const uint8_t *date, *time, *mac2;
	struct hce_purse_state s;
	struct hce_store_load l;
	struct hce_rd rd;
	uint8_t mac[4], tac[4];
	uint16_t sw;
	int ret;

	if (p->op.kind != PEND_LOAD) {
		purse_cancel(p);
		return HCE_SW_NOT_ALLOWED;
	}
	if (c->p1 != 0x00 || c->p2 != 0x00) {
		purse_cancel(p);
		return HCE_SW_WRONG_P1P2;
	}
	rd = hce_rd_init(c->data, c->nc);
	if (hce_rd_view(&rd, &date, 4) || hce_rd_view(&rd, &time, 3) ||
	    hce_rd_view(&rd, &mac2, 4) || hce_rd_left(&rd) || !purse_le_ok(c, 4)) {
		purse_cancel(p);
		return HCE_SW_WRONG_LENGTH;
	}
	sw = ready(p, &s, true);
	if (sw != HCE_SW_OK) {
		purse_cancel(p);
		return sw;
	}
	if (purse_mac_load2(p->op.key, &p->op, date, time, mac)) {
		purse_cancel(p);
		return HCE_SW_UNKNOWN;
	}
	if (!hce_ct_equal(mac, mac2, 4))
		return mac_failed(p);
	if (purse_tac_load(&p->keys->dtk, &p->op, date, time, tac)) {
		purse_cancel(p);
		return HCE_SW_UNKNOWN;
	}
	memset(&l, 0, sizeof(l));
	l.old_balance = p->op.balance;
	l.online_counter = p->op.counter;
	l.amount = p->op.amount;
	log_record(p, p->op.counter, p->op.amount, HCE_TX_LOAD, p->op.terminal, date, time, l.log);
	memcpy(l.tac, tac, 4);
	purse_cancel(p);
	ret = hce_store_commit_load(p->st, &l);
	if (ret)
		return commit_sw(ret);
	hce_wr_bytes(&r->w, tac, 4);
	return HCE_SW_OK;
}

uint16_t purse_prove(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r)
{
	struct hce_rd rd = hce_rd_init(c->data, c->nc);
	struct hce_proof pr;
	uint16_t ctc;
	int ret;

	if (c->p1 != 0x00 || (c->p2 != HCE_TX_PURCHASE && c->p2 != HCE_TX_CAPP))
		return HCE_SW_WRONG_P1P2;
	if (hce_rd_be16(&rd, &ctc) || hce_rd_left(&rd) || !purse_le_ok(c, 8))
		return HCE_SW_WRONG_LENGTH;
	if (p->sel != SEL_EP)
		return HCE_SW_CONDITIONS;
	/* The counter is the CTC INITIALIZE FOR PURCHASE returned (Documentation/purse.md). */
	ret = hce_store_proof(p->st, ctc, &pr);
	if (ret == -ENOENT || (!ret && pr.type != c->p2))
		return HCE_SW_NO_PROOF;
	if (ret)
		return HCE_SW_UNKNOWN;
	hce_wr_bytes(&r->w, pr.mac2, 4);
	hce_wr_bytes(&r->w, pr.tac, 4);
	return HCE_SW_OK;
}

uint16_t purse_challenge(struct hce_purse *p, const struct hce_capdu *c, struct purse_rsp *r)
{
	uint8_t rnd[8];

	if (c->p1 != 0x00 || c->p2 != 0x00)
		return HCE_SW_WRONG_P1P2;
	if (c->nc || !c->has_le || (c->ne != 4 && c->ne != 8))
		return HCE_SW_WRONG_LENGTH;
	if (purse_random(p, rnd, c->ne))
		return HCE_SW_UNKNOWN;
	hce_wr_bytes(&r->w, rnd, c->ne);
	hce_wipe(rnd, sizeof(rnd));
	return HCE_SW_OK;
}
