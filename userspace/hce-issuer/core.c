// SPDX-License-Identifier: GPL-2.0
/*
 * core.c - hce-issuer operations: enrolment, tokens, sync, loads, clearing, admin.
 * Every operation runs in one database transaction (the caller's for requests).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "codec/buf.h"
#include "crypto/crypto.h"
#include "iss.h"
#include "profile/conf.h"

#define NUM(b, v) (snprintf((b), sizeof(b), "%" PRId64, (int64_t)(v)), (const char *)(b))
#define P(...) ((const char *const[]){ __VA_ARGS__ })
#define NP(...) (sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))
#define Q(s, sql, rows, ...) isdb_exec((s)->db, (sql), NP(__VA_ARGS__), P(__VA_ARGS__), (rows))

int64_t iss_now(void)
{
	return (int64_t)time(NULL);
}

int64_t iss_new_id(void)
{
	uint8_t b[8];
	uint64_t v;

	if (hce_random(b, sizeof(b)))
		abort();	/* no randomness: nothing safe to do */
	v = hce_get_be32(b) | (uint64_t)hce_get_be32(b + 4) << 32;
	v &= INT64_MAX;
	return v ? (int64_t)v : 1;
}

int iss_error(struct iss_resp *r, int status, const char *code, const char *fmt, ...)
{
	char m[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	json_decref(r->body);
	r->status = status;
	r->body = json_pack("{s:s,s:s}", "error", code, "message", m);
	return -1;
}

static int db_fail(struct iss *s, struct iss_resp *r)
{
	fprintf(stderr, "hce-issuer: database: %s\n", isdb_error(s->db));
	return iss_error(r, 500, "internal", "database error");
}

static int64_t val_i64(const struct isdb_rows *rows, size_t row, size_t col)
{
	const char *v = isdb_val(rows, row, col);

	return v ? strtoll(v, NULL, 10) : 0;
}

/* ---- configuration ---------------------------------------------------------------- */

static int get_text(struct hce_conf *c, const char *sec, const char *k, bool req, char *out,
		    size_t cap)
{
	const char *v = NULL;
	int r = hce_conf_get_text(c, sec, k, req, cap - 1, &v);

	if (r == 1)
		snprintf(out, cap, "%s", v);
	return r < 0 ? -1 : 0;
}

int iss_conf_load(const char *path, struct iss_conf *ic, char *err, size_t errlen)
{
	struct hce_conf c;
	char pin_file[256] = "";
	int ok = 0;

	memset(ic, 0, sizeof(*ic));
	snprintf(ic->listen, sizeof(ic->listen), "127.0.0.1:8443");
	ic->token_validity = 86400;
	ic->max_body = 262144;
	ic->long_poll_max = 60;
	memcpy(ic->issuer_id, "\x31\x00\x00\x00\x00\x00\x00\x01", 8);
	memcpy(ic->serial_prefix, "\x31\x05", 2);
	memcpy(ic->load_terminal, "\x99\x99\x00\x00\x00\x01", 6);
	ic->cap_amount = 10000;
	ic->cap_count = 10;
	ic->max_balance = 100000;
	snprintf(ic->hsm_module, sizeof(ic->hsm_module), "/usr/lib/softhsm/libsofthsm2.so");
	snprintf(ic->hsm_token, sizeof(ic->hsm_token), "hce-issuer");
	ic->purchase_key = 1;
	if (hce_conf_load(&c, path)) {
		snprintf(err, errlen, "%s", hce_conf_error(&c));
		hce_conf_free(&c);
		return -1;
	}
	if (get_text(&c, "issuer", "database", true, ic->database, sizeof(ic->database)) ||
	    get_text(&c, "issuer", "listen", false, ic->listen, sizeof(ic->listen)) ||
	    get_text(&c, "issuer", "cert", false, ic->cert, sizeof(ic->cert)) ||
	    get_text(&c, "issuer", "key", false, ic->key, sizeof(ic->key)) ||
	    hce_conf_get_uint(&c, "issuer", "token-validity", false, 60, 366 * 86400,
			      &ic->token_validity) < 0 ||
	    hce_conf_get_uint(&c, "issuer", "max-body", false, 1024, 16 << 20, &ic->max_body) < 0 ||
	    hce_conf_get_uint(&c, "issuer", "long-poll-max", false, 1, 3600,
			      &ic->long_poll_max) < 0 ||
	    hce_conf_get_hex(&c, "issuer", "issuer-id", false, ic->issuer_id, 8, 8, NULL) < 0 ||
	    hce_conf_get_hex(&c, "issuer", "serial-prefix", false, ic->serial_prefix, 2, 2,
			     NULL) < 0 ||
	    hce_conf_get_hex(&c, "issuer", "load-terminal", false, ic->load_terminal, 6, 6,
			     NULL) < 0 ||
	    hce_conf_get_uint(&c, "accounts", "offline-cap-amount", false, 0, 0x7FFFFFFF,
			      &ic->cap_amount) < 0 ||
	    hce_conf_get_uint(&c, "accounts", "offline-cap-count", false, 0, 65535,
			      &ic->cap_count) < 0 ||
	    hce_conf_get_uint(&c, "accounts", "max-balance", false, 0, 0x7FFFFFFF,
			      &ic->max_balance) < 0 ||
	    get_text(&c, "hsm", "module", false, ic->hsm_module, sizeof(ic->hsm_module)) ||
	    get_text(&c, "hsm", "token", false, ic->hsm_token, sizeof(ic->hsm_token)) ||
	    get_text(&c, "hsm", "pin-file", false, pin_file, sizeof(pin_file)) ||
	    hce_conf_get_uint(&c, "hsm", "purchase-key", false, 1, 255, &ic->purchase_key) < 0 ||
	    hce_conf_check_unused(&c))
		goto out;
	if (pin_file[0]) {
		FILE *f = fopen(pin_file, "r");
		size_t n;

		if (!f) {
			snprintf(err, errlen, "%s: %s", pin_file, strerror(errno));
			hce_conf_free(&c);
			return -1;
		}
		n = fread(ic->hsm_pin, 1, sizeof(ic->hsm_pin) - 1, f);
		fclose(f);
		ic->hsm_pin[n] = '\0';
		while (n && (ic->hsm_pin[n - 1] == '\n' || ic->hsm_pin[n - 1] == '\r'))
			ic->hsm_pin[--n] = '\0';
	}
	ok = 1;
out:
	if (!ok)
		snprintf(err, errlen, "%s", hce_conf_error(&c));
	hce_conf_free(&c);
	return ok ? 0 : -1;
}

int iss_open(struct iss *s, const char *conf_path, int with_hsm)
{
	char err[512];

	memset(s, 0, sizeof(*s));
	if (iss_conf_load(conf_path, &s->conf, err, sizeof(err))) {
		fprintf(stderr, "hce-issuer: %s\n", err);
		return -1;
	}
	if (isdb_open(s->conf.database, &s->db, err)) {
		fprintf(stderr, "hce-issuer: %s\n", err);
		return -1;
	}
	if (with_hsm) {
		if (!s->conf.hsm_pin[0]) {
			fprintf(stderr, "hce-issuer: [hsm] pin-file is required\n");
			return -1;
		}
		if (hce_hsm_open(s->conf.hsm_module, s->conf.hsm_token, s->conf.hsm_pin, &s->hsm,
				 err)) {
			fprintf(stderr, "hce-issuer: %s\n", err);
			return -1;
		}
	}
	hce_wipe(s->conf.hsm_pin, sizeof(s->conf.hsm_pin));
	return 0;
}

void iss_close(struct iss *s)
{
	hce_hsm_close(s->hsm);
	isdb_close(s->db);
	s->hsm = NULL;
	s->db = NULL;
}

/* ---- keys ---------------------------------------------------------------------------- */

/* Card keys of a serial, diversified in the HSM. */
static int card_keys(struct iss *s, const uint8_t serial[HCE_ISS_SERIAL_LEN],
		     struct hce_card_keys *k)
{
	uint8_t f[8];

	uint8_t pk = (uint8_t)s->conf.purchase_key;
	char dpk[24];

	memset(k, 0, sizeof(*k));
	hce_iss_factor(serial, f);
	snprintf(dpk, sizeof(dpk), ISS_MK_DPK_FMT, pk);
	k->dpk[0] = (struct hce_key_slot){ true, pk, pk, HCE_ALG_3DES, { 0 } };
	k->dlk[0] = (struct hce_key_slot){ true, 1, 1, HCE_ALG_3DES, { 0 } };
	k->dtk = (struct hce_key_slot){ true, 0, 1, HCE_ALG_3DES, { 0 } };
	if (hce_hsm_diversify(s->hsm, dpk, f, k->dpk[0].key) ||
	    hce_hsm_diversify(s->hsm, ISS_MK_DLK, f, k->dlk[0].key) ||
	    hce_hsm_diversify(s->hsm, ISS_MK_DTK, f, k->dtk.key)) {
		fprintf(stderr, "hce-issuer: hsm: %s\n", hce_hsm_error(s->hsm));
		hce_card_keys_wipe(k);
		return -1;
	}
	return 0;
}

static int one_key(struct iss *s, const char *label, const uint8_t serial[HCE_ISS_SERIAL_LEN],
		   uint8_t key[16])
{
	uint8_t f[8];

	hce_iss_factor(serial, f);
	if (hce_hsm_diversify(s->hsm, label, f, key)) {
		fprintf(stderr, "hce-issuer: hsm: %s\n", hce_hsm_error(s->hsm));
		return -1;
	}
	return 0;
}

EVP_PKEY *iss_principal_key(struct iss *s, const char *principal, int64_t *device)
{
	struct isdb_rows rows;
	uint8_t der[256];
	EVP_PKEY *k = NULL;
	const char *hex;
	int rc;

	*device = 0;
	if (!strncmp(principal, "dev:", 4)) {
		char *end;
		long long id = strtoll(principal + 4, &end, 10);

		if (end == principal + 4 || *end || id <= 0)
			return NULL;
		rc = Q(s, "SELECT sign_pub FROM devices WHERE id = $1", &rows, principal + 4);
		*device = id;
	} else if (!strncmp(principal, "term:", 5)) {
		rc = Q(s, "SELECT sign_pub FROM terminals WHERE id = $1", &rows, principal + 5);
	} else {
		return NULL;
	}
	if (!rc && rows.n_rows == 1) {
		hex = isdb_val(&rows, 0, 0);
		size_t n = hex ? strlen(hex) / 2 : 0;

		if (n && n <= sizeof(der) && !hce_iss_hex_exact(hex, der, n))
			k = hce_iss_pub_from_der(der, n);
	}
	isdb_rows_free(&rows);
	return k;
}

/* ---- tokens -------------------------------------------------------------------------- */

static void bcd_date(int64_t t, uint8_t d[4])
{
	uint8_t tm[3];

	hce_iss_bcd_now(t, d, tm);
}

static int discrepancy(struct iss *s, int64_t account, const char *serial, const char *kind,
		       const char *detail)
{
	char id[24], acct[24], now[24];

	return Q(s, "INSERT INTO discrepancies (id, account_id, serial, kind, detail, created)"
		 " VALUES ($1, $2, $3, $4, $5, $6)", NULL, NUM(id, iss_new_id()),
		 account ? NUM(acct, account) : NULL, serial, kind, detail, NUM(now, iss_now()));
}

/* Revoke every active token of the account (one wallet carries the account's money). */
static int supersede(struct iss *s, int64_t account, const char *reason)
{
	char a[24], now[24];
	struct isdb_rows rows;
	int changed;

	if (Q(s, "UPDATE loads SET state = 'cancelled' WHERE state = 'pending' AND serial IN"
	      " (SELECT serial FROM tokens WHERE account_id = $1 AND state = 'active')", NULL,
	      NUM(a, account)))
		return -1;
	if (Q(s, "UPDATE tokens SET state = 'revoked', revoked_at = $2, reason = $3"
	      " WHERE account_id = $1 AND state = 'active'", &rows, NUM(a, account),
	      NUM(now, iss_now()), reason))
		return -1;
	changed = rows.changes > 0;
	isdb_rows_free(&rows);
	if (changed && Q(s, "UPDATE meta SET v = CAST(CAST(v AS BIGINT) + 1 AS TEXT)"
			 " WHERE k = 'denylist_version'", NULL))
		return -1;
	return 0;
}

static int issue_token(struct iss *s, int64_t device, int64_t account, const char *seal_hex,
		       struct iss_resp *r, json_t **token_out)
{
	uint8_t serial[HCE_ISS_SERIAL_LEN], ef15[30], pt[HCE_ISS_SEAL_ENTRY * 9], pub[256];
	char hs[21], he[61], dev[24], acct[24], nb[24], na[24], ib[24];
	struct hce_card_keys k;
	struct isdb_rows rows;
	int64_t balance, maxb, overdraft, cap_a, cap_c, now = iss_now(), init;
	size_t ptl, publ = strlen(seal_hex) / 2;
	json_t *sealed, *tok;

	if (Q(s, "SELECT balance, max_balance, overdraft, cap_amount, cap_count FROM accounts"
	      " WHERE id = $1", &rows, NUM(acct, account)) || rows.n_rows != 1) {
		isdb_rows_free(&rows);
		return db_fail(s, r);
	}
	balance = val_i64(&rows, 0, 0);
	maxb = val_i64(&rows, 0, 1);
	overdraft = val_i64(&rows, 0, 2);
	cap_a = val_i64(&rows, 0, 3);
	cap_c = val_i64(&rows, 0, 4);
	isdb_rows_free(&rows);
	if (supersede(s, account, "superseded"))
		return db_fail(s, r);
	/*
	 * The card starts at the account balance: negative in the overdraft (down to
	 * -overdraft; an account beyond it, after clearing records the card really paid, gives
	 * the card -overdraft and the rest shows in card_balance_expected), capped at
	 * max_balance (the rest stays on the account until the card has room).
	 */
	if (overdraft > 0xFFFFFF)
		overdraft = 0xFFFFFF;
	if (maxb > 0x7FFFFFFF)
		maxb = 0x7FFFFFFF;
	init = balance > maxb ? maxb : balance;
	if (init < -overdraft)
		init = -overdraft;
	memcpy(serial, s->conf.serial_prefix, 2);
	if (hce_random(serial + 2, 8))
		return iss_error(r, 500, "internal", "no randomness");
	memcpy(ef15, s->conf.issuer_id, 8);
	ef15[8] = 0x02;
	ef15[9] = 0x02;
	memcpy(ef15 + 10, serial, 10);
	bcd_date(now, ef15 + 20);
	bcd_date(now + (int64_t)s->conf.token_validity, ef15 + 24);
	ef15[28] = ef15[29] = 0;
	hce_iss_hex(serial, sizeof(serial), hs);
	hce_iss_hex(ef15, sizeof(ef15), he);
	if (!publ || publ > sizeof(pub) || hce_iss_hex_exact(seal_hex, pub, publ))
		return iss_error(r, 500, "internal", "stored device key unusable");
	if (card_keys(s, serial, &k))
		return iss_error(r, 500, "internal", "hsm error");
	if (hce_iss_keys_encode(&k, pt, sizeof(pt), &ptl)) {
		hce_card_keys_wipe(&k);
		return iss_error(r, 500, "internal", "key encoding");
	}
	hce_card_keys_wipe(&k);
	sealed = hce_iss_seal(pub, publ, serial, pt, ptl);
	hce_wipe(pt, sizeof(pt));
	if (!sealed)
		return iss_error(r, 500, "internal", "sealing failed");
	if (Q(s, "INSERT INTO tokens (serial, device_id, account_id, not_before, not_after,"
	      " initial_balance, state, sync_seq) VALUES ($1, $2, $3, $4, $5, $6, 'active', 0)",
	      NULL, hs, NUM(dev, device), NUM(acct, account), NUM(nb, now),
	      NUM(na, now + (int64_t)s->conf.token_validity), NUM(ib, init))) {
		json_decref(sealed);
		return db_fail(s, r);
	}
	tok = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:{s:I,s:I},"
			"s:{s:i,s:[{s:i,s:i}],s:[{s:i,s:i}],s:{s:i}},s:o}",
			"serial", hs, "ef0015", he, "not_before", (json_int_t)now, "not_after",
			(json_int_t)(now + (int64_t)s->conf.token_validity), "balance",
			(json_int_t)init, "max_balance", (json_int_t)maxb, "overdraft",
			(json_int_t)overdraft, "offline_cap", "amount", (json_int_t)cap_a, "count",
			(json_int_t)cap_c, "keys", "alg", 0, "dpk", "index",
			(int)s->conf.purchase_key, "version", (int)s->conf.purchase_key, "dlk",
			"index", 1, "version", 1, "dtk", "version", 1, "sealed_keys", sealed);
	if (!tok)
		return iss_error(r, 500, "internal", "out of memory");
	*token_out = tok;
	return 0;
}

