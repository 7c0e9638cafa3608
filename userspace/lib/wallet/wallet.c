// SPDX-License-Identifier: GPL-2.0
/*
 * wallet.c - the wallet's client of hce-issuer (wallet.h, Documentation/wallet.md).
 */
#include "wallet/wallet_priv.h"
#include "wallet/http.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "codec/buf.h"
#include "crypto/crypto.h"
#include "issuer/issuer.h"
#include "profile/profile.h"
#include "purse/purse.h"
#include "store/store.h"
#include "vault/vault.h"

struct hce_wallet {
	struct hce_wallet_cfg cfg;
	char dir[512], card[512], url[256], cacert[512], profile[512], secret[512];
	EVP_PKEY *sign, *seal;
	json_t *st;			/* wallet.json */
	char err[HCE_WALLET_ERR_MAX];
};


static int fail(struct hce_wallet *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct hce_wallet *w, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	return err;
}

const char *hce_wallet_errmsg(const struct hce_wallet *w)
{
	return w ? w->err : "no wallet";
}

static void path_of(const struct hce_wallet *w, const char *name, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", w->dir, name);
}

/* ---- wallet.json: written whole, fsync()ed, renamed over ---- */

static int state_save(struct hce_wallet *w)
{
	char path[600], tmp[620];
	char *s = json_dumps(w->st, JSON_SORT_KEYS | JSON_INDENT(1));
	int fd, ret = 0;
	size_t n;

	if (!s)
		return fail(w, -ENOMEM, "wallet state: out of memory");
	path_of(w, "wallet.json", path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	n = strlen(s);
	if (fd < 0 || write(fd, s, n) != (ssize_t)n || fsync(fd))
		ret = fail(w, -EIO, "%s: %s", tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(s);
	if (!ret && rename(tmp, path))
		ret = fail(w, -EIO, "%s: %s", path, strerror(errno));
	if (!ret) {
		fd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	return ret;
}

static const char *st_str(const struct hce_wallet *w, const char *k)
{
	const char *s = json_string_value(json_object_get(w->st, k));

	return s ? s : "";
}

static int64_t st_int(const struct hce_wallet *w, const char *k)
{
	return json_integer_value(json_object_get(w->st, k));
}

static void st_set_int(struct hce_wallet *w, const char *k, int64_t v)
{
	json_object_set_new(w->st, k, json_integer(v));
}

static void st_set_str(struct hce_wallet *w, const char *k, const char *v)
{
	json_object_set_new(w->st, k, json_string(v));
}

/* ---- device keys: encrypted PKCS#8 under a passphrase from the vault's device secret ---- */

static int passphrase(struct hce_wallet *w, char pass[65])
{
	uint8_t secret[HCE_VAULT_SECRET_LEN], md[32];
	static const char label[] = "linux-hce wallet device key v1";
	unsigned int mdlen = 0;
	int fd = open(w->secret, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, secret, sizeof(secret)) : -1;
	EVP_MD_CTX *c;
	int ok;

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(secret)) {
		hce_wipe(secret, sizeof(secret));
		return fail(w, -ENOKEY, "device secret %s unreadable", w->secret);
	}
	c = EVP_MD_CTX_new();
	ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(c, label, sizeof(label) - 1) &&
	     EVP_DigestUpdate(c, secret, sizeof(secret)) && EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	hce_wipe(secret, sizeof(secret));
	if (!ok)
		return fail(w, -ENOMEM, "device key passphrase: digest failed");
	hce_iss_hex(md, sizeof(md), pass);
	hce_wipe(md, sizeof(md));
	return 0;
}

static int key_save(struct hce_wallet *w, EVP_PKEY *k, const char *name, const char *pass)
{
	char path[600];
	int fd;
	FILE *f;
	int ok;

	path_of(w, name, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return fail(w, -EIO, "%s: %s", path, strerror(errno));
	}
	ok = PEM_write_PKCS8PrivateKey(f, k, EVP_aes_256_cbc(), pass, (int)strlen(pass), NULL,
				       NULL);
	ok = ok && !fflush(f) && !fsync(fileno(f));
	fclose(f);
	return ok ? 0 : fail(w, -EIO, "%s: cannot write the key", path);
}

static EVP_PKEY *key_load(struct hce_wallet *w, const char *name, const char *pass)
{
	char path[600];
	EVP_PKEY *k;
	FILE *f;

	path_of(w, name, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return NULL;
	k = PEM_read_PrivateKey(f, NULL, NULL, (void *)(uintptr_t)pass);
	fclose(f);
	return k;
}

static int keys_load(struct hce_wallet *w)
{
	char pass[65];
	int ret;

	if (w->sign && w->seal)
		return 0;
	ret = passphrase(w, pass);
	if (ret)
		return ret;
	w->sign = key_load(w, "device-sign.pem", pass);
	w->seal = key_load(w, "device-seal.pem", pass);
	hce_wipe(pass, sizeof(pass));
	if (!w->sign || !w->seal)
		return fail(w, -EKEYREJECTED, "device keys missing or not opened by this device"
			    " secret");
	return 0;
}

/* ---- open / close ---- */

int hce_wallet_open(const struct hce_wallet_cfg *cfg, struct hce_wallet **out, char *errbuf)
{
	struct hce_wallet *w;
	char path[600];
	json_error_t je;

	if (out)
		*out = NULL;
	if (!cfg || !out || !cfg->dir || !cfg->card) {
		if (errbuf)
			snprintf(errbuf, HCE_WALLET_ERR_MAX, "wallet: dir and card required");
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->cfg = *cfg;
	snprintf(w->dir, sizeof(w->dir), "%s", cfg->dir);
	snprintf(w->card, sizeof(w->card), "%s", cfg->card);
	snprintf(w->url, sizeof(w->url), "%s", cfg->url ? cfg->url : "");
	snprintf(w->cacert, sizeof(w->cacert), "%s", cfg->cacert ? cfg->cacert : "");
	snprintf(w->profile, sizeof(w->profile), "%s", cfg->profile ? cfg->profile : "");
	snprintf(w->secret, sizeof(w->secret), "%s",
		 cfg->device_secret ? cfg->device_secret : HCE_VAULT_DEFAULT_SECRET);
	w->cfg.dir = w->dir;
	if (!w->cfg.timeout)
		w->cfg.timeout = 30;
	if (!w->cfg.renew_margin)
		w->cfg.renew_margin = 4 * 3600;
	if (mkdir(w->dir, 0700) && errno != EEXIST) {
		if (errbuf)
			snprintf(errbuf, HCE_WALLET_ERR_MAX, "%.200s: %s", w->dir, strerror(errno));
		free(w);
		return -EIO;
	}
	path_of(w, "wallet.json", path, sizeof(path));
	w->st = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!w->st) {
		if (access(path, F_OK) == 0) {
			if (errbuf)
				snprintf(errbuf, HCE_WALLET_ERR_MAX, "%.120s: %.120s", path, je.text);
			free(w);
			return -EPROTO;
		}
		w->st = json_object();
	}
	if (!json_is_object(w->st)) {
		if (errbuf)
			snprintf(errbuf, HCE_WALLET_ERR_MAX, "%.200s: not an object", path);
		json_decref(w->st);
		free(w);
		return -EPROTO;
	}
	*out = w;
	return 0;
}

void hce_wallet_close(struct hce_wallet *w)
{
	if (!w)
		return;
	EVP_PKEY_free(w->sign);
	EVP_PKEY_free(w->seal);
	json_decref(w->st);
	free(w);
}

/* A signed request by this wallet (wallet/http.h); the failure reason into w->err. */
static int http(struct hce_wallet *w, const char *method, const char *path, const char *key,
		EVP_PKEY *priv, const char *reqid, const char *body, long timeout,
		struct hce_iss_rsp *r)
{
	struct hce_iss_http h = { .url = w->url, .cacert = w->cacert, .key = key,
				  .priv = priv };

	return hce_iss_http(&h, method, path, reqid, body, timeout, r, w->err, sizeof(w->err));
}

static int dev_request(struct hce_wallet *w, const char *method, const char *path,
		       const char *reqid, json_t *body, long timeout, struct hce_iss_rsp *r)
{
	char key[48], *s = NULL;
	int ret;

	if (!st_str(w, "device_id")[0])
		return fail(w, -ENOENT, "not enrolled");
	ret = keys_load(w);
	if (ret)
		return ret;
	snprintf(key, sizeof(key), "dev:%s", st_str(w, "device_id"));
	if (body) {
		s = json_dumps(body, JSON_COMPACT);
		if (!s)
			return fail(w, -ENOMEM, "request body: out of memory");
	}
	ret = http(w, method, path, key, w->sign, reqid, s, timeout, r);
	free(s);
	return ret;
}

/* A request id unique for this wallet: prefix, sequence kept in wallet.json, tag. */
static void reqid_of(struct hce_wallet *w, const char *prefix, const char *tag, char *id,
		     size_t cap)
{
	snprintf(id, cap, "%s-%s-%" PRId64 "%s%s", prefix, st_str(w, "device_id"),
		 st_int(w, "seq"), tag ? "-" : "", tag ? tag : "");
}

/* ---- token install ---- */

static char *der_hex(EVP_PKEY *k)
{
	uint8_t *der = NULL;
	int n = i2d_PUBKEY(k, &der);
	char *h = n > 0 ? malloc(2 * (size_t)n + 1) : NULL;

	if (h)
		hce_iss_hex(der, (size_t)n, h);
	OPENSSL_free(der);
	return h;
}

/* The key table the store records for keys (what the purse checks at open). */
static void key_table(const struct hce_card_keys *k, struct hce_card_data *c)
{
	const struct hce_key_slot *set[2] = { k->dpk, k->dlk };
	uint8_t kind[2] = { HCE_KEY_DPK, HCE_KEY_DLK };
	size_t i, j;

	c->n_keys = 0;
	for (i = 0; i < 2; i++)
		for (j = 0; j < HCE_KEY_SLOTS; j++)
			if (set[i][j].present)
				c->keys[c->n_keys++] = (struct hce_key_info){
					kind[i], set[i][j].index, set[i][j].version,
					set[i][j].alg };
	if (k->dtk.present)
		c->keys[c->n_keys++] = (struct hce_key_info){ HCE_KEY_DTK, 0, k->dtk.version,
							      k->dtk.alg };
}

static int install_token(struct hce_wallet *w, const json_t *tok, const char *pin,
			 size_t pin_len, bool keep_pin)
{
	struct hce_vault_cfg vc = { .device_secret = w->secret, .log2n = w->cfg.log2n };
	struct hce_wallet_token t;
	struct hce_profile *prof = NULL;
	struct hce_store *st = NULL;
	struct hce_vault *v = NULL;
	struct hce_purse *purse = NULL;
	char why[160], err[HCE_STORE_ERR_MAX > HCE_VAULT_ERR_MAX ? HCE_STORE_ERR_MAX :
			   HCE_VAULT_ERR_MAX], hex[21];
	uint8_t pt[HCE_ISS_SEAL_ENTRY * 9];
	size_t ptlen = 0;
	int ret;

	if (hce_wallet_token_json(tok, &t, why, sizeof(why)))
		return fail(w, -EPROTO, "token: %s", why);
	if (!w->profile[0])
		return fail(w, -EINVAL, "a card profile is needed to install a token");
	prof = calloc(1, sizeof(*prof));
	if (!prof)
		return fail(w, -ENOMEM, "out of memory");
	if (hce_profile_load(prof, w->profile, err, sizeof(err))) {
		ret = fail(w, -EINVAL, "profile: %s", err);
		goto out;
	}
	hce_card_keys_wipe(&prof->keys);
	if (hce_iss_unseal(w->seal, t.serial, json_object_get(tok, "sealed_keys"), pt,
			   sizeof(pt), &ptlen) || hce_iss_keys_decode(pt, ptlen, &prof->keys)) {
		ret = fail(w, -EKEYREJECTED, "token keys do not open with this device's key");
		goto out;
	}
	memcpy(prof->card.ef0015, t.ef0015, sizeof(t.ef0015));
	prof->card.balance = hce_balance_raw((int32_t)t.balance);	/* checked by the parser */
	prof->card.max_balance = t.max_balance;
	prof->card.overdraft_limit = t.overdraft;
	prof->card.ctc = 0;
	prof->card.online_counter = 0;
	key_table(&prof->keys, &prof->card);
	ret = hce_store_open(w->card, HCE_STORE_CREATE, &st, err);
	if (ret) {
		fail(w, ret, "card: %s", err);
		goto out;
	}
	ret = hce_store_personalise(st, &prof->card, HCE_STORE_REPLACE);
	if (!ret)
		ret = hce_purse_open(st, &prof->keys, &purse);
	if (ret) {
		fail(w, ret, "card: %s", hce_store_errmsg(st));
		goto out;
	}
	ret = hce_vault_open(w->card, &vc, &v, err);
	if (ret) {
		fail(w, ret, "vault: %s", err);
		goto out;
	}
	ret = hce_vault_seal(v, &prof->keys, pin, pin_len,
			     HCE_VAULT_REPLACE | (keep_pin ? HCE_VAULT_KEEP_PIN : 0));
	if (ret) {
		fail(w, ret, "vault: %s", hce_vault_errmsg(v));
		goto out;
	}
	/* Cap and validity last: a crash before leaves no cap set, noticed at the next sync. */
	ret = hce_store_set_offline(st, t.cap_amount, t.cap_count, t.not_after, true);
	if (ret) {
		fail(w, ret, "card: %s", hce_store_errmsg(st));
		goto out;
	}
	hce_iss_hex(t.serial, sizeof(t.serial), hex);
	st_set_str(w, "serial", hex);
	st_set_int(w, "not_before", t.not_before);
	st_set_int(w, "not_after", t.not_after);
	st_set_str(w, "state", "active");
	ret = state_save(w);
out:
	hce_wipe(pt, sizeof(pt));
	hce_purse_close(purse);
	hce_vault_close(v);
	hce_store_close(st);
	if (prof) {
		hce_profile_wipe(prof);
		free(prof);
	}
	return ret;
}

int hce_wallet_enrol(struct hce_wallet *w, const char *code, const char *pin, size_t pin_len,
		     bool keep_pin)
{
	char *sp = NULL, *sl = NULL, *body = NULL, pass[65], reqid[80];
	const char *dev, *acct;
	struct hce_iss_rsp r;
	json_t *o;
	int ret;

	if (!code || !pin || pin_len < HCE_VAULT_PIN_MIN || pin_len > HCE_VAULT_PIN_MAX)
		return fail(w, -EINVAL, "enrol: code and a 4..64 byte PIN required");
	if (st_str(w, "device_id")[0])
		return fail(w, -EEXIST, "already enrolled as device %s", st_str(w, "device_id"));
	EVP_PKEY_free(w->sign);
	EVP_PKEY_free(w->seal);
	w->sign = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	w->seal = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!w->sign || !w->seal)
		return fail(w, -ENOMEM, "cannot generate the device keys");
	ret = passphrase(w, pass);
	if (!ret)
		ret = key_save(w, w->sign, "device-sign.pem", pass);
	if (!ret)
		ret = key_save(w, w->seal, "device-seal.pem", pass);
	hce_wipe(pass, sizeof(pass));
	if (ret)
		return ret;
	sp = der_hex(w->sign);
	sl = der_hex(w->seal);
	o = json_pack("{s:s,s:{s:s?,s:s?,s:s}}", "enrol_code", code, "device", "sign_pub", sp,
		      "seal_pub", sl, "name", "linux-hce wallet");
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	free(sp);
	free(sl);
	if (!body)
		return fail(w, -ENOMEM, "enrol: out of memory");
	/* The request id is tied to the code: a retry of this enrolment is the same request. */
	snprintf(reqid, sizeof(reqid), "enrol-%.40s", code);
	for (char *p = reqid; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
			*p = '_';
	ret = http(w, "POST", "/v1/enrol", "enrol", w->sign, reqid, body, w->cfg.timeout, &r);
	free(body);
	if (ret) {
		hce_iss_rsp_free(&r);
		return ret;
	}
	dev = json_string_value(json_object_get(r.body, "device_id"));
	acct = json_string_value(json_object_get(r.body, "account_id"));
	if (!dev || !acct || strlen(dev) > 20 || strlen(acct) > 20) {
		hce_iss_rsp_free(&r);
		return fail(w, -EPROTO, "enrol: device_id/account_id missing");
	}
	st_set_str(w, "device_id", dev);
	st_set_str(w, "account_id", acct);
	st_set_int(w, "seq", 1);
	ret = install_token(w, json_object_get(r.body, "token"), pin, pin_len, keep_pin);
	hce_iss_rsp_free(&r);
	return ret;
}

/* ---- status ---- */

static int card_open(struct hce_wallet *w, bool ro, struct hce_store **st)
{
	char err[HCE_STORE_ERR_MAX];
	int ret = hce_store_open(w->card, ro ? HCE_STORE_READONLY : 0, st, err);

	return ret ? fail(w, ret, "card: %s", err) : 0;
}

int hce_wallet_status(struct hce_wallet *w, struct hce_wallet_status *s)
{
	struct hce_store_offline o;
	struct hce_purse_state ps;
	struct hce_store *st;
	size_t n = 0;
	int ret;

	memset(s, 0, sizeof(*s));
	s->enrolled = st_str(w, "device_id")[0] != '\0';
	snprintf(s->device_id, sizeof(s->device_id), "%s", st_str(w, "device_id"));
	snprintf(s->account_id, sizeof(s->account_id), "%s", st_str(w, "account_id"));
	snprintf(s->serial, sizeof(s->serial), "%s", st_str(w, "serial"));
	snprintf(s->state, sizeof(s->state), "%s", st_str(w, "state"));
	snprintf(s->pending_load, sizeof(s->pending_load), "%s",
		 json_string_value(json_object_get(json_object_get(w->st, "confirm"),
						   "load_id")) ?: "");
	s->not_before = st_int(w, "not_before");
	s->not_after = st_int(w, "not_after");
	s->last_sync = st_int(w, "last_sync");
	s->account_balance = st_int(w, "account_balance");
	s->expected_balance = st_int(w, "expected_balance");
	if (!s->enrolled)
		return 0;
	ret = card_open(w, true, &st);
	if (ret)
		return ret;
	ret = hce_store_state(st, &ps);
	if (!ret)
		ret = hce_store_offline(st, &o);
	if (!ret) {
		struct hce_store_outrec *tmp = calloc(HCE_WALLET_MAX_UPLOAD, sizeof(*tmp));

		ret = tmp ? hce_store_outbox(st, tmp, HCE_WALLET_MAX_UPLOAD, &n) : -ENOMEM;
		free(tmp);
	}
	if (ret) {
		fail(w, ret, "card: %s", hce_store_errmsg(st));
	} else {
		s->card_balance = hce_balance_value(ps.balance);
		s->offline.cap_amount = o.cap_amount;
		s->offline.cap_count = o.cap_count;
		s->offline.spent = o.spent;
		s->offline.count = o.count;
		s->outbox = n;
	}
	hce_store_close(st);
	return ret;
}

/* ---- loads ---- */

static int xfer(struct hce_wallet *w, struct hce_app *app, const char *what, const uint8_t *c,
		size_t n, uint8_t *out, size_t want)
{
	uint8_t r[HCE_RAPDU_MIN_CAP > 300 ? HCE_RAPDU_MIN_CAP : 300];
	size_t rl = hce_app_process(app, c, n, r, sizeof(r));
	uint16_t sw = (uint16_t)(r[rl - 2] << 8 | r[rl - 1]);

	if (sw != 0x9000 || rl - 2 != want)
		return fail(w, -EPROTO, "card: %s answered %04X", what, sw);
	if (want)
		memcpy(out, r, want);
	return 0;
}

static int select_purse(struct hce_wallet *w, struct hce_app *app)
{
	struct hce_card_data *card = calloc(1, sizeof(*card));
	struct hce_store *st = NULL;
	uint8_t cmd[5 + HCE_STORE_AID_MAX], r[300];
	size_t rl;
	int ret;

	if (!card)
		return fail(w, -ENOMEM, "out of memory");
	ret = card_open(w, true, &st);
	if (!ret && hce_store_card(st, card))
		ret = fail(w, -EIO, "card: %s", hce_store_errmsg(st));
	hce_store_close(st);
	if (!ret) {
		memcpy(cmd, "\x00\xA4\x04\x00", 4);
		cmd[4] = (uint8_t)card->aid_len;
		memcpy(cmd + 5, card->aid, card->aid_len);
		rl = hce_app_process(app, cmd, 5 + card->aid_len, r, sizeof(r));
		if (rl < 2 || r[rl - 2] != 0x90 || r[rl - 1] != 0x00)
			ret = fail(w, -EPROTO, "card: SELECT of the purse refused");
	}
	free(card);
	return ret;
}

/* POST load/confirm for the load kept in wallet.json "confirm" (if any). */
static int confirm_pending(struct hce_wallet *w)
{
	json_t *c = json_object_get(w->st, "confirm"), *b;
	char reqid[96];
	struct hce_iss_rsp r;
	int ret;

	if (!json_is_object(c))
		return 0;
	snprintf(reqid, sizeof(reqid), "confirm-%s-%s", st_str(w, "device_id"),
		 json_string_value(json_object_get(c, "load_id")) ?: "x");
	b = json_pack("{s:O,s:O,s:O}", "load_id", json_object_get(c, "load_id"), "serial",
		      json_object_get(c, "serial"), "tac", json_object_get(c, "tac"));
	if (!b)
		return fail(w, -EPROTO, "wallet state: confirm entry malformed");
	ret = dev_request(w, "POST", "/v1/wallet/load/confirm", reqid, b, w->cfg.timeout, &r);
	json_decref(b);
	if (ret == -EACCES && r.status == 409) {
		/* load_state: already done (an earlier confirm or a sync got there). */
		ret = 0;
	}
	hce_iss_rsp_free(&r);
	if (ret)
		return ret;
	json_object_del(w->st, "confirm");
	return state_save(w);
}

static int apply_load(struct hce_wallet *w, struct hce_app *app, const json_t *ld,
		      uint32_t *amount)
{
	const char *id = json_string_value(json_object_get(ld, "load_id"));
	const char *term = json_string_value(json_object_get(ld, "terminal"));
	json_int_t amt = json_integer_value(json_object_get(ld, "amount"));
	json_int_t kidx = json_integer_value(json_object_get(ld, "key_index"));
	uint8_t cmd[32], init[16], terminal[6], mac2[4], date[4], tim[3], tac[4];
	char inith[33], tach[9], reqid[120];
	struct hce_iss_rsp r;
	json_t *b;
	int ret;

	if (!id || strlen(id) > 20 || !term || hce_iss_hex_exact(term, terminal, 6) ||
	    amt <= 0 || amt > 0x7fffffff || kidx < 1 || kidx > 255)
		return fail(w, -EPROTO, "load: malformed LOAD object");
	ret = select_purse(w, app);
	if (ret)
		return ret;
	memcpy(cmd, "\x80\x50\x00\x02\x0B", 5);
	cmd[5] = (uint8_t)kidx;
	hce_put_be32(cmd + 6, (uint32_t)amt);
	memcpy(cmd + 10, terminal, 6);
	cmd[16] = 0x10;
	ret = xfer(w, app, "INITIALIZE FOR LOAD", cmd, 17, init, 16);
	if (ret)
		return ret;
	hce_iss_hex(init, 16, inith);
	/* Same init answer -> same request id -> the issuer's stored MAC2 (retry-safe). */
	snprintf(reqid, sizeof(reqid), "mac2-%s-%s-%.16s", st_str(w, "device_id"), id,
		 inith + 12);
	b = json_pack("{s:s,s:s,s:s}", "load_id", id, "serial", st_str(w, "serial"),
		      "init_response", inith);
	ret = dev_request(w, "POST", "/v1/wallet/load/mac2", reqid, b, w->cfg.timeout, &r);
	json_decref(b);
	if (!ret && (hce_iss_hex_exact(json_string_value(json_object_get(r.body, "mac2")) ?: "",
				       mac2, 4) ||
		     hce_iss_hex_exact(json_string_value(json_object_get(r.body, "date")) ?: "",
				       date, 4) ||
		     hce_iss_hex_exact(json_string_value(json_object_get(r.body, "time")) ?: "",
				       tim, 3)))
		ret = fail(w, -EPROTO, "load/mac2: malformed answer");
	hce_iss_rsp_free(&r);
	if (ret) {
		hce_app_session_end(app);
		return ret;
	}
	memcpy(cmd, "\x80\x52\x00\x00\x0B", 5);
	memcpy(cmd + 5, date, 4);
	memcpy(cmd + 9, tim, 3);
	memcpy(cmd + 12, mac2, 4);
	cmd[16] = 0x04;
	ret = xfer(w, app, "CREDIT FOR LOAD", cmd, 17, tac, 4);
	hce_app_session_end(app);
	if (ret)
		return ret;
	hce_iss_hex(tac, 4, tach);
	/* Remember the confirmation before sending it: a crash here is retried by the next sync. */
	json_object_set_new(w->st, "confirm", json_pack("{s:s,s:s,s:s}", "load_id", id,
							"serial", st_str(w, "serial"), "tac",
							tach));
	ret = state_save(w);
	if (!ret)
		ret = confirm_pending(w);
	if (!ret && amount)
		*amount += (uint32_t)amt;
	return ret;
}

int hce_wallet_loads(struct hce_wallet *w, struct hce_app *app, unsigned int wait,
		     unsigned int *loaded, uint32_t *amount)
{
	char path[160];
	const json_t *a, *ld;
	struct hce_iss_rsp r;
	size_t i;
	int ret;

	if (loaded)
		*loaded = 0;
	if (amount)
		*amount = 0;
	if (!app || wait > 60)
		return fail(w, -EINVAL, "loads: card and wait 0..60 required");
	ret = confirm_pending(w);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/v1/wallet/loads?serial=%s&wait=%u", st_str(w, "serial"),
		 wait);
	ret = dev_request(w, "GET", path, "get", NULL, w->cfg.timeout + wait, &r);
	if (ret) {
		hce_iss_rsp_free(&r);
		return ret;
	}
	a = json_object_get(r.body, "pending_loads");
	if (!json_is_array(a)) {
		hce_iss_rsp_free(&r);
		return fail(w, -EPROTO, "loads: pending_loads missing");
	}
	json_array_foreach(a, i, ld) {
		ret = apply_load(w, app, ld, amount);
		if (ret)
			break;
		if (loaded)
			(*loaded)++;
	}
	hce_iss_rsp_free(&r);
	return ret;
}

/* ---- sync ---- */

static json_t *outrec_json(const struct hce_wallet *w, const struct hce_store_outrec *o)
{
	struct hce_iss_record r = { .counter = o->counter, .type = o->type, .amount = o->amount,
				    .ttc = o->ttc };

	hce_iss_hex_exact(st_str(w, "serial"), r.serial, sizeof(r.serial));
	memcpy(r.terminal, o->terminal, 6);
	memcpy(r.date, o->date, 4);
	memcpy(r.time, o->time, 3);
	memcpy(r.tac, o->tac, 4);
	return hce_iss_record_json(&r);
}

int hce_wallet_sync(struct hce_wallet *w, struct hce_wallet_sync *res)
{
	struct hce_store_outrec *out = NULL, *ack = NULL;
	struct hce_wallet_sync_rsp *sr = NULL;
	struct hce_purse_state ps;
	struct hce_store *st = NULL;
	size_t n = 0, nack = 0, i;
	char reqid[120], why[160], tag[17];
	uint8_t md[32];
	json_t *recs, *body = NULL;
	struct hce_iss_rsp r = { 0 };
	char *s;
	int ret;

	memset(res, 0, sizeof(*res));
	if (!st_str(w, "device_id")[0])
		return fail(w, -ENOENT, "not enrolled");
	ret = confirm_pending(w);
	if (ret)
		return ret;
	out = calloc(HCE_WALLET_MAX_UPLOAD, sizeof(*out));
	ack = calloc(HCE_WALLET_MAX_UPLOAD, sizeof(*ack));
	sr = calloc(1, sizeof(*sr));
	if (!out || !ack || !sr) {
		ret = fail(w, -ENOMEM, "out of memory");
		goto out;
	}
	ret = card_open(w, false, &st);
	if (ret)
		goto out;
	ret = hce_store_state(st, &ps);
	if (!ret)
		ret = hce_store_outbox(st, out, HCE_WALLET_MAX_UPLOAD, &n);
	if (ret) {
		fail(w, ret, "card: %s", hce_store_errmsg(st));
		goto out;
	}
	recs = json_array();
	for (i = 0; recs && i < n; i++)
		json_array_append_new(recs, outrec_json(w, &out[i]));
	body = json_pack("{s:s,s:I,s:o}", "serial", st_str(w, "serial"), "card_balance",
			 (json_int_t)hce_balance_value(ps.balance), "records", recs);
	s = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (!s) {
		ret = fail(w, -ENOMEM, "sync: out of memory");
		goto out;
	}
	/* seq + body hash: a retry of the same upload is the same request, a new one is not. */
	EVP_Digest(s, strlen(s), md, NULL, EVP_sha256(), NULL);
	free(s);
	hce_iss_hex(md, 8, tag);
	reqid_of(w, "sync", tag, reqid, sizeof(reqid));
	ret = dev_request(w, "POST", "/v1/wallet/sync", reqid, body, w->cfg.timeout, &r);
	if (ret)
		goto out;
	if (hce_wallet_sync_rsp_json(r.body, n, sr, why, sizeof(why))) {
		ret = fail(w, -EPROTO, "sync: %s", why);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (sr->result[i] == 1)
			ack[nack++] = out[i];
		else
			res->rejected++;
	}
	ret = hce_store_outbox_done(st, ack, nack, sr->cap_restored, sr->cap_amount,
				    sr->cap_count);
	if (!ret && strcmp(sr->state, "active")) {
		/* Revoked or expired at the issuer: stop paying now (6A81), keep the cap. */
		struct hce_store_offline o;

		ret = hce_store_offline(st, &o);
		if (!ret && o.set && (!o.not_after || o.not_after > time(NULL) - 1))
			ret = hce_store_set_offline(st, o.cap_amount, o.cap_count,
						    time(NULL) - 1, false);
	}
	if (ret) {
		fail(w, ret, "card: %s", hce_store_errmsg(st));
		goto out;
	}
	res->uploaded = n;
	res->acknowledged = nack;
	res->cap_restored = sr->cap_restored;
	res->account_balance = sr->account_balance;
	res->expected_balance = sr->expected_balance;
	/* signed on both sides: an account in the overdraft expects a negative card balance */
	res->card_balance = hce_balance_value(ps.balance);
	res->discrepancy = (int64_t)res->card_balance != sr->expected_balance;
	res->pending_loads = sr->pending_loads;
	snprintf(res->state, sizeof(res->state), "%s", sr->state);
	st_set_int(w, "seq", st_int(w, "seq") + 1);
	st_set_int(w, "last_sync", time(NULL));
	st_set_int(w, "account_balance", sr->account_balance);
	st_set_int(w, "expected_balance", sr->expected_balance);
	st_set_str(w, "state", sr->state);
	ret = state_save(w);
out:
	json_decref(body);
	hce_iss_rsp_free(&r);
	hce_store_close(st);
	free(out);
	free(ack);
	free(sr);
	return ret;
}

int hce_wallet_renew(struct hce_wallet *w, const char *pin, size_t pin_len, bool force)
{
	struct hce_wallet_status s;
	char reqid[120];
	struct hce_iss_rsp r;
	json_t *b;
	int ret;

	if (!pin || pin_len < HCE_VAULT_PIN_MIN || pin_len > HCE_VAULT_PIN_MAX)
		return fail(w, -EINVAL, "renew: the PIN is needed to seal the new keys");
	ret = hce_wallet_status(w, &s);
	if (ret)
		return ret;
	if (!s.enrolled)
		return fail(w, -ENOENT, "not enrolled");
	if (!force && s.not_after - time(NULL) > w->cfg.renew_margin)
		return 0;
	if (s.outbox)
		return fail(w, -EBUSY, "renew: %zu records not yet cleared (sync first)",
			    s.outbox);
	snprintf(reqid, sizeof(reqid), "renew-%s-%s", s.device_id, s.serial);
	b = json_pack("{s:s}", "serial", s.serial);
	ret = dev_request(w, "POST", "/v1/token/renew", reqid, b, w->cfg.timeout, &r);
	json_decref(b);
	if (!ret)
		ret = install_token(w, json_object_get(r.body, "token"), pin, pin_len, false);
	hce_iss_rsp_free(&r);
	return ret ? ret : 1;
}
