// SPDX-License-Identifier: GPL-2.0
/* term.c - the terminal's transaction engine; see term.h. */
#include "terminal/term.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/buf.h"
#include "codec/hex.h"

static const uint8_t tunion_aid[] = { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05 };

#define SW_OK 0x9000

const char *hce_term_status_name(int status)
{
	switch (status) {
	case HCE_TERM_OK: return "ok";
	case HCE_TERM_E_USAGE: return "usage";
	case HCE_TERM_E_TRANSPORT: return "transport-error";
	case HCE_TERM_E_CARD: return "card-error";
	case HCE_TERM_E_DECLINED: return "declined";
	case HCE_TERM_E_FUNDS: return "insufficient-balance";
	case HCE_TERM_E_PROOF: return "proof-invalid";
	case HCE_TERM_E_KEY: return "key-rejected";
	case HCE_TERM_E_LOCKED: return "locked";
	case HCE_TERM_E_NOT_CHARGED: return "not-charged";
	case HCE_TERM_E_UNKNOWN: return "unknown";
	case HCE_TERM_E_RECORDS: return "records-error";
	case HCE_TERM_E_CONFIG: return "config-error";
	}
	return "?";
}

static int fail(struct hce_term *t, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct hce_term *t, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return status;
}

void hce_term_init(struct hce_term *t, struct hce_term_transport *tp,
		   const struct hce_psam *psam, struct hce_term_db *db)
{
	static const uint8_t default_tid[HCE_TERMINAL_ID_LEN] = { 0, 0, 0, 0, 0, 1 };

	memset(t, 0, sizeof(*t));
	t->tp = tp;
	t->psam = psam;
	t->db = db;
	memcpy(t->terminal_id, psam && psam->has_terminal_id ? psam->terminal_id : default_tid,
	       HCE_TERMINAL_ID_LEN);
	memcpy(t->aid, tunion_aid, sizeof(tunion_aid));
	t->aid_len = sizeof(tunion_aid);
	t->recovery_tries = 3;
	t->check_dates = true;
}

/*
 * One exchange: sends capdu, follows 61xx (GET RESPONSE) and 6Cxx (resend with Le = xx) as a
 * T=0 reader path needs, and returns the data in resp (*rlen) and the final SW in *sw.
 * HCE_TERM_OK or HCE_TERM_E_TRANSPORT (t->err says why).
 */
static int xchg(struct hce_term *t, const uint8_t *capdu, size_t len, uint8_t *resp,
		size_t rcap, size_t *rlen, uint16_t *sw)
{
	uint8_t cmd[5 + 255 + 1], *r;
	size_t n = 0, have = 0;
	int rc, rounds = 0;

	if (len > sizeof(cmd))
		return fail(t, HCE_TERM_E_USAGE, "command too long");
	r = malloc(HCE_RAPDU_MIN_CAP);
	if (!r)
		return fail(t, HCE_TERM_E_TRANSPORT, "out of memory");
	memcpy(cmd, capdu, len);
	*sw = 0;
	for (;;) {
		rc = hce_term_transmit(t->tp, cmd, len, r, HCE_RAPDU_MIN_CAP, &n);
		if (rc) {
			rc = fail(t, HCE_TERM_E_TRANSPORT, "%s transport: %s",
				  t->tp->ops->name, t->tp->err[0] ? t->tp->err : strerror(-rc));
			goto out;
		}
		*sw = hce_get_be16(r + n - 2);
		n -= 2;
		if (have + n > rcap) {
			rc = fail(t, HCE_TERM_E_CARD, "card answered %zu bytes, more than expected",
				  have + n);
			goto out;
		}
		memcpy(resp + have, r, n);
		have += n;
		if (++rounds > 8)
			break;
		if ((*sw >> 8) == 0x61) {	/* more data: GET RESPONSE */
			cmd[0] = capdu[0] & 0x03;
			cmd[1] = 0xC0;
			cmd[2] = 0;
			cmd[3] = 0;
			cmd[4] = (uint8_t)*sw;
			len = 5;
			continue;
		}
		if ((*sw >> 8) == 0x6C && len >= 4) {	/* wrong Le: resend with the right one */
			if (len == 4 || len == 5) {
				len = 5;
			} else if (len == 5 + (size_t)cmd[4]) {
				len++;
			}
			cmd[len - 1] = (uint8_t)*sw;
			have = 0;
			continue;
		}
		break;
	}
	*rlen = have;
	rc = HCE_TERM_OK;
out:
	free(r);
	return rc;
}

