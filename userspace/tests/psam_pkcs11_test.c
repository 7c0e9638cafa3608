// SPDX-License-Identifier: GPL-2.0
/*
 * psam_pkcs11_test.c - a PSAM whose purchase master key lives in a real SoftHSM2 token
 * (Documentation/psam.md), against the real purse in process.
 *
 * The token is made here (softhsm2-util in a private SOFTHSM2_CONF) and gets the TEST ONLY
 * purchase master key of profiles/sample-psam.conf through hce_hsm_import (created sensitive,
 * non-extractable); the card is personalised with keys diversified in software from the same
 * sample masters. So the token PSAM must diversify exactly what the clear-key PSAM does, and
 * the TAC it records (not verifiable at the terminal: no TAC key there) must verify with the
 * issuer's TAC master key, as clearing will do it.
 *
 * Also: key file errors for [pkcs11] and label (file:line, never a value), wrong PIN,
 * missing label, and the clear-key path still failing a TAC that does not verify.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The harness (and FIXTURE_SETUP) define functions without prototypes; formats non-literal. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "hsm/hsm.h"
#include "purse/purse.h"
#include "store/store.h"
#include "terminal/psam.h"
#include "terminal/records.h"
#include "terminal/term.h"
#include "terminal/transport.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"

/* TEST ONLY issuer master keys (profiles/sample-psam.conf): the card's keys come from them. */
static const char clear_text[] =
	"[issuer]\nid = 99 99 00 00 00 00 00 01\n"
	"[terminal]\nid = 11 22 33 44 55 66\n"
	"[purchase-key 1]\nalg = 00\nversion = 01\n"
	"master = 01 23 45 67 89 AB CD EF FE DC BA 98 76 54 32 10\n"
	"[load-key 1]\nalg = 00\nversion = 01\n"
	"master = 10 32 54 76 98 BA DC FE EF CD AB 89 67 45 23 01\n"
	"[tac-key]\nalg = 00\nversion = 01\n"
	"master = 89 AB CD EF 01 23 45 67 76 54 32 10 FE DC BA 98\n";

static const uint8_t sample_mpk[16] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF,
					0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10 };

static const uint8_t serial[10] = { 0x03, 0x10, 0x99, 0, 0, 0, 0, 0, 0, 0x01 };

/* ---- a transport that flips one bit of the DEBIT answer's byte `byte` ---- */

struct flip {
	struct hce_term_transport *inner;
	int byte;	/* -1: no flip */
};

static int flip_transmit(struct hce_term_transport *t, const uint8_t *capdu, size_t len,
			 uint8_t *rapdu, size_t cap, size_t *rlen)
{
	struct flip *f = t->priv;
	int rc = hce_term_transmit(f->inner, capdu, len, rapdu, cap, rlen);

	if (!rc && f->byte >= 0 && len >= 2 && capdu[0] == 0x80 && capdu[1] == 0x54 &&
	    (size_t)f->byte + 2 < *rlen)
		rapdu[f->byte] ^= 0x01;
	return rc;
}

static int flip_reset(struct hce_term_transport *t)
{
	struct flip *f = t->priv;

	return hce_term_reset(f->inner);
}

static const struct hce_term_transport_ops flip_ops = {
	.name = "flip",
	.transmit = flip_transmit,
	.reset = flip_reset,
};

/* ---- fixture: a token with the sample MPK, a personalised purse, records ---- */

FIXTURE(tok) {
	char dir[64], card_path[96], rec_path[96], pin_path[96];
	struct hce_store *st;
	struct hce_purse *purse;
	struct hce_card_keys keys;
	struct hce_psam clear;
	struct hce_term_transport app_tp, tp;
	struct flip f;
	struct hce_term_db *db;
};

