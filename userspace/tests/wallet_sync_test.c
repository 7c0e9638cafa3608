// SPDX-License-Identifier: GPL-2.0
/*
 * wallet_sync_test - the wallet (lib/wallet) and the terminal's issuer side
 * (lib/terminal/upload.c) against a real hce-issuer: HTTPS, a SoftHSM2 token and SQLite,
 * started by tests/host.d/75-wallet-sync, which passes it in the environment:
 *   HCE_WALLET_ISSUER_BIN, _CONF, _URL, _CERT, _PIDFILE (the serving process; this test
 *   kills and restarts it and writes the new pid there).
 * Unset: every test is skipped. The card is the real purse on the card file the wallet
 * installed the token into, keys from the vault; the in-process "terminal" computes MAC1 from
 * the card keys (a PSAM with the issuer's master keys cannot exist: they stay in the HSM).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "issuer/issuer.h"
#include "kselftest_harness.h"
#include "purse_fixture.h"
#include "terminal/upload.h"
#include "vault/vault.h"
#include "wallet/wallet.h"

static const char *env(const char *k)
{
	return getenv(k);
}

static int issuer_up(void)
{
	return env("HCE_WALLET_ISSUER_BIN") && env("HCE_WALLET_ISSUER_CONF") &&
	       env("HCE_WALLET_ISSUER_URL") && env("HCE_WALLET_ISSUER_CERT") &&
	       env("HCE_WALLET_ISSUER_PIDFILE");
}

/* Run an admin subcommand; stdout in out (may be NULL). Exit status. */
static int admin(char *out, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int admin(char *out, size_t cap, const char *fmt, ...)
{
	char args[512], cmd[1200], sink[256];
	va_list ap;
	size_t n;
	FILE *p;
	int rc;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s -c %s %s", env("HCE_WALLET_ISSUER_BIN"),
		 env("HCE_WALLET_ISSUER_CONF"), args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (out) {
		n = fread(out, 1, cap - 1, p);
		out[n] = '\0';
	} else {
		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	rc = pclose(p);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int field(const char *out, const char *key, char *val, size_t cap)
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

static int64_t show(const char *account, const char *what)
{
	char out[8192];
	json_error_t je;
	json_t *o;
	int64_t v = -1;

	if (admin(out, sizeof(out), "show --account %s", account))
		return -1;
	o = json_loads(out, 0, &je);
	if (json_is_integer(json_object_get(o, what)))
		v = json_integer_value(json_object_get(o, what));
	json_decref(o);
	return v;
}

static pid_t issuer_pid(void)
{
	FILE *f = fopen(env("HCE_WALLET_ISSUER_PIDFILE"), "r");
	long p = 0;

	if (f) {
		if (fscanf(f, "%ld", &p) != 1)
			p = 0;
		fclose(f);
	}
	return (pid_t)p;
}

static int health(void)
{
	char cmd[600];
	int rc;

	snprintf(cmd, sizeof(cmd), "curl -sf --max-time 2 --cacert %s %s/v1/health >/dev/null 2>&1",
		 env("HCE_WALLET_ISSUER_CERT"), env("HCE_WALLET_ISSUER_URL"));
	rc = system(cmd);
	return WIFEXITED(rc) && WEXITSTATUS(rc) == 0 ? 0 : -1;
}

/* Start `hce-issuer serve` again (after a kill); its pid into the pid file. */
static int issuer_restart(void)
{
	pid_t p = fork();
	FILE *f;
	int i;

	if (p < 0)
		return -1;
	if (!p) {
		char log[600];

		snprintf(log, sizeof(log), "%s.log", env("HCE_WALLET_ISSUER_PIDFILE"));
		if (!freopen(log, "a", stderr) || !freopen("/dev/null", "w", stdout))
			_exit(126);
		setpgid(0, 0);
		execl(env("HCE_WALLET_ISSUER_BIN"), "hce-issuer", "-c", env("HCE_WALLET_ISSUER_CONF"),
		      "serve", (char *)NULL);
		_exit(127);
	}
	f = fopen(env("HCE_WALLET_ISSUER_PIDFILE"), "w");
	if (!f)
		return -1;
	fprintf(f, "%ld\n", (long)p);
	fclose(f);
	for (i = 0; i < 100; i++) {
		if (!health())
			return 0;
		usleep(100000);
	}
	return -1;
}

FIXTURE(w) {
	char dir[64], card[96], wdir[96], secret[96], pin[96], account[24], code[48];
	struct hce_wallet *w;
	struct hce_wallet_cfg cfg;
	struct hce_vault *v;
	struct pf f;
	uint32_t ttc;
	uint8_t tid[6];		/* this test's terminal id (fares and uploads) */
};

/*
 * Account with its cap (and overdraft limit when overdraft >= 0), funded, enrolled through the
 * wallet; card opened with vault keys.
 */
static int setup_wallet_od(struct _test_data_w *self, int64_t topup, int cap_amount,
			   int cap_count, int overdraft)
{
	char odarg[40] = "";
	char out[1024], err[HCE_WALLET_ERR_MAX], top[256];
	struct hce_vault_cfg vc = { 0 };
	int ret;

	snprintf(self->dir, sizeof(self->dir), "/tmp/hce-wallet-test-XXXXXX");
	if (!mkdtemp(self->dir))
		return -1;
	snprintf(self->card, sizeof(self->card), "%s/card.db", self->dir);
	snprintf(self->wdir, sizeof(self->wdir), "%s/wallet", self->dir);
	snprintf(self->secret, sizeof(self->secret), "%s/device-secret", self->dir);
	snprintf(top, sizeof(top), "%s/profiles/sample-card.conf",
		 env("HCE_TOP") ? env("HCE_TOP") : ".");
	if (overdraft >= 0)
		snprintf(odarg, sizeof(odarg), " --overdraft %d", overdraft);
	if (admin(out, sizeof(out), "account-create --name w%d --cap-amount %d --cap-count %d%s",
		  getpid(), cap_amount, cap_count, odarg) ||
	    field(out, "account", self->account, sizeof(self->account)) ||
	    field(out, "enrol-code", self->code, sizeof(self->code)))
		return -2;
	if (topup && admin(NULL, 0, "topup --account %s --amount %" PRId64
			   " --request-id first-%s", self->account, topup, self->account))
		return -3;
	self->cfg = (struct hce_wallet_cfg){ .url = env("HCE_WALLET_ISSUER_URL"),
					     .cacert = env("HCE_WALLET_ISSUER_CERT"),
					     .dir = self->wdir, .card = self->card,
					     .device_secret = self->secret, .log2n = 10,
					     .timeout = 10 };
	static char prof[256];

	snprintf(prof, sizeof(prof), "%s", top);
	self->cfg.profile = prof;
	/* The vault makes the device secret at the first seal; the wallet needs it first. */
	{
		FILE *f = fopen(self->secret, "w");
		uint8_t s[32];

		if (!f || hce_random(s, sizeof(s)) || fwrite(s, 1, 32, f) != 32)
			return -4;
		fclose(f);
		chmod(self->secret, 0600);
	}
	ret = hce_wallet_open(&self->cfg, &self->w, err);
	if (ret)
		return -5;
	ret = hce_wallet_enrol(self->w, self->code, "1234", 4, true);
	if (ret) {
		fprintf(stderr, "enrol: %s\n", hce_wallet_errmsg(self->w));
		return -6;
	}
	vc.device_secret = self->secret;
	memset(&self->f, 0, sizeof(self->f));
	if (hce_store_open(self->card, 0, &self->f.st, out) ||
	    hce_vault_open(self->card, &vc, &self->v, out) || hce_vault_unlock(self->v, NULL, 0))
		return -7;
	self->f.keys = *hce_vault_keys(self->v);
	if (hce_purse_open(self->f.st, &self->f.keys, &self->f.purse))
		return -8;
	self->f.app = hce_purse_app(self->f.purse);
	return 0;
}

static int setup_wallet(struct _test_data_w *self, int64_t topup, int cap_amount, int cap_count)
{
	return setup_wallet_od(self, topup, cap_amount, cap_count, -1);
}

FIXTURE_SETUP(w)
{
	if (!issuer_up())
		SKIP(return, "no issuer: run by tests/host.d/75-wallet-sync");
	self->w = NULL;
	self->v = NULL;
	self->ttc = 0x100;
	memcpy(self->tid, "\x01\x02\x03\x04\x05\x06", 6);
	hce_random(self->tid + 3, 3);
}

FIXTURE_TEARDOWN(w)
{
	char cmd[128];

	if (!issuer_up())
		return;
	hce_purse_close(self->f.purse);
	hce_store_close(self->f.st);
	hce_card_keys_wipe(&self->f.keys);
	hce_vault_close(self->v);
	hce_wallet_close(self->w);
	if (self->dir[0] && !getenv("HCE_WALLET_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", self->dir);
	}
}

/* One fare at the in-process terminal: SELECT, INITIALIZE FOR PURCHASE, DEBIT. */
static uint16_t fare(struct _test_data_w *self, uint32_t amount, struct pf_tx *t)
{
	uint16_t sw;

	memset(t, 0, sizeof(*t));
	t->amount = amount;
	memcpy(t->terminal, self->tid, 6);
	hce_put_be32(t->ttc, ++self->ttc);
	hce_iss_bcd_now(time(NULL), t->date, t->time);
	sw = pf_xfer_hex(&self->f, "00A4040008A000000632010105");
	if (sw != HCE_SW_OK)
		return sw;
	sw = pf_purchase(&self->f, t, HCE_TX_PURCHASE, 0, 0, NULL);
	hce_app_session_end(self->f.app);
	return sw;
}

static void record_of(struct _test_data_w *self, const struct pf_tx *t, struct hce_iss_record *r)
{
	struct hce_wallet_status s;

	memset(r, 0, sizeof(*r));
	hce_wallet_status(self->w, &s);
	hce_iss_hex_exact(s.serial, r->serial, 10);
	r->counter = t->counter;
	r->type = HCE_TX_PURCHASE;
	r->amount = t->amount;
	memcpy(r->terminal, t->terminal, 6);
	r->ttc = hce_get_be32(t->ttc);
	memcpy(r->date, t->date, 4);
	memcpy(r->time, t->time, 3);
	memcpy(r->tac, t->tac, 4);
}

/* A terminal registered with the issuer (terminal-add), its key in memory. */
static int terminal(struct _test_data_w *self, struct hce_term_issuer *ti)
{
	char path[160], hex[13];
	FILE *f;

	memset(ti, 0, sizeof(*ti));
	ti->url = env("HCE_WALLET_ISSUER_URL");
	ti->cacert = env("HCE_WALLET_ISSUER_CERT");
	memcpy(ti->id, self->tid, 6);
	ti->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	hce_iss_hex(ti->id, 6, hex);
	snprintf(path, sizeof(path), "%s/term.pem", self->dir);
	f = fopen(path, "w");
	if (!f || !ti->key || !PEM_write_PUBKEY(f, ti->key)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	return admin(NULL, 0, "terminal-add --id %s --pubkey %s", hex, path);
}

TEST_F(w, offline_fares_up_to_cap_then_6985_sync_restores_cap)
{
	struct hce_wallet_status s;
	struct hce_wallet_sync r;
	struct pf_tx t;
	int i;

	if (!issuer_up())
		SKIP(return, "no issuer: run by tests/host.d/75-wallet-sync");
	ASSERT_EQ(0, setup_wallet(self, 10000, 500, 3));
	ASSERT_EQ(0, hce_wallet_status(self->w, &s));
	EXPECT_EQ(10000, s.card_balance);
	EXPECT_EQ(500, s.offline.cap_amount);
	EXPECT_EQ(3, s.offline.cap_count);
	/* The amount cap: one fare beyond 5.00 refused at INITIALIZE, nothing started. */
	EXPECT_EQ(HCE_SW_CONDITIONS, fare(self, 501, &t));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(HCE_SW_OK, fare(self, 100, &t));
	/* The count cap. */
	EXPECT_EQ(HCE_SW_CONDITIONS, fare(self, 100, &t));
	ASSERT_EQ(0, hce_wallet_status(self->w, &s));
	EXPECT_EQ(9700, s.card_balance);
	EXPECT_EQ(300, s.offline.spent);
	EXPECT_EQ(3, s.offline.count);
	EXPECT_EQ(3, s.outbox);
	ASSERT_EQ(0, hce_wallet_sync(self->w, &r)) TH_LOG("%s", hce_wallet_errmsg(self->w));
	EXPECT_EQ(3, r.uploaded);
	EXPECT_EQ(3, r.acknowledged);
	EXPECT_TRUE(r.cap_restored);
	EXPECT_EQ(9700, r.account_balance);
	EXPECT_EQ(9700, r.expected_balance);
	EXPECT_FALSE(r.discrepancy);
	ASSERT_EQ(0, hce_wallet_status(self->w, &s));
	EXPECT_EQ(0, s.offline.spent);
	EXPECT_EQ(0, s.offline.count);
	EXPECT_EQ(0, s.outbox);
	EXPECT_EQ(HCE_SW_OK, fare(self, 100, &t));
	EXPECT_EQ(3, show(self->account, "cleared_count"));
}

TEST_F(w, many_offline_fares_terminal_uploads_then_wallet_syncs_each_counted_once)
{
	struct hce_iss_record rec[20];
	struct hce_term_issuer ti;
	struct hce_wallet_sync r;
	uint8_t res[20];
	char err[256];
	struct pf_tx t;
	int i;

	if (!issuer_up())
		SKIP(return, "no issuer: run by tests/host.d/75-wallet-sync");
	ASSERT_EQ(0, setup_wallet(self, 20000, 5000, 30));
	ASSERT_EQ(0, terminal(self, &ti));
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(HCE_SW_OK, fare(self, 50 + i, &t));
		record_of(self, &t, &rec[i]);
	}
	/* The terminal uploads the first 12 (its batch), twice: the retry is the same request. */
	ASSERT_EQ(0, hce_term_upload(&ti, rec, 12, "batch-a", res, err, sizeof(err)))
		TH_LOG("%s", err);
	for (i = 0; i < 12; i++)
		EXPECT_EQ(HCE_TERM_UP_ACCEPTED, res[i]);
	ASSERT_EQ(0, hce_term_upload(&ti, rec, 12, "batch-a", res, err, sizeof(err)));
	EXPECT_EQ(HCE_TERM_UP_ACCEPTED, res[0]);
	/* A new batch with overlapping records: the overlap is duplicate. */
	ASSERT_EQ(0, hce_term_upload(&ti, rec + 8, 6, "batch-b", res, err, sizeof(err)));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(HCE_TERM_UP_DUPLICATE, res[i]);
	EXPECT_EQ(HCE_TERM_UP_ACCEPTED, res[4]);
	/* Then the phone syncs all 20: 14 duplicate, 6 accepted, every fare once. */
	ASSERT_EQ(0, hce_wallet_sync(self->w, &r)) TH_LOG("%s", hce_wallet_errmsg(self->w));
	EXPECT_EQ(20, r.uploaded);
	EXPECT_EQ(20, r.acknowledged);
	EXPECT_EQ(0, r.rejected);
	EXPECT_TRUE(r.cap_restored);
	EXPECT_EQ(20, show(self->account, "cleared_count"));
	/* sum(50..69) = 1190 */
	EXPECT_EQ(20000 - 1190, show(self->account, "balance"));
	EXPECT_EQ(20000 - 1190, r.account_balance);
	EXPECT_FALSE(r.discrepancy);
	EVP_PKEY_free(ti.key);
}

TEST_F(w, forged_tac_in_terminal_batch_rejected_not_counted)
{
	struct hce_iss_record rec;
	struct hce_term_issuer ti;
	uint8_t res[1];
	char err[256];
	struct pf_tx t;

	if (!issuer_up())
		SKIP(return, "no issuer: run by tests/host.d/75-wallet-sync");
	ASSERT_EQ(0, setup_wallet(self, 1000, 5000, 10));
	ASSERT_EQ(0, terminal(self, &ti));
	ASSERT_EQ(HCE_SW_OK, fare(self, 100, &t));
	record_of(self, &t, &rec);
	rec.amount = 10;	/* the terminal claims less: the TAC does not match */
	ASSERT_EQ(0, hce_term_upload(&ti, &rec, 1, "forged-1", res, err, sizeof(err)));
	EXPECT_EQ(HCE_TERM_UP_BAD_TAC, res[0]);
	EXPECT_EQ(0, show(self->account, "cleared_count"));
	EVP_PKEY_free(ti.key);
}

TEST_F(w, web_topup_pushed_by_long_poll_and_loaded_with_issuer_mac2)
{
	struct hce_wallet_status s;
	struct hce_wallet_sync r;
	unsigned int n = 0;
	uint32_t amount = 0;
	char cmd[300];
	int64_t t0;

	if (!issuer_up())
		SKIP(return, "no issuer: run by tests/host.d/75-wallet-sync");
	ASSERT_EQ(0, setup_wallet(self, 1000, 5000, 10));
	/* The top-up arrives while the wallet waits (admin from a child, 1 s later). */
	snprintf(cmd, sizeof(cmd), "sleep 1; %s -c %s topup --account %s --amount 2500"
		 " --request-id web-%s >/dev/null 2>&1 &", env("HCE_WALLET_ISSUER_BIN"),
		 env("HCE_WALLET_ISSUER_CONF"), self->account, self->account);
	ASSERT_EQ(0, system(cmd));
	t0 = time(NULL);
	ASSERT_EQ(0, hce_wallet_loads(self->w, self->f.app, 20, &n, &amount))
		TH_LOG("%s", hce_wallet_errmsg(self->w));
	EXPECT_LT(time(NULL) - t0, 15);
	EXPECT_EQ(1, n);
	EXPECT_EQ(2500, amount);
	ASSERT_EQ(0, hce_wallet_status(self->w, &s));
	EXPECT_EQ(3500, s.card_balance);
	EXPECT_EQ(0, s.pending_load[0]);
	ASSERT_EQ(0, hce_wallet_sync(self->w, &r));
	/* The load's own record (online counter, TAC) goes up too: already confirmed. */
	EXPECT_EQ(1, r.uploaded);
	EXPECT_EQ(1, r.acknowledged);
	EXPECT_TRUE(r.cap_restored);
	EXPECT_EQ(3500, r.account_balance);
	EXPECT_EQ(3500, r.expected_balance);
	EXPECT_FALSE(r.discrepancy);
	EXPECT_EQ(0, r.pending_loads);
	/* Nothing more pending: an immediate poll loads nothing. */
	ASSERT_EQ(0, hce_wallet_loads(self->w, self->f.app, 0, &n, &amount));
	EXPECT_EQ(0, n);
}

/*
 * Overdraft (issue 5 item 3): an account with overdraft 5.00 and 3.00 on it. Fares of 2.00 x4
 * pass at the card (-5.00), the fifth is refused 9401; the sync leaves the account at -5.00
 * with no discrepancy; a renewed token installs the card at -5.00; a web top-up of 10.00
 * loaded by long poll repays it: card and account at 5.00.
 */
TEST_F(w, overdraft_fares_to_minus_limit_sync_then_topup_repays)
{
	struct hce_wallet_status s;
	struct hce_wallet_sync r;
	unsigned int n = 0;
	uint32_t amount = 0, raw;
	struct pf_tx t;
	char cmd[300];
	int i;

	if (!issuer_up())
		SKIP(return, "no issuer: run by tests/host.d/75-wallet-sync");
	ASSERT_EQ(0, setup_wallet_od(self, 300, 5000, 10, 500));
	ASSERT_EQ(0, hce_wallet_status(self->w, &s));
	EXPECT_EQ(300, s.card_balance);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(HCE_SW_OK, fare(self, 200, &t)) TH_LOG("fare %d", i + 1);
	EXPECT_EQ(HCE_SW_INSUFFICIENT, fare(self, 200, &t));
	ASSERT_EQ(0, hce_wallet_status(self->w, &s));
	EXPECT_EQ(-500, s.card_balance);
	EXPECT_EQ(4, s.outbox);
	/* GET BALANCE: the two's complement of -5.00 */
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(&self->f, "00A4040008A000000632010105"));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(&self->f, "805C000204"));
	raw = hce_get_be32(self->f.rsp);
	EXPECT_EQ(0xFFFFFE0Cu, raw);
	hce_app_session_end(self->f.app);
	ASSERT_EQ(0, hce_wallet_sync(self->w, &r)) TH_LOG("%s", hce_wallet_errmsg(self->w));
	EXPECT_EQ(4, r.uploaded);
	EXPECT_EQ(4, r.acknowledged);
	EXPECT_EQ(-500, r.account_balance);
	EXPECT_EQ(-500, r.expected_balance);
	EXPECT_EQ(-500, r.card_balance);
	EXPECT_FALSE(r.discrepancy);
	EXPECT_EQ(-500, show(self->account, "balance"));
	EXPECT_EQ(500, show(self->account, "overdraft_in_use"));
	/* A token issued now installs a card that starts in the overdraft, at -5.00. */
	hce_purse_close(self->f.purse);
	self->f.purse = NULL;
	ASSERT_EQ(1, hce_wallet_renew(self->w, "1234", 4, true))
		TH_LOG("%s", hce_wallet_errmsg(self->w));
	ASSERT_EQ(0, hce_wallet_status(self->w, &s));
	EXPECT_EQ(-500, s.card_balance);
	ASSERT_EQ(0, hce_vault_unlock(self->v, "1234", 4));
	self->f.keys = *hce_vault_keys(self->v);
	ASSERT_EQ(0, hce_purse_open(self->f.st, &self->f.keys, &self->f.purse));
	self->f.app = hce_purse_app(self->f.purse);
	EXPECT_EQ(HCE_SW_INSUFFICIENT, fare(self, 1, &t));
	ASSERT_EQ(0, hce_wallet_sync(self->w, &r)) TH_LOG("%s", hce_wallet_errmsg(self->w));
	EXPECT_EQ(-500, r.expected_balance);
	EXPECT_FALSE(r.discrepancy);
	/* The top-up arrives while the wallet waits; the load repays the overdraft first. */
	snprintf(cmd, sizeof(cmd), "sleep 1; %s -c %s topup --account %s --amount 1000"
		 " --request-id od-%s >/dev/null 2>&1 &", env("HCE_WALLET_ISSUER_BIN"),
		 env("HCE_WALLET_ISSUER_CONF"), self->account, self->account);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(0, hce_wallet_loads(self->w, self->f.app, 20, &n, &amount))
		TH_LOG("%s", hce_wallet_errmsg(self->w));
	EXPECT_EQ(1, n);
	EXPECT_EQ(1000, amount);
	ASSERT_EQ(0, hce_wallet_status(self->w, &s));
	EXPECT_EQ(500, s.card_balance);
	ASSERT_EQ(0, hce_wallet_sync(self->w, &r)) TH_LOG("%s", hce_wallet_errmsg(self->w));
	EXPECT_EQ(500, r.account_balance);
	EXPECT_EQ(500, r.expected_balance);
	EXPECT_EQ(500, r.card_balance);
	EXPECT_FALSE(r.discrepancy);
	EXPECT_EQ(500, show(self->account, "balance"));
	EXPECT_EQ(0, show(self->account, "overdraft_in_use"));
	EXPECT_EQ(4, show(self->account, "cleared_count"));
	/* spendable again: 5.00 + the 5.00 limit */
	EXPECT_EQ(HCE_SW_INSUFFICIENT, fare(self, 1001, &t));
	EXPECT_EQ(HCE_SW_OK, fare(self, 1000, &t));
}

/* An account without overdraft: the card stops at 0 (9401), as it always did. */
TEST_F(w, no_overdraft_account_card_stops_at_zero)
{
	struct hce_wallet_status s;
	struct hce_wallet_sync r;
	struct pf_tx t;

	if (!issuer_up())
		SKIP(return, "no issuer: run by tests/host.d/75-wallet-sync");
	ASSERT_EQ(0, setup_wallet(self, 300, 5000, 10));
	EXPECT_EQ(0, show(self->account, "overdraft"));
	ASSERT_EQ(HCE_SW_OK, fare(self, 200, &t));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, fare(self, 200, &t));
	ASSERT_EQ(HCE_SW_OK, fare(self, 100, &t));
	EXPECT_EQ(HCE_SW_INSUFFICIENT, fare(self, 1, &t));
	ASSERT_EQ(0, hce_wallet_status(self->w, &s));
	EXPECT_EQ(0, s.card_balance);
	ASSERT_EQ(0, hce_wallet_sync(self->w, &r)) TH_LOG("%s", hce_wallet_errmsg(self->w));
	EXPECT_EQ(0, r.account_balance);
	EXPECT_FALSE(r.discrepancy);
}