/* Status words that end a value command, as statuses. */
static int sw_status(struct hce_term *t, const char *cmd, uint16_t sw)
{
	switch (sw) {
	case 0x9401:
		return fail(t, HCE_TERM_E_FUNDS, "%s: insufficient balance (9401)", cmd);
	case 0x9302:
		return fail(t, HCE_TERM_E_KEY, "%s: card rejected the terminal's MAC (9302): "
			    "wrong issuer keys", cmd);
	case 0x9403:
		return fail(t, HCE_TERM_E_KEY, "%s: key index not supported by the card (9403)",
			    cmd);
	case 0x9303:
		return fail(t, HCE_TERM_E_LOCKED, "%s: application locked (9303)", cmd);
	case 0x9402:
		return fail(t, HCE_TERM_E_DECLINED, "%s: card counter at maximum (9402)", cmd);
	case 0x6985:
		return fail(t, HCE_TERM_E_DECLINED, "%s: conditions not satisfied (6985)", cmd);
	case 0x6901:
		return fail(t, HCE_TERM_E_DECLINED, "%s: command not accepted in this state (6901)",
			    cmd);
	}
	return fail(t, HCE_TERM_E_CARD, "%s: card answered %04X", cmd, sw);
}

static void bcd_digits(const uint8_t *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = (char)('0' + (b[i] >> 4));
		out[2 * i + 1] = (char)('0' + (b[i] & 15));
	}
	out[2 * n] = '\0';
}

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

static void now_bcd(const struct hce_term *t, uint8_t date[4], uint8_t tm_bcd[3])
{
	time_t now = t->fixed_time ? t->fixed_time : time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	date[0] = bcd((tm.tm_year + 1900) / 100);
	date[1] = bcd(tm.tm_year % 100);
	date[2] = bcd(tm.tm_mon + 1);
	date[3] = bcd(tm.tm_mday);
	tm_bcd[0] = bcd(tm.tm_hour);
	tm_bcd[1] = bcd(tm.tm_min);
	tm_bcd[2] = bcd(tm.tm_sec);
}

int hce_term_select(struct hce_term *t, struct hce_term_card *card)
{
	uint8_t cmd[5 + HCE_TERM_AID_MAX + 1], resp[256];
	static const uint8_t read15[] = { 0x00, 0xB0, 0x95, 0x00, 0x00 };
	size_t n;
	uint16_t sw;
	int rc;

	memset(card, 0, sizeof(*card));
	cmd[0] = 0x00;
	cmd[1] = 0xA4;
	cmd[2] = 0x04;
	cmd[3] = 0x00;
	cmd[4] = (uint8_t)t->aid_len;
	memcpy(cmd + 5, t->aid, t->aid_len);
	cmd[5 + t->aid_len] = 0x00;
	rc = xchg(t, cmd, 6 + t->aid_len, resp, sizeof(resp), &n, &sw);
	if (rc)
		return rc;
	if (sw == 0x6A82)
		return fail(t, HCE_TERM_E_CARD, "no e-purse application on this card (6A82)");
	if (sw != SW_OK)
		return fail(t, HCE_TERM_E_CARD, "SELECT e-purse: card answered %04X", sw);
	rc = xchg(t, read15, sizeof(read15), resp, sizeof(resp), &n, &sw);
	if (rc)
		return rc;
	if (sw != SW_OK || n < sizeof(card->ef0015))
		return fail(t, HCE_TERM_E_CARD, "READ BINARY EF 0015: %04X, %zu bytes", sw, n);
	memcpy(card->ef0015, resp, sizeof(card->ef0015));
	memcpy(card->issuer, resp, 8);
	card->app_type = resp[8];
	card->app_version = resp[9];
	memcpy(card->serial, resp + 10, HCE_SERIAL_LEN);
	memcpy(card->start, resp + 20, 4);
	memcpy(card->expiry, resp + 24, 4);
	if (hce_hex_encode(card->serial, HCE_SERIAL_LEN, card->number, sizeof(card->number)) == 0)
		memmove(card->number, card->number + 1, strlen(card->number));
	return HCE_TERM_OK;
}

