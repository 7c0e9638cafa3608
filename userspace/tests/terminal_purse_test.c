// SPDX-License-Identifier: GPL-2.0
/*
 * terminal_purse_test.c - the terminal (lib/terminal) against the real purse (lib/purse over
 * lib/store), in process: purchase, load, compound purchase, insufficient balance, MAC2/TAC
 * tampering, wrong issuer keys, recovery of a lost DEBIT/CREDIT answer, TTC across reopen.
 *
 * The card is personalised with keys diversified from the same issuer master keys the PSAM
 * holds (TEST ONLY keys: those of profiles/sample-psam.conf). A wrapping transport corrupts
 * or loses chosen answers, as a flaky RF link or a hostile card would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The harness (and FIXTURE_SETUP) define functions without prototypes; formats non-literal. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "purse/purse.h"
#include "store/store.h"
#include "terminal/psam.h"
#include "terminal/records.h"
#include "terminal/term.h"
#include "terminal/transport.h"

/* TEST ONLY issuer master keys (profiles/sample-psam.conf). */
static const char psam_text[] =
	"[issuer]\nid = 99 99 00 00 00 00 00 01\n"
	"[terminal]\nid = 11 22 33 44 55 66\n"
	"[purchase-key 1]\nalg = 00\nversion = 01\n"
	"master = 01 23 45 67 89 AB CD EF FE DC BA 98 76 54 32 10\n"
	"[purchase-key 2]\nalg = 04\nversion = 02\n"
	"master = 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF\n"
	"[load-key 1]\nalg = 00\nversion = 01\n"
	"master = 10 32 54 76 98 BA DC FE EF CD AB 89 67 45 23 01\n"
	"[tac-key]\nalg = 00\nversion = 01\n"
	"master = 89 AB CD EF 01 23 45 67 76 54 32 10 FE DC BA 98\n";

/* Another issuer's keys: same layout, every master key different. */
static const char other_psam_text[] =
	"[purchase-key 1]\nalg = 00\nversion = 01\n"
	"master = 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01\n"
	"[load-key 1]\nalg = 00\nversion = 01\n"
	"master = 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02\n"
	"[tac-key]\nalg = 00\nversion = 01\n"
	"master = 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 03\n";

static const uint8_t serial[10] = { 0x03, 0x10, 0x99, 0, 0, 0, 0, 0, 0, 0x01 };

/* ---- a transport that wraps another and misbehaves on one command ---- */

enum fault {
	F_NONE,
	F_FLIP,		/* flip one bit of the answer's data byte `byte` */
	F_LOSE_AFTER,	/* deliver the command, lose the answer (-EIO) */
	F_LOSE_BEFORE,	/* lose the command: the card never sees it (-EIO) */
	F_T0,		/* every answer with data comes as 61xx, then GET RESPONSE (T=0) */
	F_6581_AFTER,	/* deliver the command, answer 6581 (commit reached the disk) */
	F_6581_BEFORE,	/* answer 6581 without delivering (commit failed) */
};

struct faulty {
	struct hce_term_transport *inner;
	uint8_t cla, ins;	/* the command to hit */
	enum fault fault;
	size_t byte;
	int hits;		/* times the fault fired */
	int once;		/* fire only the first time */
	int dead_after;		/* after the fault, every exchange fails */
	int resets;
	uint8_t stash[HCE_RAPDU_MIN_CAP];	/* F_T0: data awaiting GET RESPONSE */
	size_t stash_len;
};

