// SPDX-License-Identifier: GPL-2.0
/*
 * store.c - the purse's SQLite file; see store.h for the contract.
 *
 * Schema (application_id 'HCEP', user_version 1):
 *   card(id=1, aid, app_version, ef0015, ef0016, ef0017, overdraft, max_balance)
 *   keyinfo(kind, idx, version, alg)          -- no key values, ever
 *   state(id=1, balance, ctc, online, mac_failures, tx_total)
 *                          -- balance: signed; state_balance_* triggers keep it >= -overdraft
 *   log(seq INTEGER PRIMARY KEY, rec)         -- newest = highest seq, 10 kept
 *   proof(ctc INTEGER PRIMARY KEY, type, mac2, tac)
 *   capp(recno INTEGER PRIMARY KEY, rec)
 * Every value change runs between BEGIN IMMEDIATE and COMMIT on prepared statements; any
 * failure rolls back, so the file is before or after the change (WAL + synchronous=FULL make
 * that hold across power loss).
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HCE_STORE_APP_ID 0x48434550	/* 'HCEP' */
#define HCE_STORE_VERSION 1

static const char schema_sql[] =
	"CREATE TABLE card(id INTEGER PRIMARY KEY CHECK(id = 1), aid BLOB NOT NULL,"
	" app_version INTEGER NOT NULL, ef0015 BLOB NOT NULL, ef0016 BLOB NOT NULL,"
	" ef0017 BLOB NOT NULL, overdraft INTEGER NOT NULL, max_balance INTEGER NOT NULL);"
	"CREATE TABLE keyinfo(kind INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" version INTEGER NOT NULL, alg INTEGER NOT NULL, PRIMARY KEY(kind, idx));"
	"CREATE TABLE state(id INTEGER PRIMARY KEY CHECK(id = 1), balance INTEGER NOT NULL,"
	" ctc INTEGER NOT NULL, online INTEGER NOT NULL, mac_failures INTEGER NOT NULL,"
	" tx_total INTEGER NOT NULL);"
	"CREATE TABLE log(seq INTEGER PRIMARY KEY, rec BLOB NOT NULL);"
	"CREATE TABLE proof(ctc INTEGER PRIMARY KEY, type INTEGER NOT NULL,"
	" mac2 BLOB NOT NULL, tac BLOB NOT NULL);"
	"CREATE TABLE capp(recno INTEGER PRIMARY KEY, rec BLOB NOT NULL);"
	"PRAGMA application_id = 1212368208;"	/* HCE_STORE_APP_ID */
	"PRAGMA user_version = 1;";

/*
 * The wallet's offline cap and token validity (Documentation/wallet.md). Not part of the
 * versioned schema: created when missing by every read-write open, so card files written
 * before it keep working; a read-only open of such a file reads "no cap".
 */