static void card_data(struct hce_card_data *c)
{
	static const uint8_t aid[8] = { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05 };
	static const uint8_t head[10] = { 0x99, 0x99, 0, 0, 0, 0, 0, 0x01, 0x02, 0x02 };
	static const uint8_t dates[8] = { 0x20, 0x26, 0x01, 0x01, 0x20, 0x36, 0x12, 0x31 };

	memset(c, 0, sizeof(*c));
	memcpy(c->aid, aid, sizeof(aid));
	c->aid_len = sizeof(aid);
	c->app_version = 0x02;
	memcpy(c->ef0015, head, 10);
	memcpy(c->ef0015 + 10, serial, 10);
	memcpy(c->ef0015 + 20, dates, 8);
	memset(c->ef0016, 0x20, 55);
	c->ef0016_len = 55;
	c->max_balance = 100000;
	c->balance = 10000;
	c->keys[0] = (struct hce_key_info){ HCE_KEY_DPK, 1, 0x01, 0x00 };
	c->keys[1] = (struct hce_key_info){ HCE_KEY_DLK, 1, 0x01, 0x00 };
	c->keys[2] = (struct hce_key_info){ HCE_KEY_DTK, 0, 0x01, 0x00 };
	c->n_keys = 3;
}

static time_t fixed_time(void)
{
	struct tm tm = { .tm_year = 2026 - 1900, .tm_mon = 10, .tm_mday = 25, .tm_hour = 12,
			 .tm_min = 34, .tm_sec = 56, .tm_isdst = -1 };

	return mktime(&tm);
}