static int faulty_transmit(struct hce_term_transport *t, const uint8_t *capdu, size_t len,
			   uint8_t *rapdu, size_t cap, size_t *rlen)
{
	struct faulty *f = t->priv;
	bool hit;
	int rc;

	if (f->fault == F_T0) {
		if (len == 5 && capdu[0] == 0x00 && capdu[1] == 0xC0) {
			f->hits++;
			if (!f->stash_len || capdu[4] != f->stash_len) {
				rapdu[0] = 0x6F;
				rapdu[1] = 0x00;
				*rlen = 2;
				return 0;
			}
			memcpy(rapdu, f->stash, f->stash_len);
			rapdu[f->stash_len] = 0x90;
			rapdu[f->stash_len + 1] = 0x00;
			*rlen = f->stash_len + 2;
			f->stash_len = 0;
			return 0;
		}
		rc = hce_term_transmit(f->inner, capdu, len, rapdu, cap, rlen);
		if (rc || *rlen <= 2 || rapdu[*rlen - 2] != 0x90)
			return rc;
		f->stash_len = *rlen - 2;
		memcpy(f->stash, rapdu, f->stash_len);
		rapdu[0] = 0x61;
		rapdu[1] = (uint8_t)f->stash_len;
		*rlen = 2;
		return 0;
	}
	if (f->dead_after && f->hits) {
		snprintf(t->err, sizeof(t->err), "test: card gone");
		return -EIO;
	}
	hit = f->fault != F_NONE && len >= 2 && capdu[0] == f->cla && capdu[1] == f->ins &&
		!(f->once && f->hits);

	if (hit && f->fault == F_6581_BEFORE) {
		f->hits++;
		rapdu[0] = 0x65;
		rapdu[1] = 0x81;
		*rlen = 2;
		return 0;
	}
	if (hit && f->fault == F_LOSE_BEFORE) {
		f->hits++;
		snprintf(t->err, sizeof(t->err), "test: command lost");
		return -EIO;
	}
	rc = hce_term_transmit(f->inner, capdu, len, rapdu, cap, rlen);
	if (rc || !hit)
		return rc;
	f->hits++;
	if (f->fault == F_LOSE_AFTER) {
		snprintf(t->err, sizeof(t->err), "test: answer lost");
		return -EIO;
	}
	if (f->fault == F_6581_AFTER) {
		rapdu[0] = 0x65;
		rapdu[1] = 0x81;
		*rlen = 2;
		return 0;
	}
	if (f->byte < *rlen - 2)
		rapdu[f->byte] ^= 0x01;
	return 0;
}

static int faulty_reset(struct hce_term_transport *t)
{
	struct faulty *f = t->priv;

	f->resets++;
	return hce_term_reset(f->inner);
}

static const struct hce_term_transport_ops faulty_ops = {
	.name = "faulty",
	.transmit = faulty_transmit,
	.reset = faulty_reset,
};

/* ---- fixture: a personalised purse, the PSAM, records, a terminal ---- */

FIXTURE(tp) {
	char dir[64], card_path[96], rec_path[96];
	struct hce_store *st;
	struct hce_purse *purse;
	struct hce_card_keys keys;
	struct hce_psam psam;
	struct hce_term_transport app_tp, tp;
	struct faulty f;
	struct hce_term_db *db;
	struct hce_term term;
};

static void card_data(struct hce_card_data *c)
{
	static const uint8_t aid[8] = { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05 };
	static const uint8_t head[10] = { 0x99, 0x99, 0, 0, 0, 0, 0, 0x01, 0x02, 0x02 };
	static const uint8_t dates[8] = { 0x20, 0x26, 0x01, 0x01, 0x20, 0x36, 0x12, 0x31 };
	int i;

	memset(c, 0, sizeof(*c));
	memcpy(c->aid, aid, sizeof(aid));
	c->aid_len = sizeof(aid);
	c->app_version = 0x02;
	memcpy(c->ef0015, head, 10);
	memcpy(c->ef0015 + 10, serial, 10);
	memcpy(c->ef0015 + 20, dates, 8);
	memset(c->ef0016, 0x20, 55);
	c->ef0016_len = 55;
	c->max_balance = 100000;
	c->balance = 10000;
	c->keys[0] = (struct hce_key_info){ HCE_KEY_DPK, 1, 0x01, 0x00 };
	c->keys[1] = (struct hce_key_info){ HCE_KEY_DPK, 2, 0x02, 0x04 };
	c->keys[2] = (struct hce_key_info){ HCE_KEY_DLK, 1, 0x01, 0x00 };
	c->keys[3] = (struct hce_key_info){ HCE_KEY_DTK, 0, 0x01, 0x00 };
	c->n_keys = 4;
	for (i = 0; i < 2; i++) {
		c->capp[i][0] = (uint8_t)(i + 1);
		c->capp_present[i] = 1;
	}
}