static const char offline_sql[] =
	"CREATE TABLE IF NOT EXISTS offline(id INTEGER PRIMARY KEY CHECK(id = 1),"
	" cap_amount INTEGER NOT NULL, cap_count INTEGER NOT NULL, spent INTEGER NOT NULL,"
	" count INTEGER NOT NULL, not_after INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS outbox(type INTEGER NOT NULL, counter INTEGER NOT NULL,"
	" amount INTEGER NOT NULL, terminal BLOB NOT NULL, ttc INTEGER NOT NULL,"
	" date BLOB NOT NULL, time BLOB NOT NULL, tac BLOB NOT NULL,"
	" PRIMARY KEY(type, counter));"
	/*
	 * The overdraft bound, enforced by the file whatever writes it: balance >=
	 * -card.overdraft. SQLite's CHECK cannot read another table, so it is this pair of
	 * triggers (no card row: limit 0). A violation aborts the statement (SQLITE_CONSTRAINT)
	 * and the commit function rolls the whole transaction back. Created by every read-write
	 * open, so files written before the overdraft get it too.
	 */
	"CREATE TRIGGER IF NOT EXISTS state_balance_insert BEFORE INSERT ON state"
	" WHEN NEW.balance < -COALESCE((SELECT overdraft FROM card WHERE id = 1), 0)"
	" BEGIN SELECT RAISE(ABORT, 'balance below the overdraft limit'); END;"
	"CREATE TRIGGER IF NOT EXISTS state_balance_update BEFORE UPDATE OF balance ON state"
	" WHEN NEW.balance < -COALESCE((SELECT overdraft FROM card WHERE id = 1), 0)"
	" BEGIN SELECT RAISE(ABORT, 'balance below the overdraft limit'); END";

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_HAS_CARD,
	S_GET_CARD,
	S_GET_KEYS,
	S_GET_STATE,
	S_GET_LOG,
	S_GET_CAPP,
	S_GET_PROOF,
	S_DEL_CARD,
	S_DEL_KEYS,
	S_DEL_STATE,
	S_DEL_LOG,
	S_DEL_PROOF,
	S_DEL_CAPP,
	S_INS_CARD,
	S_INS_KEY,
	S_INS_STATE,
	S_PUT_CAPP,
	S_SET_STATE,
	S_INS_LOG,
	S_PRUNE_LOG,
	S_INS_PROOF,
	S_PRUNE_PROOF,
	S_MAC_FAIL,
	S_MAC_RESET,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_HAS_CARD] = "SELECT count(*) FROM card",
	[S_GET_CARD] = "SELECT aid, app_version, ef0015, ef0016, ef0017, overdraft, max_balance"
		       " FROM card WHERE id = 1",
	[S_GET_KEYS] = "SELECT kind, idx, version, alg FROM keyinfo ORDER BY kind, idx",
	[S_GET_STATE] = "SELECT balance, ctc, online, mac_failures, tx_total,"
			" (SELECT max_balance FROM card WHERE id = 1),"
			" (SELECT overdraft FROM card WHERE id = 1) FROM state WHERE id = 1",
	[S_GET_LOG] = "SELECT rec FROM log ORDER BY seq DESC LIMIT 1 OFFSET ?1",
	[S_GET_CAPP] = "SELECT rec FROM capp WHERE recno = ?1",
	[S_GET_PROOF] = "SELECT type, mac2, tac FROM proof WHERE ctc = ?1",
	[S_DEL_CARD] = "DELETE FROM card",
	[S_DEL_KEYS] = "DELETE FROM keyinfo",
	[S_DEL_STATE] = "DELETE FROM state",
	[S_DEL_LOG] = "DELETE FROM log",
	[S_DEL_PROOF] = "DELETE FROM proof",
	[S_DEL_CAPP] = "DELETE FROM capp",
	[S_INS_CARD] = "INSERT INTO card(id, aid, app_version, ef0015, ef0016, ef0017, overdraft,"
		       " max_balance) VALUES(1, ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_INS_KEY] = "INSERT INTO keyinfo(kind, idx, version, alg) VALUES(?1, ?2, ?3, ?4)",
	[S_INS_STATE] = "INSERT INTO state(id, balance, ctc, online, mac_failures, tx_total)"
			" VALUES(1, ?1, ?2, ?3, 0, 0)",
	[S_PUT_CAPP] = "INSERT OR REPLACE INTO capp(recno, rec) VALUES(?1, ?2)",
	[S_SET_STATE] = "UPDATE state SET balance = ?1, ctc = ?2, online = ?3, mac_failures = 0,"
			" tx_total = tx_total + 1 WHERE id = 1",
	[S_INS_LOG] = "INSERT INTO log(rec) VALUES(?1)",
	[S_PRUNE_LOG] = "DELETE FROM log WHERE seq <= (SELECT max(seq) FROM log) - 10",
	[S_INS_PROOF] = "INSERT OR REPLACE INTO proof(ctc, type, mac2, tac) VALUES(?1, ?2, ?3, ?4)",
	[S_PRUNE_PROOF] = "DELETE FROM proof WHERE ctc + 10 <= ?1",
	[S_MAC_FAIL] = "UPDATE state SET mac_failures = mac_failures + 1 WHERE id = 1"
		       " RETURNING mac_failures",
	[S_MAC_RESET] = "UPDATE state SET mac_failures = 0 WHERE id = 1",
};

struct hce_store {
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
	bool readonly;
	char err[HCE_STORE_ERR_MAX];
};

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_FORMAT:
	case SQLITE_SCHEMA:
		return -EILSEQ;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CONSTRAINT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static int set_err(struct hce_store *st, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_err(struct hce_store *st, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	return err;
}

/* An SQLite failure: message and mapped errno. */
static int db_err(struct hce_store *st, int rc, const char *what)
{
	return set_err(st, map_rc(rc), "%s: %s", what, sqlite3_errmsg(st->db));
}

static sqlite3_stmt *stmt(struct hce_store *st, enum stmt_id id)
{
	sqlite3_stmt *s = st->st[id];

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

/* Run a statement that returns no rows. */
static int run(struct hce_store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_err(st, rc, what);
	return 0;
}

static int begin(struct hce_store *st)
{
	if (st->readonly)
		return set_err(st, -EIO, "store opened read-only");
	return run(st, stmt(st, S_BEGIN), "begin");
}

static int commit(struct hce_store *st)
{
	return run(st, stmt(st, S_COMMIT), "commit");
}

/* Roll back an open transaction; keeps the first error (ret). */
static int rollback(struct hce_store *st, int ret)
{
	if (sqlite3_get_autocommit(st->db) == 0) {
		int rc = sqlite3_step(stmt(st, S_ROLLBACK));

		sqlite3_reset(st->st[S_ROLLBACK]);
		(void)rc;
	}
	return ret;
}

static int exec(struct hce_store *st, const char *sql, const char *what)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return db_err(st, rc, what);
	return 0;
}

/* Query one integer from a pragma or SELECT (not prepared: open-time only). */
static int query_int(struct hce_store *st, const char *sql, int64_t *v)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return db_err(st, rc, sql);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		int err = rc == SQLITE_DONE ? set_err(st, -EILSEQ, "%s: no row", sql) :
			  db_err(st, rc, sql);

		sqlite3_finalize(s);
		return err;
	}
	*v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static int check_schema(struct hce_store *st)
{
	int64_t app_id, version, n_objects;
	int ret;

	ret = query_int(st, "PRAGMA application_id", &app_id);
	if (!ret)
		ret = query_int(st, "PRAGMA user_version", &version);
	if (!ret)
		ret = query_int(st, "SELECT count(*) FROM sqlite_master", &n_objects);
	if (ret)
		return ret;
	if (app_id == 0 && version == 0 && n_objects == 0) {
		if (st->readonly)
			return set_err(st, -ENOENT, "empty store opened read-only");
		ret = exec(st, "BEGIN IMMEDIATE", "begin");
		if (ret)
			return ret;
		ret = exec(st, schema_sql, "create schema");
		if (!ret)
			ret = exec(st, "COMMIT", "commit schema");
		if (ret)
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return ret;
	}
	if (app_id != HCE_STORE_APP_ID)
		return set_err(st, -EILSEQ, "not a purse store (application_id %lld)",
			       (long long)app_id);
	if (version != HCE_STORE_VERSION)
		return set_err(st, -EILSEQ, "purse store schema version %lld, expected %d",
			       (long long)version, HCE_STORE_VERSION);
	return 0;
}

