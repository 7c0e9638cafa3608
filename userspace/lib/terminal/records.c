// SPDX-License-Identifier: GPL-2.0
/* records.c - the terminal's TTC and transaction records in SQLite; see records.h. */
#include "terminal/records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "codec/hex.h"

struct hce_term_db {
	sqlite3 *db;
	sqlite3_stmt *get_ttc, *put_ttc, *insert, *update;
	char err[256];
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS terminal_state("
	" terminal_id TEXT PRIMARY KEY, ttc INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS records("
	" id INTEGER PRIMARY KEY,"
	" terminal_id TEXT NOT NULL, ttc INTEGER NOT NULL,"
	" card_serial TEXT, counter INTEGER, type INTEGER NOT NULL,"
	" amount INTEGER NOT NULL, balance_before INTEGER, balance_after INTEGER,"
	" date TEXT NOT NULL, time TEXT NOT NULL, mac2 TEXT, tac TEXT,"
	" result TEXT NOT NULL, recovered INTEGER NOT NULL DEFAULT 0,"
	" uploaded INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE(terminal_id, ttc));";

/* Version 1 -> 2: upload state and the deny list cache. */
static const char schema_v2[] =
	"ALTER TABLE records ADD COLUMN upload_batch TEXT;"
	"ALTER TABLE records ADD COLUMN upload_result TEXT;"
	"CREATE INDEX records_upload ON records(uploaded, upload_batch, id);"
	"CREATE TABLE upload_batches("
	" request_id TEXT PRIMARY KEY, created INTEGER NOT NULL,"
	" state TEXT NOT NULL CHECK(state IN ('pending', 'done')));"
	"CREATE TABLE denylist_state("
	" id INTEGER PRIMARY KEY CHECK(id = 1), version INTEGER NOT NULL,"
	" fetched INTEGER NOT NULL);"
	"CREATE TABLE denylist(serial TEXT PRIMARY KEY);"
	"PRAGMA user_version = 2;";

#define COLS "terminal_id, ttc, card_serial, counter, type, amount, balance_before," \
	" balance_after, date, time, mac2, tac, result, recovered, uploaded"

static int db_fail(struct hce_term_db *db, const char *what)
{
	snprintf(db->err, sizeof(db->err), "%s: %s", what, sqlite3_errmsg(db->db));
	return -1;
}

static int user_version(struct hce_term_db *db)
{
	sqlite3_stmt *st;
	int version = -1;

	if (sqlite3_prepare_v2(db->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return version;
}

/*
 * Create or upgrade the schema to version 2 in one transaction; the version is read again
 * under the write lock, so two processes opening a new file at once do it once.
 */
static int migrate(struct hce_term_db *db)
{
	int v;

	if (sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	v = user_version(db);
	if (v < 0 || v > 2)
		return -1;
	if (v < 2 && (sqlite3_exec(db->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
		      sqlite3_exec(db->db, schema_v2, NULL, NULL, NULL) != SQLITE_OK))
		return -1;
	return sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

const char *hce_term_db_error(const struct hce_term_db *db)
{
	return db ? db->err : "no database";
}

void hce_term_db_close(struct hce_term_db *db)
{
	if (!db)
		return;
	sqlite3_finalize(db->get_ttc);
	sqlite3_finalize(db->put_ttc);
	sqlite3_finalize(db->insert);
	sqlite3_finalize(db->update);
	sqlite3_close(db->db);
	free(db);
}

int hce_term_db_open(struct hce_term_db **out, const char *path, enum hce_term_db_mode mode,
		     char *err, size_t errlen)
{
	const char *pragmas = mode == HCE_TERM_DB_DURABLE ?
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;" :
		"PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF;";
	struct hce_term_db *db;
	int version;

	*out = NULL;
	db = calloc(1, sizeof(*db));
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		db_fail(db, path);
		goto fail;
	}
	sqlite3_busy_timeout(db->db, 5000);
	if (sqlite3_exec(db->db, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db->db, "PRAGMA foreign_keys=ON;", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(db, "pragmas");
		goto fail;
	}
	version = user_version(db);
	if (version < 0) {
		db_fail(db, "schema version");
		goto fail;
	}
	if (version > 2) {
		snprintf(db->err, sizeof(db->err), "%s: unknown records schema version %d",
			 path, version);
		goto fail;
	}
	if (version < 2 && migrate(db)) {
		db_fail(db, "schema");
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
		goto fail;
	}
	if (sqlite3_prepare_v2(db->db, "SELECT ttc FROM terminal_state WHERE terminal_id = ?",
			       -1, &db->get_ttc, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db->db, "INSERT INTO terminal_state(terminal_id, ttc) VALUES(?, ?)"
			       " ON CONFLICT(terminal_id) DO UPDATE SET ttc = excluded.ttc"
			       " WHERE excluded.ttc > terminal_state.ttc",
			       -1, &db->put_ttc, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db->db, "INSERT INTO records(" COLS ") VALUES"
			       "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)",
			       -1, &db->insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db->db, "UPDATE records SET (" COLS ") ="
			       "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15) WHERE id = ?16",
			       -1, &db->update, NULL) != SQLITE_OK) {
		db_fail(db, "prepare");
		goto fail;
	}
	*out = db;
	return 0;
fail:
	snprintf(err, errlen, "%s", db->err);
	hce_term_db_close(db);
	return -1;
}

static void bind_hex(sqlite3_stmt *st, int col, bool present, const uint8_t *p, size_t n)
{
	char text[2 * HCE_SERIAL_LEN + 1];

	if (!present || hce_hex_encode(p, n, text, sizeof(text))) {
		sqlite3_bind_null(st, col);
		return;
	}
	sqlite3_bind_text(st, col, text, -1, SQLITE_TRANSIENT);
}

static int bind_record(sqlite3_stmt *st, const struct hce_term_record *r)
{
	bind_hex(st, 1, true, r->terminal_id, HCE_TERMINAL_ID_LEN);
	sqlite3_bind_int64(st, 2, r->ttc);
	bind_hex(st, 3, r->has_serial, r->serial, HCE_SERIAL_LEN);
	if (r->has_counter)
		sqlite3_bind_int(st, 4, r->counter);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int(st, 5, r->type);
	sqlite3_bind_int64(st, 6, r->amount);
	if (r->has_balance) {
		sqlite3_bind_int64(st, 7, r->balance_before);
		sqlite3_bind_int64(st, 8, r->balance_after);
	} else {
		sqlite3_bind_null(st, 7);
		sqlite3_bind_null(st, 8);
	}
	bind_hex(st, 9, true, r->date, 4);
	bind_hex(st, 10, true, r->time, 3);
	bind_hex(st, 11, r->has_mac2, r->mac2, 4);
	bind_hex(st, 12, r->has_tac, r->tac, 4);
	sqlite3_bind_text(st, 13, r->result[0] ? r->result : "pending", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 14, r->recovered);
	sqlite3_bind_int(st, 15, r->uploaded);
	return 0;
}

static int get_ttc(struct hce_term_db *db, const uint8_t tid[HCE_TERMINAL_ID_LEN], uint32_t *ttc)
{
	int rc;

	sqlite3_reset(db->get_ttc);
	bind_hex(db->get_ttc, 1, true, tid, HCE_TERMINAL_ID_LEN);
	rc = sqlite3_step(db->get_ttc);
	if (rc == SQLITE_ROW) {
		sqlite3_int64 v = sqlite3_column_int64(db->get_ttc, 0);

		sqlite3_reset(db->get_ttc);
		if (v < 0 || v > 0xffffffffLL) {
			snprintf(db->err, sizeof(db->err), "stored TTC out of range");
			return -1;
		}
		*ttc = (uint32_t)v;
		return 0;
	}
	sqlite3_reset(db->get_ttc);
	if (rc == SQLITE_DONE) {
		*ttc = 0;
		return 0;
	}
	return db_fail(db, "read TTC");
}

int hce_term_db_last_ttc(struct hce_term_db *db, const uint8_t tid[HCE_TERMINAL_ID_LEN],
			 uint32_t *ttc)
{
	return get_ttc(db, tid, ttc);
}

int hce_term_db_begin_tx(struct hce_term_db *db, struct hce_term_record *r)
{
	uint32_t last;

	if (sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, "begin");
	if (get_ttc(db, r->terminal_id, &last))
		goto rollback;
	if (last == 0xffffffffu) {
		snprintf(db->err, sizeof(db->err), "terminal transaction serial exhausted");
		goto rollback;
	}
	r->ttc = last + 1;
	snprintf(r->result, sizeof(r->result), "pending");
	sqlite3_reset(db->put_ttc);
	bind_hex(db->put_ttc, 1, true, r->terminal_id, HCE_TERMINAL_ID_LEN);
	sqlite3_bind_int64(db->put_ttc, 2, r->ttc);
	if (sqlite3_step(db->put_ttc) != SQLITE_DONE) {
		db_fail(db, "store TTC");
		sqlite3_reset(db->put_ttc);
		goto rollback;
	}
	sqlite3_reset(db->put_ttc);
	sqlite3_reset(db->insert);
	bind_record(db->insert, r);
	if (sqlite3_step(db->insert) != SQLITE_DONE) {
		db_fail(db, "insert record");
		sqlite3_reset(db->insert);
		goto rollback;
	}
	sqlite3_reset(db->insert);
	r->id = sqlite3_last_insert_rowid(db->db);
	if (sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(db, "commit");
		goto rollback;
	}
	return 0;
rollback:
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int hce_term_db_finish_tx(struct hce_term_db *db, const struct hce_term_record *r)
{
	int rc;

	sqlite3_reset(db->update);
	bind_record(db->update, r);
	sqlite3_bind_int64(db->update, 16, r->id);
	rc = sqlite3_step(db->update);
	sqlite3_reset(db->update);
	if (rc != SQLITE_DONE)
		return db_fail(db, "update record");
	if (sqlite3_changes(db->db) != 1) {
		snprintf(db->err, sizeof(db->err), "record %lld not found", (long long)r->id);
		return -1;
	}
	return 0;
}

static void col_hex(sqlite3_stmt *st, int col, bool *present, uint8_t *out, size_t n)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	if (present)
		*present = false;
	if (!t || hce_hex_decode((const char *)t, out, n) != (ssize_t)n)
		return;
	if (present)
		*present = true;
}

/* The columns "SELECT " ROW_COLS reads into a record (row_read). */
#define ROW_COLS COLS ", id, upload_batch, upload_result"

static void row_read(sqlite3_stmt *st, struct hce_term_record *r)
{
	const unsigned char *t;

	memset(r, 0, sizeof(*r));
	col_hex(st, 0, NULL, r->terminal_id, HCE_TERMINAL_ID_LEN);
	r->ttc = (uint32_t)sqlite3_column_int64(st, 1);
	col_hex(st, 2, &r->has_serial, r->serial, HCE_SERIAL_LEN);
	r->has_counter = sqlite3_column_type(st, 3) != SQLITE_NULL;
	r->counter = (uint16_t)sqlite3_column_int(st, 3);
	r->type = (uint8_t)sqlite3_column_int(st, 4);
	r->amount = (uint32_t)sqlite3_column_int64(st, 5);
	r->has_balance = sqlite3_column_type(st, 6) != SQLITE_NULL;
	r->balance_before = (uint32_t)sqlite3_column_int64(st, 6);
	r->balance_after = (uint32_t)sqlite3_column_int64(st, 7);
	col_hex(st, 8, NULL, r->date, 4);
	col_hex(st, 9, NULL, r->time, 3);
	col_hex(st, 10, &r->has_mac2, r->mac2, 4);
	col_hex(st, 11, &r->has_tac, r->tac, 4);
	t = sqlite3_column_text(st, 12);
	snprintf(r->result, sizeof(r->result), "%s", t ? (const char *)t : "");
	r->recovered = sqlite3_column_int(st, 13) != 0;
	r->uploaded = sqlite3_column_int(st, 14) != 0;
	r->id = sqlite3_column_int64(st, 15);
	t = sqlite3_column_text(st, 16);
	snprintf(r->upload_batch, sizeof(r->upload_batch), "%s", t ? (const char *)t : "");
	t = sqlite3_column_text(st, 17);
	snprintf(r->upload_result, sizeof(r->upload_result), "%s", t ? (const char *)t : "");
}

int hce_term_db_foreach(struct hce_term_db *db,
			int (*cb)(const struct hce_term_record *r, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(db->db, "SELECT " ROW_COLS " FROM records ORDER BY id", -1, &st,
			       NULL) != SQLITE_OK)
		return db_fail(db, "list records");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hce_term_record r;

		row_read(st, &r);
		stop = cb(&r, arg);
		if (stop)
			break;
	}
	if (!stop && rc != SQLITE_DONE) {
		db_fail(db, "list records");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return stop;
}

int hce_term_db_count(struct hce_term_db *db, int64_t *n)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db->db, "SELECT count(*) FROM records", -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "count records");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_fail(db, "count records");
}

/* ---- upload ------------------------------------------------------------------------- */

bool hce_term_record_uploadable(const struct hce_term_record *r)
{
	return (r->type == HCE_TX_PURCHASE || r->type == HCE_TX_CAPP) && r->has_serial &&
	       r->has_counter && r->has_tac;
}

static bool reqid_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n >= HCE_TERM_REQID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* The records of batch reqid (id order) into recs (max); more than max is an error. */
static int batch_rows(struct hce_term_db *db, const char *reqid, struct hce_term_record *recs,
		      size_t max, size_t *n)
{
	sqlite3_stmt *st;
	int rc;

	*n = 0;
	if (sqlite3_prepare_v2(db->db, "SELECT " ROW_COLS " FROM records WHERE upload_batch = ?"
			       " ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "read batch");
	sqlite3_bind_text(st, 1, reqid, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == max) {
			sqlite3_finalize(st);
			snprintf(db->err, sizeof(db->err), "batch %s holds more than %zu records",
				 reqid, max);
			return -1;
		}
		row_read(st, &recs[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, "read batch");
	return 0;
}

int hce_term_db_batch_next(struct hce_term_db *db, const uint8_t tid[HCE_TERMINAL_ID_LEN],
			   size_t max, const char *new_reqid, char reqid[HCE_TERM_REQID_MAX],
			   struct hce_term_record *recs, size_t *n, bool *resumed)
{
	char tidhex[2 * HCE_TERMINAL_ID_LEN + 1];
	sqlite3_stmt *st = NULL;
	int rc;

	*n = 0;
	*resumed = false;
	reqid[0] = '\0';
	if (max < 1 || max > HCE_TERM_BATCH_MAX || !reqid_ok(new_reqid)) {
		snprintf(db->err, sizeof(db->err), "batch: 1..%d records and a request id of"
			 " 1..64 characters [A-Za-z0-9._-]", HCE_TERM_BATCH_MAX);
		return -1;
	}
	if (sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, "begin");
	/* a batch sent before whose answer was never recorded goes again, unchanged */
	if (sqlite3_prepare_v2(db->db, "SELECT request_id FROM upload_batches WHERE state ="
			       " 'pending' ORDER BY created, request_id LIMIT 1", -1, &st,
			       NULL) != SQLITE_OK) {
		db_fail(db, "read batches");
		goto rollback;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(reqid, HCE_TERM_REQID_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
		st = NULL;
		if (batch_rows(db, reqid, recs, HCE_TERM_BATCH_MAX, n))
			goto rollback;
		*resumed = true;
		goto commit;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		db_fail(db, "read batches");
		goto rollback;
	}
	/* a new batch: the oldest records waiting, stored as this request before it is sent */
	hce_hex_encode(tid, HCE_TERMINAL_ID_LEN, tidhex, sizeof(tidhex));
	if (sqlite3_prepare_v2(db->db, "SELECT " ROW_COLS " FROM records WHERE uploaded = 0 AND"
			       " upload_batch IS NULL AND terminal_id = ? AND type IN (6, 9) AND"
			       " card_serial IS NOT NULL AND counter IS NOT NULL AND"
			       " tac IS NOT NULL ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
		db_fail(db, "select records");
		goto rollback;
	}
	sqlite3_bind_text(st, 1, tidhex, -1, SQLITE_TRANSIENT);
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_read(st, &recs[*n]);
		/* the SQL filter and the C rule must agree (a malformed hex column fails here) */
		if (hce_term_record_uploadable(&recs[*n]))
			(*n)++;
	}
	if (*n < max && rc != SQLITE_DONE) {
		db_fail(db, "select records");
		goto rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (*n) {
		size_t i;

		snprintf(reqid, HCE_TERM_REQID_MAX, "%s", new_reqid);
		if (sqlite3_prepare_v2(db->db, "INSERT INTO upload_batches(request_id, created,"
				       " state) VALUES(?, strftime('%s', 'now'), 'pending')", -1,
				       &st, NULL) != SQLITE_OK)
			goto fail_batch;
		sqlite3_bind_text(st, 1, reqid, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail_batch;
		sqlite3_finalize(st);
		if (sqlite3_prepare_v2(db->db, "UPDATE records SET upload_batch = ? WHERE id = ?"
				       " AND upload_batch IS NULL", -1, &st, NULL) != SQLITE_OK)
			goto fail_batch;
		for (i = 0; i < *n; i++) {
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, reqid, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 2, recs[i].id);
			if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db->db) != 1)
				goto fail_batch;
			snprintf(recs[i].upload_batch, sizeof(recs[i].upload_batch), "%s", reqid);
		}
		sqlite3_finalize(st);
		st = NULL;
	}
commit:
	if (sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(db, "commit");
		goto rollback;
	}
	return 0;
fail_batch:
	db_fail(db, "store batch");
rollback:
	sqlite3_finalize(st);
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	*n = 0;
	reqid[0] = '\0';
	return -1;
}

/*
 * BEGIN IMMEDIATE, then sql (one parameter: reqid), which must change exactly the one
 * pending batch row. 0 with the transaction open, or -1 rolled back with the reason in
 * db->err.
 */
static int begin_on_pending(struct hce_term_db *db, const char *sql, const char *reqid)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, "begin");
	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, reqid, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	if (sqlite3_changes(db->db) != 1) {
		snprintf(db->err, sizeof(db->err), "batch %s is not pending", reqid);
		goto rollback;
	}
	sqlite3_finalize(st);
	return 0;
fail:
	db_fail(db, "batch state");
rollback:
	sqlite3_finalize(st);
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int hce_term_db_batch_done(struct hce_term_db *db, const char *reqid, const int64_t *ids,
			   const char *const *results, size_t n)
{
	sqlite3_stmt *st = NULL;
	size_t i;

	if (begin_on_pending(db, "UPDATE upload_batches SET state = 'done' WHERE"
			     " request_id = ? AND state = 'pending'", reqid))
		return -1;
	if (sqlite3_prepare_v2(db->db, "UPDATE records SET uploaded = 1, upload_result = ?"
			       " WHERE id = ? AND upload_batch = ? AND uploaded = 0", -1, &st,
			       NULL) != SQLITE_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		if (!results[i] || !results[i][0] || strlen(results[i]) >= HCE_TERM_RESULT_LEN) {
			snprintf(db->err, sizeof(db->err), "batch %s: no result for record %lld",
				 reqid, (long long)ids[i]);
			goto rollback;
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, results[i], -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, ids[i]);
		sqlite3_bind_text(st, 3, reqid, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
		if (sqlite3_changes(db->db) != 1) {
			snprintf(db->err, sizeof(db->err), "batch %s: record %lld not in it",
				 reqid, (long long)ids[i]);
			goto rollback;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	/* every record of the batch answered: a 'done' batch is never sent again */
	if (sqlite3_prepare_v2(db->db, "SELECT count(*) FROM records WHERE upload_batch = ? AND"
			       " uploaded = 0", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, reqid, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	if (sqlite3_column_int64(st, 0)) {
		snprintf(db->err, sizeof(db->err), "batch %s: %lld records without an answer",
			 reqid, (long long)sqlite3_column_int64(st, 0));
		goto rollback;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	db_fail(db, "record batch answer");
rollback:
	sqlite3_finalize(st);
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int hce_term_db_batch_drop(struct hce_term_db *db, const char *reqid)
{
	sqlite3_stmt *st = NULL;

	if (begin_on_pending(db, "DELETE FROM upload_batches WHERE request_id = ? AND"
			     " state = 'pending'", reqid))
		return -1;
	if (sqlite3_prepare_v2(db->db, "UPDATE records SET upload_batch = NULL WHERE"
			       " upload_batch = ? AND uploaded = 0", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, reqid, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return 0;
fail:
	db_fail(db, "drop batch");
	sqlite3_finalize(st);
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* ---- deny list ------------------------------------------------------------------------ */

static int deny_state(struct hce_term_db *db, struct hce_term_deny_info *info)
{
	sqlite3_stmt *st;
	int rc;

	info->version = -1;
	info->fetched = 0;
	info->n = 0;
	if (sqlite3_prepare_v2(db->db, "SELECT version, fetched, (SELECT count(*) FROM denylist)"
			       " FROM denylist_state WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, "read deny list");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		info->version = sqlite3_column_int64(st, 0);
		info->fetched = sqlite3_column_int64(st, 1);
		info->n = (size_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(db, "read deny list");
}

int hce_term_db_deny_store(struct hce_term_db *db, int64_t version, int64_t fetched,
			   const uint8_t *serials, size_t n, bool *stored)
{
	struct hce_term_deny_info cur;
	sqlite3_stmt *st = NULL;
	size_t i;

	*stored = false;
	if (version < 0) {
		snprintf(db->err, sizeof(db->err), "deny list version %lld", (long long)version);
		return -1;
	}
	if (sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, "begin");
	if (deny_state(db, &cur))
		goto rollback;
	if (cur.version > version) {
		/* an older list never replaces a newer one (a stale cache, a lagging replica) */
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
		return 0;
	}
	if (sqlite3_exec(db->db, "DELETE FROM denylist", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db->db, "INSERT INTO denylist_state(id, version, fetched)"
			       " VALUES(1, ?, ?) ON CONFLICT(id) DO UPDATE SET"
			       " version = excluded.version, fetched = excluded.fetched", -1, &st,
			       NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, version);
	sqlite3_bind_int64(st, 2, fetched);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db->db, "INSERT INTO denylist(serial) VALUES(?)"
			       " ON CONFLICT(serial) DO NOTHING", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		sqlite3_reset(st);
		bind_hex(st, 1, true, serials + i * HCE_SERIAL_LEN, HCE_SERIAL_LEN);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	*stored = true;
	return 0;
fail:
	db_fail(db, "store deny list");
rollback:
	sqlite3_finalize(st);
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int hce_term_db_deny_get(struct hce_term_db *db, struct hce_term_deny_info *info,
			 uint8_t *serials, size_t max)
{
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	int rc;

	/* one read transaction: state and serials of the same list */
	if (sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, "begin");
	if (deny_state(db, info))
		goto out;
	if (!serials) {
		sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
		return 0;
	}
	if (info->n > max) {
		snprintf(db->err, sizeof(db->err), "deny list of %zu serials (at most %zu)",
			 info->n, max);
		goto out;
	}
	/* upper-case hex text of equal length sorts as the bytes do */
	if (sqlite3_prepare_v2(db->db, "SELECT serial FROM denylist ORDER BY serial", -1, &st,
			       NULL) != SQLITE_OK) {
		db_fail(db, "read deny list");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < info->n) {
		bool ok;

		col_hex(st, 0, &ok, serials + n * HCE_SERIAL_LEN, HCE_SERIAL_LEN);
		if (!ok) {
			snprintf(db->err, sizeof(db->err), "deny list: malformed serial");
			goto out;
		}
		n++;
	}
	if (rc != SQLITE_DONE || n != info->n) {
		db_fail(db, "read deny list");
		goto out;
	}
	sqlite3_finalize(st);
	sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
	return 0;
out:
	sqlite3_finalize(st);
	sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}
