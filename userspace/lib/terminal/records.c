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
	" UNIQUE(terminal_id, ttc));"
	"PRAGMA user_version = 1;";

#define COLS "terminal_id, ttc, card_serial, counter, type, amount, balance_before," \
	" balance_after, date, time, mac2, tac, result, recovered, uploaded"

static int db_fail(struct hce_term_db *db, const char *what)
{
	snprintf(db->err, sizeof(db->err), "%s: %s", what, sqlite3_errmsg(db->db));
	return -1;
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
	int version = -1;
	sqlite3_stmt *st;

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
	if (sqlite3_prepare_v2(db->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
		db_fail(db, "schema version");
		goto fail;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version != 0 && version != 1) {
		snprintf(db->err, sizeof(db->err), "%s: unknown records schema version %d",
			 path, version);
		goto fail;
	}
	if (sqlite3_exec(db->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(db, "schema");
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

int hce_term_db_foreach(struct hce_term_db *db,
			int (*cb)(const struct hce_term_record *r, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc, stop = 0;

	if (sqlite3_prepare_v2(db->db, "SELECT " COLS ", id FROM records ORDER BY id", -1, &st,
			       NULL) != SQLITE_OK)
		return db_fail(db, "list records");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct hce_term_record r;
		const unsigned char *res;

		memset(&r, 0, sizeof(r));
		col_hex(st, 0, NULL, r.terminal_id, HCE_TERMINAL_ID_LEN);
		r.ttc = (uint32_t)sqlite3_column_int64(st, 1);
		col_hex(st, 2, &r.has_serial, r.serial, HCE_SERIAL_LEN);
		r.has_counter = sqlite3_column_type(st, 3) != SQLITE_NULL;
		r.counter = (uint16_t)sqlite3_column_int(st, 3);
		r.type = (uint8_t)sqlite3_column_int(st, 4);
		r.amount = (uint32_t)sqlite3_column_int64(st, 5);
		r.has_balance = sqlite3_column_type(st, 6) != SQLITE_NULL;
		r.balance_before = (uint32_t)sqlite3_column_int64(st, 6);
		r.balance_after = (uint32_t)sqlite3_column_int64(st, 7);
		col_hex(st, 8, NULL, r.date, 4);
		col_hex(st, 9, NULL, r.time, 3);
		col_hex(st, 10, &r.has_mac2, r.mac2, 4);
		col_hex(st, 11, &r.has_tac, r.tac, 4);
		res = sqlite3_column_text(st, 12);
		snprintf(r.result, sizeof(r.result), "%s", res ? (const char *)res : "");
		r.recovered = sqlite3_column_int(st, 13) != 0;
		r.uploaded = sqlite3_column_int(st, 14) != 0;
		r.id = sqlite3_column_int64(st, 15);
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
