// SPDX-License-Identifier: GPL-2.0
/*
 * store_test.c - the purse's SQLite store: open/create (WAL, 0600), personalise (one
 * transaction, EEXIST/REPLACE, validation), reopen, foreign and corrupt files, value commits
 * (ESTALE/ERANGE write nothing), log and proof pruning, persisted MAC-failure count, the
 * overdraft (signed balance, bound -overdraft_limit enforced by the commit and by the file).
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

/* kselftest_harness.h defines functions without prototypes and compares int with size_t. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "purse_testcard.h"

FIXTURE(store) {
	struct t_dir d;
	struct hce_store *st;
	struct hce_card_data cd;
	char err[HCE_STORE_ERR_MAX];
};

FIXTURE_SETUP(store)
{
	ASSERT_EQ(0, t_mkdir(&self->d));
	t_card_data(&self->cd, HCE_ALG_3DES);
	self->st = NULL;
}

FIXTURE_TEARDOWN(store)
{
	hce_store_close(self->st);
	t_rmdir(&self->d);
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, n, f) != n)
		abort();
	fclose(f);
}

static struct hce_store_debit debit(uint32_t old_balance, uint16_t ctc, uint32_t amount)
{
	struct hce_store_debit d;

	memset(&d, 0, sizeof(d));
	d.type = HCE_TX_PURCHASE;
	d.old_balance = old_balance;
	d.ctc = ctc;
	d.amount = amount;
	hce_put_be16(d.log, ctc);
	hce_put_be32(d.log + 5, amount);
	d.log[9] = HCE_TX_PURCHASE;
	d.mac2[0] = (uint8_t)ctc;
	d.tac[0] = (uint8_t)(ctc + 1);
	return d;
}

TEST_F(store, open_missing_without_create_gives_enoent)
{
	EXPECT_EQ(-ENOENT, hce_store_open(self->d.path, 0, &self->st, self->err));
	EXPECT_EQ(NULL, self->st);
	EXPECT_NE(0, strlen(self->err));
}

TEST_F(store, create_is_wal_mode_0600_and_empty)
{
	struct hce_purse_state s;
	struct stat sb;
	sqlite3 *db;
	sqlite3_stmt *q;

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, stat(self->d.path, &sb));
	EXPECT_EQ(0600, sb.st_mode & 0777);
	EXPECT_EQ(0, hce_store_has_card(self->st));
	EXPECT_EQ(-ENOENT, hce_store_state(self->st, &s));
	/* WAL is a property of the file: check it from a separate connection */
	ASSERT_EQ(SQLITE_OK, sqlite3_open(self->d.path, &db));
	ASSERT_EQ(SQLITE_OK, sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL));
	ASSERT_EQ(SQLITE_ROW, sqlite3_step(q));
	EXPECT_STREQ("wal", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
}

TEST_F(store, personalise_then_reopen_reads_everything_back)
{
	struct hce_card_data back;
	struct hce_purse_state s;
	uint8_t rec[HCE_CAPP_RECORD_LEN];

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0));
	hce_store_close(self->st);
	self->st = NULL;
	ASSERT_EQ(0, hce_store_open(self->d.path, 0, &self->st, self->err));
	EXPECT_EQ(1, hce_store_has_card(self->st));
	ASSERT_EQ(0, hce_store_card(self->st, &back));
	EXPECT_EQ(0, memcmp(&back, &self->cd, sizeof(back)));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(T_BALANCE, s.balance);
	EXPECT_EQ(0, s.ctc);
	EXPECT_EQ(0, s.mac_failures);
	EXPECT_EQ(-ENOENT, hce_store_log(self->st, 1, rec));
	EXPECT_EQ(0, hce_store_capp(self->st, 2, rec));
	EXPECT_EQ(-ENOENT, hce_store_capp(self->st, 3, rec));
	EXPECT_EQ(-ENOENT, hce_store_capp(self->st, 0, rec));
	EXPECT_EQ(-ENOENT, hce_store_capp(self->st, 9, rec));
}

TEST_F(store, personalise_twice_gives_eexist_unless_replace)
{
	struct hce_purse_state s;

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0));
	/* a debit of no valid type is refused before touching the file */
	EXPECT_EQ(-EINVAL, hce_store_commit_debit(self->st, &(struct hce_store_debit){ 0 }));
	self->cd.balance = 77;
	EXPECT_EQ(-EEXIST, hce_store_personalise(self->st, &self->cd, 0));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(T_BALANCE, s.balance);
	EXPECT_EQ(0, hce_store_personalise(self->st, &self->cd, HCE_STORE_REPLACE));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(77, s.balance);
}

