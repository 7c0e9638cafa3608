// SPDX-License-Identifier: GPL-2.0
/* psam.c - the PSAM role: card key diversification, session keys, MAC1/MAC2/TAC. */
#include "terminal/psam.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/buf.h"
#include "hsm/hsm.h"
#include "profile/conf.h"

#define PSAM_PATH_MAX 512
#define PSAM_PIN_MAX 256

struct hce_psam_token {
	char module[PSAM_PATH_MAX];
	char label[33];			/* CK_TOKEN_INFO.label is 32 bytes */
	char pin_file[PSAM_PATH_MAX];
	struct hce_hsm *hsm;		/* NULL until opened */
	bool keys_checked;		/* every labelled slot found its key in hsm */
	char err[HCE_HSM_ERR_MAX + 2 * PSAM_PATH_MAX];
};

void hce_psam_wipe(struct hce_psam *psam)
{
	if (psam->token) {
		hce_hsm_close(psam->token->hsm);
		hce_wipe(psam->token, sizeof(*psam->token));
		free(psam->token);
	}
	hce_wipe(psam, sizeof(*psam));
}

const char *hce_psam_error(const struct hce_psam *psam)
{
	return psam->token ? psam->token->err : "";
}

/* The PIN: the first line of pin-file (trailing CR/LF dropped). */
static int read_pin(struct hce_psam_token *tk, char pin[PSAM_PIN_MAX])
{
	FILE *f = fopen(tk->pin_file, "r");
	size_t n, got;

	if (!f) {
		snprintf(tk->err, sizeof(tk->err), "PSAM token '%s': pin-file %s: %s", tk->label,
			 tk->pin_file, strerror(errno));
		return -1;
	}
	got = fread(pin, 1, PSAM_PIN_MAX - 1, f);
	fclose(f);
	pin[got] = '\0';
	n = strcspn(pin, "\r\n");
	pin[n] = '\0';
	if (!n || (n == got && got == PSAM_PIN_MAX - 1)) {
		hce_wipe(pin, PSAM_PIN_MAX);
		snprintf(tk->err, sizeof(tk->err), "PSAM token '%s': pin-file %s: %s", tk->label,
			 tk->pin_file, n ? "the PIN line is too long" : "empty");
		return -1;
	}
	return 0;
}

/* Open and log in (once); check_keys: every labelled slot must find its key. */
static int token_login(const struct hce_psam *psam)
{
	struct hce_psam_token *tk = psam->token;
	char pin[PSAM_PIN_MAX], err[HCE_HSM_ERR_MAX];
	int rc;

	if (tk->hsm)
		return 0;
	if (read_pin(tk, pin))
		return -1;
	rc = hce_hsm_open(tk->module, tk->label, pin, &tk->hsm, err);
	hce_wipe(pin, sizeof(pin));
	if (rc) {
		snprintf(tk->err, sizeof(tk->err), "PSAM token '%s' (module %s): %s", tk->label,
			 tk->module, err);
		return -1;
	}
	return 0;
}

static int token_open(const struct hce_psam *psam)
{
	struct hce_psam_token *tk = psam->token;
	int i;

	if (tk->keys_checked)
		return 0;
	if (token_login(psam))
		return -1;
	/* Every labelled slot must find its key now, not in the middle of a fare. */
	for (i = 0; i < 2 * HCE_KEY_SLOTS + 1; i++) {
		const struct hce_psam_key *k = i < HCE_KEY_SLOTS ? &psam->purchase[i] :
			i < 2 * HCE_KEY_SLOTS ? &psam->load[i - HCE_KEY_SLOTS] : &psam->tac;
		int h;

		if (!k->present || !k->in_token)
			continue;
		h = hce_hsm_has_key(tk->hsm, k->label);
		if (h != 1) {
			if (h)
				snprintf(tk->err, sizeof(tk->err), "PSAM token '%s': %s", tk->label,
					 hce_hsm_error(tk->hsm));
			else
				snprintf(tk->err, sizeof(tk->err), "PSAM token '%s' has no key "
					 "labelled '%s' (import it: hce-psam import)", tk->label,
					 k->label);
			return -1;	/* stays logged in: hce_psam_wipe() closes */
		}
	}
	tk->keys_checked = true;
	tk->err[0] = '\0';
	return 0;
}

