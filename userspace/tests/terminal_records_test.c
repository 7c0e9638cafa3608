// SPDX-License-Identifier: GPL-2.0
/* terminal_records_test.c - the terminal's TTC and transaction records (records.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

/* The harness (and FIXTURE_SETUP) define functions without prototypes; formats non-literal. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "terminal/records.h"

static const uint8_t tid_a[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
static const uint8_t tid_b[6] = { 0, 0, 0, 0, 0, 2 };

FIXTURE(rec) {
	char dir[64];
	char path[96];
};

FIXTURE_SETUP(rec)
{
	snprintf(self->dir, sizeof(self->dir), "/tmp/hce-term-rec-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->path, sizeof(self->path), "%s/records.db", self->dir);
}

FIXTURE_TEARDOWN(rec)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->dir);
	if (system(cmd))
		TH_LOG("cleanup of %s failed", self->dir);
}

static void fill(struct hce_term_record *r, const uint8_t tid[6], uint32_t amount)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->terminal_id, tid, 6);
	r->has_serial = true;
	memset(r->serial, 0x42, sizeof(r->serial));
	r->type = 0x06;
	r->amount = amount;
	r->date[0] = 0x20;
	r->date[1] = 0x26;
	r->date[2] = 0x11;
	r->date[3] = 0x25;
}

TEST_F(rec, ttc_monotonic_across_reopen_and_per_terminal)
{
	struct hce_term_db *db;
	struct hce_term_record r;
	char err[256];
	uint32_t last;
	int i;

	ASSERT_EQ(0, hce_term_db_open(&db, self->path, HCE_TERM_DB_DURABLE, err, sizeof(err)));
	for (i = 1; i <= 3; i++) {
		fill(&r, tid_a, 100);
		ASSERT_EQ(0, hce_term_db_begin_tx(db, &r));
		EXPECT_EQ((uint32_t)i, r.ttc);
		EXPECT_STREQ("pending", r.result);
	}
	fill(&r, tid_b, 100);
	ASSERT_EQ(0, hce_term_db_begin_tx(db, &r));
	EXPECT_EQ(1U, r.ttc);
	hce_term_db_close(db);

	ASSERT_EQ(0, hce_term_db_open(&db, self->path, HCE_TERM_DB_DURABLE, err, sizeof(err)));
	ASSERT_EQ(0, hce_term_db_last_ttc(db, tid_a, &last));
	EXPECT_EQ(3U, last);
	fill(&r, tid_a, 100);
	ASSERT_EQ(0, hce_term_db_begin_tx(db, &r));
	EXPECT_EQ(4U, r.ttc);
	hce_term_db_close(db);
}

static int collect(const struct hce_term_record *r, void *arg)
{
	struct hce_term_record *out = arg;

	out[r->id - 1] = *r;
	return r->id >= 4 ? 7 : 0;
}

TEST_F(rec, finish_tx_updates_the_same_row_with_every_field)
{
	struct hce_term_db *db;
	struct hce_term_record r, got[4];
	char err[256];
	int64_t n;

	ASSERT_EQ(0, hce_term_db_open(&db, self->path, HCE_TERM_DB_DURABLE, err, sizeof(err)));
	fill(&r, tid_a, 150);
	ASSERT_EQ(0, hce_term_db_begin_tx(db, &r));
	r.has_counter = true;
	r.counter = 5;
	r.has_balance = true;
	r.balance_before = 10000;
	r.balance_after = 9850;
	r.has_mac2 = true;
	memcpy(r.mac2, "\x01\x02\x03\x04", 4);
	r.has_tac = true;
	memcpy(r.tac, "\xA1\xA2\xA3\xA4", 4);
	r.recovered = true;
	snprintf(r.result, sizeof(r.result), "ok");
	ASSERT_EQ(0, hce_term_db_finish_tx(db, &r));
	ASSERT_EQ(0, hce_term_db_count(db, &n));
	EXPECT_EQ(1, n);
	memset(got, 0, sizeof(got));
	ASSERT_EQ(0, hce_term_db_foreach(db, collect, got));
	EXPECT_EQ(r.id, got[0].id);
	EXPECT_EQ(1U, got[0].ttc);
	EXPECT_TRUE(got[0].has_counter);
	EXPECT_EQ(5, got[0].counter);
	EXPECT_EQ(9850U, got[0].balance_after);
	EXPECT_EQ(0, memcmp(got[0].mac2, r.mac2, 4));
	EXPECT_EQ(0, memcmp(got[0].tac, r.tac, 4));
	EXPECT_EQ(0, memcmp(got[0].serial, r.serial, 10));
	EXPECT_EQ(0, memcmp(got[0].date, r.date, 4));
	EXPECT_STREQ("ok", got[0].result);
	EXPECT_TRUE(got[0].recovered);
	/* a row that does not exist is an error, not a silent success */
	r.id = 999;
	EXPECT_EQ(-1, hce_term_db_finish_tx(db, &r));
	hce_term_db_close(db);
}

TEST_F(rec, foreach_stops_on_callback_value)
{
	struct hce_term_db *db;
	struct hce_term_record r, got[4];
	char err[256];
	int i;

	ASSERT_EQ(0, hce_term_db_open(&db, ":memory:", HCE_TERM_DB_FAST, err, sizeof(err)));
	for (i = 0; i < 6; i++) {
		fill(&r, tid_a, 1);
		ASSERT_EQ(0, hce_term_db_begin_tx(db, &r));
	}
	EXPECT_EQ(7, hce_term_db_foreach(db, collect, got));
	hce_term_db_close(db);
}

TEST_F(rec, ttc_exhausted_refuses_and_never_wraps)
{
	struct hce_term_db *db;
	struct hce_term_record r;
	char err[256], sql[200];
	sqlite3 *raw;
	int64_t n;

	ASSERT_EQ(0, hce_term_db_open(&db, self->path, HCE_TERM_DB_DURABLE, err, sizeof(err)));
	fill(&r, tid_a, 1);
	ASSERT_EQ(0, hce_term_db_begin_tx(db, &r));
	hce_term_db_close(db);
	ASSERT_EQ(SQLITE_OK, sqlite3_open(self->path, &raw));
	snprintf(sql, sizeof(sql), "UPDATE terminal_state SET ttc = 4294967295");
	ASSERT_EQ(SQLITE_OK, sqlite3_exec(raw, sql, NULL, NULL, NULL));
	sqlite3_close(raw);
	ASSERT_EQ(0, hce_term_db_open(&db, self->path, HCE_TERM_DB_DURABLE, err, sizeof(err)));
	fill(&r, tid_a, 1);
	EXPECT_EQ(-1, hce_term_db_begin_tx(db, &r));
	EXPECT_NE(NULL, strstr(hce_term_db_error(db), "exhausted"));
	ASSERT_EQ(0, hce_term_db_count(db, &n));
	EXPECT_EQ(1, n);
	hce_term_db_close(db);
}

TEST_F(rec, open_refuses_a_foreign_schema_version)
{
	struct hce_term_db *db;
	sqlite3 *raw;
	char err[256];

	ASSERT_EQ(SQLITE_OK, sqlite3_open(self->path, &raw));
	ASSERT_EQ(SQLITE_OK, sqlite3_exec(raw, "PRAGMA user_version = 9", NULL, NULL, NULL));
	sqlite3_close(raw);
	EXPECT_EQ(-1, hce_term_db_open(&db, self->path, HCE_TERM_DB_DURABLE, err, sizeof(err)));
	EXPECT_EQ(NULL, db);
	EXPECT_NE(NULL, strstr(err, "version 9"));
}

TEST_HARNESS_MAIN