TEST_F(store, replace_never_takes_counters_back)
{
	struct hce_store_debit d = debit(T_BALANCE, 0, 1);
	struct hce_purse_state s;

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0));
	ASSERT_EQ(0, hce_store_commit_debit(self->st, &d));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, HCE_STORE_REPLACE));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(1, s.ctc);
	EXPECT_EQ(0, s.online_counter);
	self->cd.online_counter = 9;
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, HCE_STORE_REPLACE));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(1, s.ctc);
	EXPECT_EQ(9, s.online_counter);
}

TEST_F(store, personalise_invalid_fields_give_einval_and_write_nothing)
{
	struct hce_card_data c;

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	c = self->cd; c.aid_len = 4;
	EXPECT_EQ(-EINVAL, hce_store_personalise(self->st, &c, 0));
	EXPECT_NE(NULL, strstr(hce_store_errmsg(self->st), "aid"));
	c = self->cd; c.ef0016_len = 0;
	EXPECT_EQ(-EINVAL, hce_store_personalise(self->st, &c, 0));
	c = self->cd; c.overdraft_limit = 0x1000000;
	EXPECT_EQ(-EINVAL, hce_store_personalise(self->st, &c, 0));
	c = self->cd; c.balance = c.max_balance + 1;
	EXPECT_EQ(-EINVAL, hce_store_personalise(self->st, &c, 0));
	/* balances are signed: below -overdraft_limit, or beyond 2^31 - 1, are refused */
	c = self->cd; c.balance = hce_balance_raw(-(int32_t)T_OVERDRAFT - 1);
	EXPECT_EQ(-EINVAL, hce_store_personalise(self->st, &c, 0));
	c = self->cd; c.max_balance = 0xFFFFFFFF; c.balance = 0x80000000u;
	EXPECT_EQ(-EINVAL, hce_store_personalise(self->st, &c, 0));
	c = self->cd; c.keys[1].index = 1;	/* duplicate DPK 1 */
	EXPECT_EQ(-EINVAL, hce_store_personalise(self->st, &c, 0));
	c = self->cd; c.keys[0].alg = 0x01;
	EXPECT_EQ(-EINVAL, hce_store_personalise(self->st, &c, 0));
	c = self->cd; c.keys[3].index = 1;	/* DTK has index 0 */
	EXPECT_EQ(-EINVAL, hce_store_personalise(self->st, &c, 0));
	EXPECT_EQ(0, hce_store_has_card(self->st));
}

TEST_F(store, foreign_sqlite_file_gives_eilseq)
{
	sqlite3 *db;

	ASSERT_EQ(SQLITE_OK, sqlite3_open(self->d.path, &db));
	ASSERT_EQ(SQLITE_OK, sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);",
					  NULL, NULL, NULL));
	sqlite3_close(db);
	EXPECT_EQ(-EILSEQ, hce_store_open(self->d.path, 0, &self->st, self->err));
	EXPECT_NE(NULL, strstr(self->err, "not a purse store"));
}

TEST_F(store, newer_schema_version_gives_eilseq)
{
	sqlite3 *db;

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	hce_store_close(self->st);
	self->st = NULL;
	ASSERT_EQ(SQLITE_OK, sqlite3_open(self->d.path, &db));
	ASSERT_EQ(SQLITE_OK, sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL));
	sqlite3_close(db);
	EXPECT_EQ(-EILSEQ, hce_store_open(self->d.path, 0, &self->st, self->err));
	EXPECT_NE(NULL, strstr(self->err, "version"));
}

TEST_F(store, garbage_file_gives_eilseq_not_a_crash)
{
	char junk[4096];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	write_file(self->d.path, junk, sizeof(junk));
	EXPECT_EQ(-EILSEQ, hce_store_open(self->d.path, 0, &self->st, self->err));
	EXPECT_EQ(NULL, self->st);
}

TEST_F(store, corrupt_column_values_give_eilseq)
{
	struct hce_card_data back;
	struct hce_purse_state s;
	sqlite3 *db;

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0));
	ASSERT_EQ(SQLITE_OK, sqlite3_open(self->d.path, &db));
	ASSERT_EQ(SQLITE_OK, sqlite3_exec(db, "UPDATE card SET ef0015 = x'0102';"
					  "UPDATE state SET ctc = 70000;", NULL, NULL, NULL));
	sqlite3_close(db);
	EXPECT_EQ(-EILSEQ, hce_store_card(self->st, &back));
	EXPECT_EQ(-EILSEQ, hce_store_state(self->st, &s));
}