void hce_store_close(struct hce_store *st)
{
	int i;

	if (!st)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->st[i]);
	sqlite3_close(st->db);
	free(st);
}

int hce_store_open(const char *path, unsigned int flags, struct hce_store **out, char *errbuf)
{
	struct hce_store *st;
	int oflags, rc, ret, i;
	struct stat sb;

	if (out)
		*out = NULL;
	if (errbuf)
		errbuf[0] = '\0';
	if (!path || !out) {
		if (errbuf)
			snprintf(errbuf, HCE_STORE_ERR_MAX, "invalid argument");
		return -EINVAL;
	}
	if (stat(path, &sb) != 0) {
		if (!(flags & HCE_STORE_CREATE) || (flags & HCE_STORE_READONLY)) {
			if (errbuf)
				snprintf(errbuf, HCE_STORE_ERR_MAX, "%s: no such store", path);
			return -ENOENT;
		}
		/* Create with mode 0600 before SQLite does (it would use 0644). */
		i = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (i < 0 && errno != EEXIST) {
			ret = -errno;
			if (errbuf)
				snprintf(errbuf, HCE_STORE_ERR_MAX, "%s: cannot create", path);
			return ret;
		}
		if (i >= 0)
			close(i);
	} else if (!S_ISREG(sb.st_mode)) {
		if (errbuf)
			snprintf(errbuf, HCE_STORE_ERR_MAX, "%s: not a regular file", path);
		return -EILSEQ;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->readonly = flags & HCE_STORE_READONLY;
	oflags = st->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	rc = sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		ret = st->db ? db_err(st, rc, "open") : set_err(st, -ENOMEM, "open: out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, 2000);
	if (!st->readonly) {
		int64_t dummy;

		/* journal_mode answers a row: the first read, so a foreign file fails here. */
		ret = query_int(st, "PRAGMA journal_mode = WAL", &dummy);
		if (ret)
			goto fail;
	}
	ret = exec(st, "PRAGMA synchronous = FULL", "synchronous");
	if (!ret)
		ret = exec(st, "PRAGMA foreign_keys = ON", "foreign_keys");
	if (!ret)
		ret = check_schema(st);
	if (!ret && !st->readonly) {
		char mode[16] = "";
		sqlite3_stmt *s;

		rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode", -1, &s, NULL);
		if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
			snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
		if (strcmp(mode, "wal") != 0)
			ret = set_err(st, -EIO, "journal mode is '%s', WAL required", mode);
	}
	if (!ret && !st->readonly)
		ret = exec(st, offline_sql, "create offline table");
	for (i = 0; !ret && i < S_COUNT; i++) {
		rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&st->st[i], NULL);
		if (rc != SQLITE_OK)
			ret = db_err(st, rc, "prepare");
	}
	if (ret)
		goto fail;
	*out = st;
	return 0;
fail:
	if (errbuf && snprintf(errbuf, HCE_STORE_ERR_MAX, "%s: %s", path,
			       st->err[0] ? st->err : "cannot open") >= HCE_STORE_ERR_MAX)
		errbuf[HCE_STORE_ERR_MAX - 1] = '\0';
	hce_store_close(st);
	return ret;
}

const char *hce_store_errmsg(const struct hce_store *st)
{
	return st ? st->err : "no store";
}

int hce_store_has_card(struct hce_store *st)
{
	sqlite3_stmt *s = stmt(st, S_HAS_CARD);
	int rc = sqlite3_step(s);
	int64_t n;

	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return db_err(st, rc, "has_card");
	}
	n = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return n > 0;
}

/* The bounds of a card's balance (store.h "Balances"). */
struct bounds {
	uint32_t max_balance, overdraft;
};

static int get_state(struct hce_store *st, struct hce_purse_state *ps, struct bounds *b);

/* Highest balance the card may hold: max_balance, but never beyond a signed 32-bit value. */
static int64_t top_balance(uint32_t max_balance)
{
	return max_balance > HCE_BALANCE_MAX ? HCE_BALANCE_MAX : (int64_t)max_balance;
}

static bool valid_key(const struct hce_key_info *k)
{
	if (k->alg != 0x00 && k->alg != 0x04)
		return false;
	if (k->kind == HCE_KEY_DTK)
		return k->index == 0;
	return (k->kind == HCE_KEY_DPK || k->kind == HCE_KEY_DLK) && k->index != 0;
}

