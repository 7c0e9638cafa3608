// SPDX-License-Identifier: GPL-2.0
/*
 * issuer_isdb_test - lib/isdb on SQLite (PostgreSQL runs through the same SQL in
 * 71-issuer-pg): $n parameters bound by name in any order, NULLs, change counts,
 * ON CONFLICT DO NOTHING, transactions rolled back, schema idempotent, bad URLs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isdb/isdb.h"
#include "kselftest_harness.h"

FIXTURE(db) {
	char dir[64];
	struct isdb *db;
};

FIXTURE_SETUP(db)
{
	char url[128], err[ISDB_ERR_MAX];

	snprintf(self->dir, sizeof(self->dir), "/tmp/hce-isdb-test-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(url, sizeof(url), "sqlite:%s/t.db", self->dir);
	ASSERT_EQ(0, isdb_open(url, &self->db, err));
	ASSERT_EQ(0, isdb_init_schema(self->db));
}

FIXTURE_TEARDOWN(db)
{
	char cmd[128];

	isdb_close(self->db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->dir);
	if (system(cmd))
		return;
}

TEST_F(db, parameters_by_number_in_any_order_and_nulls)
{
	struct isdb_rows r;

	ASSERT_EQ(0, isdb_exec(self->db, "SELECT $2, $1, $2 || $1, $3", 3,
			       (const char *const[]){ "a", "b", NULL }, &r));
	ASSERT_EQ(1, r.n_rows);
	EXPECT_STREQ("b", isdb_val(&r, 0, 0));
	EXPECT_STREQ("a", isdb_val(&r, 0, 1));
	EXPECT_STREQ("ba", isdb_val(&r, 0, 2));
	EXPECT_EQ(NULL, isdb_val(&r, 0, 3));
	EXPECT_EQ(NULL, isdb_val(&r, 1, 0));
	isdb_rows_free(&r);
	EXPECT_EQ(-1, isdb_exec(self->db, "SELEC nonsense", 0, NULL, NULL));
	EXPECT_NE(0, strlen(isdb_error(self->db)));
}

TEST_F(db, on_conflict_counts_and_rollback_leaves_nothing)
{
	struct isdb_rows r;

	ASSERT_EQ(0, isdb_exec(self->db, "INSERT INTO meta (k, v) VALUES ($1, $2) ON CONFLICT DO"
			       " NOTHING", 2, (const char *const[]){ "x", "1" }, &r));
	EXPECT_EQ(1, r.changes);
	isdb_rows_free(&r);
	ASSERT_EQ(0, isdb_exec(self->db, "INSERT INTO meta (k, v) VALUES ($1, $2) ON CONFLICT DO"
			       " NOTHING", 2, (const char *const[]){ "x", "2" }, &r));
	EXPECT_EQ(0, r.changes);
	isdb_rows_free(&r);
	ASSERT_EQ(0, isdb_begin(self->db));
	ASSERT_EQ(0, isdb_exec(self->db, "UPDATE meta SET v = $1 WHERE k = 'x'", 1,
			       (const char *const[]){ "9" }, NULL));
	isdb_rollback(self->db);
	ASSERT_EQ(0, isdb_exec(self->db, "SELECT v FROM meta WHERE k = 'x'", 0, NULL, &r));
	EXPECT_STREQ("1", isdb_val(&r, 0, 0));
	isdb_rows_free(&r);
	/* Schema creation is idempotent and keeps data. */
	ASSERT_EQ(0, isdb_init_schema(self->db));
	ASSERT_EQ(0, isdb_exec(self->db, "SELECT COUNT(*) FROM meta", 0, NULL, &r));
	EXPECT_STREQ("3", isdb_val(&r, 0, 0));	/* schema, denylist_version, x */
	isdb_rows_free(&r);
	EXPECT_EQ(ISDB_SQLITE, isdb_kind(self->db));
}

TEST(bad_urls_refused)
{
	char err[ISDB_ERR_MAX];
	struct isdb *db = NULL;

	EXPECT_EQ(-1, isdb_open("mysql://x", &db, err));
	EXPECT_NE(NULL, strstr(err, "sqlite:"));
	EXPECT_EQ(-1, isdb_open("sqlite:/nonexistent-dir/x/y.db", &db, err));
	EXPECT_EQ(-1, isdb_open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", &db, err));
	EXPECT_EQ(NULL, db);
}

TEST_HARNESS_MAIN