TEST_F(store, commit_debit_updates_balance_ctc_log_proof_in_one_go)
{
	struct hce_store_debit d = debit(T_BALANCE, 0, 300);
	uint8_t rec[HCE_LOG_RECORD_LEN];
	struct hce_purse_state s;
	struct hce_proof pr;

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0));
	ASSERT_EQ(0, hce_store_mac_failure(self->st, NULL));
	ASSERT_EQ(0, hce_store_commit_debit(self->st, &d));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(T_BALANCE - 300, s.balance);
	EXPECT_EQ(1, s.ctc);
	EXPECT_EQ(0, s.mac_failures);	/* a good MAC resets the count */
	EXPECT_EQ(1, s.tx_total);
	ASSERT_EQ(0, hce_store_log(self->st, 1, rec));
	EXPECT_EQ(0, memcmp(rec, d.log, sizeof(rec)));
	ASSERT_EQ(0, hce_store_proof(self->st, 0, &pr));
	EXPECT_EQ(HCE_TX_PURCHASE, pr.type);
	EXPECT_EQ(0, memcmp(pr.mac2, d.mac2, 4));
	EXPECT_EQ(-ENOENT, hce_store_proof(self->st, 1, &pr));
}

TEST_F(store, commit_stale_or_out_of_range_writes_nothing)
{
	struct hce_store_debit d;
	struct hce_store_load l;
	struct hce_purse_state s;
	uint8_t rec[HCE_LOG_RECORD_LEN];

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0));
	d = debit(T_BALANCE + 1, 0, 1);
	EXPECT_EQ(-ESTALE, hce_store_commit_debit(self->st, &d));
	d = debit(T_BALANCE, 1, 1);
	EXPECT_EQ(-ESTALE, hce_store_commit_debit(self->st, &d));
	/* one fen beyond balance + overdraft limit */
	d = debit(T_BALANCE, 0, T_BALANCE + T_OVERDRAFT + 1);
	EXPECT_EQ(-ERANGE, hce_store_commit_debit(self->st, &d));
	d = debit(T_BALANCE, 0, 0xFFFFFFFF);
	EXPECT_EQ(-ERANGE, hce_store_commit_debit(self->st, &d));
	memset(&l, 0, sizeof(l));
	l.old_balance = T_BALANCE;
	l.amount = T_MAX_BALANCE - T_BALANCE + 1;
	EXPECT_EQ(-ERANGE, hce_store_commit_load(self->st, &l));
	l.amount = 0xFFFFFFFF;
	EXPECT_EQ(-ERANGE, hce_store_commit_load(self->st, &l));
	l.online_counter = 5;
	l.amount = 1;
	EXPECT_EQ(-ESTALE, hce_store_commit_load(self->st, &l));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(T_BALANCE, s.balance);
	EXPECT_EQ(0, s.ctc);
	EXPECT_EQ(0, s.online_counter);
	EXPECT_EQ(0, s.tx_total);
	EXPECT_EQ(-ENOENT, hce_store_log(self->st, 1, rec));
	/* a load at exactly the maximum is accepted */
	l.online_counter = 0;
	l.amount = T_MAX_BALANCE - T_BALANCE;
	EXPECT_EQ(0, hce_store_commit_load(self->st, &l));
}

TEST_F(store, log_keeps_10_records_and_proofs_the_last_10_purchases)
{
	uint8_t rec[HCE_LOG_RECORD_LEN];
	struct hce_store_debit d;
	struct hce_proof pr;
	uint16_t i;

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0));
	for (i = 0; i < 15; i++) {
		d = debit(T_BALANCE - i, i, 1);
		ASSERT_EQ(0, hce_store_commit_debit(self->st, &d));
	}
	ASSERT_EQ(0, hce_store_log(self->st, 1, rec));
	EXPECT_EQ(14, hce_get_be16(rec));
	ASSERT_EQ(0, hce_store_log(self->st, 10, rec));
	EXPECT_EQ(5, hce_get_be16(rec));
	EXPECT_EQ(-ENOENT, hce_store_log(self->st, 11, rec));
	EXPECT_EQ(-ENOENT, hce_store_proof(self->st, 4, &pr));
	EXPECT_EQ(0, hce_store_proof(self->st, 5, &pr));
	EXPECT_EQ(0, hce_store_proof(self->st, 14, &pr));
}