static time_t fixed_time(void)
{
	struct tm tm = { .tm_year = 2026 - 1900, .tm_mon = 10, .tm_mday = 25, .tm_hour = 12,
			 .tm_min = 34, .tm_sec = 56, .tm_isdst = -1 };

	return mktime(&tm);
}

FIXTURE_SETUP(tp)
{
	struct hce_card_data c;
	char err[512];

	snprintf(self->dir, sizeof(self->dir), "/tmp/hce-term-purse-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->card_path, sizeof(self->card_path), "%s/card.db", self->dir);
	snprintf(self->rec_path, sizeof(self->rec_path), "%s/records.db", self->dir);
	ASSERT_EQ(0, hce_psam_parse(&self->psam, "psam", psam_text, strlen(psam_text), err,
				    sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, hce_psam_card_keys(&self->psam, serial, &self->keys));
	ASSERT_EQ(0, hce_store_open(self->card_path, HCE_STORE_CREATE, &self->st, err));
	card_data(&c);
	ASSERT_EQ(0, hce_store_personalise(self->st, &c, 0)) TH_LOG("%s",
								 hce_store_errmsg(self->st));
	ASSERT_EQ(0, hce_purse_open(self->st, &self->keys, &self->purse));
	hce_term_transport_app(&self->app_tp, hce_purse_app(self->purse));
	memset(&self->f, 0, sizeof(self->f));
	self->f.inner = &self->app_tp;
	memset(&self->tp, 0, sizeof(self->tp));
	self->tp.ops = &faulty_ops;
	self->tp.priv = &self->f;
	ASSERT_EQ(0, hce_term_db_open(&self->db, self->rec_path, HCE_TERM_DB_DURABLE, err,
				      sizeof(err))) TH_LOG("%s", err);
	hce_term_init(&self->term, &self->tp, &self->psam, self->db);
	self->term.fixed_time = fixed_time();
}

FIXTURE_TEARDOWN(tp)
{
	char cmd[160];

	hce_term_db_close(self->db);
	hce_purse_close(self->purse);
	hce_store_close(self->st);
	hce_card_keys_wipe(&self->keys);
	hce_psam_wipe(&self->psam);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->dir);
	if (system(cmd))
		TH_LOG("cleanup failed");
}

static uint32_t card_balance(struct hce_purse *p)
{
	uint32_t b = 0xdeadbeef;

	if (hce_purse_balance(p, &b))
		return 0xdeadbeef;
	return b;
}

static int64_t n_records(struct hce_term_db *db)
{
	int64_t n = -1;

	if (hce_term_db_count(db, &n))
		return -1;
	return n;
}

TEST_F(tp, purchase_debit_mac2_and_tac_verified_balance_log_and_record)
{
	struct hce_term_result res;
	struct hce_purse_log_entry e;
	struct hce_term_log_entry le[10];
	struct hce_term_card card;
	struct hce_proof pr;
	size_t n;
	uint32_t bal;

	ASSERT_EQ(HCE_TERM_OK, hce_term_select(&self->term, &card));
	EXPECT_STREQ("3109900000000000001", card.number);
	ASSERT_EQ(HCE_TERM_OK, hce_term_balance(&self->term, &bal));
	EXPECT_EQ(10000U, bal);

	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&self->term, 150, &res)) TH_LOG("%s",
									       self->term.err);
	EXPECT_EQ(9850U, card_balance(self->purse));
	EXPECT_EQ(10000U, res.rec.balance_before);
	EXPECT_EQ(9850U, res.rec.balance_after);
	EXPECT_EQ(1U, res.rec.ttc);
	EXPECT_EQ(0, res.rec.counter);
	EXPECT_STREQ("ok", res.rec.result);
	EXPECT_FALSE(res.rec.recovered);
	/* the card's proof is what the terminal recorded */
	ASSERT_EQ(0, hce_store_proof(self->st, 0, &pr));
	EXPECT_EQ(0, memcmp(pr.mac2, res.rec.mac2, 4));
	EXPECT_EQ(0, memcmp(pr.tac, res.rec.tac, 4));
	ASSERT_EQ(0, hce_purse_log(self->purse, 1, &e));
	EXPECT_EQ(HCE_TX_PURCHASE, e.type);
	EXPECT_EQ(150U, e.amount);
	EXPECT_EQ(0, memcmp(e.terminal, self->term.terminal_id, 6));
	EXPECT_EQ(1, n_records(self->db));

	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&self->term, 1, &res));
	EXPECT_EQ(2U, res.rec.ttc);
	EXPECT_EQ(1, res.rec.counter);
	ASSERT_EQ(HCE_TERM_OK, hce_term_select(&self->term, &card));
	ASSERT_EQ(HCE_TERM_OK, hce_term_read_log(&self->term, le, 10, &n));
	ASSERT_EQ((size_t)2, n);
	EXPECT_EQ(1U, le[0].amount);
	EXPECT_EQ(150U, le[1].amount);
}