int hce_term_balance(struct hce_term *t, uint32_t *balance)
{
	static const uint8_t cmd[] = { 0x80, 0x5C, 0x00, 0x02, 0x04 };
	uint8_t resp[16];
	size_t n;
	uint16_t sw;
	int rc = xchg(t, cmd, sizeof(cmd), resp, sizeof(resp), &n, &sw);

	if (rc)
		return rc;
	if (sw != SW_OK)
		return sw_status(t, "GET BALANCE", sw);
	if (n != 4)
		return fail(t, HCE_TERM_E_CARD, "GET BALANCE: %zu bytes", n);
	*balance = hce_get_be32(resp);
	return HCE_TERM_OK;
}

int hce_term_read_log(struct hce_term *t, struct hce_term_log_entry *e, size_t max, size_t *n)
{
	uint8_t cmd[5] = { 0x00, 0xB2, 0, (0x18 << 3) | 4, 0x00 }, resp[64];
	size_t i, len;
	uint16_t sw;
	int rc;

	*n = 0;
	for (i = 0; i < max && i < 255; i++) {
		cmd[2] = (uint8_t)(i + 1);
		rc = xchg(t, cmd, sizeof(cmd), resp, sizeof(resp), &len, &sw);
		if (rc)
			return rc;
		if (sw == 0x6A83 || (sw == SW_OK && len == 0))
			break;
		if (sw != SW_OK || len != 23)
			return fail(t, HCE_TERM_E_CARD, "READ RECORD EF 0018 #%zu: %04X, %zu bytes",
				    i + 1, sw, len);
		e[i].counter = hce_get_be16(resp);
		e[i].overdraft = (uint32_t)resp[2] << 16 | (uint32_t)resp[3] << 8 | resp[4];
		e[i].amount = hce_get_be32(resp + 5);
		e[i].type = resp[9];
		memcpy(e[i].terminal, resp + 10, 6);
		memcpy(e[i].date, resp + 16, 4);
		memcpy(e[i].time, resp + 20, 3);
		(*n)++;
	}
	return HCE_TERM_OK;
}

/* Select, check the card is acceptable, derive its keys. */
static int open_card(struct hce_term *t, struct hce_term_result *res, struct hce_card_keys *ck)
{
	const struct hce_psam *psam = t->psam;
	uint8_t date[4], tm[3];
	char refusal[64];
	int rc;

	rc = hce_term_select(t, &res->card);
	if (rc)
		return rc;
	if (psam->has_issuer && memcmp(psam->issuer, res->card.issuer, 8))
		return fail(t, HCE_TERM_E_DECLINED, "card of another issuer");
	now_bcd(t, date, tm);
	/* dates and deny list before any key is used: a refused card is not charged */
	if (hce_term_token_refusal(res->card.ef0015, t->check_dates ? date : NULL, t->denylist,
				   refusal, sizeof(refusal)))
		return fail(t, HCE_TERM_E_DECLINED, "%s", refusal);
	if (hce_psam_card_keys(psam, res->card.serial, ck)) {
		const char *why = hce_psam_error(psam);

		return fail(t, HCE_TERM_E_CONFIG, "cannot derive the card keys%s%s",
			    why[0] ? ": " : "", why);
	}
	return HCE_TERM_OK;
}

static const struct hce_key_slot *slot(const struct hce_key_slot *s, uint8_t index)
{
	int i;

	for (i = 0; i < HCE_KEY_SLOTS; i++)
		if (s[i].present && s[i].index == index)
			return &s[i];
	return NULL;
}

/* Start the record: TTC taken, row "pending". */
static int record_begin(struct hce_term *t, struct hce_term_result *res, uint8_t type,
			uint32_t amount)
{
	struct hce_term_record *r = &res->rec;

	memset(r, 0, sizeof(*r));
	memcpy(r->terminal_id, t->terminal_id, HCE_TERMINAL_ID_LEN);
	r->has_serial = true;
	memcpy(r->serial, res->card.serial, HCE_SERIAL_LEN);
	r->type = type;
	r->amount = amount;
	now_bcd(t, r->date, r->time);
	if (hce_term_db_begin_tx(t->db, r))
		return fail(t, HCE_TERM_E_RECORDS, "records: %s", hce_term_db_error(t->db));
	return HCE_TERM_OK;
}

/* Write the outcome into the row; a records failure overrides only a success. */
static int record_finish(struct hce_term *t, struct hce_term_result *res, int status)
{
	/* a specific result set on the way ("mac2-invalid") wins over the status name */
	if (!res->rec.result[0] || !strcmp(res->rec.result, "pending"))
		snprintf(res->rec.result, sizeof(res->rec.result), "%s",
			 hce_term_status_name(status));
	if (hce_term_db_finish_tx(t->db, &res->rec)) {
		char why[sizeof(t->err)];

		snprintf(why, sizeof(why), "%s", t->err);
		fail(t, HCE_TERM_E_RECORDS, "records: %s%s%s", hce_term_db_error(t->db),
		     why[0] ? "; " : "", why);
		if (status == HCE_TERM_OK)
			status = HCE_TERM_E_RECORDS;
	}
	res->status = status;
	return status;
}

