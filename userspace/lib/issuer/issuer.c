// SPDX-License-Identifier: GPL-2.0
/*
 * issuer.c - records, clearing arithmetic, sealing and signatures for hce-issuer (issuer.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/x509.h>

#include "codec/buf.h"
#include "crypto/crypto.h"
#include "issuer/issuer.h"

static void why_set(char *why, const char *s)
{
	if (why)
		snprintf(why, HCE_ISS_WHY_MAX, "%s", s);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hce_iss_hex_exact(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	if (!s || strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void hce_iss_hex(const uint8_t *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int bcd2(uint8_t b, int *v)
{
	if ((b >> 4) > 9 || (b & 15) > 9)
		return -1;
	*v = (b >> 4) * 10 + (b & 15);
	return 0;
}

int hce_iss_bcd_date_ok(const uint8_t d[4])
{
	int c, y, m, day;

	if (bcd2(d[0], &c) || bcd2(d[1], &y) || bcd2(d[2], &m) || bcd2(d[3], &day))
		return 0;
	return c >= 19 && m >= 1 && m <= 12 && day >= 1 && day <= 31;
}

int hce_iss_bcd_time_ok(const uint8_t t[3])
{
	int h, m, s;

	if (bcd2(t[0], &h) || bcd2(t[1], &m) || bcd2(t[2], &s))
		return 0;
	return h < 24 && m < 60 && s < 60;
}

static uint8_t tobcd(int v)
{
	return (uint8_t)((v / 10) << 4 | (v % 10));
}

void hce_iss_bcd_now(int64_t t, uint8_t date[4], uint8_t tm_out[3])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	date[0] = tobcd((tm.tm_year + 1900) / 100);
	date[1] = tobcd((tm.tm_year + 1900) % 100);
	date[2] = tobcd(tm.tm_mon + 1);
	date[3] = tobcd(tm.tm_mday);
	tm_out[0] = tobcd(tm.tm_hour);
	tm_out[1] = tobcd(tm.tm_min);
	tm_out[2] = tobcd(tm.tm_sec);
}

int hce_iss_reqid_ok(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++) {
		char c = s[n];

		if (n >= HCE_ISS_REQID_MAX)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return n > 0;
}

static int get_uint(const json_t *o, const char *k, uint64_t max, uint64_t *v, char *why)
{
	const json_t *j = json_object_get(o, k);
	char m[HCE_ISS_WHY_MAX];

	if (!json_is_integer(j) || json_integer_value(j) < 0 ||
	    (uint64_t)json_integer_value(j) > max) {
		snprintf(m, sizeof(m), "field '%s': integer 0..%llu required", k,
			 (unsigned long long)max);
		why_set(why, m);
		return -1;
	}
	*v = (uint64_t)json_integer_value(j);
	return 0;
}

static int get_hex(const json_t *o, const char *k, uint8_t *out, size_t n, char *why)
{
	const json_t *j = json_object_get(o, k);
	char m[HCE_ISS_WHY_MAX];

	if (!json_is_string(j) || hce_iss_hex_exact(json_string_value(j), out, n)) {
		snprintf(m, sizeof(m), "field '%s': %zu hex digits required", k, 2 * n);
		why_set(why, m);
		return -1;
	}
	return 0;
}

int hce_iss_record_parse(const json_t *o, struct hce_iss_record *r, char why[HCE_ISS_WHY_MAX])
{
	static const char *const fields[] = { "serial", "counter", "type", "amount", "terminal",
					      "ttc", "date", "time", "tac" };
	const char *key;
	json_t *val;
	uint64_t v;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o)) {
		why_set(why, "record: object required");
		return -1;
	}
	json_object_foreach((json_t *)(uintptr_t)o, key, val) {
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (!strcmp(key, fields[i]))
				break;
		if (i == sizeof(fields) / sizeof(fields[0])) {
			char m[HCE_ISS_WHY_MAX];

			snprintf(m, sizeof(m), "record: unknown field '%.40s'", key);
			why_set(why, m);
			return -1;
		}
	}
	if (get_hex(o, "serial", r->serial, sizeof(r->serial), why) ||
	    get_hex(o, "terminal", r->terminal, 6, why) || get_hex(o, "date", r->date, 4, why) ||
	    get_hex(o, "time", r->time, 3, why) || get_hex(o, "tac", r->tac, 4, why))
		return -1;
	if (get_uint(o, "counter", 0xFFFF, &v, why))
		return -1;
	r->counter = (uint16_t)v;
	if (get_uint(o, "type", 0xFF, &v, why))
		return -1;
	r->type = (uint8_t)v;
	if (r->type != HCE_ISS_TX_LOAD && r->type != HCE_ISS_TX_PURCHASE &&
	    r->type != HCE_ISS_TX_CAPP) {
		why_set(why, "field 'type': 2, 6 or 9 required");
		return -1;
	}
	if (get_uint(o, "amount", 0x7FFFFFFF, &v, why))
		return -1;
	r->amount = (uint32_t)v;
	if (get_uint(o, "ttc", 0xFFFFFFFF, &v, why))
		return -1;
	r->ttc = (uint32_t)v;
	if (!hce_iss_bcd_date_ok(r->date)) {
		why_set(why, "field 'date': BCD YYYYMMDD required");
		return -1;
	}
	if (!hce_iss_bcd_time_ok(r->time)) {
		why_set(why, "field 'time': BCD hhmmss required");
		return -1;
	}
	return 0;
}

json_t *hce_iss_record_json(const struct hce_iss_record *r)
{
	char s[21], t[13], d[9], tm[7], tac[9];

	hce_iss_hex(r->serial, sizeof(r->serial), s);
	hce_iss_hex(r->terminal, 6, t);
	hce_iss_hex(r->date, 4, d);
	hce_iss_hex(r->time, 3, tm);
	hce_iss_hex(r->tac, 4, tac);
	return json_pack("{s:s,s:i,s:i,s:I,s:s,s:I,s:s,s:s,s:s}", "serial", s, "counter",
			 (int)r->counter, "type", (int)r->type, "amount", (json_int_t)r->amount,
			 "terminal", t, "ttc", (json_int_t)r->ttc, "date", d, "time", tm, "tac",
			 tac);
}

int hce_iss_record_same(const struct hce_iss_record *a, const struct hce_iss_record *b)
{
	return !memcmp(a->serial, b->serial, sizeof(a->serial)) && a->counter == b->counter &&
	       a->type == b->type && a->amount == b->amount &&
	       !memcmp(a->terminal, b->terminal, 6) && a->ttc == b->ttc &&
	       !memcmp(a->date, b->date, 4) && !memcmp(a->time, b->time, 3) &&
	       !memcmp(a->tac, b->tac, 4);
}

void hce_iss_factor(const uint8_t serial[HCE_ISS_SERIAL_LEN], uint8_t f[8])
{
	memcpy(f, serial + HCE_ISS_SERIAL_LEN - 8, 8);
}

int hce_iss_purchase_tac(const struct hce_iss_record *r, const uint8_t dtk[16], uint8_t tac[4])
{
	uint8_t k[16], d[24];
	size_t kl;
	int ret;

	hce_put_be32(d, r->amount);
	d[4] = r->type;
	memcpy(d + 5, r->terminal, 6);
	hce_put_be32(d + 11, r->ttc);
	memcpy(d + 15, r->date, 4);
	memcpy(d + 19, r->time, 3);
	ret = hce_tac_key(HCE_ALG_3DES, dtk, k, &kl);
	if (!ret)
		ret = hce_mac(HCE_ALG_3DES, k, kl, d, 22, tac);
	hce_wipe(k, sizeof(k));
	return ret ? -1 : 0;
}

int hce_iss_record_tac_ok(const struct hce_iss_record *r, const uint8_t dtk[16])
{
	uint8_t tac[4];

	if (r->type == HCE_ISS_TX_LOAD)
		return -1;	/* loads are checked against the issuer's own load rows */
	if (hce_iss_purchase_tac(r, dtk, tac))
		return -1;
	return hce_ct_equal(tac, r->tac, 4);
}