static int validate(struct hce_store *st, const struct hce_card_data *c)
{
	size_t i, j;

	if (c->aid_len < HCE_STORE_AID_MIN || c->aid_len > HCE_STORE_AID_MAX)
		return set_err(st, -EINVAL, "aid: length must be %d..%d", HCE_STORE_AID_MIN,
			       HCE_STORE_AID_MAX);
	if (c->ef0016_len < 1 || c->ef0016_len > HCE_EF0016_MAX)
		return set_err(st, -EINVAL, "ef0016: length must be 1..%d", HCE_EF0016_MAX);
	if (c->overdraft_limit > HCE_OVERDRAFT_MAX)
		return set_err(st, -EINVAL, "overdraft_limit: more than 3 bytes");
	if (hce_balance_value(c->balance) > top_balance(c->max_balance))
		return set_err(st, -EINVAL, "balance: above max_balance or %d",
			       HCE_BALANCE_MAX);
	if (hce_balance_value(c->balance) < -(int64_t)c->overdraft_limit)
		return set_err(st, -EINVAL, "balance: below -overdraft_limit");
	if (c->n_keys > HCE_STORE_KEYS_MAX)
		return set_err(st, -EINVAL, "keys: more than %d", HCE_STORE_KEYS_MAX);
	for (i = 0; i < c->n_keys; i++) {
		if (!valid_key(&c->keys[i]))
			return set_err(st, -EINVAL, "keys[%zu]: bad kind, index or algorithm", i);
		for (j = 0; j < i; j++) {
			if (c->keys[j].kind == c->keys[i].kind &&
			    c->keys[j].index == c->keys[i].index)
				return set_err(st, -EINVAL, "keys[%zu]: duplicate kind/index", i);
		}
	}
	for (i = 0; i < HCE_CAPP_RECORDS; i++) {
		if (c->capp_present[i] > 1)
			return set_err(st, -EINVAL, "capp_present[%zu]: must be 0 or 1", i);
	}
	return 0;
}

int hce_store_personalise(struct hce_store *st, const struct hce_card_data *c,
			  unsigned int flags)
{
	static const enum stmt_id wipe[] = { S_DEL_CARD, S_DEL_KEYS, S_DEL_STATE, S_DEL_LOG,
					     S_DEL_PROOF, S_DEL_CAPP };
	struct hce_purse_state old;
	uint16_t ctc, online;
	sqlite3_stmt *s;
	size_t i;
	int ret;

	if (!st || !c)
		return -EINVAL;
	ctc = c->ctc;
	online = c->online_counter;
	ret = validate(st, c);
	if (ret)
		return ret;
	ret = begin(st);
	if (ret)
		return ret;
	ret = hce_store_has_card(st);
	if (ret < 0)
		return rollback(st, ret);
	if (ret > 0 && !(flags & HCE_STORE_REPLACE))
		return rollback(st, set_err(st, -EEXIST, "a card is already personalised"));
	if (ret > 0) {
		/* Counters never go back, not even across a re-personalisation. */
		ret = get_state(st, &old, NULL);
		if (ret)
			return rollback(st, ret);
		if (old.ctc > ctc)
			ctc = old.ctc;
		if (old.online_counter > online)
			online = old.online_counter;
	}
	for (i = 0; i < sizeof(wipe) / sizeof(wipe[0]); i++) {
		ret = run(st, stmt(st, wipe[i]), "wipe");
		if (ret)
			return rollback(st, ret);
	}
	s = stmt(st, S_INS_CARD);
	sqlite3_bind_blob(s, 1, c->aid, (int)c->aid_len, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, c->app_version);
	sqlite3_bind_blob(s, 3, c->ef0015, HCE_EF0015_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, c->ef0016, (int)c->ef0016_len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, c->ef0017, HCE_EF0017_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, c->overdraft_limit);
	sqlite3_bind_int64(s, 7, c->max_balance);
	ret = run(st, s, "insert card");
	for (i = 0; !ret && i < c->n_keys; i++) {
		s = stmt(st, S_INS_KEY);
		sqlite3_bind_int(s, 1, c->keys[i].kind);
		sqlite3_bind_int(s, 2, c->keys[i].index);
		sqlite3_bind_int(s, 3, c->keys[i].version);
		sqlite3_bind_int(s, 4, c->keys[i].alg);
		ret = run(st, s, "insert key info");
	}
	if (!ret) {
		s = stmt(st, S_INS_STATE);
		sqlite3_bind_int64(s, 1, hce_balance_value(c->balance));
		sqlite3_bind_int(s, 2, ctc);
		sqlite3_bind_int(s, 3, online);
		ret = run(st, s, "insert state");
	}
	for (i = 0; !ret && i < HCE_CAPP_RECORDS; i++) {
		if (!c->capp_present[i])
			continue;
		s = stmt(st, S_PUT_CAPP);
		sqlite3_bind_int(s, 1, (int)i + 1);
		sqlite3_bind_blob(s, 2, c->capp[i], HCE_CAPP_RECORD_LEN, SQLITE_STATIC);
		ret = run(st, s, "insert capp");
	}
	if (!ret)
		ret = commit(st);
	if (ret)
		return rollback(st, ret);
	st->err[0] = '\0';
	return 0;
}

/* Copy a blob column of exactly len bytes (or min..max when lenp) into dst. */
static int col_blob(struct hce_store *st, sqlite3_stmt *s, int col, void *dst, size_t min,
		    size_t max, size_t *lenp, const char *what)
{
	const void *p = sqlite3_column_blob(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);

	if (sqlite3_column_type(s, col) != SQLITE_BLOB || n < min || n > max || !p)
		return set_err(st, -EILSEQ, "corrupt store: %s", what);
	memcpy(dst, p, n);
	if (lenp)
		*lenp = n;
	return 0;
}

