// SPDX-License-Identifier: GPL-2.0
/*
 * terminal_upload_test.c - the terminal's issuer state in its records database (records.h):
 * batch selection, the pending batch kept across runs (a retry is the same request), the
 * answer recorded in one transaction, dropping a batch, the version 1 -> 2 migration, the
 * deny list cache (an older version never replaces a newer one), and the pure parts of
 * upload.h (record conversion, the token check without dates).
 */
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
#include "terminal/upload.h"

static const uint8_t tid_a[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
static const uint8_t tid_b[6] = { 0, 0, 0, 0, 0, 2 };

FIXTURE(up) {
	char dir[64];
	char path[96];
	struct hce_term_db *db;
	struct hce_term_record *recs;	/* HCE_TERM_BATCH_MAX */
};

FIXTURE_SETUP(up)
{
	char err[256];

	snprintf(self->dir, sizeof(self->dir), "/tmp/hce-term-up-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->path, sizeof(self->path), "%s/records.db", self->dir);
	self->recs = calloc(HCE_TERM_BATCH_MAX, sizeof(*self->recs));
	ASSERT_NE(NULL, self->recs);
	ASSERT_EQ(0, hce_term_db_open(&self->db, self->path, HCE_TERM_DB_DURABLE, err,
				      sizeof(err))) TH_LOG("%s", err);
}

FIXTURE_TEARDOWN(up)
{
	char cmd[160];

	hce_term_db_close(self->db);
	free(self->recs);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->dir);
	if (system(cmd))
		TH_LOG("cleanup of %s failed", self->dir);
}

/* A finished transaction: type, terminal, with or without a TAC; returns its row id. */
static int64_t add(struct hce_term_db *db, const uint8_t tid[6], uint8_t type, bool tac,
		   uint32_t amount)
{
	struct hce_term_record r;

	memset(&r, 0, sizeof(r));
	memcpy(r.terminal_id, tid, 6);
	r.has_serial = true;
	memset(r.serial, 0x31, sizeof(r.serial));
	r.type = type;
	r.amount = amount;
	memcpy(r.date, "\x20\x26\x11\x25", 4);
	memcpy(r.time, "\x12\x34\x56", 3);
	if (hce_term_db_begin_tx(db, &r))
		return -1;
	r.has_counter = true;
	r.counter = (uint16_t)r.ttc;
	r.has_tac = tac;
	memcpy(r.tac, "\xA1\xA2\xA3\xA4", 4);
	r.tac[3] = (uint8_t)r.ttc;
	snprintf(r.result, sizeof(r.result), tac ? "ok-tac-unverified" : "unknown");
	if (hce_term_db_finish_tx(db, &r))
		return -1;
	return r.id;
}

struct seen {
	int64_t id;
	bool uploaded;
	char batch[HCE_TERM_REQID_MAX];
	char result[HCE_TERM_RESULT_LEN];
};

static int collect(const struct hce_term_record *r, void *arg)
{
	struct seen *s = arg;

	s[r->id].id = r->id;
	s[r->id].uploaded = r->uploaded;
	snprintf(s[r->id].batch, sizeof(s[r->id].batch), "%s", r->upload_batch);
	snprintf(s[r->id].result, sizeof(s[r->id].result), "%s", r->upload_result);
	return 0;
}

TEST_F(up, batches_take_only_own_purchases_with_a_tac_oldest_first)
{
	char reqid[HCE_TERM_REQID_MAX];
	const char *res2[] = { "accepted", "duplicate" };
	struct seen s[16];
	int64_t id[8], ids[2];
	bool resumed;
	size_t n;

	memset(s, 0, sizeof(s));
	id[1] = add(self->db, tid_a, 0x06, true, 100);
	id[2] = add(self->db, tid_a, 0x02, true, 500);	/* a load: cleared by load/confirm */
	id[3] = add(self->db, tid_a, 0x06, false, 100);	/* no TAC: unknown outcome */
	id[4] = add(self->db, tid_b, 0x06, true, 100);	/* another terminal id's record */
	id[5] = add(self->db, tid_a, 0x09, true, 200);	/* compound purchase */
	id[6] = add(self->db, tid_a, 0x06, true, 300);
	ASSERT_EQ(6, id[6]);

	ASSERT_EQ(0, hce_term_db_batch_next(self->db, tid_a, 2, "tb-1", reqid, self->recs, &n,
					    &resumed)) TH_LOG("%s", hce_term_db_error(self->db));
	ASSERT_EQ(2U, n);
	EXPECT_FALSE(resumed);
	EXPECT_STREQ("tb-1", reqid);
	EXPECT_EQ(id[1], self->recs[0].id);
	EXPECT_EQ(id[5], self->recs[1].id);
	EXPECT_STREQ("tb-1", self->recs[1].upload_batch);

	/* no answer recorded: the next run sends the same request, whatever its --batch */
	hce_term_db_close(self->db);
	ASSERT_EQ(0, hce_term_db_open(&self->db, self->path, HCE_TERM_DB_DURABLE, reqid,
				      sizeof(reqid)));
	ASSERT_EQ(0, hce_term_db_batch_next(self->db, tid_a, 1, "tb-2", reqid, self->recs, &n,
					    &resumed));
	ASSERT_EQ(2U, n);
	EXPECT_TRUE(resumed);
	EXPECT_STREQ("tb-1", reqid);
	EXPECT_EQ(id[1], self->recs[0].id);
	EXPECT_EQ(id[5], self->recs[1].id);
	EXPECT_EQ(0, memcmp(self->recs[1].tac, "\xA1\xA2\xA3\x04", 4));	/* tid_a TTC 4 */

	ids[0] = id[1];
	ids[1] = id[5];
	ASSERT_EQ(0, hce_term_db_batch_done(self->db, "tb-1", ids, res2, 2))
		TH_LOG("%s", hce_term_db_error(self->db));
	/* the same answer twice is refused: the batch is done */
	EXPECT_EQ(-1, hce_term_db_batch_done(self->db, "tb-1", ids, res2, 2));

	ASSERT_EQ(0, hce_term_db_batch_next(self->db, tid_a, 10, "tb-3", reqid, self->recs, &n,
					    &resumed));
	ASSERT_EQ(1U, n);
	EXPECT_FALSE(resumed);
	EXPECT_EQ(id[6], self->recs[0].id);
	ids[0] = id[6];
	ASSERT_EQ(0, hce_term_db_batch_done(self->db, "tb-3", ids, res2 + 1, 1));
	ASSERT_EQ(0, hce_term_db_batch_next(self->db, tid_a, 10, "tb-4", reqid, self->recs, &n,
					    &resumed));
	EXPECT_EQ(0U, n);
	EXPECT_STREQ("", reqid);

	ASSERT_EQ(0, hce_term_db_foreach(self->db, collect, s));
	EXPECT_TRUE(s[1].uploaded);
	EXPECT_STREQ("accepted", s[1].result);
	EXPECT_STREQ("duplicate", s[5].result);
	EXPECT_STREQ("duplicate", s[6].result);
	EXPECT_STREQ("tb-3", s[6].batch);
	EXPECT_FALSE(s[2].uploaded);
	EXPECT_FALSE(s[3].uploaded);
	EXPECT_FALSE(s[4].uploaded);
	EXPECT_STREQ("", s[4].batch);
	/* the other terminal id has its own queue */
	ASSERT_EQ(0, hce_term_db_batch_next(self->db, tid_b, 10, "tb-5", reqid, self->recs, &n,
					    &resumed));
	ASSERT_EQ(1U, n);
	EXPECT_EQ(id[4], self->recs[0].id);
}

TEST_F(up, an_answer_is_recorded_whole_or_not_at_all)
{
	char reqid[HCE_TERM_REQID_MAX];
	const char *res[] = { "accepted", "bad_tac" }, *none[] = { "accepted", "" };
	struct seen s[8];
	int64_t ids[2], other;
	bool resumed;
	size_t n;

	memset(s, 0, sizeof(s));
	ids[0] = add(self->db, tid_a, 0x06, true, 100);
	ids[1] = add(self->db, tid_a, 0x06, true, 100);
	ASSERT_EQ(0, hce_term_db_batch_next(self->db, tid_a, 1000, "tb-a", reqid, self->recs,
					    &n, &resumed));
	ASSERT_EQ(2U, n);
	other = add(self->db, tid_a, 0x06, true, 100);	/* made after the batch: not in it */
	ids[1] = other;
	EXPECT_EQ(-1, hce_term_db_batch_done(self->db, "tb-a", ids, res, 2));
	ids[1] = 2;
	EXPECT_EQ(-1, hce_term_db_batch_done(self->db, "tb-a", ids, none, 2));
	EXPECT_EQ(-1, hce_term_db_batch_done(self->db, "tb-zz", ids, res, 2));
	ASSERT_EQ(0, hce_term_db_foreach(self->db, collect, s));
	EXPECT_FALSE(s[1].uploaded);	/* the first update of a failed answer rolled back */
	EXPECT_STREQ("", s[1].result);
	ASSERT_EQ(0, hce_term_db_batch_done(self->db, "tb-a", ids, res, 2));
	ASSERT_EQ(0, hce_term_db_foreach(self->db, collect, s));
	EXPECT_STREQ("bad_tac", s[2].result);	/* flagged, never resent */
	ASSERT_EQ(0, hce_term_db_batch_next(self->db, tid_a, 1000, "tb-b", reqid, self->recs,
					    &n, &resumed));
	ASSERT_EQ(1U, n);
	EXPECT_EQ(other, self->recs[0].id);
}

/*
 * An answer that leaves a record of the batch without a result is refused whole: marking the
 * batch done would strand that record (in a batch that is no longer pending, so never sent
 * again, and not waiting either, so never in a new batch).
 */
TEST_F(up, an_answer_for_part_of_a_batch_is_refused)
{
	char reqid[HCE_TERM_REQID_MAX];
	const char *res[] = { "accepted", "accepted" };
	struct seen s[8];
	int64_t ids[2];
	bool resumed;
	size_t n;

	memset(s, 0, sizeof(s));
	ids[0] = add(self->db, tid_a, 0x06, true, 100);
	ids[1] = add(self->db, tid_a, 0x06, true, 100);
	ASSERT_EQ(0, hce_term_db_batch_next(self->db, tid_a, 1000, "tb-p", reqid, self->recs,
					    &n, &resumed));
	ASSERT_EQ(2U, n);
	EXPECT_EQ(-1, hce_term_db_batch_done(self->db, "tb-p", ids, res, 1));
	EXPECT_NE(NULL, strstr(hce_term_db_error(self->db), "without an answer"))
		TH_LOG("%s", hce_term_db_error(self->db));
	ASSERT_EQ(0, hce_term_db_foreach(self->db, collect, s));
	EXPECT_FALSE(s[1].uploaded);	/* nothing written */
	/* the batch is still pending: it goes again whole, then its full answer is taken */
	ASSERT_EQ(0, hce_term_db_batch_next(self->db, tid_a, 1000, "tb-q", reqid, self->recs,
					    &n, &resumed));
	EXPECT_TRUE(resumed);
	EXPECT_STREQ("tb-p", reqid);
	ASSERT_EQ(2U, n);
	ASSERT_EQ(0, hce_term_db_batch_done(self->db, "tb-p", ids, res, 2));
	ASSERT_EQ(0, hce_term_db_batch_next(self->db, tid_a, 1000, "tb-r", reqid, self->recs,
					    &n, &resumed));
	EXPECT_EQ(0U, n);
}

TEST_F(up, a_dropped_batch_returns_its_records_for_a_new_request)
{
	char reqid[HCE_TERM_REQID_MAX];
	bool resumed;
	size_t n;

	add(self->db, tid_a, 0x06, true, 100);
	ASSERT_EQ(0, hce_term_db_batch_next(self->db, tid_a, 5, "tb-x", reqid, self->recs, &n,
					    &resumed));
	ASSERT_EQ(1U, n);
	ASSERT_EQ(0, hce_term_db_batch_drop(self->db, "tb-x"));
	EXPECT_EQ(-1, hce_term_db_batch_drop(self->db, "tb-x"));
	ASSERT_EQ(0, hce_term_db_batch_next(self->db, tid_a, 5, "tb-y", reqid, self->recs, &n,
					    &resumed));
	ASSERT_EQ(1U, n);
	EXPECT_FALSE(resumed);
	EXPECT_STREQ("tb-y", reqid);
}

TEST_F(up, request_ids_and_sizes_are_checked)
{
	char reqid[HCE_TERM_REQID_MAX], longid[80];
	bool resumed;
	size_t n;

	add(self->db, tid_a, 0x06, true, 100);
	memset(longid, 'a', 65);
	longid[65] = '\0';
	EXPECT_EQ(-1, hce_term_db_batch_next(self->db, tid_a, 5, "tb 1", reqid, self->recs, &n,
					     &resumed));
	EXPECT_EQ(-1, hce_term_db_batch_next(self->db, tid_a, 5, "", reqid, self->recs, &n,
					     &resumed));
	EXPECT_EQ(-1, hce_term_db_batch_next(self->db, tid_a, 5, longid, reqid, self->recs, &n,
					     &resumed));
	EXPECT_EQ(-1, hce_term_db_batch_next(self->db, tid_a, 0, "ok", reqid, self->recs, &n,
					     &resumed));
	EXPECT_EQ(-1, hce_term_db_batch_next(self->db, tid_a, HCE_TERM_BATCH_MAX + 1, "ok", reqid,
					     self->recs, &n, &resumed));
	longid[64] = '\0';
	ASSERT_EQ(0, hce_term_db_batch_next(self->db, tid_a, 5, longid, reqid, self->recs, &n,
					    &resumed));
	EXPECT_EQ(1U, n);
}

TEST_F(up, a_version_1_file_is_migrated_with_its_rows)
{
	char path[128], err[256], reqid[HCE_TERM_REQID_MAX];
	struct hce_term_db *db;
	sqlite3 *raw;
	bool resumed;
	size_t n;

	snprintf(path, sizeof(path), "%s/v1.db", self->dir);
	ASSERT_EQ(SQLITE_OK, sqlite3_open(path, &raw));
	ASSERT_EQ(SQLITE_OK, sqlite3_exec(raw,
		"CREATE TABLE terminal_state(terminal_id TEXT PRIMARY KEY, ttc INTEGER NOT NULL);"
		"CREATE TABLE records(id INTEGER PRIMARY KEY, terminal_id TEXT NOT NULL,"
		" ttc INTEGER NOT NULL, card_serial TEXT, counter INTEGER, type INTEGER NOT NULL,"
		" amount INTEGER NOT NULL, balance_before INTEGER, balance_after INTEGER,"
		" date TEXT NOT NULL, time TEXT NOT NULL, mac2 TEXT, tac TEXT,"
		" result TEXT NOT NULL, recovered INTEGER NOT NULL DEFAULT 0,"
		" uploaded INTEGER NOT NULL DEFAULT 0, UNIQUE(terminal_id, ttc));"
		"INSERT INTO terminal_state VALUES('112233445566', 7);"
		"INSERT INTO records(terminal_id, ttc, card_serial, counter, type, amount, date,"
		" time, tac, result) VALUES('112233445566', 7, '31313131313131313131', 3, 6, 150,"
		" '20261125', '101010', '0A0B0C0D', 'ok');"
		"PRAGMA user_version = 1;", NULL, NULL, NULL));
	sqlite3_close(raw);
	ASSERT_EQ(0, hce_term_db_open(&db, path, HCE_TERM_DB_DURABLE, err, sizeof(err)))
		TH_LOG("%s", err);
	ASSERT_EQ(0, hce_term_db_batch_next(db, tid_a, 5, "tb-m", reqid, self->recs, &n,
					    &resumed)) TH_LOG("%s", hce_term_db_error(db));
	ASSERT_EQ(1U, n);
	EXPECT_EQ(7U, self->recs[0].ttc);
	EXPECT_EQ(0, memcmp(self->recs[0].tac, "\x0A\x0B\x0C\x0D", 4));
	hce_term_db_close(db);
	/* reopening a version 2 file changes nothing */
	ASSERT_EQ(0, hce_term_db_open(&db, path, HCE_TERM_DB_DURABLE, err, sizeof(err)));
	ASSERT_EQ(0, hce_term_db_batch_next(db, tid_a, 5, "tb-n", reqid, self->recs, &n,
					    &resumed));
	EXPECT_TRUE(resumed);
	EXPECT_STREQ("tb-m", reqid);
	hce_term_db_close(db);
}

static void serial(uint8_t *s, uint8_t last)
{
	memset(s, 0x31, HCE_SERIAL_LEN);
	s[HCE_SERIAL_LEN - 1] = last;
}

TEST_F(up, deny_list_older_version_never_replaces_newer)
{
	uint8_t in[4 * HCE_SERIAL_LEN], out[4 * HCE_SERIAL_LEN];
	struct hce_term_deny_info info;
	bool stored;

	ASSERT_EQ(0, hce_term_db_deny_get(self->db, &info, out, 4));
	EXPECT_EQ(-1, info.version);
	EXPECT_EQ(0U, info.n);

	serial(in, 0x30);
	serial(in + 10, 0x05);
	serial(in + 20, 0x30);	/* listed twice: stored once */
	serial(in + 30, 0x17);
	ASSERT_EQ(0, hce_term_db_deny_store(self->db, 7, 1000, in, 4, &stored));
	EXPECT_TRUE(stored);
	ASSERT_EQ(0, hce_term_db_deny_get(self->db, &info, out, 4));
	EXPECT_EQ(7, info.version);
	EXPECT_EQ(1000, info.fetched);
	ASSERT_EQ(3U, info.n);
	EXPECT_EQ(0x05, out[9]);	/* ascending, as bsearch needs */
	EXPECT_EQ(0x17, out[19]);
	EXPECT_EQ(0x30, out[29]);
	EXPECT_EQ(-1, hce_term_db_deny_get(self->db, &info, out, 2));

	/* an older answer (a lagging replica) is not stored */
	ASSERT_EQ(0, hce_term_db_deny_store(self->db, 6, 2000, in, 1, &stored));
	EXPECT_FALSE(stored);
	ASSERT_EQ(0, hce_term_db_deny_get(self->db, &info, NULL, 0));
	EXPECT_EQ(7, info.version);
	EXPECT_EQ(1000, info.fetched);
	EXPECT_EQ(3U, info.n);

	/* the same version refreshes; a newer one replaces every serial */
	ASSERT_EQ(0, hce_term_db_deny_store(self->db, 7, 3000, in + 10, 1, &stored));
	EXPECT_TRUE(stored);
	ASSERT_EQ(0, hce_term_db_deny_get(self->db, &info, out, 4));
	EXPECT_EQ(3000, info.fetched);
	ASSERT_EQ(1U, info.n);
	EXPECT_EQ(0x05, out[9]);
	ASSERT_EQ(0, hce_term_db_deny_store(self->db, 8, 4000, NULL, 0, &stored));
	ASSERT_EQ(0, hce_term_db_deny_get(self->db, &info, out, 4));
	EXPECT_EQ(8, info.version);
	EXPECT_EQ(0U, info.n);
	EXPECT_EQ(-1, hce_term_db_deny_store(self->db, -1, 4000, NULL, 0, &stored));
}

TEST(token_check_without_dates_still_checks_the_deny_list)
{
	static struct hce_term_denylist dl;
	uint8_t ef[30];
	const uint8_t today[4] = { 0x20, 0x26, 0x11, 0x25 };

	memset(ef, 0, sizeof(ef));
	serial(ef + 10, 0x42);
	memcpy(ef + 20, "\x20\x26\x11\x20", 4);
	memcpy(ef + 24, "\x20\x26\x11\x24", 4);	/* expired yesterday */
	dl.version = 3;
	dl.n = 0;
	EXPECT_EQ(HCE_TERM_TOKEN_EXPIRED, hce_term_token_check(ef, today, &dl));
	EXPECT_EQ(HCE_TERM_TOKEN_OK, hce_term_token_check(ef, NULL, &dl));
	serial(dl.serial[0], 0x41);
	serial(dl.serial[1], 0x42);
	dl.n = 2;
	EXPECT_EQ(HCE_TERM_TOKEN_DENIED, hce_term_token_check(ef, NULL, &dl));
	EXPECT_EQ(HCE_TERM_TOKEN_EXPIRED, hce_term_token_check(ef, today, &dl));
	memcpy(ef + 24, "\x20\x26\x11\x25", 4);	/* valid through today */
	EXPECT_EQ(HCE_TERM_TOKEN_DENIED, hce_term_token_check(ef, today, &dl));
	memcpy(ef + 20, "\x20\x26\x11\x26", 4);
	memcpy(ef + 24, "\x20\x26\x12\x26", 4);
	EXPECT_EQ(HCE_TERM_TOKEN_NOT_YET, hce_term_token_check(ef, today, &dl));
	ef[21] = 0x2A;	/* not BCD */
	EXPECT_EQ(HCE_TERM_TOKEN_BAD, hce_term_token_check(ef, today, NULL));
}

TEST(record_to_iss_copies_the_natural_key_and_the_proof)
{
	struct hce_term_record r;
	struct hce_iss_record i;

	memset(&r, 0, sizeof(r));
	memcpy(r.terminal_id, tid_a, 6);
	r.ttc = 0x01020304;
	r.has_serial = true;
	serial(r.serial, 9);
	r.has_counter = true;
	r.counter = 77;
	r.type = 0x09;
	r.amount = 250;
	memcpy(r.date, "\x20\x26\x11\x25", 4);
	memcpy(r.time, "\x08\x09\x10", 3);
	r.has_tac = true;
	memcpy(r.tac, "\xDE\xAD\xBE\xEF", 4);
	ASSERT_EQ(0, hce_term_record_to_iss(&r, &i));
	EXPECT_EQ(0, memcmp(i.serial, r.serial, 10));
	EXPECT_EQ(77, i.counter);
	EXPECT_EQ(9, i.type);
	EXPECT_EQ(250U, i.amount);
	EXPECT_EQ(0, memcmp(i.terminal, tid_a, 6));
	EXPECT_EQ(0x01020304U, i.ttc);
	EXPECT_EQ(0, memcmp(i.time, "\x08\x09\x10", 3));
	EXPECT_EQ(0, memcmp(i.tac, "\xDE\xAD\xBE\xEF", 4));
	r.type = 0x02;
	EXPECT_EQ(-1, hce_term_record_to_iss(&r, &i));
	r.type = 0x06;
	r.has_tac = false;
	EXPECT_EQ(-1, hce_term_record_to_iss(&r, &i));
	EXPECT_STREQ("unknown_card", hce_term_upload_result_str(HCE_TERM_UP_UNKNOWN_CARD));
	EXPECT_STREQ("", hce_term_upload_result_str(99));
}

TEST_HARNESS_MAIN