int hce_iss_load_init_parse(const uint8_t *d, size_t n, struct hce_iss_load_init *li)
{
	if (n != 16)
		return -1;
	li->balance = hce_get_be32(d);
	li->online_counter = hce_get_be16(d + 4);
	li->key_version = d[6];
	li->alg = d[7];
	memcpy(li->random, d + 8, 4);
	memcpy(li->mac1, d + 12, 4);
	return 0;
}

int hce_iss_load_mac2(const uint8_t dlk[16], const struct hce_iss_load_init *li,
		      uint32_t amount, const uint8_t terminal[6], const uint8_t date[4],
		      const uint8_t time[3], uint8_t mac2[4])
{
	uint8_t in[8], sk[16], d[24], m[4];
	size_t skl;
	int ret = -1;

	if (li->alg != HCE_ALG_3DES)
		return -1;
	memcpy(in, li->random, 4);
	hce_put_be16(in + 4, li->online_counter);
	in[6] = 0x80;
	in[7] = 0x00;
	if (hce_session_key(HCE_ALG_3DES, dlk, in, sk, &skl))
		goto out;
	hce_put_be32(d, li->balance);
	hce_put_be32(d + 4, amount);
	d[8] = HCE_ISS_TX_LOAD;
	memcpy(d + 9, terminal, 6);
	if (hce_mac(HCE_ALG_3DES, sk, skl, d, 15, m))
		goto out;
	if (!hce_ct_equal(m, li->mac1, 4)) {
		ret = 1;
		goto out;
	}
	hce_put_be32(d, amount);
	d[4] = HCE_ISS_TX_LOAD;
	memcpy(d + 5, terminal, 6);
	memcpy(d + 11, date, 4);
	memcpy(d + 15, time, 3);
	if (hce_mac(HCE_ALG_3DES, sk, skl, d, 18, mac2))
		goto out;
	ret = 0;
out:
	hce_wipe(sk, sizeof(sk));
	return ret;
}

