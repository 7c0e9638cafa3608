/* SPDX-License-Identifier: GPL-2.0 */
/*
 * purse_fixture.h - a personalised purse in a temporary SQLite store, driven in-process
 * through its struct hce_app, for the reader-script and purse known-answer tests.
 *
 * Header-only (static functions) so that it is compiled only into the tests that include it.
 * The terminal side (MAC1 of a purchase, MAC2 of a load, checking MAC2/TAC) is computed here
 * with lib/crypto from the spec's formulas, independently of lib/purse.
 */
#ifndef HCE_TESTS_PURSE_FIXTURE_H
#define HCE_TESTS_PURSE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "codec/apdu.h"
#include "codec/buf.h"
#include "codec/hex.h"
#include "crypto/crypto.h"
#include "purse/keys.h"
#include "purse/purse.h"
#include "store/store.h"

/* Every test uses a different subset of these helpers. */
#define PF_FN static __attribute__((unused))

struct pf {
	char dir[64];
	char path[96];
	struct hce_store *st;
	struct hce_purse *purse;
	struct hce_app *app;
	struct hce_card_data card;
	struct hce_card_keys keys;
	/* Deterministic card random: the next INITIALIZE / GET CHALLENGE bytes. */
	uint8_t rnd[8];
	uint32_t rnd_calls;
	/* Last exchange. */
	uint8_t rsp[HCE_RAPDU_MIN_CAP + 16];
	size_t rsp_len;
};

/* Test card keys (never used anywhere else): DPK/DLK index 1 version 1, DTK, all alg 00. */
static const uint8_t pf_dpk[16] = { 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x07, 0x18,
				    0x29, 0x3A, 0x4B, 0x5C, 0x6D, 0x7E, 0x8F, 0x90 };
static const uint8_t pf_dlk[16] = { 0x5A, 0x6B, 0x7C, 0x8D, 0x9E, 0xAF, 0xB0, 0xC1,
				    0xD2, 0xE3, 0xF4, 0x05, 0x16, 0x27, 0x38, 0x49 };
static const uint8_t pf_dtk[16] = { 0x0F, 0x1E, 0x2D, 0x3C, 0x4B, 0x5A, 0x69, 0x78,
				    0x87, 0x96, 0xA5, 0xB4, 0xC3, 0xD2, 0xE1, 0xF0 };
static const uint8_t pf_aid[8] = { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05 };

PF_FN int pf_rng(void *ctx, uint8_t *buf, size_t len)
{
	struct pf *f = ctx;
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = f->rnd[i % sizeof(f->rnd)];
	f->rnd_calls++;
	/* Change the random for the next call, deterministically. */
	for (i = 0; i < sizeof(f->rnd); i++)
		f->rnd[i] = (uint8_t)(f->rnd[i] * 5 + 0x3B + i);
	return 0;
}

/* A card like the sample profile's: EF 0015 / 0016 / 0017 with recognisable contents. */
PF_FN void pf_default_card(struct hce_card_data *c)
{
	static const uint8_t ef15[HCE_EF0015_LEN] = {
		0x99, 0x99, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,	/* issuer id */
		0x02,						/* app type */
		0x02,						/* app version */
		0x03, 0x10, 0x99, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* serial */
		0x20, 0x26, 0x01, 0x01,				/* start */
		0x20, 0x36, 0x12, 0x31,				/* expiry */
		0x00, 0x00 };
	size_t i;

	memset(c, 0, sizeof(*c));
	memcpy(c->aid, pf_aid, sizeof(pf_aid));
	c->aid_len = sizeof(pf_aid);
	c->app_version = 0x02;
	memcpy(c->ef0015, ef15, sizeof(ef15));
	c->ef0016_len = 55;
	for (i = 0; i < c->ef0016_len; i++)
		c->ef0016[i] = (uint8_t)(0x40 + i);
	for (i = 0; i < HCE_EF0017_LEN; i++)
		c->ef0017[i] = (uint8_t)(0x80 + i);
	c->overdraft_limit = 0;
	c->max_balance = 1000000;
	c->balance = 10000;
	c->keys[0] = (struct hce_key_info){ HCE_KEY_DPK, 1, 1, HCE_ALG_3DES };
	c->keys[1] = (struct hce_key_info){ HCE_KEY_DLK, 1, 1, HCE_ALG_3DES };
	c->keys[2] = (struct hce_key_info){ HCE_KEY_DTK, 0, 1, HCE_ALG_3DES };
	c->n_keys = 3;
}

PF_FN void pf_slot(struct hce_key_slot *s, uint8_t index, uint8_t version, uint8_t alg,
		    const uint8_t key[16])
{
	s->present = true;
	s->index = index;
	s->version = version;
	s->alg = alg;
	memcpy(s->key, key, 16);
}