static int col_uint(struct hce_store *st, sqlite3_stmt *s, int col, int64_t max, uint32_t *v,
		    const char *what)
{
	int64_t x = sqlite3_column_int64(s, col);

	if (sqlite3_column_type(s, col) != SQLITE_INTEGER || x < 0 || x > max)
		return set_err(st, -EILSEQ, "corrupt store: %s", what);
	*v = (uint32_t)x;
	return 0;
}

int hce_store_card(struct hce_store *st, struct hce_card_data *c)
{
	sqlite3_stmt *s;
	uint32_t v = 0;
	int rc, ret;

	memset(c, 0, sizeof(*c));
	s = stmt(st, S_GET_CARD);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return set_err(st, -ENOENT, "no card personalised");
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return db_err(st, rc, "read card");
	}
	ret = col_blob(st, s, 0, c->aid, HCE_STORE_AID_MIN, HCE_STORE_AID_MAX, &c->aid_len, "aid");
	if (!ret)
		ret = col_uint(st, s, 1, 0xff, &v, "app_version");
	c->app_version = (uint8_t)v;
	if (!ret)
		ret = col_blob(st, s, 2, c->ef0015, HCE_EF0015_LEN, HCE_EF0015_LEN, NULL, "ef0015");
	if (!ret)
		ret = col_blob(st, s, 3, c->ef0016, 1, HCE_EF0016_MAX, &c->ef0016_len, "ef0016");
	if (!ret)
		ret = col_blob(st, s, 4, c->ef0017, HCE_EF0017_LEN, HCE_EF0017_LEN, NULL, "ef0017");
	if (!ret)
		ret = col_uint(st, s, 5, HCE_OVERDRAFT_MAX, &c->overdraft_limit, "overdraft");
	if (!ret)
		ret = col_uint(st, s, 6, 0xffffffff, &c->max_balance, "max_balance");
	sqlite3_reset(s);
	if (ret)
		return ret;

	s = stmt(st, S_GET_KEYS);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct hce_key_info *k;
		uint32_t f[4];
		int i;

		if (c->n_keys == HCE_STORE_KEYS_MAX) {
			sqlite3_reset(s);
			return set_err(st, -EILSEQ, "corrupt store: too many keys");
		}
		for (i = 0; i < 4; i++) {
			ret = col_uint(st, s, i, 0xff, &f[i], "keyinfo");
			if (ret) {
				sqlite3_reset(s);
				return ret;
			}
		}
		k = &c->keys[c->n_keys++];
		k->kind = (uint8_t)f[0];
		k->index = (uint8_t)f[1];
		k->version = (uint8_t)f[2];
		k->alg = (uint8_t)f[3];
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return db_err(st, rc, "read keys");

	for (unsigned int i = 0; i < HCE_CAPP_RECORDS; i++) {
		ret = hce_store_capp(st, i + 1, c->capp[i]);
		if (ret == -ENOENT)
			continue;
		if (ret)
			return ret;
		c->capp_present[i] = 1;
	}
	/* Initial values are not kept; report the current ones. */
	{
		struct hce_purse_state ps;

		ret = hce_store_state(st, &ps);
		if (ret)
			return ret;
		c->balance = ps.balance;
		c->ctc = ps.ctc;
		c->online_counter = ps.online_counter;
	}
	return 0;
}

/* Read the state; *b (balance bounds) optional. */
static int get_state(struct hce_store *st, struct hce_purse_state *ps, struct bounds *b)
{
	sqlite3_stmt *s = stmt(st, S_GET_STATE);
	int64_t balance;
	uint32_t v[5];
	int rc, ret = 0, i;

	memset(ps, 0, sizeof(*ps));
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return set_err(st, -ENOENT, "no card personalised");
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return db_err(st, rc, "read state");
	}
	static const int64_t max[5] = { 0, 0xffff, 0xffff, 0xffffffff, 0xffffffff };

	/* The balance is signed: -HCE_OVERDRAFT_MAX..HCE_BALANCE_MAX (store.h "Balances"). */
	balance = sqlite3_column_int64(s, 0);
	if (sqlite3_column_type(s, 0) != SQLITE_INTEGER || balance < -(int64_t)HCE_OVERDRAFT_MAX ||
	    balance > HCE_BALANCE_MAX)
		ret = set_err(st, -EILSEQ, "corrupt store: %s", "state balance");
	for (i = 1; !ret && i < 5; i++)
		ret = col_uint(st, s, i, max[i], &v[i], "state");
	if (!ret)
		ps->tx_total = (uint64_t)sqlite3_column_int64(s, 4);
	if (!ret && b)
		ret = col_uint(st, s, 5, 0xffffffff, &b->max_balance, "max_balance");
	if (!ret && b)
		ret = col_uint(st, s, 6, HCE_OVERDRAFT_MAX, &b->overdraft, "overdraft");
	sqlite3_reset(s);
	if (ret)
		return ret;
	ps->balance = hce_balance_raw((int32_t)balance);
	ps->ctc = (uint16_t)v[1];
	ps->online_counter = (uint16_t)v[2];
	ps->mac_failures = v[3];
	return 0;
}