/*
 * The DEBIT answer was lost: new session, same card?, GET TRANSACTION PROVE for ctc.
 * Returns OK (charged, MAC2/TAC verified), NOT_CHARGED, PROOF (proof does not verify) or
 * UNKNOWN.
 */
static int recover_debit(struct hce_term *t, struct hce_term_result *res,
			 const struct hce_psam_session *s, uint8_t type, uint32_t amount,
			 uint16_t ctc)
{
	struct hce_term_record *r = &res->rec;
	char first[sizeof(t->err)];
	int i;

	snprintf(first, sizeof(first), "%s", t->err);
	for (i = 0; i < t->recovery_tries; i++) {
		struct hce_term_card again;
		uint8_t cmd[7] = { 0x80, 0x5A, 0x00, type, 0x02, (uint8_t)(ctc >> 8), (uint8_t)ctc };
		uint8_t resp[16];
		size_t n;
		uint16_t sw;
		int ok2, okt;

		if (hce_term_reset(t->tp))
			continue;
		if (hce_term_select(t, &again) != HCE_TERM_OK)
			continue;
		if (memcmp(again.serial, res->card.serial, HCE_SERIAL_LEN))
			return fail(t, HCE_TERM_E_UNKNOWN, "DEBIT outcome not known (%s) and another card "
				    "was presented: outcome unknown", first);
		if (xchg(t, cmd, sizeof(cmd), resp, sizeof(resp), &n, &sw) != HCE_TERM_OK)
			continue;
		res->sw = sw;
		if (sw == 0x9406)
			return fail(t, HCE_TERM_E_NOT_CHARGED, "DEBIT outcome not known (%s); GET "
				    "TRANSACTION PROVE: no transaction with counter %u: not charged",
				    first, ctc);
		if (sw != SW_OK || n != 8)
			return fail(t, HCE_TERM_E_UNKNOWN, "DEBIT outcome not known (%s); GET TRANSACTION "
				    "PROVE answered %04X (%zu bytes): outcome unknown", first, sw, n);
		/* MAC2 (4) then TAC (4). */
		memcpy(r->mac2, resp, 4);
		memcpy(r->tac, resp + 4, 4);
		r->has_mac2 = true;
		r->has_tac = true;
		r->recovered = true;
		r->balance_after = r->balance_before - amount;
		ok2 = hce_psam_verify_purchase_mac2(s, amount, r->mac2);
		okt = !s->has_tac ? 1 :
			hce_psam_verify_purchase_tac(s, amount, type, t->terminal_id, r->ttc,
						     r->date, r->time, r->tac);
		if (ok2 != 1 || okt != 1) {
			snprintf(r->result, sizeof(r->result), "%s",
				 ok2 != 1 ? "mac2-invalid" : "tac-invalid");
			return fail(t, HCE_TERM_E_PROOF, "recovered proof: %s does not verify",
				    ok2 != 1 ? "MAC2" : "TAC");
		}
		if (!s->has_tac)
			snprintf(r->result, sizeof(r->result), HCE_TERM_RESULT_TAC_UNVERIFIED);
		return HCE_TERM_OK;
	}
	return fail(t, HCE_TERM_E_UNKNOWN, "DEBIT outcome not known (%s); card not reachable "
		    "again: outcome unknown (record kept as unknown)", first);
}