int hce_iss_load_tac(const uint8_t dtk[16], uint32_t new_balance, uint16_t online_counter,
		     uint32_t amount, const uint8_t terminal[6], const uint8_t date[4],
		     const uint8_t time[3], uint8_t tac[4])
{
	uint8_t k[16], d[24];
	size_t kl;
	int ret;

	hce_put_be32(d, new_balance);
	hce_put_be16(d + 4, online_counter);
	hce_put_be32(d + 6, amount);
	d[10] = HCE_ISS_TX_LOAD;
	memcpy(d + 11, terminal, 6);
	memcpy(d + 17, date, 4);
	memcpy(d + 21, time, 3);
	ret = hce_tac_key(HCE_ALG_3DES, dtk, k, &kl);
	if (!ret)
		ret = hce_mac(HCE_ALG_3DES, k, kl, d, 24, tac);
	hce_wipe(k, sizeof(k));
	return ret ? -1 : 0;
}

static int put_slot(const struct hce_key_slot *s, uint8_t kind, uint8_t *out, size_t cap,
		    size_t *len)
{
	if (!s->present)
		return 0;
	if (*len + HCE_ISS_SEAL_ENTRY > cap)
		return -1;
	out[*len] = kind;
	out[*len + 1] = s->index;
	out[*len + 2] = s->version;
	out[*len + 3] = s->alg;
	memcpy(out + *len + 4, s->key, 16);
	*len += HCE_ISS_SEAL_ENTRY;
	return 0;
}

int hce_iss_keys_encode(const struct hce_card_keys *k, uint8_t *out, size_t cap, size_t *len)
{
	size_t i;

	*len = 0;
	for (i = 0; i < HCE_KEY_SLOTS; i++)
		if (put_slot(&k->dpk[i], 1, out, cap, len))
			goto fail;
	for (i = 0; i < HCE_KEY_SLOTS; i++)
		if (put_slot(&k->dlk[i], 2, out, cap, len))
			goto fail;
	if (put_slot(&k->dtk, 3, out, cap, len))
		goto fail;
	return 0;
fail:
	hce_wipe(out, cap);
	return -1;
}

int hce_iss_keys_decode(const uint8_t *in, size_t len, struct hce_card_keys *k)
{
	size_t off, ndpk = 0, ndlk = 0;

	memset(k, 0, sizeof(*k));
	if (len % HCE_ISS_SEAL_ENTRY)
		return -1;
	for (off = 0; off < len; off += HCE_ISS_SEAL_ENTRY) {
		struct hce_key_slot *s;

		switch (in[off]) {
		case 1:
			if (ndpk == HCE_KEY_SLOTS)
				goto fail;
			s = &k->dpk[ndpk++];
			break;
		case 2:
			if (ndlk == HCE_KEY_SLOTS)
				goto fail;
			s = &k->dlk[ndlk++];
			break;
		case 3:
			if (k->dtk.present)
				goto fail;
			s = &k->dtk;
			break;
		default:
			goto fail;
		}
		s->present = true;
		s->index = in[off + 1];
		s->version = in[off + 2];
		s->alg = in[off + 3];
		memcpy(s->key, in + off + 4, 16);
	}
	return 0;
fail:
	hce_card_keys_wipe(k);
	return -1;
}

