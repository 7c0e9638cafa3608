// SPDX-License-Identifier: GPL-2.0
/* psam.c - the PSAM role: card key diversification, session keys, MAC1/MAC2/TAC. */
#include "terminal/psam.h"

#include <string.h>

#include "codec/buf.h"

void hce_psam_wipe(struct hce_psam *psam)
{
	hce_wipe(psam, sizeof(*psam));
}

static const struct hce_psam_key *find_key(const struct hce_psam_key *slots, uint8_t index)
{
	int i;

	for (i = 0; i < HCE_KEY_SLOTS; i++)
		if (slots[i].present && slots[i].index == index)
			return &slots[i];
	return NULL;
}

const struct hce_psam_key *hce_psam_purchase_key(const struct hce_psam *psam, uint8_t index)
{
	return find_key(psam->purchase, index);
}

const struct hce_psam_key *hce_psam_load_key(const struct hce_psam *psam, uint8_t index)
{
	return find_key(psam->load, index);
}

static int diversify_slot(const struct hce_psam_key *mk, const uint8_t factor[8],
			  struct hce_key_slot *out)
{
	if (!mk->present)
		return 0;
	out->present = true;
	out->index = mk->index;
	out->version = mk->version;
	out->alg = mk->alg;
	return hce_diversify((enum hce_alg)mk->alg, mk->mk, factor, out->key);
}

int hce_psam_card_keys(const struct hce_psam *psam, const uint8_t serial[HCE_SERIAL_LEN],
		       struct hce_card_keys *out)
{
	const uint8_t *factor = serial + HCE_SERIAL_LEN - 8;
	int i, rc = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < HCE_KEY_SLOTS && !rc; i++) {
		rc = diversify_slot(&psam->purchase[i], factor, &out->dpk[i]);
		if (!rc)
			rc = diversify_slot(&psam->load[i], factor, &out->dlk[i]);
	}
	if (!rc)
		rc = diversify_slot(&psam->tac, factor, &out->dtk);
	if (rc)
		hce_card_keys_wipe(out);
	return rc ? -1 : 0;
}

void hce_psam_session_wipe(struct hce_psam_session *s)
{
	hce_wipe(s, sizeof(*s));
}

static int session(struct hce_psam_session *s, uint8_t alg, const uint8_t key[16],
		   const uint8_t dtk[16], const uint8_t in[8])
{
	memset(s, 0, sizeof(*s));
	s->alg = alg;
	if (hce_session_key((enum hce_alg)alg, key, in, s->ses, &s->ses_len) ||
	    hce_tac_key((enum hce_alg)alg, dtk, s->tac, &s->tac_len)) {
		hce_psam_session_wipe(s);
		return -1;
	}
	return 0;
}

int hce_psam_purchase_session(struct hce_psam_session *s, uint8_t alg, const uint8_t dpk[16],
			      const uint8_t dtk[16], const uint8_t random[4], uint16_t ctc,
			      uint32_t ttc)
{
	uint8_t in[8];
	int rc;

	memcpy(in, random, 4);
	hce_put_be16(in + 4, ctc);
	hce_put_be16(in + 6, (uint16_t)ttc);
	rc = session(s, alg, dpk, dtk, in);
	hce_wipe(in, sizeof(in));
	return rc;
}

int hce_psam_load_session(struct hce_psam_session *s, uint8_t alg, const uint8_t dlk[16],
			  const uint8_t dtk[16], const uint8_t random[4], uint16_t online_ctr)
{
	uint8_t in[8];
	int rc;

	memcpy(in, random, 4);
	hce_put_be16(in + 4, online_ctr);
	in[6] = 0x80;
	in[7] = 0x00;
	rc = session(s, alg, dlk, dtk, in);
	hce_wipe(in, sizeof(in));
	return rc;
}

static int mac_ses(const struct hce_psam_session *s, const uint8_t *d, size_t n, uint8_t mac[4])
{
	return hce_mac((enum hce_alg)s->alg, s->ses, s->ses_len, d, n, mac);
}