TEST_F(tp, purchase_with_sm4_key_index_2)
{
	struct hce_term_result res;

	self->psam.purchase_index = 2;
	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&self->term, 99, &res)) TH_LOG("%s",
									      self->term.err);
	EXPECT_EQ(0x04, res.alg);
	EXPECT_EQ(9901U, card_balance(self->purse));
}

TEST_F(tp, load_mac1_checked_credit_tac_verified)
{
	struct hce_term_result res;
	struct hce_purse_log_entry e;

	ASSERT_EQ(HCE_TERM_OK, hce_term_load(&self->term, 5000, &res)) TH_LOG("%s",
									     self->term.err);
	EXPECT_EQ(15000U, card_balance(self->purse));
	EXPECT_EQ(15000U, res.rec.balance_after);
	EXPECT_TRUE(res.rec.has_tac);
	EXPECT_STREQ("ok", res.rec.result);
	ASSERT_EQ(0, hce_purse_log(self->purse, 1, &e));
	EXPECT_EQ(HCE_TX_LOAD, e.type);
	EXPECT_EQ(5000U, e.amount);
}

TEST_F(tp, load_beyond_max_balance_is_refused_9401)
{
	struct hce_term_result res;

	EXPECT_EQ(HCE_TERM_E_FUNDS, hce_term_load(&self->term, 95000, &res));
	EXPECT_EQ(10000U, card_balance(self->purse));
	EXPECT_STREQ("insufficient-balance", res.rec.result);
}

TEST_F(tp, capp_purchase_type_09_updates_record_and_logs)
{
	struct hce_term_result res;
	struct hce_purse_log_entry e;
	uint8_t rec[48], want[48] = { 0x02, 0xAA, 0xBB, 0xCC };
	struct hce_proof pr;

	ASSERT_EQ(HCE_TERM_OK, hce_term_capp(&self->term, 200, 2, want, 4, &res)) TH_LOG("%s",
									     self->term.err);
	EXPECT_EQ(9800U, card_balance(self->purse));
	ASSERT_EQ(0, hce_store_capp(self->st, 2, rec));
	EXPECT_EQ(0, memcmp(rec, want, sizeof(want)));
	ASSERT_EQ(0, hce_purse_log(self->purse, 1, &e));
	EXPECT_EQ(HCE_TX_CAPP, e.type);
	ASSERT_EQ(0, hce_store_proof(self->st, 0, &pr));
	EXPECT_EQ(HCE_TX_CAPP, pr.type);
	EXPECT_EQ(HCE_TX_CAPP, res.rec.type);
}

TEST_F(tp, purchase_insufficient_balance_9401_nothing_charged)
{
	struct hce_term_result res;

	EXPECT_EQ(HCE_TERM_E_FUNDS, hce_term_purchase(&self->term, 10001, &res));
	EXPECT_EQ(0x9401, res.sw);
	EXPECT_EQ(10000U, res.rec.balance_before);
	EXPECT_EQ(10000U, res.rec.balance_after);
	EXPECT_EQ(10000U, card_balance(self->purse));
	EXPECT_STREQ("insufficient-balance", res.rec.result);
	EXPECT_EQ(1, n_records(self->db));
	/* the exact balance is fine */
	EXPECT_EQ(HCE_TERM_OK, hce_term_purchase(&self->term, 10000, &res));
	EXPECT_EQ(0U, card_balance(self->purse));
}