PF_FN void pf_default_keys(struct hce_card_keys *k)
{
	memset(k, 0, sizeof(*k));
	pf_slot(&k->dpk[0], 1, 1, HCE_ALG_3DES, pf_dpk);
	pf_slot(&k->dlk[0], 1, 1, HCE_ALG_3DES, pf_dlk);
	pf_slot(&k->dtk, 0, 1, HCE_ALG_3DES, pf_dtk);
}

PF_FN void pf_close(struct pf *f);

/*
 * Create the store from f->card and open the purse over it with f->keys. 0 or negative; on
 * failure everything is closed and removed again (a failed setup runs no teardown).
 */
PF_FN int pf_open(struct pf *f)
{
	char err[HCE_STORE_ERR_MAX];
	int ret;

	snprintf(f->dir, sizeof(f->dir), "/tmp/hce-test-XXXXXX");
	if (!mkdtemp(f->dir)) {
		f->dir[0] = '\0';
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/card.db", f->dir);
	ret = hce_store_open(f->path, HCE_STORE_CREATE, &f->st, err);
	if (ret) {
		fprintf(stderr, "store open: %s\n", err);
		goto fail;
	}
	ret = hce_store_personalise(f->st, &f->card, 0);
	if (ret) {
		fprintf(stderr, "personalise: %s\n", hce_store_errmsg(f->st));
		goto fail;
	}
	ret = hce_purse_open(f->st, &f->keys, &f->purse);
	if (ret)
		goto fail;
	f->app = hce_purse_app(f->purse);
	memcpy(f->rnd, "\x1A\x2B\x3C\x4D\x5E\x6F\x70\x81", 8);
	hce_purse_set_rng(f->purse, pf_rng, f);
	return 0;
fail:
	pf_close(f);
	return ret;
}

/* Close and remove everything pf_open made; safe to call twice. */
PF_FN void pf_close(struct pf *f)
{
	char p[128];

	hce_purse_close(f->purse);
	f->purse = NULL;
	hce_store_close(f->st);
	f->st = NULL;
	hce_card_keys_wipe(&f->keys);
	if (f->dir[0]) {
		unlink(f->path);
		snprintf(p, sizeof(p), "%s-wal", f->path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-shm", f->path);
		unlink(p);
		snprintf(p, sizeof(p), "%s-journal", f->path);
		unlink(p);
		rmdir(f->dir);
		f->dir[0] = '\0';
	}
}

/* Send a C-APDU of n bytes; returns the SW (0 when the R-APDU is shorter than 2 bytes). */
PF_FN uint16_t pf_xfer(struct pf *f, const uint8_t *capdu, size_t n)
{
	memset(f->rsp, 0xEE, sizeof(f->rsp));
	f->rsp_len = hce_app_process(f->app, capdu, n, f->rsp, HCE_RAPDU_MIN_CAP);
	if (f->rsp_len < 2 || f->rsp_len > HCE_RAPDU_MIN_CAP)
		return 0;
	return hce_get_be16(f->rsp + f->rsp_len - 2);
}

/* Send a C-APDU written in hex (blanks allowed). */
PF_FN uint16_t pf_xfer_hex(struct pf *f, const char *hex)
{
	uint8_t c[300];
	ssize_t n = hce_hex_decode(hex, c, sizeof(c));

	if (n < 0)
		return 0;
	return pf_xfer(f, c, (size_t)n);
}

/* Response data length of the last exchange (without SW). */
PF_FN size_t pf_data_len(const struct pf *f)
{
	return f->rsp_len >= 2 ? f->rsp_len - 2 : 0;
}

/* A transaction as the terminal sees it. */
struct pf_tx {
	uint32_t amount;
	uint8_t terminal[6];
	uint8_t ttc[4];
	uint8_t date[4];
	uint8_t time[3];
	/* filled by the exchange */
	uint32_t balance_before;
	uint16_t counter;	/* CTC or online counter the INIT answered */
	uint8_t random[4];
	uint8_t mac2[4], tac[4];	/* purchase: what the card answered */
	uint16_t sw_init, sw_second;
	int mac_ok;		/* purchase: card MAC2 and TAC verified; load: card MAC1 */
};

PF_FN int pf_mac(const uint8_t *key, size_t kl, const uint8_t *d, size_t n, uint8_t mac[4])
{
	return hce_mac(kl == 8 ? HCE_ALG_3DES : HCE_ALG_SM4, key, kl, d, n, mac);
}

/*
 * INITIALIZE FOR PURCHASE (type 06) or CAPP PURCHASE (09, with UPDATE CAPP DATA CACHE of
 * capp_rec at record capp_recno) then DEBIT with a correct MAC1 (or a corrupted one when
 * bad_mac). Verifies MAC2 and TAC of the answer with the test keys.
 */
PF_FN uint16_t pf_purchase(struct pf *f, struct pf_tx *t, uint8_t type, int bad_mac,
			    uint8_t capp_recno, const uint8_t *capp_rec)
{
	uint8_t c[64], in[8], sk[16], tk[16], mac1[4], d[32], want[4];
	size_t skl, tkl;
	struct hce_wr w;

	w = hce_wr_init(c, sizeof(c));
	hce_wr_bytes(&w, "\x80\x50", 2);
	hce_wr_u8(&w, type == HCE_TX_CAPP ? 0x03 : 0x01);
	hce_wr_bytes(&w, "\x02\x0B\x01", 3);
	hce_wr_be32(&w, t->amount);
	hce_wr_bytes(&w, t->terminal, 6);
	hce_wr_u8(&w, 0x0F);
	t->sw_init = pf_xfer(f, c, w.len);
	t->mac_ok = 0;
	if (t->sw_init != HCE_SW_OK || pf_data_len(f) != 15)
		return t->sw_init;
	t->balance_before = hce_get_be32(f->rsp);
	t->counter = hce_get_be16(f->rsp + 4);
	memcpy(t->random, f->rsp + 11, 4);

	if (type == HCE_TX_CAPP) {
		w = hce_wr_init(c, sizeof(c));
		hce_wr_bytes(&w, "\x80\xDC", 2);
		hce_wr_u8(&w, capp_recno);
		hce_wr_u8(&w, 0xF4);	/* SFI 1E << 3 | 4: record number in P1 */
		hce_wr_u8(&w, HCE_CAPP_RECORD_LEN);
		hce_wr_bytes(&w, capp_rec, HCE_CAPP_RECORD_LEN);
		t->sw_second = pf_xfer(f, c, w.len);
		if (t->sw_second != HCE_SW_OK)
			return t->sw_second;
	}

	memcpy(in, t->random, 4);
	hce_put_be16(in + 4, t->counter);
	memcpy(in + 6, t->ttc + 2, 2);
	hce_session_key(HCE_ALG_3DES, f->keys.dpk[0].key, in, sk, &skl);
	w = hce_wr_init(d, sizeof(d));
	hce_wr_be32(&w, t->amount);
	hce_wr_u8(&w, type);
	hce_wr_bytes(&w, t->terminal, 6);
	hce_wr_bytes(&w, t->date, 4);
	hce_wr_bytes(&w, t->time, 3);
	pf_mac(sk, skl, d, w.len, mac1);
	if (bad_mac)
		mac1[3] ^= 0x01;

	w = hce_wr_init(c, sizeof(c));
	hce_wr_bytes(&w, "\x80\x54\x01\x00\x0F", 5);
	hce_wr_bytes(&w, t->ttc, 4);
	hce_wr_bytes(&w, t->date, 4);
	hce_wr_bytes(&w, t->time, 3);
	hce_wr_bytes(&w, mac1, 4);
	hce_wr_u8(&w, 0x08);
	t->sw_second = pf_xfer(f, c, w.len);
	if (t->sw_second == HCE_SW_OK && pf_data_len(f) == 8) {
		memcpy(t->tac, f->rsp, 4);
		memcpy(t->mac2, f->rsp + 4, 4);
		/* MAC2 = MAC_SESPK(amount); TAC = MAC_DTK(amount|type|term|TTC|date|time). */
		pf_mac(sk, skl, d, 4, want);
		t->mac_ok = !memcmp(want, t->mac2, 4);
		w = hce_wr_init(d, sizeof(d));
		hce_wr_be32(&w, t->amount);
		hce_wr_u8(&w, type);
		hce_wr_bytes(&w, t->terminal, 6);
		hce_wr_bytes(&w, t->ttc, 4);
		hce_wr_bytes(&w, t->date, 4);
		hce_wr_bytes(&w, t->time, 3);
		hce_tac_key(HCE_ALG_3DES, f->keys.dtk.key, tk, &tkl);
		pf_mac(tk, tkl, d, w.len, want);
		t->mac_ok = t->mac_ok && !memcmp(want, t->tac, 4);
	}
	hce_wipe(sk, sizeof(sk));
	hce_wipe(tk, sizeof(tk));
	return t->sw_second;
}

/* INITIALIZE FOR LOAD then CREDIT FOR LOAD with a correct MAC2 (or a corrupted one). */
PF_FN uint16_t pf_load(struct pf *f, struct pf_tx *t, int bad_mac)
{
	uint8_t c[64], in[8], sk[16], mac[4], d[32];
	size_t skl;
	struct hce_wr w;

	w = hce_wr_init(c, sizeof(c));
	hce_wr_bytes(&w, "\x80\x50\x00\x02\x0B\x01", 6);
	hce_wr_be32(&w, t->amount);
	hce_wr_bytes(&w, t->terminal, 6);
	hce_wr_u8(&w, 0x10);
	t->sw_init = pf_xfer(f, c, w.len);
	t->mac_ok = 0;
	if (t->sw_init != HCE_SW_OK || pf_data_len(f) != 16)
		return t->sw_init;
	t->balance_before = hce_get_be32(f->rsp);
	t->counter = hce_get_be16(f->rsp + 4);
	memcpy(t->random, f->rsp + 8, 4);

	memcpy(in, t->random, 4);
	hce_put_be16(in + 4, t->counter);
	in[6] = 0x80;
	in[7] = 0x00;
	hce_session_key(HCE_ALG_3DES, f->keys.dlk[0].key, in, sk, &skl);
	/* Card MAC1 = MAC_SESLK(old balance | amount | 02 | terminal). */
	w = hce_wr_init(d, sizeof(d));
	hce_wr_be32(&w, t->balance_before);
	hce_wr_be32(&w, t->amount);
	hce_wr_u8(&w, 0x02);
	hce_wr_bytes(&w, t->terminal, 6);
	pf_mac(sk, skl, d, w.len, mac);
	t->mac_ok = !memcmp(mac, f->rsp + 12, 4);

	w = hce_wr_init(d, sizeof(d));
	hce_wr_be32(&w, t->amount);
	hce_wr_u8(&w, 0x02);
	hce_wr_bytes(&w, t->terminal, 6);
	hce_wr_bytes(&w, t->date, 4);
	hce_wr_bytes(&w, t->time, 3);
	pf_mac(sk, skl, d, w.len, mac);
	if (bad_mac)
		mac[0] ^= 0x80;
	hce_wipe(sk, sizeof(sk));

	w = hce_wr_init(c, sizeof(c));
	hce_wr_bytes(&w, "\x80\x52\x00\x00\x0B", 5);
	hce_wr_bytes(&w, t->date, 4);
	hce_wr_bytes(&w, t->time, 3);
	hce_wr_bytes(&w, mac, 4);
	hce_wr_u8(&w, 0x04);
	t->sw_second = pf_xfer(f, c, w.len);
	if (t->sw_second == HCE_SW_OK && pf_data_len(f) == 4)
		memcpy(t->tac, f->rsp, 4);
	return t->sw_second;
}

/* A transaction with recognisable fields, number i. */
PF_FN struct pf_tx pf_tx_make(uint32_t amount, unsigned int i)
{
	struct pf_tx t;

	memset(&t, 0, sizeof(t));
	t.amount = amount;
	memcpy(t.terminal, "\x11\x22\x33\x44\x55\x00", 6);
	t.terminal[5] = (uint8_t)i;
	hce_put_be32(t.ttc, 0x100 + i);
	memcpy(t.date, "\x20\x26\x11\x25", 4);
	t.time[0] = 0x20;
	t.time[1] = 0x45;
	t.time[2] = (uint8_t)(((i % 60) / 10) << 4 | (i % 10));
	return t;
}

/* The EF 0018 record a transaction must leave: counter|overdraft|amount|type|term|date|time */
PF_FN void pf_log_record(const struct pf *f, const struct pf_tx *t, uint8_t type,
			  uint8_t rec[HCE_LOG_RECORD_LEN])
{
	hce_put_be16(rec, t->counter);
	rec[2] = (uint8_t)(f->card.overdraft_limit >> 16);
	rec[3] = (uint8_t)(f->card.overdraft_limit >> 8);
	rec[4] = (uint8_t)f->card.overdraft_limit;
	hce_put_be32(rec + 5, t->amount);
	rec[9] = type;
	memcpy(rec + 10, t->terminal, 6);
	memcpy(rec + 16, t->date, 4);
	memcpy(rec + 20, t->time, 3);
}

/* A "clean error": a status word only (no data), and one of the listed SWs. */
PF_FN int pf_clean_error(const struct pf *f, const uint16_t *allowed, size_t n)
{
	uint16_t sw;
	size_t i;

	if (f->rsp_len != 2)
		return 0;
	sw = hce_get_be16(f->rsp);
	for (i = 0; i < n; i++)
		if (sw == allowed[i])
			return 1;
	return 0;
}

#endif /* HCE_TESTS_PURSE_FIXTURE_H */