static int sh(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The token PSAM file text: [pkcs11] with this fixture's token, purchase key 1 by label. */
static void token_text(char *out, size_t cap, const char *pin_path, const char *label,
		       const char *extra)
{
	snprintf(out, cap,
		 "[issuer]\nid = 99 99 00 00 00 00 00 01\n"
		 "[terminal]\nid = 11 22 33 44 55 66\n"
		 "[pkcs11]\nmodule = " MODULE "\ntoken = hce-psam\npin-file = %s\n"
		 "[purchase-key 1]\nalg = 00\nversion = 01\nlabel = %s\n%s",
		 pin_path, label, extra);
}

FIXTURE_SETUP(tok)
{
	struct hce_card_data c;
	struct hce_hsm *h;
	char cmd[512], path[128], err[512];
	FILE *f;

	snprintf(self->dir, sizeof(self->dir), "/tmp/hce-psam-p11-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(path, sizeof(path), "%s/softhsm2.conf", self->dir);
	f = fopen(path, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "directories.tokendir = %s/tokens\n", self->dir);
	fclose(f);
	setenv("SOFTHSM2_CONF", path, 1);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/tokens && softhsm2-util --init-token --free"
		 " --label hce-psam --pin 4321 --so-pin 8765 >/dev/null", self->dir);
	ASSERT_EQ(0, sh(cmd));
	snprintf(self->pin_path, sizeof(self->pin_path), "%s/psam.pin", self->dir);
	f = fopen(self->pin_path, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "4321\n");
	fclose(f);
	ASSERT_EQ(0, hce_hsm_open(MODULE, "hce-psam", "4321", &h, err)) TH_LOG("%s", err);
	ASSERT_EQ(0, hce_hsm_import(h, "hce-mk-dpk-1", sample_mpk)) TH_LOG("%s",
									 hce_hsm_error(h));
	hce_hsm_close(h);

	snprintf(self->card_path, sizeof(self->card_path), "%s/card.db", self->dir);
	snprintf(self->rec_path, sizeof(self->rec_path), "%s/records.db", self->dir);
	ASSERT_EQ(0, hce_psam_parse(&self->clear, "clear", clear_text, strlen(clear_text), err,
				    sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, hce_psam_card_keys(&self->clear, serial, &self->keys));
	ASSERT_EQ(0, hce_store_open(self->card_path, HCE_STORE_CREATE, &self->st, err));
	card_data(&c);
	ASSERT_EQ(0, hce_store_personalise(self->st, &c, 0)) TH_LOG("%s",
								 hce_store_errmsg(self->st));
	ASSERT_EQ(0, hce_purse_open(self->st, &self->keys, &self->purse));
	hce_term_transport_app(&self->app_tp, hce_purse_app(self->purse));
	self->f.inner = &self->app_tp;
	self->f.byte = -1;
	memset(&self->tp, 0, sizeof(self->tp));
	self->tp.ops = &flip_ops;
	self->tp.priv = &self->f;
	ASSERT_EQ(0, hce_term_db_open(&self->db, self->rec_path, HCE_TERM_DB_DURABLE, err,
				      sizeof(err))) TH_LOG("%s", err);
}

FIXTURE_TEARDOWN(tok)
{
	char cmd[160];

	hce_term_db_close(self->db);
	hce_purse_close(self->purse);
	hce_store_close(self->st);
	hce_card_keys_wipe(&self->keys);
	hce_psam_wipe(&self->clear);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->dir);
	if (system(cmd))
		TH_LOG("cleanup failed");
}

struct rows {
	struct hce_term_record r[4];
	size_t n;
};

static int collect(const struct hce_term_record *r, void *arg)
{
	struct rows *rows = arg;

	if (rows->n == 4)
		return 1;
	rows->r[rows->n++] = *r;
	return 0;
}

static uint32_t card_balance(struct hce_purse *p)
{
	uint32_t b = 0xdeadbeef;

	if (hce_purse_balance(p, &b))
		return 0xdeadbeef;
	return b;
}

TEST_F(tok, token_diversifies_the_same_card_key_as_the_clear_master)
{
	struct hce_psam psam;
	struct hce_card_keys ck;
	char text[1024], err[512];

	token_text(text, sizeof(text), self->pin_path, "hce-mk-dpk-1", "");
	ASSERT_EQ(0, hce_psam_parse(&psam, "t.conf", text, strlen(text), err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_TRUE(psam.purchase[0].in_token);
	EXPECT_FALSE(psam.tac.present);
	ASSERT_EQ(0, hce_psam_card_keys(&psam, serial, &ck)) TH_LOG("%s", hce_psam_error(&psam));
	ASSERT_TRUE(ck.dpk[0].present);
	EXPECT_EQ(1, ck.dpk[0].index);
	EXPECT_EQ(0, memcmp(ck.dpk[0].key, self->keys.dpk[0].key, 16));
	EXPECT_FALSE(ck.dtk.present);
	EXPECT_FALSE(ck.dlk[0].present);
	hce_card_keys_wipe(&ck);
	hce_psam_wipe(&psam);
	EXPECT_EQ(NULL, psam.token);
}

TEST_F(tok, token_psam_charges_mac2_verified_tac_recorded_and_valid_at_the_issuer)
{
	struct hce_psam psam;
	struct hce_psam_session s;
	struct hce_term term;
	struct hce_term_result res;
	struct rows rows = { .n = 0 };
	const struct hce_term_record *got = rows.r;
	static const uint8_t rnd[4] = { 0 };
	char text[1024], err[512], receipt[1024];

	token_text(text, sizeof(text), self->pin_path, "hce-mk-dpk-1", "");
	ASSERT_EQ(0, hce_psam_parse(&psam, "t.conf", text, strlen(text), err, sizeof(err)))
		TH_LOG("%s", err);
	hce_term_init(&term, &self->tp, &psam, self->db);
	term.fixed_time = fixed_time();
	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&term, 200, &res)) TH_LOG("%s", term.err);
	EXPECT_EQ(9800U, card_balance(self->purse));
	EXPECT_STREQ(HCE_TERM_RESULT_TAC_UNVERIFIED, res.rec.result);
	EXPECT_TRUE(res.rec.has_mac2);
	ASSERT_TRUE(res.rec.has_tac);
	ASSERT_EQ(0, hce_term_receipt(&res, receipt, sizeof(receipt)));
	EXPECT_NE(NULL, strstr(receipt, "verified by the issuer at clearing"));
	EXPECT_NE(NULL, strstr(receipt, "result    ok-tac-unverified\n"));

	/* the record kept, with its TAC */
	ASSERT_EQ(0, hce_term_db_foreach(self->db, collect, &rows));
	ASSERT_EQ(1U, rows.n);
	EXPECT_TRUE(hce_term_record_uploadable(&got[0]));
	EXPECT_STREQ("ok-tac-unverified", got[0].result);
	EXPECT_EQ(0, memcmp(got[0].tac, res.rec.tac, 4));

	/* clearing: the issuer's TAC master key verifies it (session random plays no part) */
	ASSERT_EQ(0, hce_psam_purchase_session(&s, &self->keys.dpk[0], &self->keys.dtk, rnd, 0,
					       0));
	EXPECT_EQ(1, hce_psam_verify_purchase_tac(&s, 200, HCE_TX_PURCHASE, res.rec.terminal_id,
						  res.rec.ttc, res.rec.date, res.rec.time,
						  got[0].tac));
	hce_psam_session_wipe(&s);
	hce_psam_wipe(&psam);
}

TEST_F(tok, token_psam_still_refuses_a_bad_mac2)
{
	struct hce_psam psam;
	struct hce_term term;
	struct hce_term_result res;
	char text[1024], err[512];

	token_text(text, sizeof(text), self->pin_path, "hce-mk-dpk-1", "");
	ASSERT_EQ(0, hce_psam_parse(&psam, "t.conf", text, strlen(text), err, sizeof(err)));
	hce_term_init(&term, &self->tp, &psam, self->db);
	term.fixed_time = fixed_time();
	self->f.byte = 4;	/* DEBIT answer: TAC (0..3) then MAC2 (4..7) */
	EXPECT_EQ(HCE_TERM_E_PROOF, hce_term_purchase(&term, 100, &res));
	EXPECT_STREQ("mac2-invalid", res.rec.result);
	hce_psam_wipe(&psam);
}

TEST_F(tok, clear_psam_with_tac_key_still_fails_a_bad_tac)
{
	struct hce_term term;
	struct hce_term_result res;

	hce_term_init(&term, &self->tp, &self->clear, self->db);
	term.fixed_time = fixed_time();
	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&term, 100, &res)) TH_LOG("%s", term.err);
	EXPECT_STREQ("ok", res.rec.result);
	self->f.byte = 0;
	EXPECT_EQ(HCE_TERM_E_PROOF, hce_term_purchase(&term, 100, &res));
	EXPECT_STREQ("tac-invalid", res.rec.result);
}

