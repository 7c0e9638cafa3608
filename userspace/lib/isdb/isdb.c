// SPDX-License-Identifier: GPL-2.0
/*
 * isdb.c - SQLite and PostgreSQL back ends of the issuer storage interface (isdb.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "isdb/isdb.h"

struct isdb {
	enum isdb_kind kind;
	sqlite3 *lite;
	PGconn *pg;
	char err[ISDB_ERR_MAX];
};

static void set_err(struct isdb *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct isdb *db, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(db->err, sizeof(db->err), fmt, ap);
	va_end(ap);
	n = strlen(db->err);
	while (n && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
		db->err[--n] = '\0';
}

enum isdb_kind isdb_kind(const struct isdb *db)
{
	return db->kind;
}

const char *isdb_error(const struct isdb *db)
{
	return db->err;
}

static int lite_simple(struct isdb *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db->lite, sql, NULL, NULL, &msg) != SQLITE_OK) {
		set_err(db, "sqlite: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int isdb_open(const char *url, struct isdb **out, char err[ISDB_ERR_MAX])
{
	struct isdb *db = calloc(1, sizeof(*db));

	*out = NULL;
	if (!db) {
		snprintf(err, ISDB_ERR_MAX, "out of memory");
		return -1;
	}
	if (!strncmp(url, "sqlite:", 7)) {
		db->kind = ISDB_SQLITE;
		if (sqlite3_open_v2(url + 7, &db->lite,
				    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
			snprintf(err, ISDB_ERR_MAX, "sqlite open %s: %s", url + 7,
				 db->lite ? sqlite3_errmsg(db->lite) : "out of memory");
			sqlite3_close(db->lite);
			free(db);
			return -1;
		}
		sqlite3_busy_timeout(db->lite, 10000);
		if (lite_simple(db, "PRAGMA journal_mode=WAL") ||
		    lite_simple(db, "PRAGMA synchronous=FULL") ||
		    lite_simple(db, "PRAGMA foreign_keys=ON")) {
			snprintf(err, ISDB_ERR_MAX, "%s", db->err);
			isdb_close(db);
			return -1;
		}
	} else if (!strncmp(url, "postgresql://", 13) || !strncmp(url, "postgres://", 11) ||
		   !strncmp(url, "pg:", 3)) {
		db->kind = ISDB_PG;
		db->pg = PQconnectdb(!strncmp(url, "pg:", 3) ? url + 3 : url);
		if (!db->pg || PQstatus(db->pg) != CONNECTION_OK) {
			snprintf(err, ISDB_ERR_MAX, "postgresql connect: %s",
				 db->pg ? PQerrorMessage(db->pg) : "out of memory");
			isdb_close(db);
			return -1;
		}
		PGresult *r = PQexec(db->pg, "SET client_min_messages = warning");

		PQclear(r);
	} else {
		snprintf(err, ISDB_ERR_MAX, "database url must start with sqlite: or postgresql://");
		free(db);
		return -1;
	}
	*out = db;
	return 0;
}

void isdb_close(struct isdb *db)
{
	if (!db)
		return;
	if (db->lite)
		sqlite3_close(db->lite);
	if (db->pg)
		PQfinish(db->pg);
	free(db);
}

void isdb_rows_free(struct isdb_rows *rows)
{
	size_t i;

	if (!rows || !rows->vals)
		return;
	for (i = 0; i < rows->n_rows * rows->n_cols; i++)
		free(rows->vals[i]);
	free(rows->vals);
	rows->vals = NULL;
	rows->n_rows = 0;
}

const char *isdb_val(const struct isdb_rows *rows, size_t r, size_t c)
{
	if (r >= rows->n_rows || c >= rows->n_cols)
		return NULL;
	return rows->vals[r * rows->n_cols + c];
}

static int rows_push(struct isdb_rows *rows, size_t *cap)
{
	if (rows->n_rows + 1 > *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		char **v = realloc(rows->vals, nc * rows->n_cols * sizeof(*v));

		if (!v)
			return -1;
		rows->vals = v;
		*cap = nc;
	}
	memset(rows->vals + rows->n_rows * rows->n_cols, 0, rows->n_cols * sizeof(char *));
	rows->n_rows++;
	return 0;
}

static int lite_exec(struct isdb *db, const char *sql, size_t n, const char *const *params,
		     struct isdb_rows *rows)
{
	sqlite3_stmt *st = NULL;
	size_t i, cap = 0;
	int rc;

	if (sqlite3_prepare_v2(db->lite, sql, -1, &st, NULL) != SQLITE_OK) {
		set_err(db, "sqlite prepare: %s", sqlite3_errmsg(db->lite));
		return -1;
	}
	for (i = 0; i < n; i++) {
		char name[24];
		int idx;

		snprintf(name, sizeof(name), "$%zu", i + 1);
		idx = sqlite3_bind_parameter_index(st, name);
		if (!idx)
			continue;
		rc = params[i] ? sqlite3_bind_text(st, idx, params[i], -1, SQLITE_TRANSIENT)
			       : sqlite3_bind_null(st, idx);
		if (rc != SQLITE_OK) {
			set_err(db, "sqlite bind: %s", sqlite3_errmsg(db->lite));
			sqlite3_finalize(st);
			return -1;
		}
	}
	if (rows)
		rows->n_cols = (size_t)sqlite3_column_count(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!rows || !rows->n_cols)
			continue;
		if (rows_push(rows, &cap))
			goto oom;
		for (i = 0; i < rows->n_cols; i++) {
			const unsigned char *t = sqlite3_column_text(st, (int)i);

			if (t) {
				char *s = strdup((const char *)t);

				if (!s)
					goto oom;
				rows->vals[(rows->n_rows - 1) * rows->n_cols + i] = s;
			}
		}
	}
	if (rc != SQLITE_DONE) {
		set_err(db, "sqlite: %s", sqlite3_errmsg(db->lite));
		sqlite3_finalize(st);
		return -1;
	}
	if (rows)
		rows->changes = sqlite3_changes64(db->lite);
	sqlite3_finalize(st);
	return 0;
oom:
	set_err(db, "out of memory");
	sqlite3_finalize(st);
	return -1;
}

static int pg_exec(struct isdb *db, const char *sql, size_t n, const char *const *params,
		   struct isdb_rows *rows)
{
	PGresult *r = PQexecParams(db->pg, sql, (int)n, NULL, params, NULL, NULL, 0);
	ExecStatusType s = PQresultStatus(r);
	size_t i, j, cap = 0;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		set_err(db, "postgresql: %s", r ? PQresultErrorMessage(r) : PQerrorMessage(db->pg));
		PQclear(r);
		return -1;
	}
	if (rows) {
		const char *ct = PQcmdTuples(r);

		rows->n_cols = (size_t)PQnfields(r);
		rows->changes = ct && *ct ? strtoll(ct, NULL, 10) : 0;
		for (i = 0; i < (size_t)PQntuples(r) && rows->n_cols; i++) {
			if (rows_push(rows, &cap))
				goto oom;
			for (j = 0; j < rows->n_cols; j++) {
				if (PQgetisnull(r, (int)i, (int)j))
					continue;
				char *v = strdup(PQgetvalue(r, (int)i, (int)j));

				if (!v)
					goto oom;
				rows->vals[i * rows->n_cols + j] = v;
			}
		}
	}
	PQclear(r);
	return 0;
oom:
	set_err(db, "out of memory");
	PQclear(r);
	return -1;
}

int isdb_exec(struct isdb *db, const char *sql, size_t n, const char *const *params,
	      struct isdb_rows *rows)
{
	if (rows)
		memset(rows, 0, sizeof(*rows));
	if (n > ISDB_MAX_PARAMS) {
		set_err(db, "too many parameters");
		return -1;
	}
	return db->kind == ISDB_SQLITE ? lite_exec(db, sql, n, params, rows)
				       : pg_exec(db, sql, n, params, rows);
}

int isdb_begin(struct isdb *db)
{
	/* SQLite: take the write lock at once so two writers never deadlock on upgrade. */
	return isdb_exec(db, db->kind == ISDB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN", 0, NULL,
			 NULL);
}