TEST_F(tp, debit_mac2_tampered_is_detected)
{
	struct hce_term_result res;

	self->f.cla = 0x80;
	self->f.ins = 0x54;
	self->f.fault = F_FLIP;
	self->f.byte = 6;	/* TAC(4) MAC2(4): a MAC2 byte */
	EXPECT_EQ(HCE_TERM_E_PROOF, hce_term_purchase(&self->term, 150, &res));
	EXPECT_STREQ("mac2-invalid", res.rec.result);
	/* the card did charge: the record says so, for the issuer to settle */
	EXPECT_EQ(9850U, card_balance(self->purse));
	EXPECT_EQ(9850U, res.rec.balance_after);
}

TEST_F(tp, debit_tac_tampered_is_detected)
{
	struct hce_term_result res;

	self->f.cla = 0x80;
	self->f.ins = 0x54;
	self->f.fault = F_FLIP;
	self->f.byte = 1;	/* a TAC byte */
	EXPECT_EQ(HCE_TERM_E_PROOF, hce_term_purchase(&self->term, 150, &res));
	EXPECT_STREQ("tac-invalid", res.rec.result);
}

TEST_F(tp, load_mac1_tampered_is_detected_nothing_loaded)
{
	struct hce_term_result res;

	self->f.cla = 0x80;
	self->f.ins = 0x50;
	self->f.fault = F_FLIP;
	self->f.byte = 13;	/* in MAC1 (bytes 12..15) */
	EXPECT_EQ(HCE_TERM_E_PROOF, hce_term_load(&self->term, 5000, &res));
	EXPECT_STREQ("mac1-invalid", res.rec.result);
	EXPECT_EQ(10000U, card_balance(self->purse));
}

TEST_F(tp, load_tac_tampered_is_detected)
{
	struct hce_term_result res;

	self->f.cla = 0x80;
	self->f.ins = 0x52;
	self->f.fault = F_FLIP;
	self->f.byte = 2;
	EXPECT_EQ(HCE_TERM_E_PROOF, hce_term_load(&self->term, 5000, &res));
	EXPECT_STREQ("tac-invalid", res.rec.result);
}

TEST_F(tp, wrong_issuer_keys_card_answers_9302_nothing_charged)
{
	struct hce_psam other;
	struct hce_term_result res;
	char err[256];

	ASSERT_EQ(0, hce_psam_parse(&other, "other", other_psam_text, strlen(other_psam_text),
				    err, sizeof(err))) TH_LOG("%s", err);
	self->term.psam = &other;
	EXPECT_EQ(HCE_TERM_E_KEY, hce_term_purchase(&self->term, 150, &res));
	EXPECT_EQ(0x9302, res.sw);
	EXPECT_EQ(10000U, card_balance(self->purse));
	EXPECT_STREQ("key-rejected", res.rec.result);
	/* a load: the card's MAC1 does not verify under the other keys, nothing is sent */
	EXPECT_EQ(HCE_TERM_E_PROOF, hce_term_load(&self->term, 100, &res));
	EXPECT_EQ(10000U, card_balance(self->purse));
	/* the third MAC failure locks the application */
	EXPECT_EQ(HCE_TERM_E_KEY, hce_term_purchase(&self->term, 150, &res));
	EXPECT_EQ(HCE_TERM_E_KEY, hce_term_purchase(&self->term, 150, &res));
	self->term.psam = &self->psam;
	EXPECT_EQ(HCE_TERM_E_LOCKED, hce_term_purchase(&self->term, 150, &res));
	EXPECT_EQ(0x9303, res.sw);
	EXPECT_EQ(10000U, card_balance(self->purse));
	hce_psam_wipe(&other);
}

TEST_F(tp, debit_answer_lost_after_commit_recovered_charged_once_recorded_once)
{
	struct hce_term_result res;
	struct hce_proof pr;

	self->f.cla = 0x80;
	self->f.ins = 0x54;
	self->f.fault = F_LOSE_AFTER;
	self->f.once = 1;
	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&self->term, 150, &res)) TH_LOG("%s",
									       self->term.err);
	EXPECT_EQ(1, self->f.hits);
	EXPECT_GE(self->f.resets, 1);
	EXPECT_TRUE(res.rec.recovered);
	EXPECT_STREQ("ok", res.rec.result);
	EXPECT_EQ(9850U, card_balance(self->purse));
	EXPECT_EQ(9850U, res.rec.balance_after);
	EXPECT_EQ(1, n_records(self->db));
	ASSERT_EQ(0, hce_store_proof(self->st, res.rec.counter, &pr));
	EXPECT_EQ(0, memcmp(pr.tac, res.rec.tac, 4));
	EXPECT_EQ(0, memcmp(pr.mac2, res.rec.mac2, 4));
}