static int debit(struct hce_term *t, uint8_t type, uint32_t amount, uint8_t recno,
		 const uint8_t *capp, size_t capp_len, struct hce_term_result *res)
{
	const char *what = type == HCE_TX_CAPP ? "INITIALIZE FOR CAPP PURCHASE" :
		"INITIALIZE FOR PURCHASE";
	const struct hce_psam_key *mk;
	const struct hce_key_slot *dpk;
	struct hce_term_record *r = &res->rec;
	struct hce_psam_session s;
	struct hce_card_keys ck;
	uint8_t cmd[5 + 255 + 1], resp[64], mac1[4], random[4];
	size_t n;
	uint32_t balance;
	uint16_t ctc;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	t->err[0] = '\0';
	mk = hce_psam_purchase_key(t->psam, t->psam->purchase_index);
	if (!mk)
		return res->status = fail(t, HCE_TERM_E_CONFIG, "PSAM file has no purchase key");
	rc = open_card(t, res, &ck);
	if (rc)
		return res->status = rc;
	dpk = slot(ck.dpk, mk->index);
	rc = hce_term_balance(t, &balance);
	if (rc)
		goto out_keys;
	rc = record_begin(t, res, type, amount);
	if (rc)
		goto out_keys;
	r->has_balance = true;
	r->balance_before = balance;
	r->balance_after = balance;

	/* INITIALIZE FOR (CAPP) PURCHASE */
	cmd[0] = 0x80;
	cmd[1] = 0x50;
	cmd[2] = type == HCE_TX_CAPP ? 0x03 : 0x01;
	cmd[3] = 0x02;
	cmd[4] = 0x0B;
	cmd[5] = mk->index;
	hce_put_be32(cmd + 6, amount);
	memcpy(cmd + 10, t->terminal_id, 6);
	cmd[16] = 0x0F;
	rc = xchg(t, cmd, 17, resp, sizeof(resp), &n, &res->sw);
	if (rc)
		goto out_record;
	if (res->sw != SW_OK) {
		rc = sw_status(t, what, res->sw);
		goto out_record;
	}
	if (n != 15) {
		rc = fail(t, HCE_TERM_E_CARD, "%s: %zu bytes", what, n);
		goto out_record;
	}
	r->balance_before = hce_get_be32(resp);
	r->balance_after = r->balance_before;
	ctc = hce_get_be16(resp + 4);
	r->has_counter = true;
	r->counter = ctc;
	res->key_version = resp[9];
	res->alg = resp[10];
	memcpy(random, resp + 11, 4);
	if (res->key_version != mk->version || res->alg != mk->alg) {
		rc = fail(t, HCE_TERM_E_KEY, "card key version %02X alg %02X, PSAM has %02X/%02X",
			  res->key_version, res->alg, mk->version, mk->alg);
		goto out_record;
	}
	if (hce_psam_purchase_session(&s, dpk, &ck.dtk, random, ctc, r->ttc) ||
	    hce_psam_purchase_mac1(&s, amount, type, t->terminal_id, r->date, r->time, mac1)) {
		rc = fail(t, HCE_TERM_E_CONFIG, "PSAM: cannot compute MAC1");
		goto out_record;
	}

	if (type == HCE_TX_CAPP) {
		cmd[0] = 0x80;
		cmd[1] = 0xDC;
		cmd[2] = recno;
		cmd[3] = 0x1E << 3 | 4;		/* SFI 1E, P1 is the record number */
		cmd[4] = HCE_TERM_CAPP_LEN;
		memset(cmd + 5, 0, HCE_TERM_CAPP_LEN);
		memcpy(cmd + 5, capp, capp_len);
		rc = xchg(t, cmd, 5 + HCE_TERM_CAPP_LEN, resp, sizeof(resp), &n, &res->sw);
		if (rc)
			goto out_record;
		if (res->sw != SW_OK) {
			rc = sw_status(t, "UPDATE CAPP DATA CACHE", res->sw);
			goto out_record;
		}
	}

	/* DEBIT FOR PURCHASE */
	cmd[0] = 0x80;
	cmd[1] = 0x54;
	cmd[2] = 0x01;
	cmd[3] = 0x00;
	cmd[4] = 0x0F;
	hce_put_be32(cmd + 5, r->ttc);
	memcpy(cmd + 9, r->date, 4);
	memcpy(cmd + 13, r->time, 3);
	memcpy(cmd + 16, mac1, 4);
	cmd[20] = 0x08;
	rc = xchg(t, cmd, 21, resp, sizeof(resp), &n, &res->sw);
	if (rc == HCE_TERM_E_TRANSPORT) {
		rc = recover_debit(t, res, &s, type, amount, ctc);
		goto out_record;
	}
	if (rc)
		goto out_record;
	if (res->sw == 0x6581) {
		/*
		 * Memory failure: the purse's commit failed, but may have reached the disk
		 * (Documentation/purse.md): ask for the proof as after a lost answer.
		 */
		fail(t, HCE_TERM_E_CARD, "DEBIT FOR PURCHASE: card memory failure (6581)");
		rc = recover_debit(t, res, &s, type, amount, ctc);
		goto out_record;
	}
	if (res->sw != SW_OK) {
		rc = sw_status(t, "DEBIT FOR PURCHASE", res->sw);
		goto out_record;
	}
	if (n != 8) {
		rc = fail(t, HCE_TERM_E_CARD, "DEBIT FOR PURCHASE: %zu bytes", n);
		goto out_record;
	}
	/* The card has charged: TAC (4) then MAC2 (4). */
	memcpy(r->tac, resp, 4);
	memcpy(r->mac2, resp + 4, 4);
	r->has_tac = true;
	r->has_mac2 = true;
	r->balance_after = r->balance_before - amount;
	if (hce_psam_verify_purchase_mac2(&s, amount, r->mac2) != 1) {
		snprintf(r->result, sizeof(r->result), "mac2-invalid");
		rc = fail(t, HCE_TERM_E_PROOF, "MAC2 from the card does not verify");
	} else if (!s.has_tac) {
		/* token PSAM: no TAC key here; the issuer verifies the TAC at clearing */
		snprintf(r->result, sizeof(r->result), HCE_TERM_RESULT_TAC_UNVERIFIED);
		rc = HCE_TERM_OK;
	} else if (hce_psam_verify_purchase_tac(&s, amount, type, t->terminal_id, r->ttc,
						r->date, r->time, r->tac) != 1) {
		snprintf(r->result, sizeof(r->result), "tac-invalid");
		rc = fail(t, HCE_TERM_E_PROOF, "TAC from the card does not verify");
	} else {
		rc = HCE_TERM_OK;
	}
out_record:
	hce_wipe(mac1, sizeof(mac1));
	hce_psam_session_wipe(&s);
	hce_card_keys_wipe(&ck);
	return record_finish(t, res, rc);
out_keys:
	hce_card_keys_wipe(&ck);
	return res->status = rc;
}