static int mac_tac(const struct hce_psam_session *s, const uint8_t *d, size_t n, uint8_t mac[4])
{
	return hce_mac((enum hce_alg)s->alg, s->tac, s->tac_len, d, n, mac);
}

/* 1 when the computed mac equals want (constant time), 0 when not, -1 when rc failed. */
static int verdict(int rc, uint8_t mac[4], const uint8_t want[4])
{
	int ok = rc ? -1 : hce_ct_equal(mac, want, 4);

	hce_wipe(mac, 4);
	return ok;
}

int hce_psam_purchase_mac1(const struct hce_psam_session *s, uint32_t amount, uint8_t type,
			   const uint8_t terminal[6], const uint8_t date[4], const uint8_t time[3],
			   uint8_t mac1[4])
{
	uint8_t d[18];

	hce_put_be32(d, amount);
	d[4] = type;
	memcpy(d + 5, terminal, 6);
	memcpy(d + 11, date, 4);
	memcpy(d + 15, time, 3);
	return mac_ses(s, d, sizeof(d), mac1);
}

int hce_psam_verify_purchase_mac2(const struct hce_psam_session *s, uint32_t amount,
				  const uint8_t mac2[4])
{
	uint8_t d[4], mac[4];

	hce_put_be32(d, amount);
	return verdict(mac_ses(s, d, sizeof(d), mac), mac, mac2);
}

int hce_psam_purchase_tac(const struct hce_psam_session *s, uint32_t amount, uint8_t type,
			  const uint8_t terminal[6], uint32_t ttc, const uint8_t date[4],
			  const uint8_t time[3], uint8_t tac[4])
{
	uint8_t d[22];

	hce_put_be32(d, amount);
	d[4] = type;
	memcpy(d + 5, terminal, 6);
	hce_put_be32(d + 11, ttc);
	memcpy(d + 15, date, 4);
	memcpy(d + 19, time, 3);
	return mac_tac(s, d, sizeof(d), tac);
}

int hce_psam_verify_purchase_tac(const struct hce_psam_session *s, uint32_t amount,
				 uint8_t type, const uint8_t terminal[6], uint32_t ttc,
				 const uint8_t date[4], const uint8_t time[3],
				 const uint8_t tac[4])
{
	uint8_t mac[4];

	return verdict(hce_psam_purchase_tac(s, amount, type, terminal, ttc, date, time, mac),
		       mac, tac);
}

int hce_psam_verify_load_mac1(const struct hce_psam_session *s, uint32_t old_balance,
			      uint32_t amount, const uint8_t terminal[6], const uint8_t mac1[4])
{
	uint8_t d[15], mac[4];

	hce_put_be32(d, old_balance);
	hce_put_be32(d + 4, amount);
	d[8] = HCE_TX_LOAD;
	memcpy(d + 9, terminal, 6);
	return verdict(mac_ses(s, d, sizeof(d), mac), mac, mac1);
}

int hce_psam_load_mac2(const struct hce_psam_session *s, uint32_t amount,
		       const uint8_t terminal[6], const uint8_t date[4], const uint8_t time[3],
		       uint8_t mac2[4])
{
	uint8_t d[18];

	hce_put_be32(d, amount);
	d[4] = HCE_TX_LOAD;
	memcpy(d + 5, terminal, 6);
	memcpy(d + 11, date, 4);
	memcpy(d + 15, time, 3);
	return mac_ses(s, d, sizeof(d), mac2);
}

int hce_psam_verify_load_tac(const struct hce_psam_session *s, uint32_t new_balance,
			     uint16_t online_ctr, uint32_t amount, const uint8_t terminal[6],
			     const uint8_t date[4], const uint8_t time[3], const uint8_t tac[4])
{
	uint8_t d[24], mac[4];

	hce_put_be32(d, new_balance);
	hce_put_be16(d + 4, online_ctr);
	hce_put_be32(d + 6, amount);
	d[10] = HCE_TX_LOAD;
	memcpy(d + 11, terminal, 6);
	memcpy(d + 17, date, 4);
	memcpy(d + 21, time, 3);
	return verdict(mac_tac(s, d, sizeof(d), mac), mac, tac);
}