/* ---- request bodies ------------------------------------------------------------------ */

static const char *str_field(const json_t *o, const char *k, size_t max, struct iss_resp *r)
{
	const char *v = json_string_value(json_object_get(o, k));

	if (!v || !*v || strlen(v) > max) {
		iss_error(r, 400, "bad_field", "field '%s': string of 1..%zu chars required", k, max);
		return NULL;
	}
	return v;
}

static int serial_field(const json_t *o, uint8_t serial[HCE_ISS_SERIAL_LEN], char hex[21],
			struct iss_resp *r)
{
	const char *v = json_string_value(json_object_get(o, "serial"));

	if (!v || hce_iss_hex_exact(v, serial, HCE_ISS_SERIAL_LEN))
		return iss_error(r, 400, "bad_field", "field 'serial': 20 hex digits required");
	hce_iss_hex(serial, HCE_ISS_SERIAL_LEN, hex);
	return 0;
}

static int p256_hex(const char *hex, struct iss_resp *r, const char *field)
{
	uint8_t der[256];
	size_t n = strlen(hex) / 2;
	EVP_PKEY *k;

	if (strlen(hex) % 2 || !n || n > sizeof(der) || hce_iss_hex_exact(hex, der, n) ||
	    !(k = hce_iss_pub_from_der(der, n)))
		return iss_error(r, 400, "bad_field", "field '%s': hex DER P-256 public key required",
				 field);
	EVP_PKEY_free(k);
	return 0;
}