TEST_F(w, expired_and_revoked_tokens_refused_by_card_and_gate)
{
	struct hce_term_denylist *dl;
	struct hce_card_data card;
	struct hce_store_offline o;
	struct hce_wallet_status s;
	struct hce_term_issuer ti;
	struct hce_wallet_sync r;
	uint8_t today[4], tm[3], later[4];
	char err[256];
	struct pf_tx t;

	if (!issuer_up())
		SKIP(return, "no issuer: run by tests/host.d/75-wallet-sync");
	dl = calloc(1, sizeof(*dl));
	ASSERT_NE(NULL, dl);
	ASSERT_EQ(0, setup_wallet(self, 1000, 5000, 10));
	ASSERT_EQ(0, terminal(self, &ti));
	ASSERT_EQ(0, hce_store_card(self->f.st, &card));
	hce_iss_bcd_now(time(NULL), today, tm);
	/* Gate: valid today, not on the deny list. */
	ASSERT_EQ(0, hce_term_denylist_fetch(&ti, dl, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(HCE_TERM_TOKEN_OK, hce_term_token_check(card.ef0015, today, dl));
	/* Gate: a date past EF 0015's expiry (the token lives one day). */
	hce_iss_bcd_now(time(NULL) + 3 * 86400, later, tm);
	EXPECT_EQ(HCE_TERM_TOKEN_EXPIRED, hce_term_token_check(card.ef0015, later, dl));
	/* Card: past not_after by the wallet's clock, value commands answer 6A81. */
	ASSERT_EQ(0, hce_store_offline(self->f.st, &o));
	ASSERT_EQ(0, hce_store_set_offline(self->f.st, o.cap_amount, o.cap_count,
					   time(NULL) - 10, false));
	EXPECT_EQ(HCE_SW_FUNC_NOT_SUPPORTED, fare(self, 100, &t));
	ASSERT_EQ(0, hce_store_set_offline(self->f.st, o.cap_amount, o.cap_count, o.not_after,
					   false));
	EXPECT_EQ(HCE_SW_OK, fare(self, 100, &t));
	/* Revoked at the issuer: on the deny list, and the next sync stops the card. */
	ASSERT_EQ(0, hce_wallet_status(self->w, &s));
	ASSERT_EQ(0, admin(NULL, 0, "revoke --serial %s --reason stolen", s.serial));
	ASSERT_EQ(0, hce_term_denylist_fetch(&ti, dl, err, sizeof(err)));
	EXPECT_EQ(HCE_TERM_TOKEN_DENIED, hce_term_token_check(card.ef0015, today, dl));
	ASSERT_EQ(0, hce_wallet_sync(self->w, &r)) TH_LOG("%s", hce_wallet_errmsg(self->w));
	EXPECT_STREQ("revoked", r.state);
	EXPECT_EQ(1, r.acknowledged);	/* its record still clears: the card paid */
	EXPECT_EQ(HCE_SW_FUNC_NOT_SUPPORTED, fare(self, 100, &t));
	EXPECT_EQ(1, show(self->account, "cleared_count"));
	EVP_PKEY_free(ti.key);
	free(dl);
}

TEST_F(w, issuer_killed_mid_sync_and_restarted_nothing_lost_or_doubled)
{
	struct hce_wallet_status s;
	struct hce_wallet_sync r;
	struct pf_tx t;
	pid_t p;
	int i;

	if (!issuer_up())
		SKIP(return, "no issuer: run by tests/host.d/75-wallet-sync");
	ASSERT_EQ(0, setup_wallet(self, 5000, 5000, 20));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(HCE_SW_OK, fare(self, 100, &t));
	/* Stopped issuer: the request is accepted by the kernel, never answered. */
	p = issuer_pid();
	ASSERT_LT(0, p);
	ASSERT_EQ(0, kill(p, SIGSTOP));
	self->w = self->w;
	EXPECT_EQ(-EIO, hce_wallet_sync(self->w, &r));
	ASSERT_EQ(0, kill(p, SIGKILL));
	waitpid(p, NULL, 0);
	/* Nothing acknowledged: the records are still in the outbox, the cap still counted. */
	ASSERT_EQ(0, hce_wallet_status(self->w, &s));
	EXPECT_EQ(5, s.outbox);
	EXPECT_EQ(5, s.offline.count);
	/* Offline meanwhile: sync fails fast, nothing changes. */
	EXPECT_EQ(-EIO, hce_wallet_sync(self->w, &r));
	ASSERT_EQ(0, issuer_restart());
	ASSERT_EQ(0, hce_wallet_sync(self->w, &r)) TH_LOG("%s", hce_wallet_errmsg(self->w));
	EXPECT_EQ(5, r.acknowledged);
	EXPECT_TRUE(r.cap_restored);
	EXPECT_EQ(4500, r.account_balance);
	/* Again: nothing new, nothing doubled. */
	ASSERT_EQ(0, hce_wallet_sync(self->w, &r));
	EXPECT_EQ(0, r.uploaded);
	EXPECT_EQ(4500, r.account_balance);
	EXPECT_EQ(5, show(self->account, "cleared_count"));
}

TEST_F(w, renew_installs_new_token_old_one_on_denylist)
{
	struct hce_wallet_status s0, s1;
	struct hce_wallet_sync r;
	struct pf_tx t;

	if (!issuer_up())
		SKIP(return, "no issuer: run by tests/host.d/75-wallet-sync");
	ASSERT_EQ(0, setup_wallet(self, 3000, 5000, 10));
	ASSERT_EQ(HCE_SW_OK, fare(self, 200, &t));
	ASSERT_EQ(0, hce_wallet_status(self->w, &s0));
	/* Records not cleared yet: renewal waits for a sync. */
	EXPECT_EQ(-EBUSY, hce_wallet_renew(self->w, "1234", 4, true));
	ASSERT_EQ(0, hce_wallet_sync(self->w, &r));
	EXPECT_EQ(0, hce_wallet_renew(self->w, "1234", 4, false));	/* not due */
	/* The card file is re-personalised: reopen the purse on the new keys. */
	hce_purse_close(self->f.purse);
	self->f.purse = NULL;
	ASSERT_EQ(1, hce_wallet_renew(self->w, "1234", 4, true))
		TH_LOG("%s", hce_wallet_errmsg(self->w));
	ASSERT_EQ(0, hce_wallet_status(self->w, &s1));
	EXPECT_STRNE(s0.serial, s1.serial);
	EXPECT_EQ(2800, s1.card_balance);
	ASSERT_EQ(0, hce_vault_unlock(self->v, "1234", 4));
	self->f.keys = *hce_vault_keys(self->v);
	ASSERT_EQ(0, hce_purse_open(self->f.st, &self->f.keys, &self->f.purse));
	self->f.app = hce_purse_app(self->f.purse);
	EXPECT_EQ(HCE_SW_OK, fare(self, 100, &t));
	ASSERT_EQ(0, hce_wallet_sync(self->w, &r));
	EXPECT_EQ(2700, r.account_balance);
	EXPECT_STREQ("active", r.state);
	EXPECT_EQ(2, show(self->account, "cleared_count"));
}

TEST_HARNESS_MAIN