TEST_F(store, mac_failure_count_persists_across_reopen)
{
	struct hce_purse_state s;
	uint32_t n = 0;

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	EXPECT_EQ(-ENOENT, hce_store_mac_failure(self->st, &n));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0));
	ASSERT_EQ(0, hce_store_mac_failure(self->st, &n));
	ASSERT_EQ(0, hce_store_mac_failure(self->st, &n));
	EXPECT_EQ(2, n);
	hce_store_close(self->st);
	ASSERT_EQ(0, hce_store_open(self->d.path, 0, &self->st, self->err));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(2, s.mac_failures);
	ASSERT_EQ(0, hce_store_reset_mac_failures(self->st));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(0, s.mac_failures);
}

TEST_F(store, readonly_open_reads_and_refuses_writes)
{
	struct hce_purse_state s;
	struct hce_store_debit d = debit(T_BALANCE, 0, 1);

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0));
	hce_store_close(self->st);
	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_READONLY, &self->st, self->err));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(T_BALANCE, s.balance);
	EXPECT_EQ(-EIO, hce_store_commit_debit(self->st, &d));
	EXPECT_EQ(-EIO, hce_store_mac_failure(self->st, NULL));
}

TEST_F(store, two_handles_second_commit_with_old_state_is_stale)
{
	struct hce_store *b;
	struct hce_store_debit d = debit(T_BALANCE, 0, 1);

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0));
	ASSERT_EQ(0, hce_store_open(self->d.path, 0, &b, self->err));
	ASSERT_EQ(0, hce_store_commit_debit(self->st, &d));
	EXPECT_EQ(-ESTALE, hce_store_commit_debit(b, &d));
	hce_store_close(b);
}


/* ---- overdraft ---- */

static void sql_exec(const char *path, const char *sql, int *rc, char *msg, size_t n)
{
	sqlite3 *db;
	char *e = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		abort();
	*rc = sqlite3_exec(db, sql, NULL, NULL, &e);
	snprintf(msg, n, "%s", e ? e : "");
	sqlite3_free(e);
	sqlite3_close(db);
}