static void hash_hex(const char *in, char out[65])
{
	uint8_t h[32];

	EVP_Digest(in, strlen(in), h, NULL, EVP_sha256(), NULL);
	hce_iss_hex(h, sizeof(h), out);
}

int iss_enrol(struct iss *s, const json_t *body, struct iss_resp *r)
{
	const json_t *dev = json_object_get(body, "device");
	const char *code, *sign, *seal, *name = "";
	char ch[65], id[24], acct[24], now[24];
	struct isdb_rows rows;
	int64_t account, device;
	json_t *tok = NULL;

	if (!(code = str_field(body, "enrol_code", 64, r)))
		return -1;
	if (!json_is_object(dev))
		return iss_error(r, 400, "bad_field", "field 'device': object required");
	if (!(sign = str_field(dev, "sign_pub", 512, r)) || !(seal = str_field(dev, "seal_pub", 512, r)))
		return -1;
	if (json_object_get(dev, "name") && !(name = str_field(dev, "name", 64, r)))
		return -1;
	if (p256_hex(sign, r, "device.sign_pub") || p256_hex(seal, r, "device.seal_pub"))
		return -1;
	hash_hex(code, ch);
	if (Q(s, "SELECT account_id FROM enrol_codes WHERE code_hash = $1 AND used = 0", &rows, ch))
		return db_fail(s, r);
	if (rows.n_rows != 1) {
		isdb_rows_free(&rows);
		return iss_error(r, 403, "bad_enrol_code", "enrolment code unknown or already used");
	}
	account = val_i64(&rows, 0, 0);
	isdb_rows_free(&rows);
	device = iss_new_id();
	if (Q(s, "UPDATE enrol_codes SET used = 1 WHERE code_hash = $1", NULL, ch) ||
	    Q(s, "INSERT INTO devices (id, account_id, sign_pub, seal_pub, name, created)"
	      " VALUES ($1, $2, $3, $4, $5, $6)", NULL, NUM(id, device), NUM(acct, account), sign,
	      seal, name, NUM(now, iss_now())))
		return db_fail(s, r);
	if (issue_token(s, device, account, seal, r, &tok))
		return -1;
	r->status = 200;
	r->body = json_pack("{s:s,s:s,s:o}", "device_id", id, "account_id", acct, "token", tok);
	return 0;
}

/* Token row of serial owned by device: account, state, not_after, initial balance. */
struct tokrow {
	int64_t account, not_after, initial, sync_seq;
	char state[16];
	char seal[520];
};

static int token_of(struct iss *s, int64_t device, const char *hs, struct tokrow *t,
		    struct iss_resp *r)
{
	struct isdb_rows rows;
	char dev[24];

	if (Q(s, "SELECT t.account_id, t.state, t.not_after, t.initial_balance, t.sync_seq,"
	      " d.seal_pub FROM tokens t JOIN devices d ON d.id = t.device_id"
	      " WHERE t.serial = $1 AND t.device_id = $2", &rows, hs, NUM(dev, device)))
		return db_fail(s, r);
	if (rows.n_rows != 1) {
		isdb_rows_free(&rows);
		return iss_error(r, 404, "not_found", "no token %s for this device", hs);
	}
	t->account = val_i64(&rows, 0, 0);
	snprintf(t->state, sizeof(t->state), "%s", isdb_val(&rows, 0, 1));
	t->not_after = val_i64(&rows, 0, 2);
	t->initial = val_i64(&rows, 0, 3);
	t->sync_seq = val_i64(&rows, 0, 4);
	snprintf(t->seal, sizeof(t->seal), "%s", isdb_val(&rows, 0, 5));
	isdb_rows_free(&rows);
	if (!strcmp(t->state, "active") && t->not_after <= iss_now())
		snprintf(t->state, sizeof(t->state), "expired");
	return 0;
}

int iss_renew(struct iss *s, int64_t device, const json_t *body, struct iss_resp *r)
{
	uint8_t serial[HCE_ISS_SERIAL_LEN];
	char hs[21];
	struct tokrow t;
	json_t *tok = NULL;

	if (serial_field(body, serial, hs, r) || token_of(s, device, hs, &t, r))
		return -1;
	if (!strcmp(t.state, "revoked"))
		return iss_error(r, 403, "revoked", "token %s is revoked", hs);
	if (issue_token(s, device, t.account, t.seal, r, &tok))
		return -1;
	r->status = 200;
	r->body = json_pack("{s:o}", "token", tok);
	return 0;
}

/* ---- clearing ------------------------------------------------------------------------ */

#define DEBITS_MAX 32

/* Clearing state of one request: the last card's DTK, account debits not yet written. */
struct dtk_cache {
	uint8_t serial[HCE_ISS_SERIAL_LEN];
	uint8_t dtk[16];
	int64_t account;
	int valid;		/* 1 known card, -1 unknown card */
	size_t n_debits;
	struct {
		int64_t account, sum;
		char serial[21];	/* the card of the last record counted */
	} debits[DEBITS_MAX];
};

/*
 * Write the summed debits (same transaction as the records). An account may go below zero
 * down to -overdraft; a record with a valid TAC was really paid by the card, so it always
 * clears, even beyond -overdraft: that is then recorded as an "overdraft_exceeded"
 * discrepancy (issuer.md), never refused. 0 or -1.
 */
static int flush_debits(struct iss *s, struct dtk_cache *c)
{
	char a[24], v[24], detail[160];
	struct isdb_rows rows;
	int64_t bal, od;
	size_t i;

	for (i = 0; i < c->n_debits; i++) {
		if (Q(s, "UPDATE accounts SET balance = balance - $2 WHERE id = $1", NULL,
		      NUM(a, c->debits[i].account), NUM(v, c->debits[i].sum)))
			return -1;
		if (!c->debits[i].sum)
			continue;
		if (Q(s, "SELECT balance, overdraft FROM accounts WHERE id = $1", &rows, a) ||
		    rows.n_rows != 1) {
			isdb_rows_free(&rows);
			return -1;
		}
		bal = val_i64(&rows, 0, 0);
		od = val_i64(&rows, 0, 1);
		isdb_rows_free(&rows);
		if (bal >= -od)
			continue;
		snprintf(detail, sizeof(detail), "cleared %" PRId64 " took the account to %" PRId64
			 ", beyond its overdraft limit %" PRId64, c->debits[i].sum, bal, od);
		if (discrepancy(s, c->debits[i].account, c->debits[i].serial,
				"overdraft_exceeded", detail))
			return -1;
	}
	c->n_debits = 0;
	return 0;
}

