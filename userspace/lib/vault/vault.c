// SPDX-License-Identifier: GPL-2.0
/* vault.c - sealed card keys; see vault.h and Documentation/vault.md. */
#include "vault/vault.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sqlite3.h>

#include "crypto/crypto.h"

#define VAULT_VERSION 1
#define SALT_LEN 16
#define NONCE_LEN 12
#define TAG_LEN 16
#define MAC_LEN 32
#define SLOT_LEN 20		/* present, index, version, alg, key[16] */
#define N_SLOTS (2 * HCE_KEY_SLOTS + 1)
#define PLAIN_LEN (4 + N_SLOTS * SLOT_LEN)
#define PIN_PLAIN_LEN (1 + HCE_VAULT_PIN_MAX)	/* length byte, PIN padded: hides the length */
#define SCRYPT_R 8
#define SCRYPT_P 1

/* OSSL_PARAM takes non-const pointers for input parameters it only reads. */
static void *unconst(const void *p)
{
	return (void *)(uintptr_t)p;
}

static const uint8_t plain_magic[4] = { 'H', 'C', 'K', '1' };

/* Everything secret, in one locked, non-dumpable mapping. */
struct vault_secret {
	struct hce_card_keys keys;
	uint8_t ds[HCE_VAULT_SECRET_LEN];	/* device secret */
	uint8_t pk[32];				/* scrypt(PIN) */
	uint8_t ikm[32 + HCE_VAULT_SECRET_LEN];	/* pk || ds */
	uint8_t kek[32];			/* seals the keys */
	uint8_t kmac[32];			/* authenticates record and counter */
	uint8_t kpin[32];			/* seals the kept PIN */
	uint8_t plain[PLAIN_LEN];
	uint8_t pin_plain[PIN_PLAIN_LEN];
};

/* The persisted record (table hce_vault, one row). No secret in clear. */
struct vault_row {
	unsigned int log2n, r, p;
	uint8_t salt[SALT_LEN];
	uint8_t nonce[NONCE_LEN];
	uint8_t sealed[PLAIN_LEN + TAG_LEN];
	bool has_pin;
	uint8_t pin_nonce[NONCE_LEN];
	uint8_t pin_sealed[PIN_PLAIN_LEN + TAG_LEN];
	uint8_t ds_check[MAC_LEN];
	uint8_t row_mac[MAC_LEN];
	uint32_t failures;
	int64_t last_fail;
	uint8_t ctr_mac[MAC_LEN];
};

struct hce_vault {
	sqlite3 *db;
	struct hce_vault_cfg cfg;
	char secret_path[PATH_MAX];
	struct vault_secret *sec;
	size_t sec_len;
	bool unlocked;
	bool ds_loaded;
	char err[HCE_VAULT_ERR_MAX];
};

static int fail(struct hce_vault *v, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct hce_vault *v, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->err, sizeof(v->err), fmt, ap);
	va_end(ap);
	return err;
}

const char *hce_vault_errmsg(const struct hce_vault *v)
{
	return v->err;
}

unsigned int hce_vault_delay(uint32_t failures)
{
	if (failures < HCE_VAULT_FREE_TRIES)
		return 0;
	if (failures >= HCE_VAULT_MAX_FAILURES)
		return 0;	/* no attempt at all: -EPERM */
	return 1u << (failures - HCE_VAULT_FREE_TRIES);
}

static int64_t vault_now(struct hce_vault *v)
{
	if (v->cfg.now)
		return v->cfg.now(v->cfg.hook_ctx);
	return (int64_t)time(NULL);
}

static void vault_sleep(struct hce_vault *v, unsigned int seconds)
{
	struct timespec ts = { (time_t)seconds, 0 };

	if (v->cfg.sleep) {
		v->cfg.sleep(v->cfg.hook_ctx, seconds);
		return;
	}
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- OpenSSL primitives (all return 0 or -1; outputs wiped on failure) ---- */

static int kdf_scrypt(const char *pin, size_t pin_len, const uint8_t salt[SALT_LEN],
		      unsigned int log2n, unsigned int r, unsigned int p, uint8_t out[32])
{
	uint64_t n = (uint64_t)1 << log2n, maxmem = (uint64_t)1 << 31;
	uint32_t r32 = r, p32 = p;
	OSSL_PARAM params[6];
	EVP_KDF_CTX *ctx;
	EVP_KDF *kdf;
	int ret = -1;

	kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	if (!kdf)
		return -1;
	ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!ctx)
		return -1;
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, unconst(pin),
						      pin_len);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, unconst(salt),
						      SALT_LEN);
	params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r32);
	params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p32);
	params[5] = OSSL_PARAM_construct_end();
	if (EVP_KDF_CTX_set_params(ctx, params) == 1) {
		OSSL_PARAM mp[2] = {
			OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
			OSSL_PARAM_construct_end(),
		};

		if (EVP_KDF_CTX_set_params(ctx, mp) == 1 && EVP_KDF_derive(ctx, out, 32, NULL) == 1)
			ret = 0;
	}
	EVP_KDF_CTX_free(ctx);
	if (ret)
		hce_wipe(out, 32);
	return ret;
}