struct hce_hsm *hce_psam_token_hsm(const struct hce_psam *psam, char *err, size_t errlen)
{
	if (!psam->token) {
		snprintf(err, errlen, "the PSAM file has no [pkcs11] section");
		return NULL;
	}
	if (token_login(psam)) {
		snprintf(err, errlen, "%s", psam->token->err);
		return NULL;
	}
	return psam->token->hsm;
}

const char *hce_psam_token_name(const struct hce_psam *psam)
{
	return psam->token ? psam->token->label : "";
}

int hce_psam_open_token(const struct hce_psam *psam, char *err, size_t errlen)
{
	if (!psam->token)
		return 0;
	if (token_open(psam)) {
		snprintf(err, errlen, "%s", psam->token->err);
		return -1;
	}
	return 0;
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

static int diversify_slot(const struct hce_psam *psam, const struct hce_psam_key *mk,
			  const uint8_t factor[8], struct hce_key_slot *out)
{
	struct hce_psam_token *tk = psam->token;

	if (!mk->present)
		return 0;
	out->present = true;
	out->index = mk->index;
	out->version = mk->version;
	out->alg = mk->alg;
	if (!mk->in_token)
		return hce_diversify((enum hce_alg)mk->alg, mk->mk, factor, out->key);
	/* parse_conf() lets a label in only with a [pkcs11] section and alg 00 */
	if (!tk || mk->alg != HCE_ALG_3DES || token_open(psam))
		return -1;
	if (hce_hsm_diversify(tk->hsm, mk->label, factor, out->key)) {
		snprintf(tk->err, sizeof(tk->err), "PSAM token '%s': %s", tk->label,
			 hce_hsm_error(tk->hsm));
		return -1;
	}
	return 0;
}

int hce_psam_card_keys(const struct hce_psam *psam, const uint8_t serial[HCE_SERIAL_LEN],
		       struct hce_card_keys *out)
{
	const uint8_t *factor = serial + HCE_SERIAL_LEN - 8;
	int i, rc = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < HCE_KEY_SLOTS && !rc; i++) {
		rc = diversify_slot(psam, &psam->purchase[i], factor, &out->dpk[i]);
		if (!rc)
			rc = diversify_slot(psam, &psam->load[i], factor, &out->dlk[i]);
	}
	if (!rc)
		rc = diversify_slot(psam, &psam->tac, factor, &out->dtk);
	if (rc)
		hce_card_keys_wipe(out);
	return rc ? -1 : 0;
}

void hce_psam_session_wipe(struct hce_psam_session *s)
{
	hce_wipe(s, sizeof(*s));
}

static int session(struct hce_psam_session *s, const struct hce_key_slot *key,
		   const struct hce_key_slot *dtk, const uint8_t in[8])
{
	memset(s, 0, sizeof(*s));
	if (!key->present)
		return -1;
	s->alg = key->alg;
	s->has_tac = dtk->present;
	s->tac_alg = dtk->alg;
	if (hce_session_key((enum hce_alg)key->alg, key->key, in, s->ses, &s->ses_len) ||
	    (s->has_tac &&
	     hce_tac_key((enum hce_alg)dtk->alg, dtk->key, s->tac, &s->tac_len))) {
		hce_psam_session_wipe(s);
		return -1;
	}
	return 0;
}

int hce_psam_purchase_session(struct hce_psam_session *s, const struct hce_key_slot *dpk,
			      const struct hce_key_slot *dtk, const uint8_t random[4],
			      uint16_t ctc, uint32_t ttc)
{
	uint8_t in[8];
	int rc;

	memcpy(in, random, 4);
	hce_put_be16(in + 4, ctc);
	hce_put_be16(in + 6, (uint16_t)ttc);
	rc = session(s, dpk, dtk, in);
	hce_wipe(in, sizeof(in));
	return rc;
}

int hce_psam_load_session(struct hce_psam_session *s, const struct hce_key_slot *dlk,
			  const struct hce_key_slot *dtk, const uint8_t random[4],
			  uint16_t online_ctr)
{
	uint8_t in[8];
	int rc;

	memcpy(in, random, 4);
	hce_put_be16(in + 4, online_ctr);
	in[6] = 0x80;
	in[7] = 0x00;
	rc = session(s, dlk, dtk, in);
	hce_wipe(in, sizeof(in));
	return rc;
}