int hce_term_purchase(struct hce_term *t, uint32_t amount, struct hce_term_result *res)
{
	return debit(t, HCE_TX_PURCHASE, amount, 0, NULL, 0, res);
}

int hce_term_capp(struct hce_term *t, uint32_t amount, uint8_t recno, const uint8_t *rec,
		  size_t rec_len, struct hce_term_result *res)
{
	if (!rec || rec_len < 1 || rec_len > HCE_TERM_CAPP_LEN || recno < 1 || recno > 8) {
		memset(res, 0, sizeof(*res));
		return res->status = fail(t, HCE_TERM_E_USAGE,
					  "CAPP record: 1..48 bytes, record number 1..8");
	}
	return debit(t, HCE_TX_CAPP, amount, recno, rec, rec_len, res);
}

/*
 * The CREDIT answer was lost. The purse keeps no proof of loads, so: new session, same card,
 * GET BALANCE and log record 1. Credited when the balance is old + amount and record 1 is
 * this load (type 02, online counter, amount, terminal, date, time); not credited when the
 * balance is the old one and record 1 is not this load; otherwise unknown.
 */
static int recover_credit(struct hce_term *t, struct hce_term_result *res, uint16_t online)
{
	struct hce_term_record *r = &res->rec;
	char first[sizeof(t->err)];
	int i;

	snprintf(first, sizeof(first), "%s", t->err);
	for (i = 0; i < t->recovery_tries; i++) {
		struct hce_term_card again;
		struct hce_term_log_entry e;
		size_t n;
		uint32_t bal;
		bool ours;

		if (hce_term_reset(t->tp) || hce_term_select(t, &again) != HCE_TERM_OK)
			continue;
		if (memcmp(again.serial, res->card.serial, HCE_SERIAL_LEN))
			break;
		if (hce_term_balance(t, &bal) != HCE_TERM_OK ||
		    hce_term_read_log(t, &e, 1, &n) != HCE_TERM_OK)
			continue;
		ours = n == 1 && e.type == HCE_TX_LOAD && e.counter == online &&
			e.amount == r->amount && !memcmp(e.terminal, t->terminal_id, 6) &&
			!memcmp(e.date, r->date, 4) && !memcmp(e.time, r->time, 3);
		r->recovered = true;
		if (ours && bal == r->balance_before + r->amount) {
			r->balance_after = bal;
			snprintf(r->result, sizeof(r->result), "ok-no-tac");
			return fail(t, HCE_TERM_OK, "CREDIT outcome not known (%s); the card's log shows "
				    "the load: credited (no TAC to verify)", first);
		}
		if (!ours && bal == r->balance_before)
			return fail(t, HCE_TERM_E_NOT_CHARGED, "CREDIT outcome not known (%s); balance "
				    "unchanged: not credited", first);
		break;
	}
	return fail(t, HCE_TERM_E_UNKNOWN, "CREDIT outcome not known (%s): outcome unknown", first);
}