int hce_store_state(struct hce_store *st, struct hce_purse_state *ps)
{
	return get_state(st, ps, NULL);
}

/* One blob row from a statement bound by the caller; -ENOENT when no row. */
static int one_blob(struct hce_store *st, sqlite3_stmt *s, uint8_t *out, size_t len,
		    const char *what)
{
	int rc = sqlite3_step(s), ret;

	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return db_err(st, rc, what);
	}
	ret = col_blob(st, s, 0, out, len, len, NULL, what);
	sqlite3_reset(s);
	return ret;
}

int hce_store_log(struct hce_store *st, unsigned int n, uint8_t rec[HCE_LOG_RECORD_LEN])
{
	sqlite3_stmt *s;

	if (n < 1 || n > HCE_LOG_RECORDS)
		return -ENOENT;
	s = stmt(st, S_GET_LOG);
	sqlite3_bind_int(s, 1, (int)n - 1);
	return one_blob(st, s, rec, HCE_LOG_RECORD_LEN, "log record");
}

int hce_store_capp(struct hce_store *st, unsigned int recno, uint8_t rec[HCE_CAPP_RECORD_LEN])
{
	sqlite3_stmt *s;

	if (recno < 1 || recno > HCE_CAPP_RECORDS)
		return -ENOENT;
	s = stmt(st, S_GET_CAPP);
	sqlite3_bind_int(s, 1, (int)recno);
	return one_blob(st, s, rec, HCE_CAPP_RECORD_LEN, "capp record");
}

int hce_store_proof(struct hce_store *st, uint16_t ctc, struct hce_proof *pr)
{
	sqlite3_stmt *s = stmt(st, S_GET_PROOF);
	uint32_t type = 0;
	int rc, ret;

	sqlite3_bind_int(s, 1, ctc);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(s);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return db_err(st, rc, "read proof");
	}
	ret = col_uint(st, s, 0, 0xff, &type, "proof type");
	if (!ret)
		ret = col_blob(st, s, 1, pr->mac2, 4, 4, NULL, "proof mac2");
	if (!ret)
		ret = col_blob(st, s, 2, pr->tac, 4, 4, NULL, "proof tac");
	sqlite3_reset(s);
	pr->type = (uint8_t)type;
	pr->ctc = ctc;
	return ret;
}

static int set_state(struct hce_store *st, int64_t balance, uint16_t ctc, uint16_t online)
{
	sqlite3_stmt *s = stmt(st, S_SET_STATE);

	sqlite3_bind_int64(s, 1, balance);
	sqlite3_bind_int(s, 2, ctc);
	sqlite3_bind_int(s, 3, online);
	return run(st, s, "update state");
}

static int add_log(struct hce_store *st, const uint8_t rec[HCE_LOG_RECORD_LEN])
{
	sqlite3_stmt *s = stmt(st, S_INS_LOG);
	int ret;

	sqlite3_bind_blob(s, 1, rec, HCE_LOG_RECORD_LEN, SQLITE_STATIC);
	ret = run(st, s, "insert log");
	if (!ret)
		ret = run(st, stmt(st, S_PRUNE_LOG), "prune log");
	return ret;
}

static int offline_read(struct hce_store *st, struct hce_store_offline *o)
{
	sqlite3_stmt *s;
	int rc;

	memset(o, 0, sizeof(*o));
	rc = sqlite3_prepare_v2(st->db, "SELECT cap_amount, cap_count, spent, count, not_after"
				" FROM offline WHERE id = 1", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		/* A file from before the table, opened read-only: no cap. */
		if (st->readonly && strstr(sqlite3_errmsg(st->db), "no such table"))
			return 0;
		return db_err(st, rc, "read offline cap");
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		o->set = true;
		o->cap_amount = (uint32_t)sqlite3_column_int64(s, 0);
		o->cap_count = (uint32_t)sqlite3_column_int64(s, 1);
		o->spent = (uint32_t)sqlite3_column_int64(s, 2);
		o->count = (uint32_t)sqlite3_column_int64(s, 3);
		o->not_after = sqlite3_column_int64(s, 4);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, "read offline cap");
}

int hce_store_offline(struct hce_store *st, struct hce_store_offline *o)
{
	if (!st || !o)
		return -EINVAL;
	return offline_read(st, o);
}

/* The record the wallet uploads (log fields + TTC + TAC), inside the caller's transaction. */
static int outbox_put(struct hce_store *st, uint8_t type, uint16_t counter, uint32_t amount,
		      const uint8_t log[HCE_LOG_RECORD_LEN], uint32_t ttc, const uint8_t tac[4])
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO outbox(type, counter, amount,"
				" terminal, ttc, date, time, tac) VALUES(?1, ?2, ?3, ?4, ?5, ?6,"
				" ?7, ?8)", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(st, rc, "prepare outbox");
	sqlite3_bind_int(s, 1, type);
	sqlite3_bind_int(s, 2, counter);
	sqlite3_bind_int64(s, 3, amount);
	sqlite3_bind_blob(s, 4, log + 10, 6, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, ttc);
	sqlite3_bind_blob(s, 6, log + 16, 4, SQLITE_STATIC);
	sqlite3_bind_blob(s, 7, log + 20, 3, SQLITE_STATIC);
	sqlite3_bind_blob(s, 8, tac, 4, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, "insert outbox");
}