static int mac_ses(const struct hce_psam_session *s, const uint8_t *d, size_t n, uint8_t mac[4])
{
	return hce_mac((enum hce_alg)s->alg, s->ses, s->ses_len, d, n, mac);
}

static int mac_tac(const struct hce_psam_session *s, const uint8_t *d, size_t n, uint8_t mac[4])
{
	if (!s->has_tac)
		return -1;
	return hce_mac((enum hce_alg)s->tac_alg, s->tac, s->tac_len, d, n, mac);
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

/* ---- key file (Documentation/profile.md "Key files") ---- */

static unsigned int line_of(struct hce_conf *c, const char *sec, const char *key)
{
	const struct hce_conf_entry *e = hce_conf_find(c, sec, key);

	return e ? e->line : 0;
}

/* A master key: "master = <16 bytes>" in clear, or "label = <token key label>". */
static int parse_key(struct hce_conf *c, const char *sec, uint8_t index, bool has_token,
		     struct hce_psam_key *k)
{
	const struct hce_conf_entry *m = hce_conf_find(c, sec, "master");
	const struct hce_conf_entry *l = hce_conf_find(c, sec, "label");
	const char *label;
	uint8_t alg, version;

	if (hce_conf_get_hex(c, sec, "alg", true, &alg, 1, 1, NULL) < 0 ||
	    hce_conf_get_hex(c, sec, "version", true, &version, 1, 1, NULL) < 0)
		return -1;
	if (alg != HCE_ALG_3DES && alg != HCE_ALG_SM4)
		return hce_conf_fail(c, line_of(c, sec, "alg"), "[%s] alg: must be 00 or 04", sec);
	if (m && l)
		return hce_conf_fail(c, l->line, "[%s]: 'master' and 'label' both given: one "
				     "key, in the file or in the token", sec);
	if (l) {
		if (!has_token)
			return hce_conf_fail(c, l->line, "[%s] label: a token key needs a "
					     "[pkcs11] section", sec);
		if (alg != HCE_ALG_3DES)
			return hce_conf_fail(c, l->line, "[%s] label: only 3DES keys (alg 00) can "
					     "be kept in a PKCS#11 token", sec);
		if (hce_conf_get_text(c, sec, "label", true, HCE_PSAM_LABEL_MAX - 1, &label) < 0)
			return -1;
		if (!label[0])
			return hce_conf_fail(c, l->line, "[%s] label: empty", sec);
		snprintf(k->label, sizeof(k->label), "%s", label);
		k->in_token = true;
	} else if (hce_conf_get_hex(c, sec, "master", true, k->mk, HCE_KEY_LEN, HCE_KEY_LEN,
				    NULL) < 0) {
		return -1;
	}
	k->present = true;
	k->index = index;
	k->version = version;
	k->alg = alg;
	return 0;
}

static int add_slot(struct hce_conf *c, const struct hce_conf_section *s, bool has_token,
		    struct hce_psam_key *slots, uint8_t index, uint8_t *first)
{
	int i;

	for (i = 0; i < HCE_KEY_SLOTS; i++) {
		if (slots[i].present)
			continue;
		if (parse_key(c, s->name, index, has_token, &slots[i]))
			return -1;
		if (i == 0)
			*first = index;
		return 0;
	}
	return hce_conf_fail(c, s->line, "[%s]: at most %d keys of a kind", s->name,
			     HCE_KEY_SLOTS);
}

/* [pkcs11]: module, token (label), pin-file: all required. */
static int parse_pkcs11(struct hce_psam *psam, struct hce_conf *c)
{
	const char *module, *token, *pin_file;
	struct hce_psam_token *tk;

	if (hce_conf_get_text(c, "pkcs11", "module", true, PSAM_PATH_MAX - 1, &module) < 0 ||
	    hce_conf_get_text(c, "pkcs11", "token", true, 32, &token) < 0 ||
	    hce_conf_get_text(c, "pkcs11", "pin-file", true, PSAM_PATH_MAX - 1, &pin_file) < 0)
		return -1;
	if (!module[0] || !token[0] || !pin_file[0])
		return hce_conf_fail(c, line_of(c, "pkcs11", !module[0] ? "module" :
						!token[0] ? "token" : "pin-file"),
				     "[pkcs11]: module, token and pin-file must not be empty");
	tk = calloc(1, sizeof(*tk));
	if (!tk)
		return hce_conf_fail(c, 0, "out of memory");
	snprintf(tk->module, sizeof(tk->module), "%s", module);
	snprintf(tk->label, sizeof(tk->label), "%s", token);
	snprintf(tk->pin_file, sizeof(tk->pin_file), "%s", pin_file);
	psam->token = tk;
	return 0;
}

static int parse_conf(struct hce_psam *psam, struct hce_conf *c)
{
	size_t i, n = hce_conf_section_count(c);
	bool has_token = hce_conf_has_section(c, "pkcs11");
	int rc;

	if (has_token && parse_pkcs11(psam, c))
		return -1;

	if (hce_conf_get_hex(c, "issuer", "id", hce_conf_has_section(c, "issuer"),
			     psam->issuer, 8, 8, NULL) == 1)
		psam->has_issuer = true;
	else if (hce_conf_has_section(c, "issuer"))
		return -1;
	rc = hce_conf_get_hex(c, "terminal", "id", hce_conf_has_section(c, "terminal"),
			      psam->terminal_id, HCE_TERMINAL_ID_LEN, HCE_TERMINAL_ID_LEN, NULL);
	if (rc < 0)
		return -1;
	psam->has_terminal_id = rc == 1;
	for (i = 0; i < n; i++) {
		const struct hce_conf_section *s = hce_conf_section_at(c, i);
		uint32_t idx;

		if (!strcmp(s->name, "issuer") || !strcmp(s->name, "terminal") ||
		    !strcmp(s->name, "pkcs11"))
			continue;
		if (!strcmp(s->name, "tac-key")) {
			if (parse_key(c, s->name, 0, has_token, &psam->tac))
				return -1;
			continue;
		}
		rc = hce_conf_section_arg(c, s, "purchase-key", 255, &idx);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			if (idx == 0)
				return hce_conf_fail(c, s->line, "[%s]: key index 1..255", s->name);
			if (add_slot(c, s, has_token, psam->purchase, (uint8_t)idx, &psam->purchase_index))
				return -1;
			continue;
		}
		rc = hce_conf_section_arg(c, s, "load-key", 255, &idx);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			if (idx == 0)
				return hce_conf_fail(c, s->line, "[%s]: key index 1..255", s->name);
			if (add_slot(c, s, has_token, psam->load, (uint8_t)idx, &psam->load_index))
				return -1;
			continue;
		}
		return hce_conf_fail(c, s->line, "unknown section [%s]", s->name);
	}
	if (!psam->purchase[0].present && !psam->load[0].present)
		return hce_conf_fail(c, 0, "no [purchase-key N] nor [load-key N] section");
	/* A token PSAM (the terminal of token cards) never holds the issuer's TAC key. */
	if (!psam->tac.present && !has_token)
		return hce_conf_fail(c, 0, "missing [tac-key] section");
	return hce_conf_check_unused(c);
}

static int finish(struct hce_psam *psam, struct hce_conf *c, int rc, char *err, size_t errlen)
{
	if (rc) {
		snprintf(err, errlen, "%s", hce_conf_error(c));
		hce_psam_wipe(psam);
	}
	hce_conf_free(c);
	return rc ? -1 : 0;
}

int hce_psam_parse(struct hce_psam *psam, const char *name, const char *text, size_t len,
		   char *err, size_t errlen)
{
	struct hce_conf c;
	int rc;

	memset(psam, 0, sizeof(*psam));
	rc = hce_conf_parse(&c, name, text, len);
	if (!rc)
		rc = parse_conf(psam, &c);
	return finish(psam, &c, rc, err, errlen);
}

int hce_psam_load(struct hce_psam *psam, const char *path, char *err, size_t errlen)
{
	struct hce_conf c;
	int rc;

	memset(psam, 0, sizeof(*psam));
	rc = hce_conf_load(&c, path);
	if (!rc)
		rc = parse_conf(psam, &c);
	return finish(psam, &c, rc, err, errlen);
}