static int add_debit(struct iss *s, struct dtk_cache *c, int64_t account, int64_t amount,
		     const char *serial)
{
	size_t i;

	for (i = 0; i < c->n_debits; i++) {
		if (c->debits[i].account == account) {
			c->debits[i].sum += amount;
			snprintf(c->debits[i].serial, sizeof(c->debits[i].serial), "%s", serial);
			return 0;
		}
	}
	if (c->n_debits == DEBITS_MAX && flush_debits(s, c))
		return -1;
	c->debits[c->n_debits].account = account;
	c->debits[c->n_debits].sum = amount;
	snprintf(c->debits[c->n_debits].serial, sizeof(c->debits[c->n_debits].serial), "%s",
		 serial);
	c->n_debits++;
	return 0;
}

static const char *clear_record(struct iss *s, const struct hce_iss_record *rec,
				const char *reporter, struct dtk_cache *c, int *fatal)
{
	char hs[21], cnt[8], typ[8], amt[24], ttc[24], term[13], d[9], tm[7], tac[9], acct[24];
	char now[24], detail[160];
	struct isdb_rows rows;
	int ok;

	*fatal = 0;
	hce_iss_hex(rec->serial, HCE_ISS_SERIAL_LEN, hs);
	if (!c->valid || memcmp(c->serial, rec->serial, HCE_ISS_SERIAL_LEN)) {
		hce_wipe(c->dtk, sizeof(c->dtk));
		memcpy(c->serial, rec->serial, HCE_ISS_SERIAL_LEN);
		if (Q(s, "SELECT account_id FROM tokens WHERE serial = $1", &rows, hs))
			goto dbfail;
		c->valid = rows.n_rows == 1 ? 1 : -1;
		c->account = rows.n_rows == 1 ? val_i64(&rows, 0, 0) : 0;
		isdb_rows_free(&rows);
		if (c->valid == 1 && one_key(s, ISS_MK_DTK, rec->serial, c->dtk)) {
			c->valid = 0;
			*fatal = 1;
			return NULL;
		}
	}
	if (c->valid < 0)
		return "unknown_card";
	if (rec->type == HCE_ISS_TX_LOAD)
		return "invalid";	/* loads reach clearing through load/confirm or wallet sync */
	ok = hce_iss_record_tac_ok(rec, c->dtk);
	if (ok < 0) {
		*fatal = 1;
		return NULL;
	}
	hce_iss_hex(rec->terminal, 6, term);
	hce_iss_hex(rec->date, 4, d);
	hce_iss_hex(rec->time, 3, tm);
	hce_iss_hex(rec->tac, 4, tac);
	NUM(cnt, rec->counter);
	NUM(typ, rec->type);
	if (!ok) {
		snprintf(detail, sizeof(detail), "forged TAC from %s: counter %u type %u amount %u"
			 " terminal %s", reporter, rec->counter, rec->type, rec->amount, term);
		if (discrepancy(s, c->account, hs, "bad_tac", detail))
			goto dbfail;
		return "bad_tac";
	}
	if (Q(s, "INSERT INTO txns (serial, counter, type, amount, terminal, ttc, tdate, ttime,"
	      " tac, account_id, reporter, reported) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
	      " $10, $11, $12) ON CONFLICT DO NOTHING", &rows, hs, cnt, typ,
	      NUM(amt, rec->amount), term, NUM(ttc, rec->ttc), d, tm, tac,
	      NUM(acct, c->account), reporter, NUM(now, iss_now())))
		goto dbfail;
	ok = rows.changes == 1;
	isdb_rows_free(&rows);
	if (ok) {
		if (add_debit(s, c, c->account, rec->amount, hs))
			goto dbfail;
		return "accepted";
	}
	/* Already counted: the same transaction, or a conflicting report of its natural key. */
	if (Q(s, "SELECT amount, terminal, ttc, tdate, ttime, tac FROM txns WHERE serial = $1"
	      " AND counter = $2 AND type = $3", &rows, hs, cnt, typ) || rows.n_rows != 1) {
		isdb_rows_free(&rows);
		goto dbfail;
	}
	ok = val_i64(&rows, 0, 0) == rec->amount && !strcmp(isdb_val(&rows, 0, 1), term) &&
	     val_i64(&rows, 0, 2) == rec->ttc && !strcmp(isdb_val(&rows, 0, 3), d) &&
	     !strcmp(isdb_val(&rows, 0, 4), tm) && !strcmp(isdb_val(&rows, 0, 5), tac);
	isdb_rows_free(&rows);
	if (ok)
		return "duplicate";
	snprintf(detail, sizeof(detail), "%s reported counter %u type %u amount %u differently"
		 " from the counted record", reporter, rec->counter, rec->type, rec->amount);
	if (discrepancy(s, c->account, hs, "mismatch", detail))
		goto dbfail;
	return "mismatch";
dbfail:
	fprintf(stderr, "hce-issuer: database: %s\n", isdb_error(s->db));
	*fatal = 1;
	return NULL;
}

/* A load record reported by the wallet: confirms a load whose MAC2 was issued. */
static const char *wallet_load_record(struct iss *s, const struct hce_iss_record *rec,
				      const char *reporter, int *fatal);

static int records_array(const json_t *body, struct iss_resp *r, const json_t **arr)
{
	*arr = json_object_get(body, "records");
	if (!json_is_array(*arr))
		return iss_error(r, 400, "bad_field", "field 'records': array required");
	if (json_array_size(*arr) > HCE_ISS_MAX_RECORDS)
		return iss_error(r, 413, "too_many_records", "at most %d records per request",
				 HCE_ISS_MAX_RECORDS);
	return 0;
}

static int pending_loads_json(struct iss *s, const char *hs, json_t **out, size_t *count)
{
	struct isdb_rows rows;
	char term[13];
	json_t *a = json_array();
	size_t i;

	hce_iss_hex(s->conf.load_terminal, 6, term);
	if (!a || Q(s, "SELECT id, amount FROM loads WHERE serial = $1 AND state IN ('pending',"
		    " 'mac2') ORDER BY created, id", &rows, hs)) {
		json_decref(a);
		return -1;
	}
	for (i = 0; i < rows.n_rows; i++)
		json_array_append_new(a, json_pack("{s:s,s:I,s:s,s:i}", "load_id",
						   isdb_val(&rows, i, 0), "amount",
						   (json_int_t)val_i64(&rows, i, 1), "terminal", term,
						   "key_index", 1));
	*count = rows.n_rows;
	isdb_rows_free(&rows);
	*out = a;
	return 0;
}

static int expected_balance(struct iss *s, const char *hs, int64_t initial, int64_t *out)
{
	struct isdb_rows rows;

	if (Q(s, "SELECT (SELECT COALESCE(SUM(amount), 0) FROM loads WHERE serial = $1 AND"
	      " state = 'done'), (SELECT COALESCE(SUM(amount), 0) FROM txns WHERE serial = $1 AND"
	      " type <> 2)", &rows, hs) || rows.n_rows != 1) {
		isdb_rows_free(&rows);
		return -1;
	}
	*out = initial + val_i64(&rows, 0, 0) - val_i64(&rows, 0, 1);
	isdb_rows_free(&rows);
	return 0;
}

static int account_row(struct iss *s, int64_t account, int64_t *bal, int64_t *cap_a,
		       int64_t *cap_c)
{
	struct isdb_rows rows;
	char a[24];

	if (Q(s, "SELECT balance, cap_amount, cap_count FROM accounts WHERE id = $1", &rows,
	      NUM(a, account)) || rows.n_rows != 1) {
		isdb_rows_free(&rows);
		return -1;
	}
	*bal = val_i64(&rows, 0, 0);
	*cap_a = val_i64(&rows, 0, 1);
	*cap_c = val_i64(&rows, 0, 2);
	isdb_rows_free(&rows);
	return 0;
}