int hce_term_load(struct hce_term *t, uint32_t amount, struct hce_term_result *res)
{
	const struct hce_psam_key *mk;
	const struct hce_key_slot *dlk;
	struct hce_term_record *r = &res->rec;
	struct hce_psam_session s;
	struct hce_card_keys ck;
	uint8_t cmd[32], resp[64], mac2[4], random[4], mac1[4];
	size_t n;
	uint16_t online;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	t->err[0] = '\0';
	mk = hce_psam_load_key(t->psam, t->psam->load_index);
	if (!mk)
		return res->status = fail(t, HCE_TERM_E_CONFIG, "PSAM file has no load key");
	rc = open_card(t, res, &ck);
	if (rc)
		return res->status = rc;
	dlk = slot(ck.dlk, mk->index);
	rc = record_begin(t, res, HCE_TX_LOAD, amount);
	if (rc) {
		hce_card_keys_wipe(&ck);
		return res->status = rc;
	}

	cmd[0] = 0x80;
	cmd[1] = 0x50;
	cmd[2] = 0x00;
	cmd[3] = 0x02;
	cmd[4] = 0x0B;
	cmd[5] = mk->index;
	hce_put_be32(cmd + 6, amount);
	memcpy(cmd + 10, t->terminal_id, 6);
	cmd[16] = 0x10;
	rc = xchg(t, cmd, 17, resp, sizeof(resp), &n, &res->sw);
	if (rc)
		goto out;
	if (res->sw != SW_OK) {
		rc = sw_status(t, "INITIALIZE FOR LOAD", res->sw);
		goto out;
	}
	if (n != 16) {
		rc = fail(t, HCE_TERM_E_CARD, "INITIALIZE FOR LOAD: %zu bytes", n);
		goto out;
	}
	r->has_balance = true;
	r->balance_before = hce_get_be32(resp);
	r->balance_after = r->balance_before;
	online = hce_get_be16(resp + 4);
	r->has_counter = true;
	r->counter = online;
	res->key_version = resp[6];
	res->alg = resp[7];
	memcpy(random, resp + 8, 4);
	memcpy(mac1, resp + 12, 4);
	if (res->key_version != mk->version || res->alg != mk->alg) {
		rc = fail(t, HCE_TERM_E_KEY, "card key version %02X alg %02X, PSAM has %02X/%02X",
			  res->key_version, res->alg, mk->version, mk->alg);
		goto out;
	}
	if (hce_psam_load_session(&s, dlk, &ck.dtk, random, online)) {
		rc = fail(t, HCE_TERM_E_CONFIG, "PSAM: cannot compute the load session key");
		goto out;
	}
	if (hce_psam_verify_load_mac1(&s, r->balance_before, amount, t->terminal_id, mac1) != 1) {
		snprintf(r->result, sizeof(r->result), "mac1-invalid");
		rc = fail(t, HCE_TERM_E_PROOF, "load MAC1 from the card does not verify "
			  "(wrong issuer keys or not a genuine card): nothing loaded");
		goto out;
	}
	if (hce_psam_load_mac2(&s, amount, t->terminal_id, r->date, r->time, mac2)) {
		rc = fail(t, HCE_TERM_E_CONFIG, "PSAM: cannot compute MAC2");
		goto out;
	}
	cmd[0] = 0x80;
	cmd[1] = 0x52;
	cmd[2] = 0x00;
	cmd[3] = 0x00;
	cmd[4] = 0x0B;
	memcpy(cmd + 5, r->date, 4);
	memcpy(cmd + 9, r->time, 3);
	memcpy(cmd + 12, mac2, 4);
	cmd[16] = 0x04;
	rc = xchg(t, cmd, 17, resp, sizeof(resp), &n, &res->sw);
	if (rc == HCE_TERM_E_TRANSPORT) {
		rc = recover_credit(t, res, online);
		goto out;
	}
	if (rc)
		goto out;
	if (res->sw == 0x6581) {	/* commit failed, may have reached the disk */
		fail(t, HCE_TERM_E_CARD, "CREDIT FOR LOAD: card memory failure (6581)");
		rc = recover_credit(t, res, online);
		goto out;
	}
	if (res->sw != SW_OK) {
		rc = sw_status(t, "CREDIT FOR LOAD", res->sw);
		goto out;
	}
	if (n != 4) {
		rc = fail(t, HCE_TERM_E_CARD, "CREDIT FOR LOAD: %zu bytes", n);
		goto out;
	}
	memcpy(r->tac, resp, 4);
	r->has_tac = true;
	r->balance_after = r->balance_before + amount;
	if (!s.has_tac) {
		snprintf(r->result, sizeof(r->result), HCE_TERM_RESULT_TAC_UNVERIFIED);
		rc = HCE_TERM_OK;
	} else if (hce_psam_verify_load_tac(&s, r->balance_after, online, amount,
					    t->terminal_id, r->date, r->time, r->tac) != 1) {
		snprintf(r->result, sizeof(r->result), "tac-invalid");
		rc = fail(t, HCE_TERM_E_PROOF, "load TAC from the card does not verify");
	} else {
		rc = HCE_TERM_OK;
	}
out:
	hce_wipe(mac2, sizeof(mac2));
	hce_psam_session_wipe(&s);
	hce_card_keys_wipe(&ck);
	return record_finish(t, res, rc);
}