TEST_F(tok, wrong_pin_long_pin_missing_label_and_missing_pin_file_are_clear_errors)
{
	struct hce_psam psam;
	struct hce_term term;
	struct hce_term_result res;
	char text[1024], err[512], bad_pin[128];
	FILE *f;

	snprintf(bad_pin, sizeof(bad_pin), "%s/bad.pin", self->dir);
	f = fopen(bad_pin, "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "999999\n");
	fclose(f);
	token_text(text, sizeof(text), bad_pin, "hce-mk-dpk-1", "");
	ASSERT_EQ(0, hce_psam_parse(&psam, "t.conf", text, strlen(text), err, sizeof(err)));
	EXPECT_EQ(-1, hce_psam_open_token(&psam, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "hce-psam")) TH_LOG("%s", err);
	EXPECT_NE(NULL, strstr(err, "wrong PIN")) TH_LOG("%s", err);
	EXPECT_EQ(NULL, strstr(err, "999999")) TH_LOG("%s", err);
	/* at the gate: a config error naming the token, nothing charged */
	hce_term_init(&term, &self->tp, &psam, self->db);
	term.fixed_time = fixed_time();
	EXPECT_EQ(HCE_TERM_E_CONFIG, hce_term_purchase(&term, 100, &res));
	EXPECT_NE(NULL, strstr(term.err, "hce-psam")) TH_LOG("%s", term.err);
	EXPECT_EQ(10000U, card_balance(self->purse));
	hce_psam_wipe(&psam);

	token_text(text, sizeof(text), self->pin_path, "hce-mk-dpk-9", "");
	ASSERT_EQ(0, hce_psam_parse(&psam, "t.conf", text, strlen(text), err, sizeof(err)));
	EXPECT_EQ(-1, hce_psam_open_token(&psam, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "'hce-mk-dpk-9'")) TH_LOG("%s", err);
	hce_psam_wipe(&psam);

	token_text(text, sizeof(text), "/nonexistent/psam.pin", "hce-mk-dpk-1", "");
	ASSERT_EQ(0, hce_psam_parse(&psam, "t.conf", text, strlen(text), err, sizeof(err)));
	EXPECT_EQ(-1, hce_psam_open_token(&psam, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "/nonexistent/psam.pin")) TH_LOG("%s", err);
	hce_psam_wipe(&psam);

	/* a PIN line longer than the reader takes is refused, not cut and tried */
	f = fopen(bad_pin, "w");
	ASSERT_NE(NULL, f);
	for (int i = 0; i < 300; i++)
		fputc('7', f);
	fputc('\n', f);
	fclose(f);
	token_text(text, sizeof(text), bad_pin, "hce-mk-dpk-1", "");
	ASSERT_EQ(0, hce_psam_parse(&psam, "t.conf", text, strlen(text), err, sizeof(err)));
	EXPECT_EQ(-1, hce_psam_open_token(&psam, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, "too long")) TH_LOG("%s", err);
	EXPECT_EQ(NULL, strstr(err, "7777")) TH_LOG("%s", err);
	hce_psam_wipe(&psam);

	/* the right PIN opens it, and finds the key */
	token_text(text, sizeof(text), self->pin_path, "hce-mk-dpk-1", "");
	ASSERT_EQ(0, hce_psam_parse(&psam, "t.conf", text, strlen(text), err, sizeof(err)));
	EXPECT_EQ(0, hce_psam_open_token(&psam, err, sizeof(err))) TH_LOG("%s", err);
	hce_psam_wipe(&psam);
}

TEST(key_file_pkcs11_errors_name_file_line)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		/* SM4 cannot be a token key */
		{ "[pkcs11]\nmodule = m.so\ntoken = t\npin-file = p\n"
		  "[purchase-key 1]\nalg = 04\nversion = 01\nlabel = k\n",
		  "k.conf:8: [purchase-key 1] label: only 3DES" },
		/* label without [pkcs11] */
		{ "[purchase-key 1]\nalg = 00\nversion = 01\nlabel = k\n"
		  "[tac-key]\nalg = 00\nversion = 01\nmaster = 00112233445566778899AABBCCDDEEFF\n",
		  "k.conf:4: [purchase-key 1] label: a token key needs a [pkcs11] section" },
		/* both master and label */
		{ "[pkcs11]\nmodule = m.so\ntoken = t\npin-file = p\n"
		  "[purchase-key 1]\nalg = 00\nversion = 01\n"
		  "master = 00112233445566778899AABBCCDDEEFF\nlabel = k\n",
		  "k.conf:9: [purchase-key 1]: 'master' and 'label' both given" },
		/* [pkcs11] incomplete */
		{ "[pkcs11]\nmodule = m.so\ntoken = t\n"
		  "[purchase-key 1]\nalg = 00\nversion = 01\nlabel = k\n",
		  "k.conf:" },
		{ "[pkcs11]\nmodule = m.so\ntoken = t\npin-file = p\ncolour = red\n"
		  "[purchase-key 1]\nalg = 00\nversion = 01\nlabel = k\n",
		  "k.conf:5: unknown key 'colour'" },
		/* neither key nor [tac-key] without a token */
		{ "[purchase-key 1]\nalg = 00\nversion = 01\n"
		  "master = 00112233445566778899AABBCCDDEEFF\n",
		  "missing [tac-key]" },
	};
	struct hce_psam psam;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-1, hce_psam_parse(&psam, "k.conf", bad[i].text, strlen(bad[i].text), err,
					     sizeof(err))) TH_LOG("case %zu", i);
		EXPECT_NE(NULL, strstr(err, bad[i].want)) TH_LOG("case %zu: %s", i, err);
		EXPECT_EQ(NULL, strstr(err, "00112233")) TH_LOG("case %zu: %s", i, err);
		EXPECT_EQ(NULL, psam.token);
		EXPECT_FALSE(psam.purchase[0].present);
	}
}

TEST_HARNESS_MAIN