int iss_wallet_sync(struct iss *s, int64_t device, const json_t *body, struct iss_resp *r)
{
	uint8_t serial[HCE_ISS_SERIAL_LEN];
	char hs[21], reporter[32], seq[24], detail[160];
	const json_t *arr, *cb = json_object_get(body, "card_balance");
	struct dtk_cache cache = { .valid = 0, .n_debits = 0 };
	struct hce_iss_record *recs;
	int64_t expected, bal, cap_a, cap_c;
	json_t *results, *loads;
	struct tokrow t;
	size_t i, n, nl;
	int all_ok = 1;

	if (serial_field(body, serial, hs, r) || token_of(s, device, hs, &t, r) ||
	    records_array(body, r, &arr))
		return -1;
	/* Signed: a card in the overdraft is below zero, never below -0xFFFFFF (3-byte limit). */
	if (!json_is_integer(cb) || json_integer_value(cb) < -0xFFFFFF ||
	    json_integer_value(cb) > 0x7FFFFFFF)
		return iss_error(r, 400, "bad_field", "field 'card_balance': integer"
				 " -16777215..2147483647 required");
	n = json_array_size(arr);
	recs = calloc(n ? n : 1, sizeof(*recs));
	if (!recs)
		return iss_error(r, 500, "internal", "out of memory");
	for (i = 0; i < n; i++) {
		char why[HCE_ISS_WHY_MAX];

		if (hce_iss_record_parse(json_array_get(arr, i), &recs[i], why)) {
			free(recs);
			return iss_error(r, 400, "bad_record", "record %zu: %s", i, why);
		}
		if (memcmp(recs[i].serial, serial, HCE_ISS_SERIAL_LEN)) {
			free(recs);
			return iss_error(r, 400, "bad_record", "record %zu: serial is not the token's", i);
		}
	}
	snprintf(reporter, sizeof(reporter), "dev:%" PRId64, device);
	results = json_array();
	for (i = 0; i < n && results; i++) {
		const char *res;
		int fatal;

		if (recs[i].type == HCE_ISS_TX_LOAD)
			res = wallet_load_record(s, &recs[i], reporter, &fatal);
		else
			res = clear_record(s, &recs[i], reporter, &cache, &fatal);
		if (fatal) {
			hce_wipe(cache.dtk, sizeof(cache.dtk));
			free(recs);
			json_decref(results);
			return iss_error(r, 500, "internal", "clearing failed");
		}
		if (strcmp(res, "accepted") && strcmp(res, "duplicate"))
			all_ok = 0;
		json_array_append_new(results, json_pack("{s:I,s:s}", "index", (json_int_t)i,
							 "result", res));
	}
	hce_wipe(cache.dtk, sizeof(cache.dtk));
	free(recs);
	if (!results || flush_debits(s, &cache) || expected_balance(s, hs, t.initial, &expected) ||
	    account_row(s, t.account, &bal, &cap_a, &cap_c) ||
	    pending_loads_json(s, hs, &loads, &nl)) {
		json_decref(results);
		return db_fail(s, r);
	}
	if (json_integer_value(cb) != expected) {
		snprintf(detail, sizeof(detail), "wallet shows %" PRId64 ", expected %" PRId64,
			 (int64_t)json_integer_value(cb), expected);
		if (discrepancy(s, t.account, hs, "card_balance", detail)) {
			json_decref(results);
			json_decref(loads);
			return db_fail(s, r);
		}
	}
	if (Q(s, "UPDATE tokens SET sync_seq = sync_seq + 1 WHERE serial = $1", NULL, hs)) {
		json_decref(results);
		json_decref(loads);
		return db_fail(s, r);
	}
	r->status = 200;
	r->body = json_pack("{s:I,s:I,s:{s:I,s:I},s:b,s:{s:s,s:I,s:s},s:o,s:o,s:s}",
			    "account_balance", (json_int_t)bal, "card_balance_expected",
			    (json_int_t)expected, "offline_cap", "amount", (json_int_t)cap_a,
			    "count", (json_int_t)cap_c, "cap_restored", all_ok, "token", "serial", hs,
			    "not_after", (json_int_t)t.not_after, "state", t.state, "results",
			    results, "pending_loads", loads, "sync_seq",
			    NUM(seq, t.sync_seq + 1));
	return 0;
}

int iss_terminal_batch(struct iss *s, const char *terminal, const json_t *body,
		       struct iss_resp *r)
{
	struct dtk_cache cache = { .valid = 0, .n_debits = 0 };
	char reporter[32], tid[13];
	size_t i, n, accepted = 0;
	const json_t *arr;
	json_t *results;

	if (records_array(body, r, &arr))
		return -1;
	snprintf(reporter, sizeof(reporter), "term:%s", terminal);
	n = json_array_size(arr);
	results = json_array();
	for (i = 0; i < n && results; i++) {
		struct hce_iss_record rec;
		char why[HCE_ISS_WHY_MAX];
		const char *res;
		int fatal = 0;

		if (hce_iss_record_parse(json_array_get(arr, i), &rec, why)) {
			json_decref(results);
			return iss_error(r, 400, "bad_record", "record %zu: %s", i, why);
		}
		hce_iss_hex(rec.terminal, 6, tid);
		if (strcmp(tid, terminal))
			res = "invalid";	/* a terminal reports its own transactions */
		else
			res = clear_record(s, &rec, reporter, &cache, &fatal);
		if (fatal) {
			hce_wipe(cache.dtk, sizeof(cache.dtk));
			json_decref(results);
			return iss_error(r, 500, "internal", "clearing failed");
		}
		accepted += !strcmp(res, "accepted");
		json_array_append_new(results, json_pack("{s:I,s:s}", "index", (json_int_t)i,
							 "result", res));
	}
	hce_wipe(cache.dtk, sizeof(cache.dtk));
	if (!results)
		return iss_error(r, 500, "internal", "out of memory");
	if (flush_debits(s, &cache)) {
		json_decref(results);
		return db_fail(s, r);
	}
	r->status = 200;
	r->body = json_pack("{s:o,s:I}", "results", results, "accepted", (json_int_t)accepted);
	return 0;
}

/* ---- loads --------------------------------------------------------------------------- */

struct loadrow {
	int64_t account, amount, counter;
	char state[16], init[40], mac2[16], date[16], time[16];
};

static int load_of(struct iss *s, const char *id, const char *hs, struct loadrow *l,
		   struct iss_resp *r)
{
	struct isdb_rows rows;

	if (Q(s, "SELECT account_id, amount, state, init_resp, mac2, tdate, ttime, counter"
	      " FROM loads WHERE id = $1 AND serial = $2", &rows, id, hs))
		return db_fail(s, r);
	if (rows.n_rows != 1) {
		isdb_rows_free(&rows);
		return iss_error(r, 404, "not_found", "no load %s for this token", id);
	}
	l->account = val_i64(&rows, 0, 0);
	l->amount = val_i64(&rows, 0, 1);
	snprintf(l->state, sizeof(l->state), "%s", isdb_val(&rows, 0, 2));
	snprintf(l->init, sizeof(l->init), "%s", isdb_val(&rows, 0, 3) ? isdb_val(&rows, 0, 3) : "");
	snprintf(l->mac2, sizeof(l->mac2), "%s", isdb_val(&rows, 0, 4) ? isdb_val(&rows, 0, 4) : "");
	snprintf(l->date, sizeof(l->date), "%s", isdb_val(&rows, 0, 5) ? isdb_val(&rows, 0, 5) : "");
	snprintf(l->time, sizeof(l->time), "%s", isdb_val(&rows, 0, 6) ? isdb_val(&rows, 0, 6) : "");
	l->counter = val_i64(&rows, 0, 7);
	isdb_rows_free(&rows);
	return 0;
}

static int load_id_field(const json_t *body, char id[24], struct iss_resp *r)
{
	const char *v = json_string_value(json_object_get(body, "load_id"));
	size_t i;

	if (!v || !*v || strlen(v) > 19)
		goto bad;
	for (i = 0; v[i]; i++)
		if (v[i] < '0' || v[i] > '9')
			goto bad;
	snprintf(id, 24, "%s", v);
	return 0;
bad:
	return iss_error(r, 400, "bad_field", "field 'load_id': decimal string required");
}