static int kdf_hkdf(const uint8_t *key, size_t key_len, const uint8_t *salt, size_t salt_len,
		    const char *info, uint8_t out[32])
{
	OSSL_PARAM params[5], *pp = params;
	EVP_KDF_CTX *ctx;
	EVP_KDF *kdf;
	int ret = -1;

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		return -1;
	ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!ctx)
		return -1;
	*pp++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, unconst("SHA256"), 0);
	*pp++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, unconst(key), key_len);
	if (salt_len)
		*pp++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, unconst(salt),
							  salt_len);
	*pp++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, unconst(info),
						  strlen(info));
	*pp = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, 32, params) == 1)
		ret = 0;
	EVP_KDF_CTX_free(ctx);
	if (ret)
		hce_wipe(out, 32);
	return ret;
}

struct mac_part {
	const void *p;
	size_t len;
};

/* HMAC-SHA256 over the parts, each preceded by its 4-byte big-endian length. */
static int hmac(const uint8_t key[32], const struct mac_part *parts, size_t n,
		uint8_t out[MAC_LEN])
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx;
	EVP_MAC *mac;
	size_t i, outl = 0;
	int ok;

	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		return -1;
	ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (!ctx)
		return -1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, unconst("SHA256"), 0);
	params[1] = OSSL_PARAM_construct_end();
	ok = EVP_MAC_init(ctx, key, 32, params) == 1;
	for (i = 0; ok && i < n; i++) {
		uint8_t l[4] = { (uint8_t)(parts[i].len >> 24), (uint8_t)(parts[i].len >> 16),
				 (uint8_t)(parts[i].len >> 8), (uint8_t)parts[i].len };

		ok = EVP_MAC_update(ctx, l, 4) == 1 &&
		     (!parts[i].len || EVP_MAC_update(ctx, parts[i].p, parts[i].len) == 1);
	}
	ok = ok && EVP_MAC_final(ctx, out, &outl, MAC_LEN) == 1 && outl == MAC_LEN;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* AES-256-GCM; out holds len bytes of ciphertext then the 16-byte tag. */
static int gcm_seal(const uint8_t key[32], const uint8_t nonce[NONCE_LEN], const uint8_t *aad,
		    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl, ok;

	if (!ctx)
		return -1;
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
	     EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
	     EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) == 1 &&
	     EVP_EncryptUpdate(ctx, out, &outl, in, (int)len) == 1 && (size_t)outl == len &&
	     EVP_EncryptFinal_ex(ctx, out + len, &outl) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Returns 0 when the tag verifies (out = plaintext), -1 otherwise (out wiped). */
static int gcm_open(const uint8_t key[32], const uint8_t nonce[NONCE_LEN], const uint8_t *aad,
		    size_t aad_len, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t tag[TAG_LEN];
	int outl, ok;

	if (!ctx)
		return -1;
	memcpy(tag, in + len, TAG_LEN);
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
	     EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
	     EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aad_len) == 1 &&
	     EVP_DecryptUpdate(ctx, out, &outl, in, (int)len) == 1 && (size_t)outl == len &&
	     EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1 &&
	     EVP_DecryptFinal_ex(ctx, out + len, &outl) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		hce_wipe(out, len);
	return ok ? 0 : -1;
}

/* ---- the device secret ---- */