int isdb_commit(struct isdb *db)
{
	return isdb_exec(db, "COMMIT", 0, NULL, NULL);
}

void isdb_rollback(struct isdb *db)
{
	char keep[ISDB_ERR_MAX];

	memcpy(keep, db->err, sizeof(keep));
	(void)isdb_exec(db, "ROLLBACK", 0, NULL, NULL);
	memcpy(db->err, keep, sizeof(keep));
}

static const char *const schema[] = {
	"CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS accounts (id BIGINT PRIMARY KEY, name TEXT NOT NULL,"
	" balance BIGINT NOT NULL, max_balance BIGINT NOT NULL, overdraft BIGINT NOT NULL,"
	" cap_amount BIGINT NOT NULL, cap_count INTEGER NOT NULL, created BIGINT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS topups (request_id TEXT PRIMARY KEY,"
	" account_id BIGINT NOT NULL REFERENCES accounts(id), amount BIGINT NOT NULL,"
	" created BIGINT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS enrol_codes (code_hash TEXT PRIMARY KEY,"
	" account_id BIGINT NOT NULL REFERENCES accounts(id), used INTEGER NOT NULL,"
	" created BIGINT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS devices (id BIGINT PRIMARY KEY,"
	" account_id BIGINT NOT NULL REFERENCES accounts(id), sign_pub TEXT NOT NULL,"
	" seal_pub TEXT NOT NULL, name TEXT NOT NULL, created BIGINT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS terminals (id TEXT PRIMARY KEY, sign_pub TEXT NOT NULL,"
	" name TEXT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS tokens (serial TEXT PRIMARY KEY,"
	" device_id BIGINT NOT NULL REFERENCES devices(id),"
	" account_id BIGINT NOT NULL REFERENCES accounts(id), not_before BIGINT NOT NULL,"
	" not_after BIGINT NOT NULL, initial_balance BIGINT NOT NULL, state TEXT NOT NULL,"
	" revoked_at BIGINT, reason TEXT, sync_seq BIGINT NOT NULL)",
	"CREATE TABLE IF NOT EXISTS txns (serial TEXT NOT NULL, counter INTEGER NOT NULL,"
	" type INTEGER NOT NULL, amount BIGINT NOT NULL, terminal TEXT NOT NULL,"
	" ttc BIGINT NOT NULL, tdate TEXT NOT NULL, ttime TEXT NOT NULL, tac TEXT NOT NULL,"
	" account_id BIGINT NOT NULL, reporter TEXT NOT NULL, reported BIGINT NOT NULL,"
	" PRIMARY KEY (serial, counter, type))",
	"CREATE TABLE IF NOT EXISTS loads (id BIGINT PRIMARY KEY,"
	" account_id BIGINT NOT NULL REFERENCES accounts(id), serial TEXT NOT NULL,"
	" amount BIGINT NOT NULL, state TEXT NOT NULL, created BIGINT NOT NULL,"
	" init_resp TEXT, mac2 TEXT, tdate TEXT, ttime TEXT, counter INTEGER, tac TEXT)",
	"CREATE TABLE IF NOT EXISTS requests (principal TEXT NOT NULL, request_id TEXT NOT NULL,"
	" body_hash TEXT NOT NULL, status INTEGER NOT NULL, response TEXT NOT NULL,"
	" created BIGINT NOT NULL, PRIMARY KEY (principal, request_id))",
	"CREATE TABLE IF NOT EXISTS discrepancies (id BIGINT PRIMARY KEY, account_id BIGINT,"
	" serial TEXT, kind TEXT NOT NULL, detail TEXT NOT NULL, created BIGINT NOT NULL)",
	"CREATE INDEX IF NOT EXISTS txns_account ON txns (account_id)",
	"CREATE INDEX IF NOT EXISTS loads_serial ON loads (serial, state)",
	"CREATE INDEX IF NOT EXISTS tokens_device ON tokens (device_id)",
	"INSERT INTO meta (k, v) VALUES ('schema', '1') ON CONFLICT DO NOTHING",
	"INSERT INTO meta (k, v) VALUES ('denylist_version', '0') ON CONFLICT DO NOTHING",
};

int isdb_init_schema(struct isdb *db)
{
	size_t i;

	if (isdb_begin(db))
		return -1;
	for (i = 0; i < sizeof(schema) / sizeof(schema[0]); i++) {
		if (isdb_exec(db, schema[i], 0, NULL, NULL)) {
			isdb_rollback(db);
			return -1;
		}
	}
	return isdb_commit(db);
}
