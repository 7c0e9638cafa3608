// SPDX-License-Identifier: GPL-2.0
/*
 * pcrypto.c - the purse's crypto glue: which bytes go into which session key and MAC
 * (spec "Cryptography"); the primitives are crypto/crypto.h.
 *
 *   SESPK = session(DPK, random(4) | CTC(2) | TTC[2..3])
 *   SESLK = session(DLK, random(4) | online counter(2) | 80 00)
 *   purchase MAC1 = MAC_SESPK(amount | type | terminal | date | time)
 *   purchase MAC2 = MAC_SESPK(amount)
 *   purchase TAC  = MAC_TACKEY(amount | type | terminal | TTC | date | time)
 *   load MAC1     = MAC_SESLK(old balance | amount | 02 | terminal)
 *   load MAC2     = MAC_SESLK(amount | 02 | terminal | date | time)
 *   load TAC      = MAC_TACKEY(new balance | online counter before | amount | 02 | terminal |
 *                              date | time)
 * type is 06 (purchase) or 09 (compound purchase). Algorithm per key slot (00 DES/3DES,
 * 04 SM4: our construction, crypto.h).
 */
#include "purse/purse_priv.h"

#include <string.h>

#include "crypto/crypto.h"

#define MAC_IN_MAX 32

/* MAC of data under the session key from key slot k and 8-byte input. */
static int session_mac(const struct hce_key_slot *k, const uint8_t in[8], const uint8_t *data,
		       size_t n, uint8_t mac[4])
{
	uint8_t sk[16];
	size_t sk_len = 0;
	int ret;

	ret = hce_session_key((enum hce_alg)k->alg, k->key, in, sk, &sk_len);
	if (!ret)
		ret = hce_mac((enum hce_alg)k->alg, sk, sk_len, data, n, mac);
	hce_wipe(sk, sizeof(sk));
	return ret;
}

static int tac_mac(const struct hce_key_slot *dtk, const uint8_t *data, size_t n,
		   uint8_t tac[4])
{
	uint8_t tk[16];
	size_t tk_len = 0;
	int ret;

	if (!dtk->present)
		return -1;
	ret = hce_tac_key((enum hce_alg)dtk->alg, dtk->key, tk, &tk_len);
	if (!ret)
		ret = hce_mac((enum hce_alg)dtk->alg, tk, tk_len, data, n, tac);
	hce_wipe(tk, sizeof(tk));
	return ret;
}

static void purchase_in(const struct purse_op *op, const uint8_t ttc[4], uint8_t in[8])
{
	memcpy(in, op->random, 4);
	hce_put_be16(in + 4, op->counter);
	in[6] = ttc[2];
	in[7] = ttc[3];
}

static void load_in(const struct purse_op *op, uint8_t in[8])
{
	memcpy(in, op->random, 4);
	hce_put_be16(in + 4, op->counter);
	in[6] = 0x80;
	in[7] = 0x00;
}

int purse_mac_purchase1(const struct hce_key_slot *dpk, const struct purse_op *op,
			const uint8_t ttc[4], uint8_t type, const uint8_t date[4],
			const uint8_t time[3], uint8_t mac[4])
{
	uint8_t in[8], d[MAC_IN_MAX];
	struct hce_wr w = hce_wr_init(d, sizeof(d));

	purchase_in(op, ttc, in);
	hce_wr_be32(&w, op->amount);
	hce_wr_u8(&w, type);
	hce_wr_bytes(&w, op->terminal, 6);
	hce_wr_bytes(&w, date, 4);
	hce_wr_bytes(&w, time, 3);
	if (!hce_wr_ok(&w))
		return -1;
	return session_mac(dpk, in, d, w.len, mac);
}

int purse_mac_purchase2(const struct hce_key_slot *dpk, const struct purse_op *op,
			const uint8_t ttc[4], uint8_t mac[4])
{
	uint8_t in[8], d[4];

	purchase_in(op, ttc, in);
	hce_put_be32(d, op->amount);
	return session_mac(dpk, in, d, sizeof(d), mac);
}

int purse_tac_purchase(const struct hce_key_slot *dtk, const struct purse_op *op,
		       uint8_t type, const uint8_t ttc[4], const uint8_t date[4],
		       const uint8_t time[3], uint8_t tac[4])
{
	uint8_t d[MAC_IN_MAX];
	struct hce_wr w = hce_wr_init(d, sizeof(d));

	hce_wr_be32(&w, op->amount);
	hce_wr_u8(&w, type);
	hce_wr_bytes(&w, op->terminal, 6);
	hce_wr_bytes(&w, ttc, 4);
	hce_wr_bytes(&w, date, 4);
	hce_wr_bytes(&w, time, 3);
	if (!hce_wr_ok(&w))
		return -1;
	return tac_mac(dtk, d, w.len, tac);
}

int purse_mac_load1(const struct hce_key_slot *dlk, const struct purse_op *op, uint8_t mac[4])
{
	uint8_t in[8], d[MAC_IN_MAX];
	struct hce_wr w = hce_wr_init(d, sizeof(d));

	load_in(op, in);
	hce_wr_be32(&w, op->balance);
	hce_wr_be32(&w, op->amount);
	hce_wr_u8(&w, HCE_TX_LOAD);
	hce_wr_bytes(&w, op->terminal, 6);
	if (!hce_wr_ok(&w))
		return -1;
	return session_mac(dlk, in, d, w.len, mac);
}

int purse_mac_load2(const struct hce_key_slot *dlk, const struct purse_op *op,
		    const uint8_t date[4], const uint8_t time[3], uint8_t mac[4])
{
	uint8_t in[8], d[MAC_IN_MAX];
	struct hce_wr w = hce_wr_init(d, sizeof(d));

	load_in(op, in);
	hce_wr_be32(&w, op->amount);
	hce_wr_u8(&w, HCE_TX_LOAD);
	hce_wr_bytes(&w, op->terminal, 6);
	hce_wr_bytes(&w, date, 4);
	hce_wr_bytes(&w, time, 3);
	if (!hce_wr_ok(&w))
		return -1;
	return session_mac(dlk, in, d, w.len, mac);
}

int purse_tac_load(const struct hce_key_slot *dtk, const struct purse_op *op,
		   const uint8_t date[4], const uint8_t time[3], uint8_t tac[4])
{
	uint8_t d[MAC_IN_MAX];
	struct hce_wr w = hce_wr_init(d, sizeof(d));

	/* new balance, two's complement: the unsigned sum wraps exactly like the signed one */
	hce_wr_be32(&w, op->balance + op->amount);
	hce_wr_be16(&w, op->counter);
	hce_wr_be32(&w, op->amount);
	hce_wr_u8(&w, HCE_TX_LOAD);
	hce_wr_bytes(&w, op->terminal, 6);
	hce_wr_bytes(&w, date, 4);
	hce_wr_bytes(&w, time, 3);
	if (!hce_wr_ok(&w))
		return -1;
	return tac_mac(dtk, d, w.len, tac);
}