/* Inside the load's transaction: queue its record when the wallet manages this card. */
static int offline_load(struct hce_store *st, const struct hce_store_load *l)
{
	struct hce_store_offline o;
	int ret = offline_read(st, &o);

	if (ret || !o.set)
		return ret;
	return outbox_put(st, HCE_TX_LOAD, l->online_counter, l->amount, l->log, 0, l->tac);
}

/* Inside the debit's transaction: count the debit against the cap (refuse beyond it). */
static int offline_debit(struct hce_store *st, const struct hce_store_debit *d)
{
	struct hce_store_offline o;
	char sql[160];
	int ret = offline_read(st, &o);

	if (ret || !o.set)
		return ret;
	if (!hce_store_offline_allows(&o, d->amount))
		return set_err(st, -EDQUOT, "debit: beyond the offline cap");
	snprintf(sql, sizeof(sql), "UPDATE offline SET spent = spent + %u, count = count + 1"
		 " WHERE id = 1", d->amount);
	ret = exec(st, sql, "count offline debit");
	if (ret)
		return ret;
	return outbox_put(st, d->type, d->ctc, d->amount, d->log, d->ttc, d->tac);
}

int hce_store_outbox(struct hce_store *st, struct hce_store_outrec *out, size_t cap, size_t *n)
{
	sqlite3_stmt *s;
	int rc;

	if (!st || !n || (!out && cap))
		return -EINVAL;
	*n = 0;
	rc = sqlite3_prepare_v2(st->db, "SELECT type, counter, amount, terminal, ttc, date, time,"
				" tac FROM outbox ORDER BY counter, type", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		if (st->readonly && strstr(sqlite3_errmsg(st->db), "no such table"))
			return 0;
		return db_err(st, rc, "read outbox");
	}
	while (*n < cap && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct hce_store_outrec *r = &out[*n];

		r->type = (uint8_t)sqlite3_column_int(s, 0);
		r->counter = (uint16_t)sqlite3_column_int(s, 1);
		r->amount = (uint32_t)sqlite3_column_int64(s, 2);
		r->ttc = (uint32_t)sqlite3_column_int64(s, 4);
		if (sqlite3_column_bytes(s, 3) != 6 || sqlite3_column_bytes(s, 5) != 4 ||
		    sqlite3_column_bytes(s, 6) != 3 || sqlite3_column_bytes(s, 7) != 4) {
			sqlite3_finalize(s);
			return set_err(st, -EILSEQ, "outbox: corrupt record");
		}
		memcpy(r->terminal, sqlite3_column_blob(s, 3), 6);
		memcpy(r->date, sqlite3_column_blob(s, 5), 4);
		memcpy(r->time, sqlite3_column_blob(s, 6), 3);
		memcpy(r->tac, sqlite3_column_blob(s, 7), 4);
		(*n)++;
	}
	sqlite3_finalize(s);
	if (*n < cap && rc != SQLITE_DONE)
		return db_err(st, rc, "read outbox");
	return 0;
}

int hce_store_outbox_done(struct hce_store *st, const struct hce_store_outrec *r, size_t n,
			  bool restore, uint32_t cap_amount, uint32_t cap_count)
{
	sqlite3_stmt *s = NULL;
	char sql[256];
	size_t i;
	int ret, rc;

	if (!st || (!r && n))
		return -EINVAL;
	ret = begin(st);
	if (ret)
		return ret;
	rc = sqlite3_prepare_v2(st->db, "DELETE FROM outbox WHERE type = ?1 AND counter = ?2",
				-1, &s, NULL);
	if (rc != SQLITE_OK)
		return rollback(st, db_err(st, rc, "prepare outbox delete"));
	for (i = 0; !ret && i < n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int(s, 1, r[i].type);
		sqlite3_bind_int(s, 2, r[i].counter);
		rc = sqlite3_step(s);
		if (rc != SQLITE_DONE)
			ret = db_err(st, rc, "delete outbox");
	}
	sqlite3_finalize(s);
	/* The cap counts what the issuer has not acknowledged yet: the rest of the outbox. */
	if (!ret && restore) {
		snprintf(sql, sizeof(sql), "UPDATE offline SET cap_amount = %u, cap_count = %u,"
			 " spent = (SELECT coalesce(sum(amount), 0) FROM outbox WHERE type <> 2),"
			 " count = (SELECT count(*) FROM outbox WHERE type <> 2) WHERE id = 1",
			 cap_amount, cap_count);
		ret = exec(st, sql, "restore offline cap");
	}
	if (!ret)
		ret = commit(st);
	if (ret)
		return rollback(st, ret);
	return 0;
}

bool hce_store_offline_allows(const struct hce_store_offline *o, uint32_t amount)
{
	if (!o->set)
		return true;
	return o->count < o->cap_count && o->spent <= o->cap_amount &&
	       amount <= o->cap_amount - o->spent;
}