int iss_load_mac2(struct iss *s, int64_t device, const json_t *body, struct iss_resp *r)
{
	uint8_t serial[HCE_ISS_SERIAL_LEN], init[16], dlk[16], date[4], tm[3], mac2[4];
	char hs[21], id[24], hinit[33], hmac[9], hd[9], ht[7], cnt[8];
	struct hce_iss_load_init li;
	struct loadrow l;
	struct tokrow t;
	const char *iv;
	int rc;

	if (load_id_field(body, id, r) || serial_field(body, serial, hs, r))
		return -1;
	iv = json_string_value(json_object_get(body, "init_response"));
	if (!iv || hce_iss_hex_exact(iv, init, 16))
		return iss_error(r, 400, "bad_field", "field 'init_response': 32 hex digits required");
	hce_iss_hex(init, 16, hinit);
	hce_iss_load_init_parse(init, 16, &li);
	if (token_of(s, device, hs, &t, r) || load_of(s, id, hs, &l, r))
		return -1;
	if (strcmp(t.state, "active"))
		return iss_error(r, 403, t.state, "token %s is %s", hs, t.state);
	if (strcmp(l.state, "pending") && strcmp(l.state, "mac2"))
		return iss_error(r, 409, "load_state", "load %s is %s", id, l.state);
	if (!strcmp(l.state, "mac2")) {
		if (!strcmp(l.init, hinit)) {
			r->status = 200;
			r->body = json_pack("{s:s,s:s,s:s}", "mac2", l.mac2, "date", l.date, "time",
					    l.time);
			return 0;
		}
		/* A new INITIALIZE: safe only when the card did not credit the earlier MAC2. */
		if (li.online_counter != l.counter)
			return iss_error(r, 409, "load_state",
					 "load %s: the card's online counter moved; confirm the load"
					 " (its TAC) first", id);
	}
	if (li.alg != HCE_ALG_3DES)
		return iss_error(r, 422, "bad_alg", "algorithm %u not supported", li.alg);
	hce_iss_bcd_now(iss_now(), date, tm);
	if (one_key(s, ISS_MK_DLK, serial, dlk))
		return iss_error(r, 500, "internal", "hsm error");
	rc = hce_iss_load_mac2(dlk, &li, (uint32_t)l.amount, s->conf.load_terminal, date, tm, mac2);
	hce_wipe(dlk, sizeof(dlk));
	if (rc < 0)
		return iss_error(r, 500, "internal", "crypto error");
	if (rc == 1)
		return iss_error(r, 422, "bad_mac1", "MAC1 of the INITIALIZE FOR LOAD answer is wrong"
				 " (wrong amount, terminal or card)");
	hce_iss_hex(mac2, 4, hmac);
	hce_iss_hex(date, 4, hd);
	hce_iss_hex(tm, 3, ht);
	if (Q(s, "UPDATE loads SET state = 'mac2', init_resp = $2, mac2 = $3, tdate = $4,"
	      " ttime = $5, counter = $6 WHERE id = $1", NULL, id, hinit, hmac, hd, ht,
	      NUM(cnt, li.online_counter)))
		return db_fail(s, r);
	r->status = 200;
	r->body = json_pack("{s:s,s:s,s:s}", "mac2", hmac, "date", hd, "time", ht);
	return 0;
}

/* Check a load TAC against the stored INITIALIZE answer and mark the load done. */
static int finish_load(struct iss *s, const char *id, const uint8_t serial[HCE_ISS_SERIAL_LEN],
		       const struct loadrow *l, const uint8_t tac[4], const char *reporter,
		       int *bad)
{
	uint8_t init[16], dtk[16], want[4], date[4], tm[3], term[6];
	char hs[21], htac[9], cnt[8], amt[24], acct[24], now[24], ht[13];
	struct hce_iss_load_init li;
	int rc;

	*bad = 0;
	if (hce_iss_hex_exact(l->init, init, 16) || hce_iss_hex_exact(l->date, date, 4) ||
	    hce_iss_hex_exact(l->time, tm, 3))
		return -1;
	hce_iss_load_init_parse(init, 16, &li);
	memcpy(term, s->conf.load_terminal, 6);
	if (one_key(s, ISS_MK_DTK, serial, dtk))
		return -1;
	rc = hce_iss_load_tac(dtk, li.balance + (uint32_t)l->amount, li.online_counter,
			      (uint32_t)l->amount, term, date, tm, want);
	hce_wipe(dtk, sizeof(dtk));
	if (rc)
		return -1;
	if (!hce_ct_equal(want, tac, 4)) {
		*bad = 1;
		return 0;
	}
	hce_iss_hex(serial, HCE_ISS_SERIAL_LEN, hs);
	hce_iss_hex(tac, 4, htac);
	hce_iss_hex(term, 6, ht);
	if (Q(s, "UPDATE loads SET state = 'done', tac = $2 WHERE id = $1", NULL, id, htac) ||
	    Q(s, "INSERT INTO txns (serial, counter, type, amount, terminal, ttc, tdate, ttime, tac,"
	      " account_id, reporter, reported) VALUES ($1, $2, 2, $3, $4, 0, $5, $6, $7, $8, $9,"
	      " $10) ON CONFLICT DO NOTHING", NULL, hs, NUM(cnt, li.online_counter),
	      NUM(amt, l->amount), ht, l->date, l->time, htac, NUM(acct, l->account), reporter,
	      NUM(now, iss_now())))
		return -1;
	return 0;
}

int iss_load_confirm(struct iss *s, int64_t device, const json_t *body, struct iss_resp *r)
{
	uint8_t serial[HCE_ISS_SERIAL_LEN], tac[4];
	char hs[21], id[24], reporter[32];
	const char *tv;
	struct loadrow l;
	struct tokrow t;
	int bad;

	if (load_id_field(body, id, r) || serial_field(body, serial, hs, r))
		return -1;
	tv = json_string_value(json_object_get(body, "tac"));
	if (!tv || hce_iss_hex_exact(tv, tac, 4))
		return iss_error(r, 400, "bad_field", "field 'tac': 8 hex digits required");
	if (token_of(s, device, hs, &t, r) || load_of(s, id, hs, &l, r))
		return -1;
	if (strcmp(l.state, "mac2"))
		return iss_error(r, 409, "load_state", "load %s is %s", id, l.state);
	snprintf(reporter, sizeof(reporter), "dev:%" PRId64, device);
	if (finish_load(s, id, serial, &l, tac, reporter, &bad))
		return iss_error(r, 500, "internal", "load confirmation failed");
	if (bad)
		return iss_error(r, 422, "bad_tac", "the load TAC is wrong");
	r->status = 200;
	r->body = json_pack("{s:s,s:s}", "load_id", id, "state", "done");
	return 0;
}

static const char *wallet_load_record(struct iss *s, const struct hce_iss_record *rec,
				      const char *reporter, int *fatal)
{
	char hs[21], cnt[8], id[24], tac[9];
	struct isdb_rows rows;
	struct loadrow l;
	struct iss_resp r = { 0, NULL };
	int bad;

	*fatal = 0;
	hce_iss_hex(rec->serial, HCE_ISS_SERIAL_LEN, hs);
	hce_iss_hex(rec->tac, 4, tac);
	NUM(cnt, rec->counter);
	if (Q(s, "SELECT tac FROM txns WHERE serial = $1 AND counter = $2 AND type = 2", &rows, hs,
	      cnt))
		goto fail;
	if (rows.n_rows == 1) {
		bad = strcmp(isdb_val(&rows, 0, 0), tac);
		isdb_rows_free(&rows);
		return bad ? "mismatch" : "duplicate";
	}
	isdb_rows_free(&rows);
	if (Q(s, "SELECT id FROM loads WHERE serial = $1 AND state = 'mac2' AND counter = $2"
	      " AND amount = $3", &rows, hs, cnt, NUM(id, rec->amount)))
		goto fail;
	if (rows.n_rows != 1) {
		isdb_rows_free(&rows);
		return "invalid";
	}
	snprintf(id, sizeof(id), "%s", isdb_val(&rows, 0, 0));
	isdb_rows_free(&rows);
	if (load_of(s, id, hs, &l, &r)) {
		json_decref(r.body);
		goto fail;
	}
	if (finish_load(s, id, rec->serial, &l, rec->tac, reporter, &bad))
		goto fail;
	return bad ? "bad_tac" : "accepted";
fail:
	*fatal = 1;
	return NULL;
}

int iss_pending_loads(struct iss *s, int64_t device, const char *serial_hex, struct iss_resp *r,
		      size_t *count)
{
	uint8_t serial[HCE_ISS_SERIAL_LEN];
	char hs[21];
	struct tokrow t;
	json_t *loads;

	if (!serial_hex || hce_iss_hex_exact(serial_hex, serial, HCE_ISS_SERIAL_LEN))
		return iss_error(r, 400, "bad_field", "query 'serial': 20 hex digits required");
	hce_iss_hex(serial, HCE_ISS_SERIAL_LEN, hs);
	if (token_of(s, device, hs, &t, r))
		return -1;
	if (pending_loads_json(s, hs, &loads, count))
		return db_fail(s, r);
	r->status = 200;
	r->body = json_pack("{s:o}", "pending_loads", loads);
	return 0;
}

