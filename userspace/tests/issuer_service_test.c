// SPDX-License-Identifier: GPL-2.0
/*
 * issuer_service_test - hce-issuer end to end: the real program serving HTTPS (OpenSSL via
 * libevent), a SoftHSM2 token created here, SQLite or PostgreSQL, driven by a libcurl client
 * that signs its requests; the card side is the real lib/purse in-process (purse_fixture.h)
 * holding the keys the issuer sealed for this device.
 *
 * Environment (set by tests/host.d/70-issuer-sqlite and 71-issuer-pg):
 *   HCE_ISSUER_DB   "sqlite" (a file per test) or a postgresql:// URL (schema reset per test);
 *                   unset: every test is skipped (the host suites run them).
 *   HCE_ISSUER_BIN  the hce-issuer program (default build/userspace/release/bin/hce-issuer).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "isdb/isdb.h"
#include "issuer/issuer.h"
#include "kselftest_harness.h"
#include "purse_fixture.h"

struct issuer {
	char dir[64];
	char conf[128];
	char url[64];
	char cert[128];
	char db[512];
	const char *bin;
	pid_t pid;
	int port;
};

struct http {
	long status;
	json_t *body;
	char raw[2048];
};

static int run(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), p = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &l))
		p = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return p;
}

static size_t collect(char *p, size_t sz, size_t n, void *arg)
{
	char *buf = arg;
	size_t have = strlen(buf), add = sz * n;

	if (have + add >= 1 << 20)
		return 0;
	memcpy(buf + have, p, add);
	buf[have + add] = '\0';
	return add;
}

/*
 * One signed request. key: "dev:<id>", "term:<hex>", "enrol"; priv signs (NULL: no auth
 * headers). skew shifts X-HCE-Time. body may be NULL (GET).
 */
static int request(struct issuer *is, const char *method, const char *path, const char *key,
		   EVP_PKEY *priv, const char *reqid, const char *body, long skew, struct http *h)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hd = NULL;
	char url[512], line[600], tm[24], *buf = calloc(1, 1 << 20), *ss, *sig;
	size_t bl = body ? strlen(body) : 0;
	json_error_t je;
	CURLcode rc;

	memset(h, 0, sizeof(*h));
	if (!c || !buf) {
		curl_easy_cleanup(c);
		free(buf);
		return -1;
	}
	snprintf(url, sizeof(url), "%s%s", is->url, path);
	snprintf(tm, sizeof(tm), "%ld", (long)time(NULL) + skew);
	if (priv) {
		ss = hce_iss_sign_string(method, path, key, reqid, tm, (const uint8_t *)body, bl);
		sig = hce_iss_sign(priv, ss);
		snprintf(line, sizeof(line), "X-HCE-Key: %s", key);
		hd = curl_slist_append(hd, line);
		snprintf(line, sizeof(line), "X-HCE-Request-Id: %s", reqid);
		hd = curl_slist_append(hd, line);
		snprintf(line, sizeof(line), "X-HCE-Time: %s", tm);
		hd = curl_slist_append(hd, line);
		snprintf(line, sizeof(line), "X-HCE-Signature: %s", sig);
		hd = curl_slist_append(hd, line);
		free(ss);
		free(sig);
	}
	hd = curl_slist_append(hd, "Content-Type: application/json");
	hd = curl_slist_append(hd, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, is->cert);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, buf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (!strcmp(method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)bl);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
		snprintf(h->raw, sizeof(h->raw), "%s", buf);
		h->body = json_loads(buf, 0, &je);
	}
	curl_slist_free_all(hd);
	curl_easy_cleanup(c);
	free(buf);
	return rc == CURLE_OK ? 0 : -1;
}

static void http_free(struct http *h)
{
	json_decref(h->body);
	h->body = NULL;
}

static const char *jstr(const json_t *o, const char *path1, const char *path2)
{
	const json_t *j = json_object_get(o, path1);

	if (path2)
		j = json_object_get(j, path2);
	return json_string_value(j);
}

static int64_t jint(const json_t *o, const char *path1, const char *path2)
{
	const json_t *j = json_object_get(o, path1);

	if (path2)
		j = json_object_get(j, path2);
	return json_is_integer(j) ? (int64_t)json_integer_value(j) : -999999;
}