int hce_store_set_offline(struct hce_store *st, uint32_t cap_amount, uint32_t cap_count,
			  int64_t not_after, bool reset)
{
	char sql[256];
	int ret;

	if (!st || not_after < 0)
		return -EINVAL;
	ret = begin(st);
	if (ret)
		return ret;
	if (reset)
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO offline(id, cap_amount,"
			 " cap_count, spent, count, not_after) VALUES(1, %u, %u, 0, 0, %lld)",
			 cap_amount, cap_count, (long long)not_after);
	else
		snprintf(sql, sizeof(sql), "INSERT INTO offline(id, cap_amount, cap_count, spent,"
			 " count, not_after) VALUES(1, %u, %u, 0, 0, %lld) ON CONFLICT(id) DO"
			 " UPDATE SET cap_amount = excluded.cap_amount, cap_count ="
			 " excluded.cap_count, not_after = excluded.not_after",
			 cap_amount, cap_count, (long long)not_after);
	ret = exec(st, sql, "set offline cap");
	if (!ret)
		ret = commit(st);
	if (ret)
		return rollback(st, ret);
	return 0;
}

int hce_store_commit_debit(struct hce_store *st, const struct hce_store_debit *d)
{
	struct hce_purse_state ps;
	struct bounds b;
	sqlite3_stmt *s;
	int64_t balance;
	int ret;

	if (!st || !d || (d->type != HCE_TX_PURCHASE && d->type != HCE_TX_CAPP) ||
	    d->capp_recno > HCE_CAPP_RECORDS || (d->capp_recno && d->type != HCE_TX_CAPP))
		return -EINVAL;
	ret = begin(st);
	if (ret)
		return ret;
	ret = get_state(st, &ps, &b);
	if (ret)
		return rollback(st, ret);
	if (ps.balance != d->old_balance || ps.ctc != d->ctc)
		return rollback(st, set_err(st, -ESTALE, "debit: purse state changed"));
	/* Into the overdraft, never below -overdraft_limit (the triggers check it again). */
	balance = (int64_t)hce_balance_value(ps.balance) - d->amount;
	if (balance < -(int64_t)b.overdraft || ps.ctc == 0xffff)
		return rollback(st, set_err(st, -ERANGE, "debit: balance or counter exhausted"));
	ret = offline_debit(st, d);
	if (!ret)
		ret = set_state(st, balance, (uint16_t)(ps.ctc + 1), ps.online_counter);
	if (!ret)
		ret = add_log(st, d->log);
	if (!ret) {
		s = stmt(st, S_INS_PROOF);
		sqlite3_bind_int(s, 1, d->ctc);
		sqlite3_bind_int(s, 2, d->type);
		sqlite3_bind_blob(s, 3, d->mac2, 4, SQLITE_STATIC);
		sqlite3_bind_blob(s, 4, d->tac, 4, SQLITE_STATIC);
		ret = run(st, s, "insert proof");
	}
	if (!ret) {
		s = stmt(st, S_PRUNE_PROOF);
		sqlite3_bind_int(s, 1, d->ctc);
		ret = run(st, s, "prune proof");
	}
	if (!ret && d->capp_recno) {
		s = stmt(st, S_PUT_CAPP);
		sqlite3_bind_int(s, 1, d->capp_recno);
		sqlite3_bind_blob(s, 2, d->capp, HCE_CAPP_RECORD_LEN, SQLITE_STATIC);
		ret = run(st, s, "write capp");
	}
	if (!ret)
		ret = commit(st);
	if (ret)
		return rollback(st, ret);
	return 0;
}

int hce_store_commit_load(struct hce_store *st, const struct hce_store_load *l)
{
	struct hce_purse_state ps;
	struct bounds b;
	int64_t balance;
	int ret;

	if (!st || !l)
		return -EINVAL;
	ret = begin(st);
	if (ret)
		return ret;
	ret = get_state(st, &ps, &b);
	if (ret)
		return rollback(st, ret);
	if (ps.balance != l->old_balance || ps.online_counter != l->online_counter)
		return rollback(st, set_err(st, -ESTALE, "load: purse state changed"));
	/* A load first repays the overdraft: the balance rises by amount, up to the maximum. */
	balance = (int64_t)hce_balance_value(ps.balance) + l->amount;
	if (balance > top_balance(b.max_balance) || ps.online_counter == 0xffff)
		return rollback(st, set_err(st, -ERANGE, "load: beyond max balance or counter"));
	ret = set_state(st, balance, ps.ctc, (uint16_t)(ps.online_counter + 1));
	if (!ret)
		ret = add_log(st, l->log);
	if (!ret)
		ret = offline_load(st, l);
	if (!ret)
		ret = commit(st);
	if (ret)
		return rollback(st, ret);
	return 0;
}

int hce_store_mac_failure(struct hce_store *st, uint32_t *count)
{
	sqlite3_stmt *s;
	int64_t n = 0;
	int rc, ret;

	ret = begin(st);
	if (ret)
		return ret;
	s = stmt(st, S_MAC_FAIL);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		n = sqlite3_column_int64(s, 0);
		rc = sqlite3_step(s);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return rollback(st, db_err(st, rc, "count mac failure"));
	if (n <= 0)
		return rollback(st, set_err(st, -ENOENT, "no card personalised"));
	ret = commit(st);
	if (ret)
		return rollback(st, ret);
	if (count)
		*count = n > 0xffffffff ? 0xffffffff : (uint32_t)n;
	return 0;
}

int hce_store_reset_mac_failures(struct hce_store *st)
{
	int ret = begin(st);

	if (ret)
		return ret;
	ret = run(st, stmt(st, S_MAC_RESET), "reset mac failures");
	if (!ret)
		ret = commit(st);
	if (ret)
		return rollback(st, ret);
	return 0;
}