TEST_F(tp, t0_reader_61xx_followed_with_get_response)
{
	struct hce_term_result res;

	self->f.fault = F_T0;
	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&self->term, 150, &res)) TH_LOG("%s",
									       self->term.err);
	/* SELECT, READ BINARY, GET BALANCE, INIT, DEBIT: five GET RESPONSEs */
	EXPECT_EQ(5, self->f.hits);
	EXPECT_EQ(9850U, card_balance(self->purse));
	ASSERT_EQ(HCE_TERM_OK, hce_term_load(&self->term, 150, &res)) TH_LOG("%s",
									   self->term.err);
	EXPECT_EQ(10000U, card_balance(self->purse));
}

TEST_F(tp, debit_6581_memory_failure_settled_with_prove)
{
	struct hce_term_result res;

	self->f.cla = 0x80;
	self->f.ins = 0x54;
	self->f.fault = F_6581_AFTER;
	self->f.once = 1;
	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&self->term, 150, &res)) TH_LOG("%s",
									       self->term.err);
	EXPECT_TRUE(res.rec.recovered);
	EXPECT_EQ(9850U, card_balance(self->purse));
	self->f.hits = 0;
	self->f.fault = F_6581_BEFORE;
	EXPECT_EQ(HCE_TERM_E_NOT_CHARGED, hce_term_purchase(&self->term, 150, &res));
	EXPECT_EQ(9850U, card_balance(self->purse));
	self->f.hits = 0;
	self->f.ins = 0x52;
	self->f.fault = F_6581_AFTER;
	ASSERT_EQ(HCE_TERM_OK, hce_term_load(&self->term, 150, &res)) TH_LOG("%s", self->term.err);
	EXPECT_STREQ("ok-no-tac", res.rec.result);
	EXPECT_EQ(10000U, card_balance(self->purse));
	EXPECT_EQ(3, n_records(self->db));
}

TEST_F(tp, zero_fare_purchase_is_recorded)
{
	struct hce_term_result res;

	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&self->term, 0, &res)) TH_LOG("%s",
									     self->term.err);
	EXPECT_EQ(10000U, card_balance(self->purse));
	EXPECT_EQ(1, n_records(self->db));
}

TEST_F(tp, capp_debit_answer_lost_recovered_with_prove_type_09)
{
	struct hce_term_result res;
	uint8_t rec[48] = { 0x01, 0x77 }, got[48];

	self->f.cla = 0x80;
	self->f.ins = 0x54;
	self->f.fault = F_LOSE_AFTER;
	self->f.once = 1;
	ASSERT_EQ(HCE_TERM_OK, hce_term_capp(&self->term, 250, 1, rec, 2, &res)) TH_LOG("%s",
										self->term.err);
	EXPECT_TRUE(res.rec.recovered);
	EXPECT_EQ(HCE_TX_CAPP, res.rec.type);
	EXPECT_EQ(9750U, card_balance(self->purse));
	ASSERT_EQ(0, hce_store_capp(self->st, 1, got));
	EXPECT_EQ(0, memcmp(got, rec, sizeof(rec)));
	EXPECT_EQ(1, n_records(self->db));
}

TEST_F(tp, receipt_names_card_amounts_proofs_and_result)
{
	struct hce_term_result res;
	char text[1024], mac2[9], line[64];

	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&self->term, 150, &res));
	ASSERT_EQ(0, hce_term_receipt(&res, text, sizeof(text)));
	EXPECT_NE(NULL, strstr(text, "---- PURCHASE ----"));
	EXPECT_NE(NULL, strstr(text, "card      3109900000000000001\n"));
	EXPECT_NE(NULL, strstr(text, "terminal  112233445566  TTC 1\n"));
	EXPECT_NE(NULL, strstr(text, "amount    1.50 CNY\n"));
	EXPECT_NE(NULL, strstr(text, "balance   100.00 -> 98.50 CNY\n"));
	EXPECT_NE(NULL, strstr(text, "result    ok\n"));
	snprintf(mac2, sizeof(mac2), "%02X%02X%02X%02X", res.rec.mac2[0], res.rec.mac2[1],
		 res.rec.mac2[2], res.rec.mac2[3]);
	snprintf(line, sizeof(line), "MAC2 %s", mac2);
	EXPECT_NE(NULL, strstr(text, line));
	/* too small a buffer is an error, not a silent truncation */
	EXPECT_EQ(-1, hce_term_receipt(&res, text, 40));
}