static int64_t sql_balance(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int64_t v = 0x7fffffffffffLL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		abort();
	if (sqlite3_prepare_v2(db, "SELECT balance FROM state", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

/* A debit down to exactly -limit commits (signed in the file, two's complement in the API). */
TEST_F(store, debit_into_overdraft_down_to_minus_limit_then_erange)
{
	struct hce_store_debit d;
	struct hce_store_load l;
	struct hce_purse_state s;
	struct hce_card_data c;

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0));
	d = debit(T_BALANCE, 0, T_BALANCE + 300);
	ASSERT_EQ(0, hce_store_commit_debit(self->st, &d));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(0xFFFFFED4u, s.balance);		/* -300 */
	EXPECT_EQ(-300, hce_balance_value(s.balance));
	EXPECT_EQ(-300, sql_balance(self->d.path));	/* a signed INTEGER in the file */
	/* one fen beyond the limit: -ERANGE, nothing written */
	d = debit(s.balance, 1, T_OVERDRAFT - 300 + 1);
	EXPECT_EQ(-ERANGE, hce_store_commit_debit(self->st, &d));
	d = debit(s.balance, 1, T_OVERDRAFT - 300);
	ASSERT_EQ(0, hce_store_commit_debit(self->st, &d));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(-(int32_t)T_OVERDRAFT, hce_balance_value(s.balance));
	EXPECT_EQ(2, s.ctc);
	/* a zero-amount debit at -limit still commits; 1 fen more does not */
	d = debit(s.balance, 2, 1);
	EXPECT_EQ(-ERANGE, hce_store_commit_debit(self->st, &d));
	d = debit(s.balance, 2, 0);
	EXPECT_EQ(0, hce_store_commit_debit(self->st, &d));
	/* a load repays: the balance rises by the amount */
	memset(&l, 0, sizeof(l));
	l.old_balance = hce_balance_raw(-(int32_t)T_OVERDRAFT);
	l.amount = 1000;
	ASSERT_EQ(0, hce_store_commit_load(self->st, &l));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(1000 - (int32_t)T_OVERDRAFT, hce_balance_value(s.balance));
	/* reading the card back gives the raw current balance */
	ASSERT_EQ(0, hce_store_card(self->st, &c));
	EXPECT_EQ(s.balance, c.balance);
	/* the maximum still bounds a repaying load */
	l.old_balance = s.balance;
	l.online_counter = 1;
	l.amount = T_MAX_BALANCE - (uint32_t)(1000 - (int32_t)T_OVERDRAFT) + 1;
	EXPECT_EQ(-ERANGE, hce_store_commit_load(self->st, &l));
	l.amount--;
	EXPECT_EQ(0, hce_store_commit_load(self->st, &l));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(T_MAX_BALANCE, s.balance);
}

/*
 * The file refuses a balance below -overdraft whatever writes it (a forged second path past
 * the commit functions): the UPDATE aborts and the balance stays.
 */
TEST_F(store, file_constraint_refuses_balance_below_minus_limit_on_any_path)
{
	char msg[200], sql[160];
	int rc;

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0));
	hce_store_close(self->st);
	self->st = NULL;
	snprintf(sql, sizeof(sql), "UPDATE state SET balance = %d", -(int)T_OVERDRAFT - 1);
	sql_exec(self->d.path, sql, &rc, msg, sizeof(msg));
	EXPECT_EQ(SQLITE_CONSTRAINT, rc & 0xff);
	EXPECT_NE(NULL, strstr(msg, "overdraft")) TH_LOG("%s", msg);
	EXPECT_EQ(T_BALANCE, sql_balance(self->d.path));
	snprintf(sql, sizeof(sql), "BEGIN; UPDATE state SET balance = balance - %u; COMMIT",
		 T_BALANCE + T_OVERDRAFT + 1);
	sql_exec(self->d.path, sql, &rc, msg, sizeof(msg));
	EXPECT_EQ(SQLITE_CONSTRAINT, rc & 0xff);
	EXPECT_EQ(T_BALANCE, sql_balance(self->d.path));
	/* exactly -limit is allowed */
	snprintf(sql, sizeof(sql), "UPDATE state SET balance = %d", -(int)T_OVERDRAFT);
	sql_exec(self->d.path, sql, &rc, msg, sizeof(msg));
	EXPECT_EQ(SQLITE_OK, rc) TH_LOG("%s", msg);
	/* and a card without overdraft may never go below 0 */
	self->cd.overdraft_limit = 0;
	ASSERT_EQ(0, hce_store_open(self->d.path, 0, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, HCE_STORE_REPLACE));
	hce_store_close(self->st);
	self->st = NULL;
	sql_exec(self->d.path, "UPDATE state SET balance = -1", &rc, msg, sizeof(msg));
	EXPECT_EQ(SQLITE_CONSTRAINT, rc & 0xff);
	EXPECT_EQ(T_BALANCE, sql_balance(self->d.path));
}

/* A card personalised in the overdraft (a token for an account at -3.00) reads back. */
TEST_F(store, personalise_negative_balance_within_limit)
{
	struct hce_purse_state s;

	self->cd.balance = hce_balance_raw(-(int32_t)T_OVERDRAFT);
	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0)) TH_LOG("%s",
		hce_store_errmsg(self->st));
	ASSERT_EQ(0, hce_store_state(self->st, &s));
	EXPECT_EQ(-(int32_t)T_OVERDRAFT, hce_balance_value(s.balance));
	EXPECT_EQ(-(int64_t)T_OVERDRAFT, sql_balance(self->d.path));
}

/* A balance outside -0xFFFFFF..2^31-1 in the file is corruption, not a wrapped value. */
TEST_F(store, out_of_range_signed_balance_in_file_gives_eilseq)
{
	struct hce_purse_state s;
	char msg[200];
	int rc;

	ASSERT_EQ(0, hce_store_open(self->d.path, HCE_STORE_CREATE, &self->st, self->err));
	ASSERT_EQ(0, hce_store_personalise(self->st, &self->cd, 0));
	hce_store_close(self->st);
	self->st = NULL;
	sql_exec(self->d.path, "DROP TRIGGER state_balance_update;"
		 " UPDATE state SET balance = 2147483648", &rc, msg, sizeof(msg));
	ASSERT_EQ(SQLITE_OK, rc) TH_LOG("%s", msg);
	ASSERT_EQ(0, hce_store_open(self->d.path, 0, &self->st, self->err));
	EXPECT_EQ(-EILSEQ, hce_store_state(self->st, &s));
	/* the read-write open recreated the constraint */
	hce_store_close(self->st);
	self->st = NULL;
	sql_exec(self->d.path, "UPDATE state SET balance = -100000000", &rc, msg, sizeof(msg));
	EXPECT_EQ(SQLITE_CONSTRAINT, rc & 0xff);
}

TEST_HARNESS_MAIN