static int create_secret(struct hce_vault *v)
{
	char dir[PATH_MAX];
	uint8_t rnd[HCE_VAULT_SECRET_LEN];
	int fd, dfd, ret = 0;

	snprintf(dir, sizeof(dir), "%s", v->secret_path);
	dirname(dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return fail(v, -EIO, "device secret: cannot create directory %s: %s", dir,
			    strerror(errno));
	fd = open(v->secret_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;	/* someone else made it: read theirs */
		return fail(v, -EIO, "device secret %s: cannot create: %s", v->secret_path,
			    strerror(errno));
	}
	if (fchmod(fd, 0600) || hce_random(rnd, sizeof(rnd)) ||
	    write(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd) || fsync(fd))
		ret = fail(v, -EIO, "device secret %s: cannot write", v->secret_path);
	hce_wipe(rnd, sizeof(rnd));
	close(fd);
	if (ret) {
		unlink(v->secret_path);
		return ret;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static int load_secret(struct hce_vault *v, bool create)
{
	struct stat st;
	ssize_t n;
	int fd, ret;

	if (v->ds_loaded)
		return 0;
	if (create) {
		ret = create_secret(v);
		if (ret)
			return ret;
	}
	fd = open(v->secret_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(v, errno == ENOENT ? -ENOKEY : -EPROTO,
			    "device secret %s: cannot open: %s", v->secret_path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) || st.st_size != HCE_VAULT_SECRET_LEN) {
		close(fd);
		return fail(v, -EPROTO,
			    "device secret %s: must be a %d-byte regular file owned by uid %u "
			    "with mode 0600", v->secret_path, HCE_VAULT_SECRET_LEN,
			    (unsigned int)geteuid());
	}
	n = read(fd, v->sec->ds, HCE_VAULT_SECRET_LEN);
	close(fd);
	if (n != HCE_VAULT_SECRET_LEN) {
		hce_wipe(v->sec->ds, sizeof(v->sec->ds));
		return fail(v, -ENOKEY, "device secret %s: short read", v->secret_path);
	}
	if (kdf_hkdf(v->sec->ds, HCE_VAULT_SECRET_LEN, NULL, 0, "linux-hce vault v1 mac",
		     v->sec->kmac)) {
		hce_wipe(v->sec->ds, sizeof(v->sec->ds));
		return fail(v, -ENOMEM, "key derivation failed");
	}
	v->ds_loaded = true;
	return 0;
}

/* ---- the record ---- */

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS hce_vault ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" version INTEGER NOT NULL, log2n INTEGER NOT NULL, r INTEGER NOT NULL,"
	" p INTEGER NOT NULL, salt BLOB NOT NULL, nonce BLOB NOT NULL, sealed BLOB NOT NULL,"
	" pin_nonce BLOB, pin_sealed BLOB, ds_check BLOB NOT NULL, row_mac BLOB NOT NULL,"
	" failures INTEGER NOT NULL, last_fail INTEGER NOT NULL, ctr_mac BLOB NOT NULL)";

/* The GCM associated data of the keys: binds version, cost and salt. */
static void header(const struct vault_row *r, uint8_t out[8 + SALT_LEN])
{
	out[0] = 'H';
	out[1] = 'C';
	out[2] = 'E';
	out[3] = 'V';
	out[4] = VAULT_VERSION;
	out[5] = (uint8_t)r->log2n;
	out[6] = (uint8_t)r->r;
	out[7] = (uint8_t)r->p;
	memcpy(out + 8, r->salt, SALT_LEN);
}

static int row_mac(struct hce_vault *v, const struct vault_row *r, uint8_t out[MAC_LEN])
{
	uint8_t hdr[8 + SALT_LEN];
	struct mac_part parts[] = {
		{ "row", 3 }, { hdr, sizeof(hdr) }, { r->nonce, NONCE_LEN },
		{ r->sealed, sizeof(r->sealed) },
		{ r->pin_nonce, r->has_pin ? NONCE_LEN : 0 },
		{ r->pin_sealed, r->has_pin ? sizeof(r->pin_sealed) : 0 },
	};

	header(r, hdr);
	return hmac(v->sec->kmac, parts, sizeof(parts) / sizeof(parts[0]), out);
}

static int ctr_mac(struct hce_vault *v, const struct vault_row *r, uint32_t failures,
		   int64_t last_fail, uint8_t out[MAC_LEN])
{
	uint8_t b[12];
	struct mac_part parts[] = { { "ctr", 3 }, { r->salt, SALT_LEN }, { b, sizeof(b) } };
	int i;

	for (i = 0; i < 4; i++)
		b[i] = (uint8_t)(failures >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		b[4 + i] = (uint8_t)((uint64_t)last_fail >> (56 - 8 * i));
	return hmac(v->sec->kmac, parts, 3, out);
}

static int ds_check(struct hce_vault *v, uint8_t out[MAC_LEN])
{
	struct mac_part parts[] = { { "device secret check", 19 } };

	return hmac(v->sec->kmac, parts, 1, out);
}

static int blob(sqlite3_stmt *st, int col, void *out, size_t len)
{
	if (sqlite3_column_type(st, col) != SQLITE_BLOB ||
	    (size_t)sqlite3_column_bytes(st, col) != len)
		return -1;
	memcpy(out, sqlite3_column_blob(st, col), len);
	return 0;
}

/* Read the record: 0, -ENOENT (none), -EBADMSG (malformed), -EIO. */
static int read_row(struct hce_vault *v, struct vault_row *r)
{
	static const char sql[] =
		"SELECT version, log2n, r, p, salt, nonce, sealed, pin_nonce, pin_sealed,"
		" ds_check, row_mac, failures, last_fail, ctr_mac FROM hce_vault WHERE id = 1";
	sqlite3_stmt *st;
	int rc, ret = 0;

	memset(r, 0, sizeof(*r));
	if (sqlite3_prepare_v2(v->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(v, -EIO, "vault: %s", sqlite3_errmsg(v->db));
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = fail(v, -ENOENT, "no sealed keys in this card file");
	} else if (rc != SQLITE_ROW) {
		ret = fail(v, -EIO, "vault: %s", sqlite3_errmsg(v->db));
	} else {
		int64_t log2n = sqlite3_column_int64(st, 1), rr = sqlite3_column_int64(st, 2);
		int64_t pp = sqlite3_column_int64(st, 3), f = sqlite3_column_int64(st, 11);

		r->has_pin = sqlite3_column_type(st, 8) != SQLITE_NULL;
		if (sqlite3_column_int64(st, 0) != VAULT_VERSION ||
		    log2n < HCE_VAULT_LOG2N_MIN || log2n > HCE_VAULT_LOG2N_MAX ||
		    rr != SCRYPT_R || pp != SCRYPT_P || f < 0 || f > HCE_VAULT_MAX_FAILURES ||
		    blob(st, 4, r->salt, SALT_LEN) || blob(st, 5, r->nonce, NONCE_LEN) ||
		    blob(st, 6, r->sealed, sizeof(r->sealed)) ||
		    (r->has_pin && (blob(st, 7, r->pin_nonce, NONCE_LEN) ||
				    blob(st, 8, r->pin_sealed, sizeof(r->pin_sealed)))) ||
		    blob(st, 9, r->ds_check, MAC_LEN) || blob(st, 10, r->row_mac, MAC_LEN) ||
		    blob(st, 13, r->ctr_mac, MAC_LEN)) {
			ret = fail(v, -EBADMSG, "sealed key record is malformed");
		} else {
			r->log2n = (unsigned int)log2n;
			r->r = SCRYPT_R;
			r->p = SCRYPT_P;
			r->failures = (uint32_t)f;
			r->last_fail = sqlite3_column_int64(st, 12);
		}
	}
	sqlite3_finalize(st);
	return ret;
}

/* Check device secret, record and counter authenticity. */
static int verify_row(struct hce_vault *v, const struct vault_row *r)
{
	uint8_t m[MAC_LEN];

	if (ds_check(v, m))
		return fail(v, -ENOMEM, "MAC failed");
	if (!hce_ct_equal(m, r->ds_check, MAC_LEN))
		return fail(v, -EKEYREJECTED,
			    "the device secret is not the one these keys were sealed with");
	if (row_mac(v, r, m))
		return fail(v, -ENOMEM, "MAC failed");
	if (!hce_ct_equal(m, r->row_mac, MAC_LEN))
		return fail(v, -EBADMSG, "sealed key record was modified (authentication failed)");
	if (ctr_mac(v, r, r->failures, r->last_fail, m))
		return fail(v, -ENOMEM, "MAC failed");
	if (!hce_ct_equal(m, r->ctr_mac, MAC_LEN))
		return fail(v, -EBADMSG, "wrong-PIN counter was modified (authentication failed)");
	return 0;
}

static int exec(struct hce_vault *v, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(v->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fail(v, -EIO, "vault: %s", msg ? msg : sqlite3_errmsg(v->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

/* Persist the counter (compare-and-set on the old value). */
static int write_counter(struct hce_vault *v, const struct vault_row *r, uint32_t failures,
			 int64_t last_fail)
{
	static const char sql[] = "UPDATE hce_vault SET failures = ?1, last_fail = ?2,"
				  " ctr_mac = ?3 WHERE id = 1 AND failures = ?4 AND salt = ?5";
	uint8_t m[MAC_LEN];
	sqlite3_stmt *st;
	int rc;

	if (ctr_mac(v, r, failures, last_fail, m))
		return fail(v, -ENOMEM, "MAC failed");
	if (sqlite3_prepare_v2(v->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(v, -EIO, "vault: %s", sqlite3_errmsg(v->db));
	sqlite3_bind_int64(st, 1, failures);
	sqlite3_bind_int64(st, 2, last_fail);
	sqlite3_bind_blob(st, 3, m, MAC_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, r->failures);
	sqlite3_bind_blob(st, 5, r->salt, SALT_LEN, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(v, -EIO, "vault: cannot record the attempt: %s",
			    sqlite3_errmsg(v->db));
	/* another process counted or reset an attempt since r was read: the caller re-reads */
	if (sqlite3_changes(v->db) != 1)
		return fail(v, -EAGAIN, "vault: record changed under us (concurrent unlock)");
	return 0;
}

/* ---- (de)serialisation of the keys ---- */

static void put_slot(uint8_t *p, const struct hce_key_slot *s)
{
	p[0] = s->present;
	p[1] = s->index;
	p[2] = s->version;
	p[3] = s->alg;
	memcpy(p + 4, s->key, HCE_KEY_LEN);
}

static int get_slot(const uint8_t *p, struct hce_key_slot *s)
{
	if (p[0] > 1)
		return -1;
	s->present = p[0];
	s->index = p[1];
	s->version = p[2];
	s->alg = p[3];
	memcpy(s->key, p + 4, HCE_KEY_LEN);
	return 0;
}

static void serialise(const struct hce_card_keys *k, uint8_t out[PLAIN_LEN])
{
	size_t i, o = 4;

	memcpy(out, plain_magic, 4);
	for (i = 0; i < HCE_KEY_SLOTS; i++, o += SLOT_LEN)
		put_slot(out + o, &k->dpk[i]);
	for (i = 0; i < HCE_KEY_SLOTS; i++, o += SLOT_LEN)
		put_slot(out + o, &k->dlk[i]);
	put_slot(out + o, &k->dtk);
}

static int deserialise(const uint8_t in[PLAIN_LEN], struct hce_card_keys *k)
{
	size_t i, o = 4;
	int bad = memcmp(in, plain_magic, 4) != 0;

	for (i = 0; i < HCE_KEY_SLOTS; i++, o += SLOT_LEN)
		bad |= get_slot(in + o, &k->dpk[i]);
	for (i = 0; i < HCE_KEY_SLOTS; i++, o += SLOT_LEN)
		bad |= get_slot(in + o, &k->dlk[i]);
	bad |= get_slot(in + o, &k->dtk);
	return bad ? -1 : 0;
}

/* ---- public API ---- */

int hce_vault_open(const char *db_path, const struct hce_vault_cfg *cfg,
		   struct hce_vault **out, char *errbuf)
{
	struct hce_vault *v;
	long page = sysconf(_SC_PAGESIZE);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
	int ret;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (!v) {
		if (errbuf)
			snprintf(errbuf, HCE_VAULT_ERR_MAX, "out of memory");
		return -ENOMEM;
	}
	if (cfg)
		v->cfg = *cfg;
	snprintf(v->secret_path, sizeof(v->secret_path), "%s",
		 v->cfg.device_secret ? v->cfg.device_secret : HCE_VAULT_DEFAULT_SECRET);
	v->cfg.device_secret = v->secret_path;
	if (!v->cfg.log2n)
		v->cfg.log2n = HCE_VAULT_LOG2N_DEFAULT;
	if (v->cfg.log2n < HCE_VAULT_LOG2N_MIN || v->cfg.log2n > HCE_VAULT_LOG2N_MAX) {
		ret = fail(v, -EINVAL, "scrypt log2(N) must be %d..%d", HCE_VAULT_LOG2N_MIN,
			   HCE_VAULT_LOG2N_MAX);
		goto out_free;
	}
	v->sec_len = (sizeof(*v->sec) + (size_t)page - 1) / (size_t)page * (size_t)page;
	v->sec = mmap(NULL, v->sec_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	if (v->sec == MAP_FAILED) {
		v->sec = NULL;
		ret = fail(v, -ENOMEM, "cannot map the secret page");
		goto out_free;
	}
	if (mlock(v->sec, v->sec_len)) {
		ret = fail(v, -ENOMEM, "cannot lock the secret page in memory: %s",
			   strerror(errno));
		goto out_unmap;
	}
	madvise(v->sec, v->sec_len, MADV_DONTDUMP);
	if (v->cfg.create_db)
		flags |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(db_path, &v->db, flags, NULL) != SQLITE_OK) {
		ret = fail(v, -EIO, "%s: %s", db_path, v->db ? sqlite3_errmsg(v->db) : "cannot open");
		goto out_close;
	}
	sqlite3_busy_timeout(v->db, 5000);
	ret = exec(v, "PRAGMA synchronous = FULL");
	if (!ret)
		ret = exec(v, schema);
	if (ret)
		goto out_close;
	*out = v;
	return 0;

out_close:
	sqlite3_close(v->db);
	munlock(v->sec, v->sec_len);
out_unmap:
	munmap(v->sec, v->sec_len);
out_free:
	if (errbuf)
		snprintf(errbuf, HCE_VAULT_ERR_MAX, "%s", v->err);
	free(v);
	return ret;
}

void hce_vault_lock(struct hce_vault *v)
{
	if (!v)
		return;
	hce_wipe(v->sec, sizeof(*v->sec));
	v->unlocked = false;
	v->ds_loaded = false;
}

void hce_vault_close(struct hce_vault *v)
{
	if (!v)
		return;
	hce_vault_lock(v);
	hce_wipe(v->sec, v->sec_len);
	munlock(v->sec, v->sec_len);
	munmap(v->sec, v->sec_len);
	sqlite3_close(v->db);
	free(v);
}

const struct hce_card_keys *hce_vault_keys(const struct hce_vault *v)
{
	return v->unlocked ? &v->sec->keys : NULL;
}

static int derive_kek(struct hce_vault *v, const struct vault_row *r, const char *pin,
		      size_t pin_len)
{
	struct vault_secret *s = v->sec;
	int ret = 0;

	if (kdf_scrypt(pin, pin_len, r->salt, r->log2n, r->r, r->p, s->pk))
		return fail(v, -ENOMEM, "scrypt failed (memory?)");
	memcpy(s->ikm, s->pk, 32);
	memcpy(s->ikm + 32, s->ds, HCE_VAULT_SECRET_LEN);
	if (kdf_hkdf(s->ikm, sizeof(s->ikm), r->salt, SALT_LEN, "linux-hce vault v1 keys",
		     s->kek))
		ret = fail(v, -ENOMEM, "key derivation failed");
	hce_wipe(s->pk, sizeof(s->pk));
	hce_wipe(s->ikm, sizeof(s->ikm));
	return ret;
}

static int derive_kpin(struct hce_vault *v, const struct vault_row *r)
{
	if (kdf_hkdf(v->sec->ds, HCE_VAULT_SECRET_LEN, r->salt, SALT_LEN,
		     "linux-hce vault v1 kept pin", v->sec->kpin))
		return fail(v, -ENOMEM, "key derivation failed");
	return 0;
}

int hce_vault_seal(struct hce_vault *v, const struct hce_card_keys *keys, const char *pin,
		   size_t pin_len, unsigned int flags)
{
	static const char sql[] =
		"INSERT OR REPLACE INTO hce_vault (id, version, log2n, r, p, salt, nonce, sealed,"
		" pin_nonce, pin_sealed, ds_check, row_mac, failures, last_fail, ctr_mac)"
		" VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, 0, ?12)";
	struct vault_secret *s = v->sec;
	struct vault_row r;
	uint8_t hdr[8 + SALT_LEN];
	sqlite3_stmt *st = NULL;
	int ret, rc;

	hce_vault_lock(v);
	if (!keys || !pin || pin_len < HCE_VAULT_PIN_MIN || pin_len > HCE_VAULT_PIN_MAX)
		return fail(v, -EINVAL, "PIN must be %d..%d bytes", HCE_VAULT_PIN_MIN,
			    HCE_VAULT_PIN_MAX);
	ret = load_secret(v, true);
	if (ret)
		return ret;
	memset(&r, 0, sizeof(r));
	r.log2n = v->cfg.log2n;
	r.r = SCRYPT_R;
	r.p = SCRYPT_P;
	r.has_pin = flags & HCE_VAULT_KEEP_PIN;
	if (hce_random(r.salt, SALT_LEN) || hce_random(r.nonce, NONCE_LEN) ||
	    hce_random(r.pin_nonce, NONCE_LEN)) {
		ret = fail(v, -EIO, "no random bytes");
		goto out;
	}
	ret = derive_kek(v, &r, pin, pin_len);
	if (ret)
		goto out;
	serialise(keys, s->plain);
	header(&r, hdr);
	if (gcm_seal(s->kek, r.nonce, hdr, sizeof(hdr), s->plain, PLAIN_LEN, r.sealed)) {
		ret = fail(v, -ENOMEM, "sealing failed");
		goto out;
	}
	if (r.has_pin) {
		ret = derive_kpin(v, &r);
		if (ret)
			goto out;
		s->pin_plain[0] = (uint8_t)pin_len;
		memcpy(s->pin_plain + 1, pin, pin_len);
		if (gcm_seal(s->kpin, r.pin_nonce, hdr, sizeof(hdr), s->pin_plain, PIN_PLAIN_LEN,
			     r.pin_sealed)) {
			ret = fail(v, -ENOMEM, "sealing failed");
			goto out;
		}
	}
	if (ds_check(v, r.ds_check) || row_mac(v, &r, r.row_mac) ||
	    ctr_mac(v, &r, 0, 0, r.ctr_mac)) {
		ret = fail(v, -ENOMEM, "MAC failed");
		goto out;
	}

	ret = exec(v, "BEGIN IMMEDIATE");
	if (ret)
		goto out;
	rc = sqlite3_prepare_v2(v->db, "SELECT 1 FROM hce_vault WHERE id = 1", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		ret = fail(v, -EIO, "vault: %s", sqlite3_errmsg(v->db));
		goto rollback;
	}
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc == SQLITE_ROW && !(flags & HCE_VAULT_REPLACE)) {
		ret = fail(v, -EEXIST, "keys are sealed in this card file already");
		goto rollback;
	}
	if (sqlite3_prepare_v2(v->db, sql, -1, &st, NULL) != SQLITE_OK) {
		ret = fail(v, -EIO, "vault: %s", sqlite3_errmsg(v->db));
		goto rollback;
	}
	sqlite3_bind_int(st, 1, VAULT_VERSION);
	sqlite3_bind_int(st, 2, (int)r.log2n);
	sqlite3_bind_int(st, 3, (int)r.r);
	sqlite3_bind_int(st, 4, (int)r.p);
	sqlite3_bind_blob(st, 5, r.salt, SALT_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 6, r.nonce, NONCE_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 7, r.sealed, sizeof(r.sealed), SQLITE_TRANSIENT);
	if (r.has_pin) {
		sqlite3_bind_blob(st, 8, r.pin_nonce, NONCE_LEN, SQLITE_TRANSIENT);
		sqlite3_bind_blob(st, 9, r.pin_sealed, sizeof(r.pin_sealed), SQLITE_TRANSIENT);
	} else {
		sqlite3_bind_null(st, 8);
		sqlite3_bind_null(st, 9);
	}
	sqlite3_bind_blob(st, 10, r.ds_check, MAC_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 11, r.row_mac, MAC_LEN, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 12, r.ctr_mac, MAC_LEN, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ret = fail(v, -EIO, "vault: %s", sqlite3_errmsg(v->db));
		goto rollback;
	}
	ret = exec(v, "COMMIT");
	if (ret)
		goto rollback;
	goto out;
rollback:
	sqlite3_exec(v->db, "ROLLBACK", NULL, NULL, NULL);
out:
	hce_vault_lock(v);
	return ret;
}

int hce_vault_unlock(struct hce_vault *v, const char *pin, size_t pin_len)
{
	struct vault_secret *s = v->sec;
	struct vault_row r;
	uint8_t hdr[8 + SALT_LEN];
	int64_t now, elapsed;
	unsigned int delay, races = 0;
	int ret;

	hce_vault_lock(v);
	if (pin && (pin_len < HCE_VAULT_PIN_MIN || pin_len > HCE_VAULT_PIN_MAX))
		return fail(v, -EINVAL, "PIN must be %d..%d bytes", HCE_VAULT_PIN_MIN,
			    HCE_VAULT_PIN_MAX);
	/*
	 * Two processes unlocking one card file (hced and the wallet's sync agent at boot) race
	 * on the attempt counter's compare-and-set: the loser reads the row again and counts its
	 * attempt on top (bounded: a counter moving forever is an attack, not a race).
	 */
again:
	ret = read_row(v, &r);
	if (ret)
		return ret;
	ret = load_secret(v, false);
	if (ret)
		return ret;
	ret = verify_row(v, &r);
	if (ret)
		goto out;
	if (r.failures >= HCE_VAULT_MAX_FAILURES) {
		ret = fail(v, -EPERM, "%d wrong PINs: the vault refuses to unlock (re-personalise)",
			   HCE_VAULT_MAX_FAILURES);
		goto out;
	}
	if (!pin && !r.has_pin) {
		ret = fail(v, -ENODATA, "no PIN given and none is kept on this device");
		goto out;
	}
	delay = hce_vault_delay(r.failures);
	now = vault_now(v);
	elapsed = now - r.last_fail;
	if (elapsed < 0)	/* clock went back: the full delay again */
		elapsed = 0;
	if (delay && elapsed < (int64_t)delay) {
		vault_sleep(v, (unsigned int)(delay - elapsed));
		now = vault_now(v);
	}
	/* Count the attempt before evaluating it: a kill now still costs a try. */
	ret = write_counter(v, &r, r.failures + 1, now);
	if (ret == -EAGAIN && ++races < 8) {
		hce_vault_lock(v);
		goto again;
	}
	if (ret)
		goto out;
	r.failures++;
	r.last_fail = now;

	header(&r, hdr);
	if (!pin) {
		ret = derive_kpin(v, &r);
		if (ret)
			goto out;
		if (gcm_open(s->kpin, r.pin_nonce, hdr, sizeof(hdr), r.pin_sealed, PIN_PLAIN_LEN,
			     s->pin_plain) || s->pin_plain[0] < HCE_VAULT_PIN_MIN ||
		    s->pin_plain[0] > HCE_VAULT_PIN_MAX) {
			ret = fail(v, -EBADMSG, "the kept PIN does not open");
			goto out;
		}
		pin = (const char *)s->pin_plain + 1;
		pin_len = s->pin_plain[0];
	}
	ret = derive_kek(v, &r, pin, pin_len);
	if (ret)
		goto out;
	if (gcm_open(s->kek, r.nonce, hdr, sizeof(hdr), r.sealed, PLAIN_LEN, s->plain)) {
		ret = fail(v, -EACCES, "wrong PIN (%u of %d tries used)", r.failures,
			   HCE_VAULT_MAX_FAILURES);
		goto out;
	}
	if (deserialise(s->plain, &s->keys)) {
		ret = fail(v, -EBADMSG, "unsealed keys are malformed");
		goto out;
	}
	ret = write_counter(v, &r, 0, 0);
	/* the right PIN: reset over whatever attempt another process counted meanwhile */
	while (ret == -EAGAIN && ++races < 8) {
		struct vault_row cur;

		ret = read_row(v, &cur);
		if (!ret)
			ret = verify_row(v, &cur);
		if (!ret && memcmp(cur.salt, r.salt, SALT_LEN))
			ret = fail(v, -ESTALE, "vault: re-sealed during the unlock");
		if (!ret)
			ret = write_counter(v, &cur, 0, 0);
	}
	if (ret)
		goto out;
	hce_wipe(s->plain, sizeof(s->plain));
	hce_wipe(s->pin_plain, sizeof(s->pin_plain));
	hce_wipe(s->kek, sizeof(s->kek));
	hce_wipe(s->kpin, sizeof(s->kpin));
	v->unlocked = true;
	v->err[0] = '\0';
	return 0;
out:
	hce_vault_lock(v);
	return ret;
}

int hce_vault_info(struct hce_vault *v, struct hce_vault_info *info)
{
	struct vault_row r;
	int64_t elapsed;
	unsigned int delay;
	bool was_loaded = v->ds_loaded;
	int ret;

	memset(info, 0, sizeof(*info));
	ret = read_row(v, &r);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	info->sealed = true;
	info->pin_kept = r.has_pin;
	info->failures = r.failures;
	info->log2n = r.log2n;
	info->locked_out = r.failures >= HCE_VAULT_MAX_FAILURES;
	delay = hce_vault_delay(r.failures);
	elapsed = vault_now(v) - r.last_fail;
	if (elapsed < 0)
		elapsed = 0;
	info->delay = elapsed < (int64_t)delay ? (unsigned int)(delay - elapsed) : 0;
	ret = load_secret(v, false);
	if (!ret)
		ret = verify_row(v, &r);
	if (!was_loaded && !v->unlocked) {
		hce_wipe(v->sec->ds, sizeof(v->sec->ds));
		hce_wipe(v->sec->kmac, sizeof(v->sec->kmac));
		v->ds_loaded = false;
	}
	return ret;
}

int hce_vault_read_pin(const char *path, int fd, char *pin)
{
	char buf[HCE_VAULT_PIN_MAX + 2];
	size_t len = 0;
	bool own = fd < 0;
	ssize_t n;
	int ret;

	if (own) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return -errno;
	}
	/* Read up to the first newline (byte by byte: never consume past it from a pipe). */
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -EIO;
			goto out;
		}
		if (n == 0 || buf[len] == '\n')
			break;
		len++;
	}
	if (len && buf[len - 1] == '\r')
		len--;
	if (len < HCE_VAULT_PIN_MIN || len > HCE_VAULT_PIN_MAX) {
		ret = -EINVAL;
		goto out;
	}
	memcpy(pin, buf, len);
	pin[len] = '\0';
	ret = (int)len;
out:
	hce_wipe(buf, sizeof(buf));
	if (own)
		close(fd);
	return ret;
}