static int issuer_start(struct issuer *is)
{
	char cmd[1024];
	int i;

	is->pid = fork();
	if (is->pid < 0)
		return -1;
	if (!is->pid) {
		char log[160];
		FILE *f;

		snprintf(log, sizeof(log), "%s/serve.log", is->dir);
		f = freopen(log, "a", stderr);
		(void)f;
		/* Not the test's stdout: a killed test must not leave a server holding its pipe. */
		f = freopen("/dev/null", "w", stdout);
		(void)f;
		execl(is->bin, is->bin, "-c", is->conf, "serve", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100; i++) {
		snprintf(cmd, sizeof(cmd), "curl -sf --cacert %s %s/v1/health >/dev/null 2>&1",
			 is->cert, is->url);
		if (!run(cmd))
			return 0;
		usleep(50000);
	}
	return -1;
}

static void issuer_kill(struct issuer *is, int sig)
{
	if (is->pid > 0) {
		kill(is->pid, sig);
		waitpid(is->pid, NULL, 0);
		is->pid = 0;
	}
}

/* Run an admin subcommand; its stdout (first 4 KiB) in out. Returns the exit status. */
static int admin(struct issuer *is, char *out, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int admin(struct issuer *is, char *out, size_t cap, const char *fmt, ...)
{
	char args[512], cmd[1024];
	va_list ap;
	FILE *p;
	size_t n = 0;
	int rc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s -c %s %s 2>>%s/admin.log", is->bin, is->conf, args, is->dir);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (out) {
		n = fread(out, 1, cap - 1, p);
		out[n] = '\0';
	} else {
		char sink[256];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	rc = pclose(p);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Value after "key " in admin output. */
static int admin_field(const char *out, const char *key, char *val, size_t cap)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "%s ", key);
	p = strstr(out, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	while (p[n] && p[n] != '\n' && n + 1 < cap) {
		val[n] = p[n];
		n++;
	}
	val[n] = '\0';
	return 0;
}

static int pg_reset(const char *url)
{
	static const char *const t[] = { "discrepancies", "requests", "loads", "txns", "tokens",
					 "terminals", "devices", "enrol_codes", "topups", "accounts",
					 "meta" };
	char err[ISDB_ERR_MAX], sql[96];
	struct isdb *db;
	size_t i;

	if (isdb_open(url, &db, err)) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(sql, sizeof(sql), "DROP TABLE IF EXISTS %s CASCADE", t[i]);
		if (isdb_exec(db, sql, 0, NULL, NULL)) {
			fprintf(stderr, "%s\n", isdb_error(db));
			isdb_close(db);
			return -1;
		}
	}
	isdb_close(db);
	return 0;
}

static int issuer_setup(struct issuer *is)
{
	const char *dbenv = getenv("HCE_ISSUER_DB"), *top = getenv("HCE_TOP");
	char cmd[1024], path[256];
	FILE *f;

	memset(is, 0, sizeof(*is));
	is->bin = getenv("HCE_ISSUER_BIN");
	if (!is->bin) {
		static char b[256];

		snprintf(b, sizeof(b), "%s/build/userspace/release/bin/hce-issuer", top ? top : ".");
		is->bin = b;
	}
	snprintf(is->dir, sizeof(is->dir), "/tmp/hce-issuer-test-XXXXXX");
	if (!mkdtemp(is->dir))
		return -1;
	snprintf(path, sizeof(path), "%s/softhsm2.conf", is->dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\n", is->dir);
	fclose(f);
	setenv("SOFTHSM2_CONF", path, 1);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/tokens && softhsm2-util --init-token --free"
		 " --label hce-issuer --pin 246810 --so-pin 13579 >/dev/null && echo 246810 > %s/pin"
		 " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
		 " -keyout %s/key.pem -out %s/cert.pem -days 2 -subj /CN=localhost"
		 " -addext subjectAltName=IP:127.0.0.1 2>/dev/null", is->dir, is->dir, is->dir,
		 is->dir);
	if (run(cmd))
		return -1;
	snprintf(is->cert, sizeof(is->cert), "%s/cert.pem", is->dir);
	is->port = free_port();
	snprintf(is->url, sizeof(is->url), "https://127.0.0.1:%d", is->port);
	if (!strcmp(dbenv, "sqlite")) {
		snprintf(is->db, sizeof(is->db), "sqlite:%s/issuer.db", is->dir);
	} else {
		snprintf(is->db, sizeof(is->db), "%s", dbenv);
		if (pg_reset(is->db))
			return -1;
	}
	snprintf(is->conf, sizeof(is->conf), "%s/hce-issuer.conf", is->dir);
	f = fopen(is->conf, "w");
	if (!f)
		return -1;
	fprintf(f, "[issuer]\ndatabase = %s\nlisten = 127.0.0.1:%d\ncert = %s/cert.pem\n"
		"key = %s/key.pem\nmax-body = 262144\nlong-poll-max = 20\n[accounts]\n"
		"offline-cap-amount = 5000\noffline-cap-count = 5\n[hsm]\npin-file = %s/pin\n",
		is->db, is->port, is->dir, is->dir, is->dir);
	fclose(f);
	if (admin(is, NULL, 0, "init"))
		return -1;
	return issuer_start(is);
}

static void issuer_teardown(struct issuer *is)
{
	char cmd[128];

	issuer_kill(is, SIGTERM);
	if (is->dir[0] && !getenv("HCE_ISSUER_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", is->dir);
		run(cmd);
	}
}

/* A device: signing and sealing key pairs, and its enrolment. */
struct device {
	EVP_PKEY *sign, *seal;
	char key[48];		/* "dev:<id>" */
	char account[24];
	json_t *token;
	uint8_t serial[10];
	char serial_hex[21];
	struct hce_card_keys keys;
	int reqno;
};

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

static void next_id(struct device *d, char *id, size_t cap)
{
	snprintf(id, cap, "req-%d-%d", getpid(), ++d->reqno);
}

/* Take a token: unseal its keys with the device key. 0 or -1. */
static int take_token(struct device *d, json_t *tok)
{
	uint8_t pt[512];
	size_t n;

	json_decref(d->token);
	d->token = json_incref(tok);
	if (hce_iss_hex_exact(jstr(tok, "serial", NULL), d->serial, 10))
		return -1;
	hce_iss_hex(d->serial, 10, d->serial_hex);
	if (hce_iss_unseal(d->seal, d->serial, json_object_get(tok, "sealed_keys"), pt, sizeof(pt),
			   &n))
		return -1;
	if (hce_iss_keys_decode(pt, n, &d->keys))
		return -1;
	hce_wipe(pt, sizeof(pt));
	return 0;
}

static int enrol(struct issuer *is, struct device *d, const char *code, struct http *h)
{
	char *sp = der_hex(d->sign), *sl = der_hex(d->seal), *body, id[48];
	json_t *o = json_pack("{s:s,s:{s:s,s:s,s:s}}", "enrol_code", code, "device", "sign_pub", sp,
			      "seal_pub", sl, "name", "test phone");
	int rc;

	body = json_dumps(o, JSON_COMPACT);
	next_id(d, id, sizeof(id));
	rc = request(is, "POST", "/v1/enrol", "enrol", d->sign, id, body, 0, h);
	free(sp);
	free(sl);
	free(body);
	json_decref(o);
	if (rc || h->status != 200)
		return -1;
	snprintf(d->key, sizeof(d->key), "dev:%s", jstr(h->body, "device_id", NULL));
	snprintf(d->account, sizeof(d->account), "%s", jstr(h->body, "account_id", NULL));
	return take_token(d, json_object_get(h->body, "token"));
}

static void device_new(struct device *d)
{
	memset(d, 0, sizeof(*d));
	d->sign = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	d->seal = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static void device_free(struct device *d)
{
	EVP_PKEY_free(d->sign);
	EVP_PKEY_free(d->seal);
	json_decref(d->token);
	hce_card_keys_wipe(&d->keys);
}

/* A purse personalised from the token (EF 0015, balance, keys). */
static int card_from_token(struct pf *f, const struct device *d)
{
	memset(f, 0, sizeof(*f));
	pf_default_card(&f->card);
	if (hce_iss_hex_exact(jstr(d->token, "ef0015", NULL), f->card.ef0015, 30))
		return -1;
	/* signed (an account in the overdraft): the card keeps its two's complement */
	f->card.balance = hce_balance_raw((int32_t)jint(d->token, "balance", NULL));
	f->card.max_balance = (uint32_t)jint(d->token, "max_balance", NULL);
	f->card.overdraft_limit = (uint32_t)jint(d->token, "overdraft", NULL);
	f->keys = d->keys;
	if (pf_open(f))
		return -1;
	return pf_xfer_hex(f, "00A4040008A000000632010105") == HCE_SW_OK ? 0 : -1;
}

static void record_of(const struct device *d, const struct pf_tx *t, uint8_t type,
		      struct hce_iss_record *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->serial, d->serial, 10);
	r->counter = t->counter;
	r->type = type;
	r->amount = t->amount;
	memcpy(r->terminal, t->terminal, 6);
	r->ttc = hce_get_be32(t->ttc);
	memcpy(r->date, t->date, 4);
	memcpy(r->time, t->time, 3);
	memcpy(r->tac, t->tac, 4);
}

static char *records_body(const char *serial, int64_t card_balance,
			  const struct hce_iss_record *r, size_t n)
{
	json_t *a = json_array(), *o;
	char *s;
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, hce_iss_record_json(&r[i]));
	if (serial)
		o = json_pack("{s:s,s:I,s:o}", "serial", serial, "card_balance",
			      (json_int_t)card_balance, "records", a);
	else
		o = json_pack("{s:o}", "records", a);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

struct iss_fixture_ctx {
	struct issuer *is;
	struct device *d;
	struct pf *card;
};

static int count_result(const json_t *body, const char *want)
{
	const json_t *a = json_object_get(body, "results");
	size_t i;
	int n = 0;

	for (i = 0; i < json_array_size(a); i++)
		n += !strcmp(jstr(json_array_get(a, i), "result", NULL), want);
	return n;
}

/* Account figures from `show`: balance, cleared purchases, their count. */
static int show(struct issuer *is, const char *account, int64_t *bal, int64_t *cleared,
		int64_t *count)
{
	char out[8192];
	json_t *o;
	json_error_t je;

	if (admin(is, out, sizeof(out), "show --account %s", account))
		return -1;
	o = json_loads(out, 0, &je);
	if (!o)
		return -1;
	*bal = jint(o, "balance", NULL);
	*cleared = jint(o, "cleared_purchases", NULL);
	*count = jint(o, "cleared_count", NULL);
	json_decref(o);
	return 0;
}

struct terminal {
	EVP_PKEY *key;
	char id[13];
	char principal[24];
};

static int terminal_add(struct issuer *is, struct terminal *t, const uint8_t id[6])
{
	char path[160];
	FILE *f;

	t->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	hce_iss_hex(id, 6, t->id);
	snprintf(t->principal, sizeof(t->principal), "term:%s", t->id);
	snprintf(path, sizeof(path), "%s/term-%s.pem", is->dir, t->id);
	f = fopen(path, "w");
	if (!f || !PEM_write_PUBKEY(f, t->key)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	return admin(is, NULL, 0, "terminal-add --id %s --pubkey %s", t->id, path);
}

FIXTURE(iss) {
	struct issuer is;
	struct device d;
	char code[40];
	struct pf card;
	int card_open;
};

FIXTURE_SETUP(iss)
{
	char out[512];

	if (!getenv("HCE_ISSUER_DB") || getenv("HCE_ISSUER_BENCH"))
		SKIP(return, "HCE_ISSUER_DB unset: run by tests/host.d/70-issuer-sqlite and 71-issuer-pg");
	ASSERT_EQ(0, issuer_setup(&self->is));
	ASSERT_EQ(0, admin(&self->is, out, sizeof(out), "account-create --name alice"));
	ASSERT_EQ(0, admin_field(out, "enrol-code", self->code, sizeof(self->code)));
	device_new(&self->d);
	self->card_open = 0;
}

FIXTURE_TEARDOWN(iss)
{
	if (!getenv("HCE_ISSUER_DB") || getenv("HCE_ISSUER_BENCH"))
		return;
	if (self->card_open)
		pf_close(&self->card);
	device_free(&self->d);
	issuer_teardown(&self->is);
}

/* Top up before enrolling, enrol, open the card. */
static int funded_card(struct issuer *is, struct device *d, const char *code, int64_t amount,
		       struct pf *card, int *open)
{
	char out[512], acct[24];
	struct http h;
	int rc;

	rc = admin(is, out, sizeof(out), "account-create --name bob");
	if (rc || admin_field(out, "account", acct, sizeof(acct)))
		return -1;
	(void)code;
	if (admin_field(out, "enrol-code", out + 256, 40))
		return -1;
	if (admin(is, NULL, 0, "topup --account %s --amount %" PRId64 " --request-id web-1", acct,
		  amount))
		return -1;
	rc = enrol(is, d, out + 256, &h);
	http_free(&h);
	if (rc || card_from_token(card, d))
		return -1;
	*open = 1;
	return 0;
}

TEST_F(iss, enrol_issues_token_sealed_for_the_device_code_single_use)
{
	struct http h;
	struct device other;
	uint8_t ef[30], f[8], date[4], tm[3];

	if (!getenv("HCE_ISSUER_DB") || getenv("HCE_ISSUER_BENCH"))
		SKIP(return, "HCE_ISSUER_DB unset (or benchmark run)");
	ASSERT_EQ(0, enrol(&self->is, &self->d, self->code, &h));
	/* The serial is not the account number, EF 0015 carries it and a one-day validity. */
	EXPECT_EQ(NULL, strstr(self->d.serial_hex, self->d.account));
	ASSERT_EQ(0, hce_iss_hex_exact(jstr(self->d.token, "ef0015", NULL), ef, 30));
	EXPECT_EQ(0, memcmp(ef + 10, self->d.serial, 10));
	EXPECT_EQ(86400, jint(self->d.token, "not_after", NULL) - jint(self->d.token, "not_before", NULL));
	hce_iss_bcd_now(jint(self->d.token, "not_before", NULL), date, tm);
	EXPECT_EQ(0, memcmp(ef + 20, date, 4));
	EXPECT_EQ(5000, jint(self->d.token, "offline_cap", "amount"));
	EXPECT_EQ(5, jint(self->d.token, "offline_cap", "count"));
	EXPECT_EQ(0, jint(self->d.token, "balance", NULL));
	/* Three keys came sealed for this device; they differ per card (diversified). */
	EXPECT_TRUE(self->d.keys.dpk[0].present && self->d.keys.dlk[0].present &&
		    self->d.keys.dtk.present);
	EXPECT_NE(0, memcmp(self->d.keys.dpk[0].key, self->d.keys.dtk.key, 16));
	hce_iss_factor(self->d.serial, f);
	EXPECT_EQ(0, memcmp(f, self->d.serial + 2, 8));
	http_free(&h);

	/* Another device cannot open this device's sealed keys. */
	device_new(&other);
	{
		uint8_t pt[512];
		size_t n;

		EXPECT_EQ(-1, hce_iss_unseal(other.seal, self->d.serial,
					     json_object_get(self->d.token, "sealed_keys"), pt,
					     sizeof(pt), &n));
	}
	/* The code is single use. */
	EXPECT_EQ(-1, enrol(&self->is, &other, self->code, &h));
	EXPECT_EQ(403, h.status);
	EXPECT_STREQ("bad_enrol_code", jstr(h.body, "error", NULL));
	http_free(&h);
	device_free(&other);
}

TEST_F(iss, purchases_clear_once_across_wallet_and_terminal_forged_tac_rejected)
{
	struct hce_iss_record r[4];
	struct terminal term;
	struct pf_tx t[4];
	struct http h;
	char *body, id[48], dout[4096];
	int64_t bal, cleared, count;
	uint32_t cb;
	int i;

	if (!getenv("HCE_ISSUER_DB") || getenv("HCE_ISSUER_BENCH"))
		SKIP(return, "HCE_ISSUER_DB unset (or benchmark run)");
	ASSERT_EQ(0, funded_card(&self->is, &self->d, self->code, 5000, &self->card,
				 &self->card_open));
	{
		uint8_t tid[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x00 };

		ASSERT_EQ(0, terminal_add(&self->is, &term, tid));
	}
	for (i = 0; i < 4; i++) {
		t[i] = pf_tx_make(100 + i, 0);
		hce_put_be32(t[i].ttc, 0x200 + i);
		ASSERT_EQ(HCE_SW_OK, pf_purchase(&self->card, &t[i], HCE_TX_PURCHASE, 0, 0, NULL));
		ASSERT_TRUE(t[i].mac_ok);
		record_of(&self->d, &t[i], HCE_TX_PURCHASE, &r[i]);
	}
	ASSERT_EQ(0, hce_purse_balance(self->card.purse, &cb));
	EXPECT_EQ(5000 - 406, cb);

	/* The terminal reports 0..2 first. */
	body = records_body(NULL, 0, r, 3);
	ASSERT_EQ(0, request(&self->is, "POST", "/v1/terminal/batch", term.principal, term.key,
			     "batch-1", body, 0, &h));
	free(body);
	ASSERT_EQ(200, h.status) {
		TH_LOG("%s", h.raw);
	}
	EXPECT_EQ(3, count_result(h.body, "accepted"));
	http_free(&h);

	/* The wallet reports all four: three already counted, one new. */
	body = records_body(self->d.serial_hex, cb, r, 4);
	next_id(&self->d, id, sizeof(id));
	ASSERT_EQ(0, request(&self->is, "POST", "/v1/wallet/sync", self->d.key, self->d.sign, id,
			     body, 0, &h));
	free(body);
	ASSERT_EQ(200, h.status) {
		TH_LOG("%s", h.raw);
	}
	EXPECT_EQ(3, count_result(h.body, "duplicate"));
	EXPECT_EQ(1, count_result(h.body, "accepted"));
	EXPECT_EQ(5000 - 406, jint(h.body, "account_balance", NULL));
	EXPECT_EQ(cb, jint(h.body, "card_balance_expected", NULL));
	EXPECT_TRUE(json_is_true(json_object_get(h.body, "cap_restored")));
	EXPECT_EQ(5000, jint(h.body, "offline_cap", "amount"));
	http_free(&h);

	/* A forged TAC and an altered amount: rejected per record, nothing counted. */
	r[3].tac[0] ^= 0x55;
	r[2].amount += 1;
	body = records_body(NULL, 0, r + 2, 2);
	ASSERT_EQ(0, request(&self->is, "POST", "/v1/terminal/batch", term.principal, term.key,
			     "batch-2", body, 0, &h));
	free(body);
	ASSERT_EQ(200, h.status);
	EXPECT_EQ(2, count_result(h.body, "bad_tac"));
	EXPECT_EQ(0, jint(h.body, "accepted", NULL));
	http_free(&h);

	ASSERT_EQ(0, show(&self->is, self->d.account, &bal, &cleared, &count));
	EXPECT_EQ(5000 - 406, bal);
	EXPECT_EQ(406, cleared);
	EXPECT_EQ(4, count);
	ASSERT_EQ(0, admin(&self->is, dout, sizeof(dout), "discrepancies"));
	EXPECT_NE(NULL, strstr(dout, "bad_tac"));
	EXPECT_NE(NULL, strstr(dout, "discrepancies 2"));
	EXPECT_EQ(0, admin(&self->is, dout, sizeof(dout), "reconcile"));
	EXPECT_NE(NULL, strstr(dout, "reconcile ok"));
	EVP_PKEY_free(term.key);
}

static int signed_post(struct issuer *is, struct device *d, const char *path, json_t *o,
		       struct http *h);

/* One wallet sync of the card's records: results in h (caller frees). */
static int od_sync(struct iss_fixture_ctx *x, const struct hce_iss_record *r, size_t n,
		   struct http *h)
{
	uint32_t cb;
	char *body, id[48];
	int rc;

	if (hce_purse_balance(x->card->purse, &cb))
		return -1;
	body = records_body(x->d->serial_hex, hce_balance_value(cb), r, n);
	next_id(x->d, id, sizeof(id));
	rc = request(x->is, "POST", "/v1/wallet/sync", x->d->key, x->d->sign, id, body, 0, h);
	free(body);
	return rc;
}

/*
 * Overdraft (issuer.md): an account with overdraft 5.00 and 3.00 on it gets a token that lets
 * the card spend to -5.00; its cleared fares take the account to -5.00 with no discrepancy
 * (account = loads - cleared purchases). A fare the card really paid beyond the account's
 * limit (here: a card personalised with a wider limit than the account's) still clears -
 * the card paid - and is recorded as an overdraft_exceeded discrepancy; a renewed token then
 * starts the card at -5.00, never lower.
 */
TEST_F(iss, overdraft_clears_below_zero_beyond_the_limit_is_a_discrepancy)
{
	struct iss_fixture_ctx x = { &self->is, &self->d, &self->card };
	struct hce_iss_record r[5];
	struct pf_tx t[5];
	struct http h;
	char out[1024], acct[24], code[40], dout[4096];
	int64_t bal, cleared, count;
	json_t *tok, *o;
	json_error_t je;
	int i;

	if (!getenv("HCE_ISSUER_DB") || getenv("HCE_ISSUER_BENCH"))
		SKIP(return, "HCE_ISSUER_DB unset (or benchmark run)");
	/* beyond the 3-byte field: refused */
	EXPECT_NE(0, admin(&self->is, out, sizeof(out),
			   "account-create --name big --overdraft 16777216"));
	ASSERT_EQ(0, admin(&self->is, out, sizeof(out), "account-create --name od --overdraft 500"));
	ASSERT_EQ(0, admin_field(out, "account", acct, sizeof(acct)));
	ASSERT_EQ(0, admin_field(out, "enrol-code", code, sizeof(code)));
	ASSERT_EQ(0, admin(&self->is, NULL, 0, "topup --account %s --amount 300 --request-id od-1",
			   acct));
	ASSERT_EQ(0, enrol(&self->is, &self->d, code, &h));
	http_free(&h);
	EXPECT_EQ(300, jint(self->d.token, "balance", NULL));
	EXPECT_EQ(500, jint(self->d.token, "overdraft", NULL));
	/* the card may go 2.00 further than the account allows: a card the issuer cannot stop */
	ASSERT_EQ(0, card_from_token(&self->card, &self->d));
	self->card_open = 1;
	pf_close(&self->card);
	self->card_open = 0;
	self->card.card.overdraft_limit = 700;
	self->card.keys = self->d.keys;		/* pf_close wiped them */
	ASSERT_EQ(0, pf_open(&self->card));
	self->card_open = 1;
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(&self->card, "00A4040008A000000632010105"));
	for (i = 0; i < 5; i++) {
		t[i] = pf_tx_make(200, 0);
		hce_put_be32(t[i].ttc, 0x300 + i);
		if (i == 4) {
			/* four fares: the account at -5.00, exactly its limit, nothing to report */
			ASSERT_EQ(0, od_sync(&x, r, 4, &h));
			ASSERT_EQ(200, h.status) {
				TH_LOG("%s", h.raw);
			}
			EXPECT_EQ(4, count_result(h.body, "accepted"));
			EXPECT_EQ(-500, jint(h.body, "account_balance", NULL));
			EXPECT_EQ(-500, jint(h.body, "card_balance_expected", NULL));
			http_free(&h);
		}
		ASSERT_EQ(HCE_SW_OK, pf_purchase(&self->card, &t[i], HCE_TX_PURCHASE, 0, 0, NULL))
			TH_LOG("fare %d", i + 1);
		record_of(&self->d, &t[i], HCE_TX_PURCHASE, &r[i]);
	}
	ASSERT_EQ(0, show(&self->is, acct, &bal, &cleared, &count));
	EXPECT_EQ(-500, bal);
	EXPECT_EQ(800, cleared);
	ASSERT_EQ(0, admin(&self->is, dout, sizeof(dout), "discrepancies"));
	EXPECT_EQ(NULL, strstr(dout, "overdraft_exceeded"));
	/* the fifth: the card paid, so it clears, to -7.00, and is reported */
	ASSERT_EQ(0, od_sync(&x, r, 5, &h));
	ASSERT_EQ(200, h.status);
	EXPECT_EQ(4, count_result(h.body, "duplicate"));
	EXPECT_EQ(1, count_result(h.body, "accepted"));
	EXPECT_EQ(-700, jint(h.body, "account_balance", NULL));
	EXPECT_EQ(-700, jint(h.body, "card_balance_expected", NULL));
	EXPECT_TRUE(json_is_true(json_object_get(h.body, "cap_restored")));
	http_free(&h);
	ASSERT_EQ(0, admin(&self->is, dout, sizeof(dout), "show --account %s", acct));
	o = json_loads(dout, 0, &je);
	ASSERT_NE(NULL, o);
	EXPECT_EQ(-700, jint(o, "balance", NULL));
	EXPECT_EQ(700, jint(o, "overdraft_in_use", NULL));
	EXPECT_EQ(500, jint(o, "overdraft", NULL));
	json_decref(o);
	ASSERT_EQ(0, admin(&self->is, dout, sizeof(dout), "discrepancies"));
	EXPECT_NE(NULL, strstr(dout, "overdraft_exceeded"));
	EXPECT_NE(NULL, strstr(dout, self->d.serial_hex));
	EXPECT_NE(NULL, strstr(dout, "discrepancies 1")) TH_LOG("%s", dout);
	EXPECT_EQ(0, admin(&self->is, dout, sizeof(dout), "reconcile"));
	EXPECT_NE(NULL, strstr(dout, "overdraft_in_use 700 BEYOND_LIMIT ok")) TH_LOG("%s", dout);
	EXPECT_NE(NULL, strstr(dout, "reconcile ok"));
	/* card_balance outside -16777215..2^31-1: refused */
	ASSERT_EQ(0, signed_post(&self->is, &self->d, "/v1/wallet/sync",
				 json_pack("{s:s,s:I,s:[]}", "serial", self->d.serial_hex,
					   "card_balance", (json_int_t)-16777216, "records"), &h));
	EXPECT_EQ(400, h.status);
	http_free(&h);
	/* a renewed token starts the card at -5.00 (the limit), not at -7.00 */
	ASSERT_EQ(0, signed_post(&self->is, &self->d, "/v1/token/renew",
				 json_pack("{s:s}", "serial", self->d.serial_hex), &h));
	ASSERT_EQ(200, h.status) {
		TH_LOG("%s", h.raw);
	}
	tok = json_incref(json_object_get(h.body, "token"));
	http_free(&h);
	ASSERT_EQ(0, take_token(&self->d, tok));
	json_decref(tok);
	EXPECT_EQ(-500, jint(self->d.token, "balance", NULL));
}

TEST_F(iss, replayed_malformed_oversized_unauthenticated_requests_change_nothing)
{
	struct hce_iss_record r;
	struct pf_tx t;
	struct http h, h2;
	char *body, *big;
	int64_t bal, cleared, count;

	if (!getenv("HCE_ISSUER_DB") || getenv("HCE_ISSUER_BENCH"))
		SKIP(return, "HCE_ISSUER_DB unset (or benchmark run)");
	ASSERT_EQ(0, funded_card(&self->is, &self->d, self->code, 3000, &self->card,
				 &self->card_open));
	t = pf_tx_make(250, 1);
	ASSERT_EQ(HCE_SW_OK, pf_purchase(&self->card, &t, HCE_TX_PURCHASE, 0, 0, NULL));
	record_of(&self->d, &t, HCE_TX_PURCHASE, &r);
	body = records_body(self->d.serial_hex, 2750, &r, 1);

	ASSERT_EQ(0, request(&self->is, "POST", "/v1/wallet/sync", self->d.key, self->d.sign,
			     "sync-A", body, 0, &h));
	ASSERT_EQ(200, h.status);
	/* Replay: the same stored answer, nothing counted twice. */
	ASSERT_EQ(0, request(&self->is, "POST", "/v1/wallet/sync", self->d.key, self->d.sign,
			     "sync-A", body, 0, &h2));
	EXPECT_EQ(200, h2.status);
	EXPECT_STREQ(h.raw, h2.raw);
	http_free(&h);
	http_free(&h2);
	/* Same id, other body. */
	ASSERT_EQ(0, request(&self->is, "POST", "/v1/wallet/sync", self->d.key, self->d.sign,
			     "sync-A", "{\"serial\":\"00\"}", 0, &h));
	EXPECT_EQ(409, h.status);
	EXPECT_STREQ("replay_conflict", jstr(h.body, "error", NULL));
	http_free(&h);
	/* Malformed JSON, wrong types, unknown record fields. */
	ASSERT_EQ(0, request(&self->is, "POST", "/v1/wallet/sync", self->d.key, self->d.sign,
			     "bad-1", "{\"serial\": ", 0, &h));
	EXPECT_EQ(400, h.status);
	EXPECT_STREQ("bad_json", jstr(h.body, "error", NULL));
	http_free(&h);
	ASSERT_EQ(0, request(&self->is, "POST", "/v1/wallet/sync", self->d.key, self->d.sign,
			     "bad-2", "{\"serial\":\"zz\",\"card_balance\":1,\"records\":[]}", 0, &h));
	EXPECT_EQ(400, h.status);
	EXPECT_STREQ("bad_field", jstr(h.body, "error", NULL));
	http_free(&h);
	{
		char b2[512];

		snprintf(b2, sizeof(b2), "{\"serial\":\"%s\",\"card_balance\":1,\"records\":[{\"x\":1}]}",
			 self->d.serial_hex);
		ASSERT_EQ(0, request(&self->is, "POST", "/v1/wallet/sync", self->d.key, self->d.sign,
				     "bad-3", b2, 0, &h));
		EXPECT_EQ(400, h.status);
		EXPECT_STREQ("bad_record", jstr(h.body, "error", NULL));
		http_free(&h);
	}
	/* Oversized (JSON 413 from the service). */
	big = malloc(300001);
	ASSERT_NE(NULL, big);
	memset(big, ' ', 300000);
	big[0] = '{';
	big[299999] = '}';
	big[300000] = '\0';
	ASSERT_EQ(0, request(&self->is, "POST", "/v1/wallet/sync", self->d.key, self->d.sign,
			     "big-1", big, 0, &h));
	EXPECT_EQ(413, h.status);
	EXPECT_STREQ("too_large", jstr(h.body, "error", NULL));
	http_free(&h);
	free(big);
	/* Authentication: no headers, wrong key, stale time, tampered body. */
	ASSERT_EQ(0, request(&self->is, "POST", "/v1/wallet/sync", NULL, NULL, NULL, body, 0, &h));
	EXPECT_EQ(401, h.status);
	http_free(&h);
	{
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

		ASSERT_EQ(0, request(&self->is, "POST", "/v1/wallet/sync", self->d.key, k, "auth-1",
				     body, 0, &h));
		EXPECT_EQ(401, h.status);
		EXPECT_STREQ("bad_signature", jstr(h.body, "error", NULL));
		http_free(&h);
		EVP_PKEY_free(k);
	}
	ASSERT_EQ(0, request(&self->is, "POST", "/v1/wallet/sync", self->d.key, self->d.sign,
			     "auth-2", body, -1000, &h));
	EXPECT_EQ(401, h.status);
	EXPECT_STREQ("stale", jstr(h.body, "error", NULL));
	http_free(&h);
	ASSERT_EQ(0, request(&self->is, "POST", "/v1/wallet/sync", "dev:12345", self->d.sign,
			     "auth-3", body, 0, &h));
	EXPECT_EQ(401, h.status);
	http_free(&h);
	/* A device may not act as a terminal. */
	ASSERT_EQ(0, request(&self->is, "POST", "/v1/terminal/batch", self->d.key, self->d.sign,
			     "auth-4", "{\"records\":[]}", 0, &h));
	EXPECT_EQ(403, h.status);
	http_free(&h);
	free(body);

	ASSERT_EQ(0, show(&self->is, self->d.account, &bal, &cleared, &count));
	EXPECT_EQ(2750, bal);
	EXPECT_EQ(1, count);
}

struct poll_arg {
	struct issuer *is;
	struct device *d;
	struct http h;
	double seconds;
	int rc;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *long_poll(void *arg)
{
	struct poll_arg *a = arg;
	char path[128], id[48];
	double t0 = now_s();

	snprintf(path, sizeof(path), "/v1/wallet/loads?serial=%s&wait=15", a->d->serial_hex);
	snprintf(id, sizeof(id), "poll-%d", getpid());
	a->rc = request(a->is, "GET", path, a->d->key, a->d->sign, id, NULL, 0, &a->h);
	a->seconds = now_s() - t0;
	return NULL;
}

static int signed_post(struct issuer *is, struct device *d, const char *path, json_t *o,
		       struct http *h)
{
	char *body = json_dumps(o, JSON_COMPACT), id[48];
	int rc;

	json_decref(o);
	next_id(d, id, sizeof(id));
	rc = request(is, "POST", path, d->key, d->sign, id, body, 0, h);
	free(body);
	return rc;
}

/* The first pending load's id (GET /v1/wallet/loads, no wait). */
static int iss_pending(struct issuer *is, struct device *d, char load_id[24])
{
	char path[128], id[48];
	struct http h;
	const char *v;
	int rc = -1;

	snprintf(path, sizeof(path), "/v1/wallet/loads?serial=%s&wait=0", d->serial_hex);
	next_id(d, id, sizeof(id));
	if (request(is, "GET", path, d->key, d->sign, id, NULL, 0, &h) || h.status != 200)
		goto out;
	v = jstr(json_array_get(json_object_get(h.body, "pending_loads"), 0), "load_id", NULL);
	if (v) {
		snprintf(load_id, 24, "%s", v);
		rc = 0;
	}
out:
	http_free(&h);
	return rc;
}

TEST_F(iss, web_topup_reaches_wallet_by_long_poll_and_loads_with_issuer_mac2)
{
	struct poll_arg pa = { .is = &self->is, .d = &self->d };
	pthread_t th;
	uint8_t apdu[64], term[6], init[16];
	char hinit[33], load_id[24], tac[9];
	const json_t *ld;
	struct http h;
	uint32_t bal;

	if (!getenv("HCE_ISSUER_DB") || getenv("HCE_ISSUER_BENCH"))
		SKIP(return, "HCE_ISSUER_DB unset (or benchmark run)");
	ASSERT_EQ(0, funded_card(&self->is, &self->d, self->code, 1000, &self->card,
				 &self->card_open));
	ASSERT_EQ(0, pthread_create(&th, NULL, long_poll, &pa));
	usleep(700000);
	/* The holder tops up on the web (the admin command stands for the web back office). */
	ASSERT_EQ(0, admin(&self->is, NULL, 0, "topup --account %s --amount 2345 --request-id web-2",
			   self->d.account));
	pthread_join(th, NULL);
	ASSERT_EQ(0, pa.rc);
	ASSERT_EQ(200, pa.h.status) {
		TH_LOG("%s", pa.h.raw);
	}
	EXPECT_LT(pa.seconds, 5.0);
	ld = json_array_get(json_object_get(pa.h.body, "pending_loads"), 0);
	ASSERT_NE(NULL, ld);
	EXPECT_EQ(2345, jint(ld, "amount", NULL));
	snprintf(load_id, sizeof(load_id), "%s", jstr(ld, "load_id", NULL));
	ASSERT_EQ(0, hce_iss_hex_exact(jstr(ld, "terminal", NULL), term, 6));
	http_free(&pa.h);

	/* INITIALIZE FOR LOAD on the real purse. */
	memcpy(apdu, "\x80\x50\x00\x02\x0B\x01", 6);
	hce_put_be32(apdu + 6, 2345);
	memcpy(apdu + 10, term, 6);
	apdu[16] = 0x10;
	ASSERT_EQ(HCE_SW_OK, pf_xfer(&self->card, apdu, 17));
	ASSERT_EQ(16, pf_data_len(&self->card));
	memcpy(init, self->card.rsp, 16);
	hce_iss_hex(init, 16, hinit);
	ASSERT_EQ(0, signed_post(&self->is, &self->d, "/v1/wallet/load/mac2",
				 json_pack("{s:s,s:s,s:s}", "load_id", load_id, "serial",
					   self->d.serial_hex, "init_response", hinit), &h));
	ASSERT_EQ(200, h.status) {
		TH_LOG("%s", h.raw);
	}
	/* CREDIT FOR LOAD with the issuer's MAC2: the purse accepts it. */
	memcpy(apdu, "\x80\x52\x00\x00\x0B", 5);
	ASSERT_EQ(0, hce_iss_hex_exact(jstr(h.body, "date", NULL), apdu + 5, 4));
	ASSERT_EQ(0, hce_iss_hex_exact(jstr(h.body, "time", NULL), apdu + 9, 3));
	ASSERT_EQ(0, hce_iss_hex_exact(jstr(h.body, "mac2", NULL), apdu + 12, 4));
	apdu[16] = 0x04;
	http_free(&h);
	ASSERT_EQ(HCE_SW_OK, pf_xfer(&self->card, apdu, 17));
	ASSERT_EQ(0, hce_purse_balance(self->card.purse, &bal));
	EXPECT_EQ(1000 + 2345, bal);
	hce_iss_hex(self->card.rsp, 4, tac);
	{
		/* A wrong TAC is refused, the right one confirms. */
		ASSERT_EQ(0, signed_post(&self->is, &self->d, "/v1/wallet/load/confirm",
					 json_pack("{s:s,s:s,s:s}", "load_id", load_id, "serial",
						   self->d.serial_hex, "tac", "00000000"), &h));
		EXPECT_EQ(422, h.status);
		http_free(&h);
		ASSERT_EQ(0, signed_post(&self->is, &self->d, "/v1/wallet/load/confirm",
					 json_pack("{s:s,s:s,s:s}", "load_id", load_id, "serial",
						   self->d.serial_hex, "tac", tac), &h));
		EXPECT_EQ(200, h.status) {
		TH_LOG("%s", h.raw);
	}
		http_free(&h);
	}
	/* A sync now agrees: card = account, no pending load left. */
	ASSERT_EQ(0, signed_post(&self->is, &self->d, "/v1/wallet/sync",
				 json_pack("{s:s,s:I,s:[]}", "serial", self->d.serial_hex,
					   "card_balance", (json_int_t)bal, "records"), &h));
	ASSERT_EQ(200, h.status);
	EXPECT_EQ(bal, jint(h.body, "card_balance_expected", NULL));
	EXPECT_EQ(3345, jint(h.body, "account_balance", NULL));
	EXPECT_EQ(0, json_array_size(json_object_get(h.body, "pending_loads")));
	http_free(&h);
	/* A MAC1 from the wrong amount is refused (no MAC2 for a different load). */
	ASSERT_EQ(0, admin(&self->is, NULL, 0, "topup --account %s --amount 10 --request-id web-3",
			   self->d.account));
	ASSERT_EQ(0, iss_pending(&self->is, &self->d, load_id));
	hce_put_be32(apdu + 6, 11);
	memcpy(apdu, "\x80\x50\x00\x02\x0B\x01", 5 + 1);
	memcpy(apdu + 10, term, 6);
	apdu[16] = 0x10;
	ASSERT_EQ(HCE_SW_OK, pf_xfer(&self->card, apdu, 17));
	hce_iss_hex(self->card.rsp, 16, hinit);
	ASSERT_EQ(0, signed_post(&self->is, &self->d, "/v1/wallet/load/mac2",
				 json_pack("{s:s,s:s,s:s}", "load_id", load_id, "serial",
					   self->d.serial_hex, "init_response", hinit), &h));
	EXPECT_EQ(422, h.status);
	EXPECT_STREQ("bad_mac1", jstr(h.body, "error", NULL));
	http_free(&h);
}

struct sync_arg {
	struct issuer *is;
	struct device *d;
	const char *body;
	const char *id;
	struct http h;
	int rc;
};

static void *sync_thread(void *arg)
{
	struct sync_arg *a = arg;

	a->rc = request(a->is, "POST", "/v1/wallet/sync", a->d->key, a->d->sign, a->id, a->body, 0,
			&a->h);
	return NULL;
}

TEST_F(iss, issuer_killed_mid_sync_then_retried_nothing_lost_or_doubled)
{
	static const int delays_us[] = { 0, 2000, 8000, 20000, 60000 };
	struct hce_iss_record r[60];
	struct pf_tx t;
	int64_t bal, cleared, count, want = 0;
	size_t i, k, done = 0;
	uint32_t cb;

	if (!getenv("HCE_ISSUER_DB") || getenv("HCE_ISSUER_BENCH"))
		SKIP(return, "HCE_ISSUER_DB unset (or benchmark run)");
	ASSERT_EQ(0, funded_card(&self->is, &self->d, self->code, 90000, &self->card,
				 &self->card_open));
	for (k = 0; k < sizeof(delays_us) / sizeof(delays_us[0]); k++) {
		struct sync_arg a = { .is = &self->is, .d = &self->d };
		char id[32], *body;
		pthread_t th;

		for (i = 0; i < 12; i++) {
			t = pf_tx_make((uint32_t)(10 + done), (unsigned int)done);
			ASSERT_EQ(HCE_SW_OK, pf_purchase(&self->card, &t, HCE_TX_PURCHASE, 0, 0, NULL));
			record_of(&self->d, &t, HCE_TX_PURCHASE, &r[done]);
			want += t.amount;
			done++;
		}
		ASSERT_EQ(0, hce_purse_balance(self->card.purse, &cb));
		/* Each sync carries every record so far: the earlier ones are duplicates. */
		body = records_body(self->d.serial_hex, cb, r, done);
		snprintf(id, sizeof(id), "kill-%zu", k);
		a.body = body;
		a.id = id;
		ASSERT_EQ(0, pthread_create(&th, NULL, sync_thread, &a));
		usleep((useconds_t)delays_us[k]);
		issuer_kill(&self->is, SIGKILL);
		pthread_join(th, NULL);
		http_free(&a.h);
		ASSERT_EQ(0, issuer_start(&self->is));
		/* The wallet retries with the same request id. */
		ASSERT_EQ(0, request(&self->is, "POST", "/v1/wallet/sync", self->d.key, self->d.sign,
				     id, body, 0, &a.h));
		ASSERT_EQ(200, a.h.status) {
		TH_LOG("%s", a.h.raw);
	}
		EXPECT_EQ(90000 - want, jint(a.h.body, "account_balance", NULL));
		EXPECT_EQ(cb, jint(a.h.body, "card_balance_expected", NULL));
		http_free(&a.h);
		free(body);
	}
	ASSERT_EQ(0, show(&self->is, self->d.account, &bal, &cleared, &count));
	EXPECT_EQ(90000 - want, bal);
	EXPECT_EQ(want, cleared);
	EXPECT_EQ((int64_t)done, count);
	if (count >= 0) {
		char out[4096];

		EXPECT_EQ(0, admin(&self->is, out, sizeof(out), "reconcile"));
		EXPECT_EQ(0, admin(&self->is, out, sizeof(out), "discrepancies"));
		EXPECT_NE(NULL, strstr(out, "discrepancies 0")) {
		TH_LOG("%s", out);
	}
	}
}

TEST_F(iss, revoke_puts_serial_on_denylist_renew_supersedes_old_token)
{
	uint8_t tid[6] = { 0x22, 0x22, 0x22, 0x22, 0x22, 0x22 };
	struct terminal term;
	struct http h;
	char old[21], out[1024];
	json_t *tok;

	if (!getenv("HCE_ISSUER_DB") || getenv("HCE_ISSUER_BENCH"))
		SKIP(return, "HCE_ISSUER_DB unset (or benchmark run)");
	ASSERT_EQ(0, enrol(&self->is, &self->d, self->code, &h));
	http_free(&h);
	ASSERT_EQ(0, terminal_add(&self->is, &term, tid));
	ASSERT_EQ(0, request(&self->is, "GET", "/v1/denylist", term.principal, term.key, "dl-1",
			     NULL, 0, &h));
	ASSERT_EQ(200, h.status);
	EXPECT_EQ(0, json_array_size(json_object_get(h.body, "serials")));
	http_free(&h);

	/* Renew: a new serial; the old one is revoked and published. */
	snprintf(old, sizeof(old), "%s", self->d.serial_hex);
	ASSERT_EQ(0, signed_post(&self->is, &self->d, "/v1/token/renew",
				 json_pack("{s:s}", "serial", old), &h));
	ASSERT_EQ(200, h.status) {
		TH_LOG("%s", h.raw);
	}
	tok = json_incref(json_object_get(h.body, "token"));
	http_free(&h);
	ASSERT_EQ(0, take_token(&self->d, tok));
	json_decref(tok);
	EXPECT_STRNE(old, self->d.serial_hex);
	ASSERT_EQ(0, request(&self->is, "GET", "/v1/denylist", term.principal, term.key, "dl-2",
			     NULL, 0, &h));
	ASSERT_EQ(1, json_array_size(json_object_get(h.body, "serials")));
	EXPECT_STREQ(old, json_string_value(json_array_get(json_object_get(h.body, "serials"), 0)));
	http_free(&h);
	/* The old token cannot be renewed again. */
	ASSERT_EQ(0, signed_post(&self->is, &self->d, "/v1/token/renew",
				 json_pack("{s:s}", "serial", old), &h));
	EXPECT_EQ(403, h.status);
	http_free(&h);

	/* The admin revokes the new one: it joins the list, the version moves. */
	ASSERT_EQ(0, admin(&self->is, out, sizeof(out), "revoke --serial %s --reason lost",
			   self->d.serial_hex));
	ASSERT_EQ(0, request(&self->is, "GET", "/v1/denylist", self->d.key, self->d.sign, "dl-3",
			     NULL, 0, &h));
	ASSERT_EQ(200, h.status);
	EXPECT_EQ(2, json_array_size(json_object_get(h.body, "serials")));
	EXPECT_EQ(2, jint(h.body, "version", NULL));
	http_free(&h);
	/* Sync of a revoked token still answers (its records must still clear) with its state. */
	ASSERT_EQ(0, signed_post(&self->is, &self->d, "/v1/wallet/sync",
				 json_pack("{s:s,s:i,s:[]}", "serial", self->d.serial_hex,
					   "card_balance", 0, "records"), &h));
	ASSERT_EQ(200, h.status);
	EXPECT_STREQ("revoked", jstr(h.body, "token", "state"));
	http_free(&h);
	EVP_PKEY_free(term.key);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Benchmark (bench/host.d/70-clearing sets HCE_ISSUER_BENCH=<records>): terminal batches of
 * 1000 records over HTTPS, records spread over 16 cards (one DTK derivation in the HSM per
 * change of card), every TAC verified and every record stored; then a wallet sync round trip.
 */
FIXTURE(bench) {
	struct issuer is;
};

FIXTURE_SETUP(bench)
{
	memset(&self->is, 0, sizeof(self->is));
}

/* Also after a failed assertion: no server or directory left behind. */
FIXTURE_TEARDOWN(bench)
{
	if (self->is.dir[0])
		issuer_teardown(&self->is);
}

/* Up to 50 minutes: bench/host.d/70-clearing picks the record count. */
TEST_F_TIMEOUT(bench, clearing_throughput_and_sync_round_trip, 3000)
{
	enum { CARDS = 16, BATCH = 1000, SYNCS = 50 };	/* dev[CARDS]: the syncing wallet */
	const char *nb = getenv("HCE_ISSUER_BENCH");
	struct device dev[CARDS + 1];
	struct terminal term;
	uint8_t tid[6] = { 0x77, 0x77, 0x00, 0x00, 0x00, 0x01 };
	double t0, t1, rt[SYNCS];
	long n, i, sent = 0, accepted = 0;
	char out[4096];
	int c;

	if (!nb || !getenv("HCE_ISSUER_DB"))
		SKIP(return, "benchmark: HCE_ISSUER_BENCH and HCE_ISSUER_DB unset");
	n = strtol(nb, NULL, 10);
	ASSERT_GT(n, 0);
	ASSERT_LE(n, CARDS * 65536L);	/* a card's counter is 16 bits */
	ASSERT_EQ(0, issuer_setup(&self->is));
	ASSERT_EQ(0, terminal_add(&self->is, &term, tid));
	for (c = 0; c <= CARDS; c++) {
		char code[40], acct[24];
		struct http h;

		device_new(&dev[c]);
		ASSERT_EQ(0, admin(&self->is, out, sizeof(out), "account-create --name b%d", c));
		ASSERT_EQ(0, admin_field(out, "enrol-code", code, sizeof(code)));
		ASSERT_EQ(0, admin_field(out, "account", acct, sizeof(acct)));
		ASSERT_EQ(0, admin(&self->is, NULL, 0, "topup --account %s --amount 2000000000 --request-id b%d",
				   acct, c));
		ASSERT_EQ(0, enrol(&self->is, &dev[c], code, &h));
		http_free(&h);
	}
	t0 = now_s();
	for (i = 0; i < n; i += BATCH) {
		json_t *a = json_array(), *o;
		struct hce_iss_record r;
		struct http h;
		char id[32], *body;
		long j;

		for (j = i; j < n && j < i + BATCH; j++) {
			struct device *d = &dev[(j / 64) % CARDS];

			memset(&r, 0, sizeof(r));
			memcpy(r.serial, d->serial, 10);
			r.counter = (uint16_t)(j / (64 * CARDS) * 64 + j % 64);
			r.type = HCE_ISS_TX_PURCHASE;
			r.amount = 1;
			memcpy(r.terminal, tid, 6);
			r.ttc = (uint32_t)j;
			memcpy(r.date, "\x20\x26\x11\x25", 4);
			memcpy(r.time, "\x12\x00\x00", 3);
			ASSERT_EQ(0, hce_iss_purchase_tac(&r, d->keys.dtk.key, r.tac));
			json_array_append_new(a, hce_iss_record_json(&r));
		}
		o = json_pack("{s:o}", "records", a);
		body = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		snprintf(id, sizeof(id), "bench-%ld", i);
		ASSERT_EQ(0, request(&self->is, "POST", "/v1/terminal/batch", term.principal, term.key, id,
				     body, 0, &h));
		free(body);
		ASSERT_EQ(200, h.status) {
			TH_LOG("%s", h.raw);
		}
		accepted += jint(h.body, "accepted", NULL);
		sent += j - i;
		http_free(&h);
	}
	t1 = now_s();
	EXPECT_EQ(n, accepted);
	printf("# clearing: %ld records (TAC verified, stored) in %.2f s = %.0f records/s\n", sent,
	       t1 - t0, sent / (t1 - t0));
	fflush(stdout);
	/* Wallet sync round trips: one new purchase record each. */
	for (i = 0; i < SYNCS; i++) {
		struct hce_iss_record r;
		struct http h;
		char *body;
		double s0;

		memset(&r, 0, sizeof(r));
		memcpy(r.serial, dev[CARDS].serial, 10);
		r.counter = (uint16_t)i;
		r.type = HCE_ISS_TX_PURCHASE;
		r.amount = 1;
		memcpy(r.terminal, "\x55\x55\x55\x55\x55\x55", 6);
		r.ttc = (uint32_t)i;
		memcpy(r.date, "\x20\x26\x11\x25", 4);
		memcpy(r.time, "\x12\x00\x00", 3);
		ASSERT_EQ(0, hce_iss_purchase_tac(&r, dev[CARDS].keys.dtk.key, r.tac));
		body = records_body(dev[CARDS].serial_hex, 0, &r, 1);
		s0 = now_s();
		ASSERT_EQ(0, signed_post(&self->is, &dev[CARDS], "/v1/wallet/sync", json_loads(body, 0, NULL),
					 &h));
		rt[i] = now_s() - s0;
		free(body);
		ASSERT_EQ(200, h.status);
		EXPECT_EQ(1, count_result(h.body, "accepted"));
		http_free(&h);
	}
	qsort(rt, SYNCS, sizeof(rt[0]), cmp_double);
	printf("# sync round trip (new TLS connection, signed request, 1 record): median %.1f ms,"
	       " p90 %.1f ms over %d\n", rt[SYNCS / 2] * 1e3, rt[SYNCS * 9 / 10] * 1e3, SYNCS);
	fflush(stdout);
	EXPECT_EQ(0, admin(&self->is, out, sizeof(out), "reconcile"));
	EXPECT_NE(NULL, strstr(out, "reconcile ok"));
	for (c = 0; c <= CARDS; c++)
		device_free(&dev[c]);
	EVP_PKEY_free(term.key);
}

TEST_HARNESS_MAIN
