/* SPDX-License-Identifier: GPL-2.0 */
/*
 * isdb.h - the issuer's storage interface: one set of SQL over two back ends.
 *
 *   "sqlite:<path>"          SQLite (journal_mode=WAL, synchronous=FULL, busy_timeout 10 s)
 *   "postgresql://..." or "postgres://..." or "pg:<libpq conninfo>"   PostgreSQL via libpq
 *
 * SQL is written once, portable between the two (and PostgreSQL-compatible distributed
 * engines): parameters are $1..$n (SQLite binds them by name), values travel as text, ids are
 * random 63-bit integers chosen by the caller (no sequences, no AUTOINCREMENT), upserts use
 * INSERT ... ON CONFLICT DO NOTHING, and every value change runs between isdb_begin() and
 * isdb_commit().
 *
 * Contract: int functions return 0 on success, -1 on failure with a message in isdb_error();
 * a failed statement inside a transaction leaves the transaction to be rolled back by the
 * caller (isdb_rollback() never fails in a way the caller must handle).
 */
#ifndef HCE_ISDB_H
#define HCE_ISDB_H

#include <stddef.h>
#include <stdint.h>

#define ISDB_ERR_MAX 256
#define ISDB_MAX_PARAMS 24

struct isdb;

/* Result rows: vals[r * n_cols + c] is a NUL-terminated string or NULL (SQL NULL). */
struct isdb_rows {
	size_t n_rows, n_cols;
	char **vals;
	int64_t changes;	/* rows inserted/updated/deleted by the statement */
};

enum isdb_kind { ISDB_SQLITE, ISDB_PG };

int isdb_open(const char *url, struct isdb **out, char err[ISDB_ERR_MAX]);
void isdb_close(struct isdb *db);
enum isdb_kind isdb_kind(const struct isdb *db);
const char *isdb_error(const struct isdb *db);

/*
 * Run one statement with n text parameters (NULL pointer = SQL NULL). rows may be NULL when
 * the caller needs neither rows nor the change count; otherwise it is filled (free with
 * isdb_rows_free even on failure).
 */
int isdb_exec(struct isdb *db, const char *sql, size_t n, const char *const *params,
	      struct isdb_rows *rows);
void isdb_rows_free(struct isdb_rows *rows);
const char *isdb_val(const struct isdb_rows *rows, size_t r, size_t c);

int isdb_begin(struct isdb *db);
int isdb_commit(struct isdb *db);
void isdb_rollback(struct isdb *db);

/* Create the schema (idempotent: CREATE TABLE IF NOT EXISTS). */
int isdb_init_schema(struct isdb *db);

#endif /* HCE_ISDB_H */
