/* SPDX-License-Identifier: GPL-2.0 */
/*
 * purse_testcard.h - a deterministic TEST card for the purse and store tests.
 *
 * TEST-ONLY KEYS: the key values below are published test vectors of this project, never
 * valid on any real card or terminal. Header-only (static functions) so it is compiled only
 * into the tests that include it.
 *
 * Expected MACs are computed here from the crypto.h block primitives (hce_des_ecb,
 * hce_des3_ecb, hce_sm4_ecb) following the spec formulas step by step: not through the
 * purse's glue nor hce_mac/hce_session_key, so a bug in the glue fails a test.
 */
#ifndef HCE_PURSE_TESTCARD_H
#define HCE_PURSE_TESTCARD_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/apdu.h"
#include "codec/buf.h"
#include "codec/hex.h"
#include "crypto/crypto.h"
#include "purse/purse.h"
#include "store/store.h"

#define T_UNUSED __attribute__((unused))

/* TEST-ONLY keys. */
static const uint8_t t_dpk1[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
				    0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x01 };
static const uint8_t t_dpk2[16] = { 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98,
				    0xA9, 0xBA, 0xCB, 0xDC, 0xED, 0xFE, 0x0F, 0x10 };
static const uint8_t t_dlk1[16] = { 0x0A, 0x1B, 0x2C, 0x3D, 0x4E, 0x5F, 0x60, 0x71,
				    0x82, 0x93, 0xA4, 0xB5, 0xC6, 0xD7, 0xE8, 0xF9 };
static const uint8_t t_dtk[16] = { 0xF0, 0xE1, 0xD2, 0xC3, 0xB4, 0xA5, 0x96, 0x87,
				   0x78, 0x69, 0x5A, 0x4B, 0x3C, 0x2D, 0x1E, 0x0F };

static const uint8_t t_aid[8] = { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05 };
static const uint8_t t_terminal[6] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60 };
static const uint8_t t_date[4] = { 0x20, 0x26, 0x11, 0x25 };
static const uint8_t t_time[3] = { 0x21, 0x30, 0x05 };

#define T_BALANCE 10000u	/* 100.00 CNY */
#define T_MAX_BALANCE 100000u
#define T_OVERDRAFT 0x000500u

static T_UNUSED void t_card_data(struct hce_card_data *c, uint8_t alg)
{
	static const uint8_t ef15[HCE_EF0015_LEN] = {
		0x31, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* issuer id */
		0x02, 0x01,					/* app type, version */
		0x31, 0x04, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78, 0x90, /* serial */
		0x20, 0x24, 0x01, 0x01, 0x20, 0x34, 0x12, 0x31,	/* start, expiry */
		0x00, 0x00 };
	size_t i;

	memset(c, 0, sizeof(*c));
	memcpy(c->aid, t_aid, sizeof(t_aid));
	c->aid_len = sizeof(t_aid);
	c->app_version = 0x02;
	memcpy(c->ef0015, ef15, sizeof(ef15));
	for (i = 0; i < 55; i++)
		c->ef0016[i] = (uint8_t)(0x40 + i);
	c->ef0016_len = 55;
	for (i = 0; i < HCE_EF0017_LEN; i++)
		c->ef0017[i] = (uint8_t)i;
	c->overdraft_limit = T_OVERDRAFT;
	c->max_balance = T_MAX_BALANCE;
	c->balance = T_BALANCE;
	c->keys[0] = (struct hce_key_info){ HCE_KEY_DPK, 1, 0x01, alg };
	c->keys[1] = (struct hce_key_info){ HCE_KEY_DPK, 2, 0x02, alg };
	c->keys[2] = (struct hce_key_info){ HCE_KEY_DLK, 1, 0x01, alg };
	c->keys[3] = (struct hce_key_info){ HCE_KEY_DTK, 0, 0x01, alg };
	c->n_keys = 4;
	/* CAPP record 1: id 0x01; record 2: id 0x02 */
	for (i = 0; i < 2; i++) {
		memset(c->capp[i], 0, HCE_CAPP_RECORD_LEN);
		c->capp[i][0] = (uint8_t)(i + 1);
		c->capp_present[i] = 1;
	}
}