void hce_term_format_amount(uint32_t fen, char out[16])
{
	snprintf(out, 16, "%u.%02u", fen / 100, fen % 100);
}

void hce_term_format_balance(uint32_t raw, char out[16])
{
	/* the magnitude of a negative two's complement value, computed unsigned */
	uint32_t mag = raw & 0x80000000u ? ~raw + 1u : raw;

	snprintf(out, 16, "%s%u.%02u", raw & 0x80000000u ? "-" : "", mag / 100, mag % 100);
}

int hce_term_parse_amount(const char *s, uint32_t *fen)
{
	uint64_t whole = 0, frac = 0;
	int fdigits = 0;
	const char *p = s;

	if (!s || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > 0xffffffffULL)
			return -1;
	}
	if (*p == '\0') {
		*fen = (uint32_t)whole;	/* plain digits: fen */
		return 0;
	}
	if (*p++ != '.')
		return -1;
	for (; *p >= '0' && *p <= '9' && fdigits < 2; p++, fdigits++)
		frac = frac * 10 + (uint64_t)(*p - '0');
	if (*p != '\0' || fdigits == 0)
		return -1;
	if (fdigits == 1)
		frac *= 10;
	whole = whole * 100 + frac;
	if (whole > 0xffffffffULL)
		return -1;
	*fen = (uint32_t)whole;
	return 0;
}

static const char *type_name(uint8_t type)
{
	switch (type) {
	case HCE_TX_LOAD: return "LOAD";
	case HCE_TX_PURCHASE: return "PURCHASE";
	case HCE_TX_CAPP: return "COMPOUND PURCHASE";
	}
	return "TRANSACTION";
}

int hce_term_receipt(const struct hce_term_result *res, char *out, size_t cap)
{
	const struct hce_term_record *r = &res->rec;
	char tid[13], date[9], tm[7], amt[16], before[16], after[16], mac2[9] = "-",
		tac[9] = "-";
	int n;

	hce_hex_encode(r->terminal_id, 6, tid, sizeof(tid));
	bcd_digits(r->date, 4, date);
	bcd_digits(r->time, 3, tm);
	hce_term_format_amount(r->amount, amt);
	hce_term_format_balance(r->balance_before, before);
	hce_term_format_balance(r->balance_after, after);
	if (r->has_mac2)
		hce_hex_encode(r->mac2, 4, mac2, sizeof(mac2));
	if (r->has_tac)
		hce_hex_encode(r->tac, 4, tac, sizeof(tac));
	n = snprintf(out, cap,
		     "---- %s ----\n"
		     "card      %s\n"
		     "terminal  %s  TTC %u\n"
		     "date      %.4s-%.2s-%.2s %.2s:%.2s:%.2s\n"
		     "amount    %s CNY\n"
		     "balance   %s -> %s CNY\n"
		     "counter   %u\n"
		     "MAC2 %s  TAC %s%s\n"
		     "result    %s%s\n",
		     type_name(r->type), res->card.number, tid, r->ttc, date, date + 4, date + 6,
		     tm, tm + 2, tm + 4, amt, before, after, r->counter, mac2, tac,
		     strcmp(r->result, HCE_TERM_RESULT_TAC_UNVERIFIED) ? "" :
		     " (not checked here: verified by the issuer at clearing)", r->result,
		     r->recovered ? " (recovered)" : "");
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}