int iss_denylist(struct iss *s, struct iss_resp *r)
{
	struct isdb_rows rows, v;
	char now[24];
	json_t *a = json_array();
	size_t i;

	if (!a || Q(s, "SELECT serial FROM tokens WHERE state = 'revoked' AND not_after > $1"
		    " ORDER BY serial", &rows, NUM(now, iss_now()))) {
		json_decref(a);
		return db_fail(s, r);
	}
	for (i = 0; i < rows.n_rows; i++)
		json_array_append_new(a, json_string(isdb_val(&rows, i, 0)));
	isdb_rows_free(&rows);
	if (Q(s, "SELECT v FROM meta WHERE k = 'denylist_version'", &v) || v.n_rows != 1) {
		isdb_rows_free(&v);
		json_decref(a);
		return db_fail(s, r);
	}
	r->status = 200;
	r->body = json_pack("{s:I,s:I,s:o}", "version", (json_int_t)val_i64(&v, 0, 0),
			    "generated", (json_int_t)iss_now(), "serials", a);
	isdb_rows_free(&v);
	return 0;
}

/* ---- admin --------------------------------------------------------------------------- */

static int tx_begin(struct iss *s)
{
	if (isdb_begin(s->db)) {
		fprintf(stderr, "hce-issuer: database: %s\n", isdb_error(s->db));
		return -1;
	}
	return 0;
}

static int tx_end(struct iss *s, int ok)
{
	if (ok && !isdb_commit(s->db))
		return 0;
	fprintf(stderr, "hce-issuer: database: %s\n", isdb_error(s->db));
	isdb_rollback(s->db);
	return -1;
}

int iss_admin_init(struct iss *s)
{
	char dpk[24];
	const char *const labels[] = { dpk, ISS_MK_DLK, ISS_MK_DTK };
	size_t i;

	/* the configured purchase key; earlier ones stay (terminals may still hold them) */
	snprintf(dpk, sizeof(dpk), ISS_MK_DPK_FMT, (unsigned int)s->conf.purchase_key);

	if (isdb_init_schema(s->db)) {
		fprintf(stderr, "hce-issuer: schema: %s\n", isdb_error(s->db));
		return -1;
	}
	for (i = 0; i < 3; i++) {
		int h = hce_hsm_has_key(s->hsm, labels[i]);

		if (h < 0 || (!h && hce_hsm_generate(s->hsm, labels[i]))) {
			fprintf(stderr, "hce-issuer: hsm: %s\n", hce_hsm_error(s->hsm));
			return -1;
		}
		printf("master key %s: %s\n", labels[i], h ? "present" : "generated in the HSM");
	}
	return 0;
}

static int new_code(struct iss *s, int64_t account, char code[33])
{
	uint8_t b[12];
	char ch[65], a[24], now[24];
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	size_t i;

	if (hce_random(b, sizeof(b)))
		return -1;
	for (i = 0; i < sizeof(b); i++)
		code[i] = alphabet[b[i] & 31];
	code[sizeof(b)] = '\0';
	hce_wipe(b, sizeof(b));
	hash_hex(code, ch);
	return Q(s, "INSERT INTO enrol_codes (code_hash, account_id, used, created)"
		 " VALUES ($1, $2, 0, $3)", NULL, ch, NUM(a, account), NUM(now, iss_now()));
}

int iss_admin_account_create(struct iss *s, const char *name, int64_t cap_amount,
			     int64_t cap_count, int64_t overdraft, int64_t max_balance)
{
	char id[24], ca[24], cc[24], od[24], mb[24], now[24], code[33];
	int64_t account = iss_new_id();

	/* The card's overdraft field is 3 bytes (purse.md "Overdraft"). */
	if (overdraft > 0xFFFFFF) {
		fprintf(stderr, "hce-issuer: account-create: overdraft 0..16777215 (fen)\n");
		return -1;
	}
	if (tx_begin(s))
		return -1;
	if (tx_end(s, !Q(s, "INSERT INTO accounts (id, name, balance, max_balance, overdraft,"
			 " cap_amount, cap_count, created) VALUES ($1, $2, 0, $3, $4, $5, $6, $7)",
			 NULL, NUM(id, account), name,
			 NUM(mb, max_balance >= 0 ? max_balance : (int64_t)s->conf.max_balance),
			 NUM(od, overdraft >= 0 ? overdraft : 0),
			 NUM(ca, cap_amount >= 0 ? cap_amount : (int64_t)s->conf.cap_amount),
			 NUM(cc, cap_count >= 0 ? cap_count : (int64_t)s->conf.cap_count),
			 NUM(now, iss_now())) && !new_code(s, account, code)))
		return -1;
	printf("account %s\nenrol-code %s\n", id, code);
	return 0;
}

int iss_admin_enrol_code(struct iss *s, int64_t account)
{
	char code[33];

	if (tx_begin(s))
		return -1;
	if (tx_end(s, !new_code(s, account, code)))
		return -1;
	printf("enrol-code %s\n", code);
	return 0;
}

int iss_admin_topup(struct iss *s, int64_t account, int64_t amount, const char *request_id)
{
	char a[24], amt[24], now[24], lid[24], bal[24];
	struct isdb_rows rows, tok;
	int fresh, ok;

	if (amount <= 0 || amount > 0x7FFFFFFF || !hce_iss_reqid_ok(request_id)) {
		fprintf(stderr, "hce-issuer: topup: amount 1..2147483647 and a request id required\n");
		return -1;
	}
	if (tx_begin(s))
		return -1;
	if (Q(s, "INSERT INTO topups (request_id, account_id, amount, created) VALUES ($1, $2, $3,"
	      " $4) ON CONFLICT DO NOTHING", &rows, request_id, NUM(a, account), NUM(amt, amount),
	      NUM(now, iss_now())))
		return tx_end(s, 0);
	fresh = rows.changes == 1;
	isdb_rows_free(&rows);
	lid[0] = '\0';
	if (fresh) {
		ok = !Q(s, "UPDATE accounts SET balance = balance + $2 WHERE id = $1", &rows, a, amt);
		if (!ok || rows.changes != 1) {
			isdb_rows_free(&rows);
			fprintf(stderr, "hce-issuer: topup: no account %s\n", a);
			return tx_end(s, 0);
		}
		isdb_rows_free(&rows);
		if (Q(s, "SELECT serial FROM tokens WHERE account_id = $1 AND state = 'active' AND"
		      " not_after > $2 ORDER BY not_before DESC", &tok, a, now))
			return tx_end(s, 0);
		if (tok.n_rows) {
			NUM(lid, iss_new_id());
			ok = !Q(s, "INSERT INTO loads (id, account_id, serial, amount, state, created)"
				" VALUES ($1, $2, $3, $4, 'pending', $5)", NULL, lid, a,
				isdb_val(&tok, 0, 0), amt, now);
			isdb_rows_free(&tok);
			if (!ok)
				return tx_end(s, 0);
		}
		isdb_rows_free(&tok);
	} else {
		/* Same request id again: nothing changes; it must name the same top-up. */
		if (Q(s, "SELECT account_id, amount FROM topups WHERE request_id = $1", &rows,
		      request_id) || rows.n_rows != 1)
			return tx_end(s, 0);
		ok = val_i64(&rows, 0, 0) == account && val_i64(&rows, 0, 1) == amount;
		isdb_rows_free(&rows);
		if (!ok) {
			fprintf(stderr, "hce-issuer: topup: request id %s was used for another"
				" top-up\n", request_id);
			return tx_end(s, 0);
		}
	}
	if (Q(s, "SELECT balance FROM accounts WHERE id = $1", &rows, a) || rows.n_rows != 1) {
		isdb_rows_free(&rows);
		return tx_end(s, 0);
	}
	snprintf(bal, sizeof(bal), "%s", isdb_val(&rows, 0, 0));
	isdb_rows_free(&rows);
	if (tx_end(s, 1))
		return -1;
	printf("topup %s %s\nbalance %s\n", request_id, fresh ? "done" : "already done", bal);
	if (lid[0])
		printf("load %s\n", lid);
	return 0;
}