static T_UNUSED void t_card_keys(struct hce_card_keys *k, uint8_t alg)
{
	memset(k, 0, sizeof(*k));
	k->dpk[0] = (struct hce_key_slot){ true, 1, 0x01, alg, { 0 } };
	memcpy(k->dpk[0].key, t_dpk1, 16);
	k->dpk[1] = (struct hce_key_slot){ true, 2, 0x02, alg, { 0 } };
	memcpy(k->dpk[1].key, t_dpk2, 16);
	k->dlk[0] = (struct hce_key_slot){ true, 1, 0x01, alg, { 0 } };
	memcpy(k->dlk[0].key, t_dlk1, 16);
	k->dtk = (struct hce_key_slot){ true, 0, 0x01, alg, { 0 } };
	memcpy(k->dtk.key, t_dtk, 16);
}

/* Deterministic RNG: bytes seed, seed+1, ... */
struct t_rng {
	uint8_t next;
	int fail;
};

static T_UNUSED int t_rng_fn(void *ctx, uint8_t *buf, size_t len)
{
	struct t_rng *r = ctx;
	size_t i;

	if (r->fail)
		return -1;
	for (i = 0; i < len; i++)
		buf[i] = r->next++;
	return 0;
}

/* A temporary directory and store path. */
struct t_dir {
	char dir[64];
	char path[128];
};

static T_UNUSED int t_mkdir(struct t_dir *d)
{
	snprintf(d->dir, sizeof(d->dir), "/tmp/hce-purse-test.XXXXXX");
	if (!mkdtemp(d->dir))
		return -1;
	snprintf(d->path, sizeof(d->path), "%s/card.db", d->dir);
	return 0;
}