EVP_PKEY *hce_iss_pub_from_der(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
	char g[32];
	size_t gl = 0;

	if (!k)
		return NULL;
	if (p != der + len || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, g, sizeof(g), &gl) ||
	    strcmp(g, "prime256v1")) {
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

/* ECDH(priv, peer) x-coordinate -> HKDF-SHA256 -> 32-byte key. */
static int seal_key(EVP_PKEY *priv, EVP_PKEY *peer, const uint8_t serial[HCE_ISS_SERIAL_LEN],
		    uint8_t key[32])
{
	static const char label[] = "hce-issuer seal v1";
	uint8_t z[64], info[sizeof(label) - 1 + HCE_ISS_SERIAL_LEN];
	size_t zl = sizeof(z);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(priv, NULL);
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kc = NULL;
	OSSL_PARAM p[4];
	int ret = -1;

	if (!c || EVP_PKEY_derive_init(c) <= 0 || EVP_PKEY_derive_set_peer(c, peer) <= 0 ||
	    EVP_PKEY_derive(c, z, &zl) <= 0)
		goto out;
	memcpy(info, label, sizeof(label) - 1);
	memcpy(info + sizeof(label) - 1, serial, HCE_ISS_SERIAL_LEN);
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	if (!kc)
		goto out;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)(uintptr_t)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, z, zl);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, sizeof(info));
	p[3] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kc, key, 32, p) <= 0)
		goto out;
	ret = 0;
out:
	hce_wipe(z, sizeof(z));
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
	EVP_PKEY_CTX_free(c);
	return ret;
}

static int gcm(int enc, const uint8_t key[32], const uint8_t iv[12], const uint8_t *aad,
	       size_t aad_len, const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[16])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l, ret = -1;

	if (!c || EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv, enc) != 1 ||
	    EVP_CipherUpdate(c, NULL, &l, aad, (int)aad_len) != 1 ||
	    EVP_CipherUpdate(c, out, &l, in, (int)n) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(c, out + l, &l) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
		goto out;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(c);
	return ret;
}

static char *hex_alloc(const uint8_t *in, size_t n)
{
	char *s = malloc(2 * n + 1);

	if (s)
		hce_iss_hex(in, n, s);
	return s;
}

json_t *hce_iss_seal(const uint8_t *seal_pub, size_t pub_len,
		     const uint8_t serial[HCE_ISS_SERIAL_LEN], const uint8_t *pt, size_t pt_len)
{
	EVP_PKEY *peer = hce_iss_pub_from_der(seal_pub, pub_len), *eph = NULL;
	uint8_t key[32], iv[12], tag[16], *ct = NULL, *epk = NULL;
	char *hepk = NULL, *hiv = NULL, *hct = NULL, *htag = NULL;
	json_t *o = NULL;
	int epk_len;

	if (!peer || pt_len > 4096)
		goto out;
	eph = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ct = malloc(pt_len ? pt_len : 1);
	if (!eph || !ct || hce_random(iv, sizeof(iv)) || seal_key(eph, peer, serial, key))
		goto out;
	if (gcm(1, key, iv, serial, HCE_ISS_SERIAL_LEN, pt, pt_len, ct, tag))
		goto out;
	epk_len = i2d_PUBKEY(eph, &epk);
	if (epk_len <= 0)
		goto out;
	hepk = hex_alloc(epk, (size_t)epk_len);
	hiv = hex_alloc(iv, sizeof(iv));
	hct = hex_alloc(ct, pt_len);
	htag = hex_alloc(tag, sizeof(tag));
	if (hepk && hiv && hct && htag)
		o = json_pack("{s:s,s:s,s:s,s:s,s:s}", "scheme", "ecdh-p256-hkdf-sha256-aes256gcm",
			      "epk", hepk, "iv", hiv, "ct", hct, "tag", htag);
out:
	hce_wipe(key, sizeof(key));
	free(hepk);
	free(hiv);
	free(hct);
	free(htag);
	OPENSSL_free(epk);
	free(ct);
	EVP_PKEY_free(eph);
	EVP_PKEY_free(peer);
	return o;
}