int iss_admin_revoke(struct iss *s, const char *serial, const char *reason)
{
	char now[24];
	struct isdb_rows rows;
	int64_t n;

	if (tx_begin(s))
		return -1;
	if (Q(s, "UPDATE tokens SET state = 'revoked', revoked_at = $2, reason = $3"
	      " WHERE serial = $1 AND state = 'active'", &rows, serial, NUM(now, iss_now()), reason))
		return tx_end(s, 0);
	n = rows.changes;
	isdb_rows_free(&rows);
	if (n && (Q(s, "UPDATE meta SET v = CAST(CAST(v AS BIGINT) + 1 AS TEXT)"
		    " WHERE k = 'denylist_version'", NULL) ||
		  Q(s, "UPDATE loads SET state = 'cancelled' WHERE serial = $1 AND state = 'pending'",
		    NULL, serial)))
		return tx_end(s, 0);
	if (tx_end(s, 1))
		return -1;
	if (!n) {
		fprintf(stderr, "hce-issuer: revoke: no active token %s\n", serial);
		return -1;
	}
	printf("revoked %s\n", serial);
	return 0;
}

int iss_admin_show(struct iss *s, int64_t account)
{
	struct isdb_rows a, t, x;
	char id[24];
	json_t *o, *toks;
	size_t i;
	char *txt;

	if (Q(s, "SELECT name, balance, max_balance, overdraft, cap_amount, cap_count FROM accounts"
	      " WHERE id = $1", &a, NUM(id, account)) || a.n_rows != 1) {
		isdb_rows_free(&a);
		fprintf(stderr, "hce-issuer: show: no account %s\n", id);
		return -1;
	}
	if (Q(s, "SELECT serial, state, not_after, initial_balance, reason FROM tokens"
	      " WHERE account_id = $1 ORDER BY not_before, serial", &t, id) ||
	    Q(s, "SELECT (SELECT COALESCE(SUM(amount), 0) FROM topups WHERE account_id = $1),"
	      " (SELECT COALESCE(SUM(amount), 0) FROM txns WHERE account_id = $1 AND type <> 2),"
	      " (SELECT COUNT(*) FROM txns WHERE account_id = $1 AND type <> 2),"
	      " (SELECT COUNT(*) FROM loads WHERE account_id = $1 AND state IN ('pending', 'mac2'))",
	      &x, id)) {
		isdb_rows_free(&a);
		isdb_rows_free(&t);
		return -1;
	}
	toks = json_array();
	for (i = 0; i < t.n_rows; i++)
		json_array_append_new(toks, json_pack("{s:s,s:s,s:I,s:I,s:s?}", "serial",
						      isdb_val(&t, i, 0), "state", isdb_val(&t, i, 1),
						      "not_after", (json_int_t)val_i64(&t, i, 2),
						      "initial_balance", (json_int_t)val_i64(&t, i, 3),
						      "reason", isdb_val(&t, i, 4)));
	/* overdraft_in_use: how far below zero (beyond the limit too: see discrepancies) */
	o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:{s:I,s:I},s:I,s:I,s:I,s:I,s:o}", "account", id,
		      "name", isdb_val(&a, 0, 0), "balance", (json_int_t)val_i64(&a, 0, 1),
		      "max_balance", (json_int_t)val_i64(&a, 0, 2), "overdraft",
		      (json_int_t)val_i64(&a, 0, 3), "overdraft_in_use",
		      (json_int_t)(val_i64(&a, 0, 1) < 0 ? -val_i64(&a, 0, 1) : 0), "offline_cap",
		      "amount",
		      (json_int_t)val_i64(&a, 0, 4), "count", (json_int_t)val_i64(&a, 0, 5),
		      "topups", (json_int_t)val_i64(&x, 0, 0), "cleared_purchases",
		      (json_int_t)val_i64(&x, 0, 1), "cleared_count", (json_int_t)val_i64(&x, 0, 2),
		      "pending_loads", (json_int_t)val_i64(&x, 0, 3), "tokens", toks);
	isdb_rows_free(&a);
	isdb_rows_free(&t);
	isdb_rows_free(&x);
	txt = o ? json_dumps(o, JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (!txt)
		return -1;
	printf("%s\n", txt);
	free(txt);
	return 0;
}

int iss_admin_terminal_add(struct iss *s, const char *id, const char *pem_path,
			   const char *name)
{
	uint8_t tid[6], *der = NULL;
	char hid[13], *hex;
	FILE *f = fopen(pem_path, "r");
	EVP_PKEY *k = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;
	int n, ok;

	if (f)
		fclose(f);
	if (hce_iss_hex_exact(id, tid, 6) || !k) {
		fprintf(stderr, "hce-issuer: terminal-add: 12 hex digit id and a PEM public key"
			" required\n");
		EVP_PKEY_free(k);
		return -1;
	}
	n = i2d_PUBKEY(k, &der);
	EVP_PKEY_free(k);
	if (n <= 0 || !(k = hce_iss_pub_from_der(der, (size_t)n))) {
		OPENSSL_free(der);
		fprintf(stderr, "hce-issuer: terminal-add: a P-256 key required\n");
		return -1;
	}
	EVP_PKEY_free(k);
	hex = malloc(2 * (size_t)n + 1);
	if (!hex) {
		OPENSSL_free(der);
		return -1;
	}
	hce_iss_hex(der, (size_t)n, hex);
	OPENSSL_free(der);
	hce_iss_hex(tid, 6, hid);
	if (tx_begin(s)) {
		free(hex);
		return -1;
	}
	ok = !Q(s, "INSERT INTO terminals (id, sign_pub, name) VALUES ($1, $2, $3)"
		" ON CONFLICT (id) DO UPDATE SET sign_pub = $2, name = $3", NULL, hid, hex, name);
	free(hex);
	if (tx_end(s, ok))
		return -1;
	printf("terminal %s\n", hid);
	return 0;
}

int iss_admin_discrepancies(struct iss *s)
{
	struct isdb_rows rows;
	size_t i;

	if (Q(s, "SELECT created, kind, account_id, serial, detail FROM discrepancies"
	      " ORDER BY created, id", &rows)) {
		fprintf(stderr, "hce-issuer: database: %s\n", isdb_error(s->db));
		return -1;
	}
	for (i = 0; i < rows.n_rows; i++)
		printf("%s %s account=%s serial=%s %s\n", isdb_val(&rows, i, 0), isdb_val(&rows, i, 1),
		       isdb_val(&rows, i, 2) ? isdb_val(&rows, i, 2) : "-",
		       isdb_val(&rows, i, 3) ? isdb_val(&rows, i, 3) : "-", isdb_val(&rows, i, 4));
	printf("discrepancies %zu\n", rows.n_rows);
	isdb_rows_free(&rows);
	return 0;
}

int iss_admin_reconcile(struct iss *s)
{
	struct isdb_rows rows;
	size_t i, bad = 0;

	if (Q(s, "SELECT a.id, a.balance, (SELECT COALESCE(SUM(amount), 0) FROM topups t"
	      " WHERE t.account_id = a.id), (SELECT COALESCE(SUM(amount), 0) FROM txns x"
	      " WHERE x.account_id = a.id AND x.type <> 2), a.overdraft FROM accounts a"
	      " ORDER BY a.id", &rows)) {
		fprintf(stderr, "hce-issuer: database: %s\n", isdb_error(s->db));
		return -1;
	}
	for (i = 0; i < rows.n_rows; i++) {
		int64_t b = val_i64(&rows, i, 1), l = val_i64(&rows, i, 2), p = val_i64(&rows, i, 3);
		int64_t od = val_i64(&rows, i, 4);

		/* the equation holds below zero too; beyond the limit is flagged, not a mismatch */
		printf("account %s balance %" PRId64 " loads %" PRId64 " cleared %" PRId64
		       " overdraft_in_use %" PRId64 "%s %s\n", isdb_val(&rows, i, 0), b, l, p,
		       b < 0 ? -b : 0, b < -od ? " BEYOND_LIMIT" : "", b == l - p ? "ok" : "MISMATCH");
		bad += b != l - p;
	}
	isdb_rows_free(&rows);
	printf("reconcile %s\n", bad ? "MISMATCH" : "ok");
	return bad ? 1 : 0;
}