/*
 * A card with an overdraft (Documentation/purse.md: two's complement on the wire) paid into
 * it: the receipt and the balance shown are signed, "-2.00", never 42949670.96.
 */
TEST_F(tp, overdraft_balance_is_shown_signed)
{
	struct hce_term_transport tp2;
	struct hce_card_data c;
	struct hce_term_result res;
	struct hce_store *st = NULL;
	struct hce_purse *p = NULL;
	struct hce_term t2;
	char path[128], text[1024], b[16], err[512];
	uint32_t bal = 0;

	snprintf(path, sizeof(path), "%s/overdraft.db", self->dir);
	ASSERT_EQ(0, hce_store_open(path, HCE_STORE_CREATE, &st, err));
	card_data(&c);
	c.overdraft_limit = 500;
	ASSERT_EQ(0, hce_store_personalise(st, &c, 0)) TH_LOG("%s", hce_store_errmsg(st));
	ASSERT_EQ(0, hce_purse_open(st, &self->keys, &p));
	hce_term_transport_app(&tp2, hce_purse_app(p));
	hce_term_init(&t2, &tp2, &self->psam, self->db);
	t2.fixed_time = fixed_time();
	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&t2, 10200, &res)) TH_LOG("%s", t2.err);
	EXPECT_EQ((uint32_t)-200, res.rec.balance_after);
	ASSERT_EQ(0, hce_term_receipt(&res, text, sizeof(text)));
	EXPECT_NE(NULL, strstr(text, "balance   100.00 -> -2.00 CNY\n")) TH_LOG("%s", text);
	EXPECT_NE(NULL, strstr(text, "amount    102.00 CNY\n"));
	ASSERT_EQ(HCE_TERM_OK, hce_term_balance(&t2, &bal));
	hce_term_format_balance(bal, b);
	EXPECT_STREQ("-2.00", b);
	hce_term_format_balance(0x80000000u, b);
	EXPECT_STREQ("-21474836.48", b);
	hce_term_format_balance(10000, b);
	EXPECT_STREQ("100.00", b);
	hce_term_format_balance(0xFFFFFFFFu, b);
	EXPECT_STREQ("-0.01", b);
	hce_purse_close(p);
	hce_store_close(st);
}

TEST_F(tp, debit_lost_before_card_saw_it_recovered_not_charged)
{
	struct hce_term_result res;

	self->f.cla = 0x80;
	self->f.ins = 0x54;
	self->f.fault = F_LOSE_BEFORE;
	self->f.once = 1;
	EXPECT_EQ(HCE_TERM_E_NOT_CHARGED, hce_term_purchase(&self->term, 150, &res));
	EXPECT_EQ(0x9406, res.sw);
	EXPECT_EQ(10000U, card_balance(self->purse));
	EXPECT_STREQ("not-charged", res.rec.result);
	EXPECT_EQ(1, n_records(self->db));
	/* and the next purchase goes through normally with the same CTC */
	self->f.fault = F_NONE;
	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&self->term, 150, &res));
	EXPECT_EQ(0, res.rec.counter);
	EXPECT_EQ(2U, res.rec.ttc);
}

TEST_F(tp, debit_lost_and_card_gone_outcome_unknown_record_kept)
{
	struct hce_term_result res;

	self->f.cla = 0x80;
	self->f.ins = 0x54;
	self->f.fault = F_LOSE_AFTER;
	self->f.dead_after = 1;		/* the card left the field with the answer */
	EXPECT_EQ(HCE_TERM_E_UNKNOWN, hce_term_purchase(&self->term, 150, &res));
	EXPECT_EQ(3, self->f.resets);
	EXPECT_STREQ("unknown", res.rec.result);
	/* the card did commit: the row stays for the issuer to settle with the card's log */
	EXPECT_EQ(9850U, card_balance(self->purse));
	EXPECT_EQ(1, n_records(self->db));
}