static uint8_t *hex_dup_bytes(const json_t *o, const char *k, size_t *n)
{
	const char *s = json_string_value(json_object_get(o, k));
	uint8_t *b;

	if (!s || strlen(s) % 2 || strlen(s) > 16384)
		return NULL;
	*n = strlen(s) / 2;
	b = malloc(*n ? *n : 1);
	if (b && hce_iss_hex_exact(s, b, *n)) {
		free(b);
		b = NULL;
	}
	return b;
}

int hce_iss_unseal(EVP_PKEY *priv, const uint8_t serial[HCE_ISS_SERIAL_LEN], const json_t *sealed,
		   uint8_t *pt, size_t cap, size_t *pt_len)
{
	uint8_t *epk = NULL, *iv = NULL, *ct = NULL, *tag = NULL, key[32];
	size_t el, il, cl, tl;
	EVP_PKEY *peer = NULL;
	const char *scheme = json_string_value(json_object_get(sealed, "scheme"));
	int ret = -1;

	if (!scheme || strcmp(scheme, "ecdh-p256-hkdf-sha256-aes256gcm"))
		return -1;
	epk = hex_dup_bytes(sealed, "epk", &el);
	iv = hex_dup_bytes(sealed, "iv", &il);
	ct = hex_dup_bytes(sealed, "ct", &cl);
	tag = hex_dup_bytes(sealed, "tag", &tl);
	if (!epk || !iv || !ct || !tag || il != 12 || tl != 16 || cl > cap)
		goto out;
	peer = hce_iss_pub_from_der(epk, el);
	if (!peer || seal_key(priv, peer, serial, key))
		goto out;
	if (gcm(0, key, iv, serial, HCE_ISS_SERIAL_LEN, ct, cl, pt, tag)) {
		hce_wipe(pt, cap);
		goto out;
	}
	*pt_len = cl;
	ret = 0;
out:
	hce_wipe(key, sizeof(key));
	EVP_PKEY_free(peer);
	free(epk);
	free(iv);
	free(ct);
	free(tag);
	return ret;
}

char *hce_iss_sign_string(const char *method, const char *path, const char *key,
			  const char *reqid, const char *tm, const uint8_t *body, size_t len)
{
	uint8_t h[32];
	char hh[65], *s;
	size_t n;

	if (!EVP_Digest(body ? body : (const uint8_t *)"", len, h, NULL, EVP_sha256(), NULL))
		return NULL;
	hce_iss_hex(h, sizeof(h), hh);
	n = strlen(method) + strlen(path) + strlen(key) + strlen(reqid) + strlen(tm) + 64 + 16;
	s = malloc(n);
	if (s)
		snprintf(s, n, "HCE1\n%s\n%s\n%s\n%s\n%s\n%s", method, path, key, reqid, tm, hh);
	return s;
}

int hce_iss_verify(EVP_PKEY *pub, const char *str, const char *sig_b64)
{
	size_t bl = strlen(sig_b64), pad = 0;
	uint8_t sig[256];
	EVP_MD_CTX *c;
	int n, ok;

	if (!bl || bl % 4 || bl > 4 * (sizeof(sig) / 3))
		return 0;
	n = EVP_DecodeBlock(sig, (const unsigned char *)sig_b64, (int)bl);
	if (n < 0)
		return 0;
	if (sig_b64[bl - 1] == '=')
		pad++;
	if (sig_b64[bl - 2] == '=')
		pad++;
	n -= (int)pad;
	c = EVP_MD_CTX_new();
	if (!c)
		return -1;
	ok = EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, pub) == 1 &&
	     EVP_DigestVerify(c, sig, (size_t)n, (const uint8_t *)str, strlen(str)) == 1;
	EVP_MD_CTX_free(c);
	return ok;
}

char *hce_iss_sign(EVP_PKEY *priv, const char *str)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint8_t sig[256];
	size_t sl = sizeof(sig);
	char *out = NULL;

	if (c && EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, priv) == 1 &&
	    EVP_DigestSign(c, sig, &sl, (const uint8_t *)str, strlen(str)) == 1) {
		out = malloc(4 * ((sl + 2) / 3) + 1);
		if (out)
			EVP_EncodeBlock((unsigned char *)out, sig, (int)sl);
	}
	EVP_MD_CTX_free(c);
	return out;
}