static T_UNUSED void t_rmdir(struct t_dir *d)
{
	char p[160];

	snprintf(p, sizeof(p), "%s", d->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-wal", d->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", d->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-journal", d->path);
	unlink(p);
	rmdir(d->dir);
}

/* One response. */
struct t_rsp {
	uint8_t b[HCE_RAPDU_MIN_CAP + 64];
	size_t len;	/* data length (without SW) */
	uint16_t sw;
};

static T_UNUSED uint16_t t_xb(struct hce_app *app, const uint8_t *capdu, size_t n,
			      struct t_rsp *r)
{
	size_t len = hce_app_process(app, capdu, n, r->b, HCE_RAPDU_MIN_CAP);

	if (len < 2 || len > HCE_RAPDU_MIN_CAP) {
		r->len = 0;
		r->sw = 0xFFFF;
		return r->sw;
	}
	r->len = len - 2;
	r->sw = (uint16_t)(r->b[len - 2] << 8 | r->b[len - 1]);
	return r->sw;
}

/* Send a hex C-APDU (aborts the test binary on bad hex: a test bug). */
static T_UNUSED uint16_t t_x(struct hce_app *app, const char *hex, struct t_rsp *r)
{
	uint8_t c[300];
	ssize_t n = hce_hex_decode(hex, c, sizeof(c));

	if (n < 0) {
		fprintf(stderr, "bad hex in test: %s\n", hex);
		abort();
	}
	return t_xb(app, c, (size_t)n, r);
}

static T_UNUSED uint16_t t_select_ep(struct hce_app *app)
{
	struct t_rsp r;

	return t_x(app, "00A4040008A000000632010105", &r);
}

/* INITIALIZE FOR PURCHASE (p1 01) / CAPP (03) / LOAD (00) with key index and amount. */
static T_UNUSED uint16_t t_init(struct hce_app *app, uint8_t p1, uint8_t keyidx,
				uint32_t amount, struct t_rsp *r)
{
	uint8_t c[17] = { 0x80, 0x50, p1, 0x02, 0x0B, keyidx };

	hce_put_be32(c + 6, amount);
	memcpy(c + 10, t_terminal, 6);
	c[16] = p1 == 0x00 ? 0x10 : 0x0F;
	return t_xb(app, c, sizeof(c), r);
}

/* ---- expected values from block primitives (spec formulas) ---- */

/* ISO 9797-1 M2 padding then CBC-MAC with IV 0 over block size bs, left 4 bytes. */
static T_UNUSED void t_cbc_mac(uint8_t alg, const uint8_t *key, const uint8_t *d, size_t n,
			       uint8_t mac[4])
{
	size_t bs = alg == HCE_ALG_SM4 ? 16 : 8, m = (n / bs + 1) * bs, i, j;
	uint8_t buf[128] = { 0 }, iv[16] = { 0 }, blk[16];

	memcpy(buf, d, n);
	buf[n] = 0x80;
	for (i = 0; i < m; i += bs) {
		for (j = 0; j < bs; j++)
			blk[j] = iv[j] ^ buf[i + j];
		if (alg == HCE_ALG_SM4)
			hce_sm4_ecb(key, blk, iv);
		else
			hce_des_ecb(key, blk, iv);
	}
	memcpy(mac, iv, 4);
}

/* Session key: 3DES-ECB_K(in) (8 bytes) or SM4-ECB_K(in || 00*8) (16 bytes). */
static T_UNUSED void t_session(uint8_t alg, const uint8_t k[16], const uint8_t in[8],
			       uint8_t sk[16])
{
	uint8_t in16[16] = { 0 };

	if (alg == HCE_ALG_SM4) {
		memcpy(in16, in, 8);
		hce_sm4_ecb(k, in16, sk);
	} else {
		hce_des3_ecb(k, in, sk);
	}
}

static T_UNUSED void t_tac_key(uint8_t alg, uint8_t tk[16])
{
	int i;

	if (alg == HCE_ALG_SM4) {
		memcpy(tk, t_dtk, 16);
		return;
	}
	for (i = 0; i < 8; i++)
		tk[i] = t_dtk[i] ^ t_dtk[8 + i];
}

/* SESPK from the INIT answer's random and CTC and the TTC. */
static T_UNUSED void t_sespk(uint8_t alg, const uint8_t dpk[16], const uint8_t rnd[4],
			     uint16_t ctc, uint32_t ttc, uint8_t sk[16])
{
	uint8_t in[8];

	memcpy(in, rnd, 4);
	hce_put_be16(in + 4, ctc);
	in[6] = (uint8_t)(ttc >> 8);
	in[7] = (uint8_t)ttc;
	t_session(alg, dpk, in, sk);
}

static T_UNUSED void t_seslk(uint8_t alg, const uint8_t dlk[16], const uint8_t rnd[4],
			     uint16_t online, uint8_t sk[16])
{
	uint8_t in[8];

	memcpy(in, rnd, 4);
	hce_put_be16(in + 4, online);
	in[6] = 0x80;
	in[7] = 0x00;
	t_session(alg, dlk, in, sk);
}

/* purchase MAC1 input: amount | type | terminal | date | time (18 bytes) */
static T_UNUSED size_t t_purchase_mac1_in(uint32_t amount, uint8_t type, uint8_t *d)
{
	hce_put_be32(d, amount);
	d[4] = type;
	memcpy(d + 5, t_terminal, 6);
	memcpy(d + 11, t_date, 4);
	memcpy(d + 15, t_time, 3);
	return 18;
}

/* purchase TAC input: amount | type | terminal | TTC | date | time (22 bytes) */
static T_UNUSED size_t t_purchase_tac_in(uint32_t amount, uint8_t type, uint32_t ttc,
					 uint8_t *d)
{
	hce_put_be32(d, amount);
	d[4] = type;
	memcpy(d + 5, t_terminal, 6);
	hce_put_be32(d + 11, ttc);
	memcpy(d + 15, t_date, 4);
	memcpy(d + 19, t_time, 3);
	return 22;
}

/* DEBIT FOR PURCHASE APDU with TTC, date, time, MAC1. */
static T_UNUSED void t_debit_apdu(uint32_t ttc, const uint8_t mac1[4], uint8_t c[21])
{
	c[0] = 0x80;
	c[1] = 0x54;
	c[2] = 0x01;
	c[3] = 0x00;
	c[4] = 0x0F;
	hce_put_be32(c + 5, ttc);
	memcpy(c + 9, t_date, 4);
	memcpy(c + 13, t_time, 3);
	memcpy(c + 16, mac1, 4);
	c[20] = 0x08;
}

/*
 * A full purchase (type 06, or 09 after a cached CAPP record when capp != NULL) with a
 * correct MAC1; fills the card's answers. Returns the DEBIT SW (or the failing step's SW).
 */
struct t_purchase {
	uint8_t random[4];
	uint16_t ctc;
	uint32_t balance;
	uint8_t tac[4];
	uint8_t mac2[4];
};

static T_UNUSED uint16_t t_purchase_capp(struct hce_app *app, uint8_t alg, uint32_t amount,
					 uint32_t ttc, const uint8_t *capp_apdu, size_t capp_len,
					 struct t_purchase *out)
{
	uint8_t sk[16], d[32], mac1[4], c[21];
	uint8_t type = capp_apdu ? HCE_TX_CAPP : HCE_TX_PURCHASE;
	struct t_rsp r;
	size_t n;

	if (t_init(app, capp_apdu ? 0x03 : 0x01, 1, amount, &r) != HCE_SW_OK)
		return r.sw;
	if (r.len != 15)
		return 0xFFFE;
	out->balance = hce_get_be32(r.b);
	out->ctc = hce_get_be16(r.b + 4);
	memcpy(out->random, r.b + 11, 4);
	if (capp_apdu && t_xb(app, capp_apdu, capp_len, &r) != HCE_SW_OK)
		return r.sw;
	t_sespk(alg, t_dpk1, out->random, out->ctc, ttc, sk);
	n = t_purchase_mac1_in(amount, type, d);
	t_cbc_mac(alg, sk, d, n, mac1);
	t_debit_apdu(ttc, mac1, c);
	if (t_xb(app, c, sizeof(c), &r) != HCE_SW_OK)
		return r.sw;
	if (r.len != 8)
		return 0xFFFD;
	memcpy(out->tac, r.b, 4);
	memcpy(out->mac2, r.b + 4, 4);
	return r.sw;
}

static T_UNUSED uint16_t t_purchase(struct hce_app *app, uint8_t alg, uint32_t amount,
				    uint32_t ttc, struct t_purchase *out)
{
	return t_purchase_capp(app, alg, amount, ttc, NULL, 0, out);
}

/* A full load with correct MAC2; returns the CREDIT SW. tac receives the card's TAC. */
static T_UNUSED uint16_t t_load(struct hce_app *app, uint8_t alg, uint32_t amount,
				uint8_t tac[4])
{
	uint8_t sk[16], d[32], mac2[4], c[17] = { 0x80, 0x52, 0x00, 0x00, 0x0B };
	struct t_rsp r;
	uint16_t online;

	if (t_init(app, 0x00, 1, amount, &r) != HCE_SW_OK)
		return r.sw;
	if (r.len != 16)
		return 0xFFFE;
	online = hce_get_be16(r.b + 4);
	t_seslk(alg, t_dlk1, r.b + 8, online, sk);
	hce_put_be32(d, amount);
	d[4] = HCE_TX_LOAD;
	memcpy(d + 5, t_terminal, 6);
	memcpy(d + 11, t_date, 4);
	memcpy(d + 15, t_time, 3);
	t_cbc_mac(alg, sk, d, 18, mac2);
	memcpy(c + 5, t_date, 4);
	memcpy(c + 9, t_time, 3);
	memcpy(c + 12, mac2, 4);
	c[16] = 0x04;
	if (t_xb(app, c, sizeof(c), &r) != HCE_SW_OK)
		return r.sw;
	if (r.len != 4)
		return 0xFFFD;
	if (tac)
		memcpy(tac, r.b, 4);
	return r.sw;
}

/* A whole test card: directory, store, keys, purse. */
struct t_card {
	struct t_dir dir;
	struct hce_store *st;
	struct hce_card_keys keys;
	struct hce_purse *purse;
	struct hce_app *app;
	struct t_rng rng;
	uint8_t alg;
};

static T_UNUSED int t_card_open(struct t_card *tc, uint8_t alg)
{
	struct hce_card_data cd;
	char err[HCE_STORE_ERR_MAX];

	memset(tc, 0, sizeof(*tc));
	tc->alg = alg;
	if (t_mkdir(&tc->dir))
		return -1;
	if (hce_store_open(tc->dir.path, HCE_STORE_CREATE, &tc->st, err))
		return -2;
	t_card_data(&cd, alg);
	if (hce_store_personalise(tc->st, &cd, 0))
		return -3;
	t_card_keys(&tc->keys, alg);
	if (hce_purse_open(tc->st, &tc->keys, &tc->purse))
		return -4;
	tc->rng.next = 0xA0;
	hce_purse_set_rng(tc->purse, t_rng_fn, &tc->rng);
	tc->app = hce_purse_app(tc->purse);
	return 0;
}

static T_UNUSED void t_card_close(struct t_card *tc)
{
	hce_purse_close(tc->purse);
	hce_store_close(tc->st);
	hce_card_keys_wipe(&tc->keys);
	t_rmdir(&tc->dir);
}

#endif /* HCE_PURSE_TESTCARD_H */