TEST_F(tp, credit_answer_lost_after_commit_recovered_from_log)
{
	struct hce_term_result res;

	self->f.cla = 0x80;
	self->f.ins = 0x52;
	self->f.fault = F_LOSE_AFTER;
	self->f.once = 1;
	ASSERT_EQ(HCE_TERM_OK, hce_term_load(&self->term, 5000, &res)) TH_LOG("%s",
									     self->term.err);
	EXPECT_TRUE(res.rec.recovered);
	EXPECT_STREQ("ok-no-tac", res.rec.result);
	EXPECT_EQ(15000U, card_balance(self->purse));
	EXPECT_EQ(1, n_records(self->db));
}

TEST_F(tp, credit_lost_before_card_saw_it_not_credited)
{
	struct hce_term_result res;

	self->f.cla = 0x80;
	self->f.ins = 0x52;
	self->f.fault = F_LOSE_BEFORE;
	self->f.once = 1;
	EXPECT_EQ(HCE_TERM_E_NOT_CHARGED, hce_term_load(&self->term, 5000, &res));
	EXPECT_EQ(10000U, card_balance(self->purse));
	EXPECT_STREQ("not-charged", res.rec.result);
}

TEST_F(tp, ttc_monotonic_across_records_reopen)
{
	struct hce_term_result res;
	char err[256];

	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&self->term, 10, &res));
	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&self->term, 10, &res));
	EXPECT_EQ(2U, res.rec.ttc);
	hce_term_db_close(self->db);
	ASSERT_EQ(0, hce_term_db_open(&self->db, self->rec_path, HCE_TERM_DB_DURABLE, err,
				      sizeof(err)));
	self->term.db = self->db;
	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&self->term, 10, &res));
	EXPECT_EQ(3U, res.rec.ttc);
	EXPECT_EQ(3, n_records(self->db));
}

TEST_F(tp, card_of_another_issuer_or_expired_is_declined)
{
	struct hce_term_result res;
	struct tm tm = { .tm_year = 2037 - 1900, .tm_mon = 0, .tm_mday = 1, .tm_hour = 12,
			 .tm_isdst = -1 };

	self->psam.issuer[7] ^= 1;
	EXPECT_EQ(HCE_TERM_E_DECLINED, hce_term_purchase(&self->term, 10, &res));
	self->psam.issuer[7] ^= 1;
	self->term.fixed_time = mktime(&tm);
	EXPECT_EQ(HCE_TERM_E_DECLINED, hce_term_purchase(&self->term, 10, &res));
	EXPECT_EQ(10000U, card_balance(self->purse));
	EXPECT_EQ(0, n_records(self->db));
}

TEST(amounts_parse_fen_and_yuan)
{
	uint32_t v;

	ASSERT_EQ(0, hce_term_parse_amount("150", &v));
	EXPECT_EQ(150U, v);
	ASSERT_EQ(0, hce_term_parse_amount("1.50", &v));
	EXPECT_EQ(150U, v);
	ASSERT_EQ(0, hce_term_parse_amount("1.5", &v));
	EXPECT_EQ(150U, v);
	ASSERT_EQ(0, hce_term_parse_amount("0.07", &v));
	EXPECT_EQ(7U, v);
	ASSERT_EQ(0, hce_term_parse_amount("4294967295", &v));
	EXPECT_EQ(4294967295U, v);
	EXPECT_EQ(-1, hce_term_parse_amount("4294967296", &v));
	EXPECT_EQ(-1, hce_term_parse_amount("42949672.96", &v));
	EXPECT_EQ(-1, hce_term_parse_amount("1.", &v));
	EXPECT_EQ(-1, hce_term_parse_amount(".5", &v));
	EXPECT_EQ(-1, hce_term_parse_amount("1.505", &v));
	EXPECT_EQ(-1, hce_term_parse_amount("-1", &v));
	EXPECT_EQ(-1, hce_term_parse_amount("1e3", &v));
	EXPECT_EQ(-1, hce_term_parse_amount("", &v));
}

TEST_HARNESS_MAIN
