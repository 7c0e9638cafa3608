// SPDX-License-Identifier: GPL-2.0
/*
 * crash_test.c - tear-proof storage: fail or crash at EVERY write and sync point of a purchase,
 * a load, a compound (CAPP) purchase, a MAC failure, a purchase into the overdraft and a load
 * repaying it (the balance crosses zero), reopen, check the invariants.
 *
 * An SQLite VFS shim ("hce-crash", registered as the default VFS, wrapping the unix VFS)
 * counts xWrite, xSync, xTruncate and xDelete calls once armed. At call K it either
 *   - returns an I/O error (mode ioerr: the process goes on, and runs one more purchase),
 *   - calls _exit() before the call (mode crash: the process dies, what the kernel already
 *     has survives, like a kill -9), or
 *   - writes only the first half of the buffer, then _exit() (mode torn: a torn write), or
 *   - undoes every write and truncate not yet made durable by an xSync of its file, then
 *     _exit() (mode power loss: the page cache is lost).
 * For each operation the test first runs it with no fault to count its fault points N (the
 * operation and the close/checkpoint after it), then for K = 1..N and each mode: copies the
 * fresh card file, forks a child that opens the purse, runs the first half unarmed, arms the
 * shim, runs the value command, reports the card's answer through a pipe, closes; the parent
 * reopens the file and checks:
 *   - SQLite quick_check is "ok"; the store opens; the purse works afterwards (a purchase);
 *   - balance == initial - purchases + loads found in the log; CTC and the online counter
 *     equal initial + their number of log records (counters never go back); every purchase
 *     in the log has its GET TRANSACTION PROVE answer with the same type;
 *   - the operation is exactly before or after: if the card answered 9000 it is after, and
 *     the proof equals the MAC2/TAC the card answered; CAPP record old iff before;
 *   - GET TRANSACTION PROVE for the operation's CTC answers 9000 iff the debit committed.
 * The number of fault points per operation is printed ("# purchase: N fault points").
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>

/* kselftest_harness.h defines functions without prototypes and compares int with size_t. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "purse_testcard.h"

/* ---------------- the VFS shim ---------------- */

enum fault_mode { MODE_IOERR, MODE_CRASH, MODE_TORN, MODE_POWER };

static struct {
	sqlite3_vfs *real;
	int armed;
	int count;
	int fault_at;		/* 0: never */
	enum fault_mode mode;
	int faulted;
} g;

#define CRASH_EXIT 77

struct shim_file {
	sqlite3_file base;
	sqlite3_file *real;
	const char *path;	/* NULL for temporary files */
};

/*
 * Power loss (MODE_POWER): every write or truncate not yet followed by an xSync of its file
 * is recorded with the bytes it replaced; at the fault point they are all undone (newest
 * first, then the file is cut back to its size at the last sync), as if the page cache were
 * lost, and the process _exit()s. The worst case of a real power cut: nothing unsynced
 * survives (MODE_CRASH is the best case: everything written survives).
 */
struct undo {
	struct undo *next;
	sqlite3_int64 off;
	int n;
	uint8_t *old;
};

struct dirty {
	struct dirty *next;
	char path[512];
	sqlite3_int64 size0;	/* size at the last sync */
	struct undo *undo;	/* newest first */
};

static struct dirty *dirty_files;

static struct dirty *dirty_get(struct shim_file *sf)
{
	struct dirty *d;
	sqlite3_int64 size = 0;

	for (d = dirty_files; d; d = d->next) {
		if (!strcmp(d->path, sf->path))
			return d;
	}
	d = calloc(1, sizeof(*d));
	if (!d || sf->real->pMethods->xFileSize(sf->real, &size) != SQLITE_OK)
		abort();
	snprintf(d->path, sizeof(d->path), "%s", sf->path);
	d->size0 = size;
	d->next = dirty_files;
	dirty_files = d;
	return d;
}

/* Remember the bytes [off, off + n) hold now (within the current size). */
static void power_record(struct shim_file *sf, sqlite3_int64 off, sqlite3_int64 n)
{
	struct dirty *d;
	struct undo *u;
	sqlite3_int64 size = 0;

	if (g.mode != MODE_POWER || !sf->path)
		return;
	d = dirty_get(sf);
	if (sf->real->pMethods->xFileSize(sf->real, &size) != SQLITE_OK)
		abort();
	if (off >= size || n <= 0)
		return;		/* beyond the end: undone by cutting back to size0 */
	if (off + n > size)
		n = size - off;
	u = calloc(1, sizeof(*u));
	if (!u || !(u->old = malloc((size_t)n)))
		abort();
	u->off = off;
	u->n = (int)n;
	if (sf->real->pMethods->xRead(sf->real, u->old, u->n, off) != SQLITE_OK)
		abort();
	u->next = d->undo;
	d->undo = u;
}

static void power_synced(struct shim_file *sf)
{
	struct dirty **pp, *d;
	struct undo *u;

	if (g.mode != MODE_POWER || !sf->path)
		return;
	for (pp = &dirty_files; (d = *pp); pp = &d->next) {
		if (strcmp(d->path, sf->path))
			continue;
		*pp = d->next;
		while ((u = d->undo)) {
			d->undo = u->next;
			free(u->old);
			free(u);
		}
		free(d);
		return;
	}
}

static void power_loss(void)
{
	struct dirty *d;
	struct undo *u;

	for (d = dirty_files; d; d = d->next) {
		int fd = open(d->path, O_WRONLY);

		if (fd < 0)
			continue;	/* deleted since: nothing to undo */
		for (u = d->undo; u; u = u->next) {
			if (pwrite(fd, u->old, (size_t)u->n, (off_t)u->off) != u->n)
				_exit(99);
		}
		if (ftruncate(fd, (off_t)d->size0))
			_exit(99);
		close(fd);
	}
	_exit(CRASH_EXIT);
}

/* Count one call; returns 1 when this call must fail with an I/O error. */
static int fault_point(void)
{
	if (!g.armed)
		return 0;
	g.count++;
	if (g.count != g.fault_at)
		return 0;
	g.faulted = 1;
	if (g.mode == MODE_CRASH)
		_exit(CRASH_EXIT);
	if (g.mode == MODE_POWER)
		power_loss();
	return 1;
}

#define REAL(f) (((struct shim_file *)(f))->real)

static int shim_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int shim_read(sqlite3_file *f, void *b, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), b, n, off);
}

static int shim_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 off)
{
	if (fault_point()) {
		if (g.mode == MODE_TORN) {
			REAL(f)->pMethods->xWrite(REAL(f), b, n / 2, off);
			_exit(CRASH_EXIT);
		}
		return SQLITE_IOERR_WRITE;
	}
	power_record((struct shim_file *)f, off, n);
	return REAL(f)->pMethods->xWrite(REAL(f), b, n, off);
}

static int shim_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	if (fault_point()) {
		if (g.mode == MODE_TORN)
			_exit(CRASH_EXIT);
		return SQLITE_IOERR_TRUNCATE;
	}
	power_record((struct shim_file *)f, size, INT64_MAX / 2);
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int shim_sync(sqlite3_file *f, int flags)
{
	int rc;

	if (fault_point()) {
		if (g.mode == MODE_TORN)
			_exit(CRASH_EXIT);
		return SQLITE_IOERR_FSYNC;
	}
	rc = REAL(f)->pMethods->xSync(REAL(f), flags);
	if (rc == SQLITE_OK)
		power_synced((struct shim_file *)f);
	return rc;
}

static int shim_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int shim_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int shim_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int shim_check_lock(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int shim_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int shim_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int shim_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int shim_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}

static int shim_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void shim_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int shim_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int shim_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	*pp = NULL;	/* no memory-mapped I/O: every write goes through xWrite */
	return SQLITE_OK;
}

static int shim_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return SQLITE_OK;
}

static const sqlite3_io_methods shim_methods = {
	3, shim_close, shim_read, shim_write, shim_truncate, shim_sync, shim_size, shim_lock,
	shim_unlock, shim_check_lock, shim_fcntl, shim_sector, shim_devchar, shim_shm_map,
	shim_shm_lock, shim_shm_barrier, shim_shm_unmap, shim_fetch, shim_unfetch,
};

static int shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
		     int *out_flags)
{
	struct shim_file *sf = (struct shim_file *)f;
	int rc;

	sf->real = (sqlite3_file *)(sf + 1);
	sf->path = name;	/* SQLite keeps name valid until xClose */
	rc = g.real->xOpen(g.real, name, sf->real, flags, out_flags);
	sf->base.pMethods = sf->real->pMethods ? &shim_methods : NULL;
	return rc;
}

static int shim_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	if (fault_point()) {
		if (g.mode == MODE_TORN)
			_exit(CRASH_EXIT);
		return SQLITE_IOERR_DELETE;
	}
	return g.real->xDelete(g.real, name, sync_dir);
}

static int shim_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return g.real->xAccess(g.real, name, flags, out);
}

static int shim_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return g.real->xFullPathname(g.real, name, n, out);
}

static int shim_random(sqlite3_vfs *vfs, int n, char *out)
{
	return g.real->xRandomness(g.real, n, out);
}

static int shim_sleep(sqlite3_vfs *vfs, int us)
{
	return g.real->xSleep(g.real, us);
}

static int shim_time(sqlite3_vfs *vfs, double *t)
{
	return g.real->xCurrentTime(g.real, t);
}

static int shim_lasterr(sqlite3_vfs *vfs, int n, char *out)
{
	return g.real->xGetLastError(g.real, n, out);
}

static int shim_time64(sqlite3_vfs *vfs, sqlite3_int64 *t)
{
	return g.real->xCurrentTimeInt64(g.real, t);
}

static sqlite3_vfs shim_vfs;

static void shim_register(void)
{
	g.real = sqlite3_vfs_find(NULL);
	if (!g.real || strcmp(g.real->zName, "hce-crash") == 0)
		return;
	memset(&shim_vfs, 0, sizeof(shim_vfs));
	shim_vfs.iVersion = 2;
	shim_vfs.szOsFile = (int)sizeof(struct shim_file) + g.real->szOsFile;
	shim_vfs.mxPathname = g.real->mxPathname;
	shim_vfs.zName = "hce-crash";
	shim_vfs.xOpen = shim_open;
	shim_vfs.xDelete = shim_delete;
	shim_vfs.xAccess = shim_access;
	shim_vfs.xFullPathname = shim_fullpath;
	shim_vfs.xRandomness = shim_random;
	shim_vfs.xSleep = shim_sleep;
	shim_vfs.xCurrentTime = shim_time;
	shim_vfs.xGetLastError = shim_lasterr;
	shim_vfs.xCurrentTimeInt64 = shim_time64;
	sqlite3_vfs_register(&shim_vfs, 1);
}

/* ---------------- operations ---------------- */

enum op { OP_PURCHASE, OP_LOAD, OP_CAPP, OP_MAC_FAIL, OP_CAPPED, OP_SYNC_DONE, OP_SET_CAP,
	      OP_CAPPED_LOAD, OP_OD_PURCHASE, OP_OD_LOAD };

static const char *const op_name[] = { "purchase", "load", "compound purchase",
				       "MAC failure", "purchase under the offline cap",
				       "sync acknowledgement (outbox removal, cap restored)",
				       "new cap and validity (token install)",
				       "load on a wallet card (outbox)",
				       "purchase into the overdraft",
				       "load repaying the overdraft" };
static const char *const mode_name[] = { "ioerr", "crash", "torn", "power loss" };

#define AMT_PURCHASE 1234u
#define AMT_LOAD 5678u
#define AMT_CAPP 4321u
#define TTC 0x00000101u
/* Overdraft runs: the card starts at OD_START_* with the T_OVERDRAFT limit (12.80). */
#define AMT_OD 1500u		/* from 5.00 to -10.00 */
#define OD_START_PURCHASE 500
#define OD_START_LOAD (-1000)	/* a load of AMT_LOAD repays it: 46.78 */

static int32_t start_balance(enum op op)
{
	if (op == OP_OD_PURCHASE)
		return OD_START_PURCHASE;
	if (op == OP_OD_LOAD)
		return OD_START_LOAD;
	return (int32_t)T_BALANCE;
}

/* What the child reports through the pipe. */
struct report {
	uint32_t kind;		/* 1: answer of the armed command, 2: end */
	uint16_t sw;
	uint8_t rsp[8];
	int count;		/* fault points seen (kind 2) */
	uint16_t after_sw;	/* ioerr mode: the extra purchase's SW (kind 2) */
};

static void capp_cmd(uint8_t *c, size_t *n, uint8_t fill)
{
	c[0] = 0x80; c[1] = 0xDC; c[2] = 0x02; c[3] = 0xF4; c[4] = HCE_CAPP_RECORD_LEN;
	memset(c + 5, fill, HCE_CAPP_RECORD_LEN);
	*n = 5 + HCE_CAPP_RECORD_LEN;
}

/* Child: run op on the store at path with the shim armed from the second half on. */
static void child(const char *path, enum op op, int fault_at, enum fault_mode mode, int wfd)
{
	struct hce_card_keys keys;
	struct hce_store *st = NULL;
	struct hce_purse *p = NULL;
	struct t_rng rng = { 0x30, 0 };
	struct hce_app *app;
	struct report rep;
	struct t_purchase pu;
	struct t_rsp r;
	uint8_t sk[16], d[32], mac[4], c[64];
	size_t n;
	uint32_t amount = op == OP_CAPP ? AMT_CAPP : op == OP_OD_PURCHASE ? AMT_OD : AMT_PURCHASE;
	uint8_t type = op == OP_CAPP ? HCE_TX_CAPP : HCE_TX_PURCHASE;

	memset(&rep, 0, sizeof(rep));
	t_card_keys(&keys, HCE_ALG_3DES);
	if (hce_store_open(path, 0, &st, NULL) || hce_purse_open(st, &keys, &p))
		_exit(2);
	hce_purse_set_rng(p, t_rng_fn, &rng);
	app = hce_purse_app(p);
	if (t_select_ep(app) != HCE_SW_OK)
		_exit(3);
	if (op == OP_SYNC_DONE || op == OP_SET_CAP) {
		struct hce_store_outrec out[4];
		size_t nout = 0;
		int ret;

		/* A purchase (unarmed) fills the outbox; the wallet's acknowledgement is armed. */
		if (t_purchase(app, HCE_ALG_3DES, AMT_PURCHASE, TTC, &pu) != HCE_SW_OK ||
		    hce_store_outbox(st, out, 4, &nout) || nout != 1)
			_exit(4);
		g.count = 0;
		g.fault_at = fault_at;
		g.mode = mode;
		g.armed = 1;
		if (op == OP_SET_CAP)
			ret = hce_store_set_offline(st, 2000000, 2000, 4000000000LL, true);
		else
			ret = hce_store_outbox_done(st, out, nout, true, 2000000, 2000);
		rep.kind = 1;
		rep.sw = ret ? HCE_SW_MEMORY_FAILURE : HCE_SW_OK;
		if (write(wfd, &rep, sizeof(rep)) != sizeof(rep))
			_exit(6);
		if (mode == MODE_IOERR && g.faulted) {
			g.armed = 0;
			rep.after_sw = t_purchase(app, HCE_ALG_3DES, 1, TTC + 1, &pu);
			g.armed = 1;
		}
		hce_purse_close(p);
		hce_store_close(st);
		rep.kind = 2;
		rep.count = g.count;
		if (write(wfd, &rep, sizeof(rep)) != sizeof(rep))
			_exit(6);
		_exit(0);
	}
	if (op == OP_LOAD || op == OP_CAPPED_LOAD || op == OP_OD_LOAD) {
		uint16_t online;

		if (t_init(app, 0x00, 1, AMT_LOAD, &r) != HCE_SW_OK)
			_exit(4);
		online = hce_get_be16(r.b + 4);
		t_seslk(HCE_ALG_3DES, t_dlk1, r.b + 8, online, sk);
		hce_put_be32(d, AMT_LOAD);
		d[4] = HCE_TX_LOAD;
		memcpy(d + 5, t_terminal, 6);
		memcpy(d + 11, t_date, 4);
		memcpy(d + 15, t_time, 3);
		t_cbc_mac(HCE_ALG_3DES, sk, d, 18, mac);
		c[0] = 0x80; c[1] = 0x52; c[2] = 0; c[3] = 0; c[4] = 0x0B;
		memcpy(c + 5, t_date, 4);
		memcpy(c + 9, t_time, 3);
		memcpy(c + 12, mac, 4);
		c[16] = 0x04;
		n = 17;
	} else {
		uint16_t ctc;

		if (t_init(app, op == OP_CAPP ? 0x03 : 0x01, 1, amount, &r) != HCE_SW_OK)
			_exit(4);
		ctc = hce_get_be16(r.b + 4);
		t_sespk(HCE_ALG_3DES, t_dpk1, r.b + 11, ctc, TTC, sk);
		if (op == OP_CAPP) {
			capp_cmd(c, &n, 0xC3);
			if (t_xb(app, c, n, &r) != HCE_SW_OK)
				_exit(5);
		}
		t_cbc_mac(HCE_ALG_3DES, sk, d, t_purchase_mac1_in(amount, type, d), mac);
		if (op == OP_MAC_FAIL)
			mac[0] ^= 1;
		t_debit_apdu(TTC, mac, c);
		n = 21;
	}
	g.count = 0;
	g.fault_at = fault_at;
	g.mode = mode;
	g.armed = 1;
	t_xb(app, c, n, &r);
	rep.kind = 1;
	rep.sw = r.sw;
	memcpy(rep.rsp, r.b, r.len <= 8 ? r.len : 8);
	if (write(wfd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(6);
	if (mode == MODE_IOERR && g.faulted) {
		/* the process lives on after an I/O error: the next purchase must work */
		g.armed = 0;
		rep.after_sw = t_purchase(app, HCE_ALG_3DES, 1, TTC + 1, &pu);
		g.armed = 1;
	}
	hce_purse_close(p);
	hce_store_close(st);
	rep.kind = 2;
	rep.count = g.count;
	if (write(wfd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(6);
	_exit(0);
}

struct outcome {
	int answered;		/* got report kind 1 */
	struct report ans;
	int ended;		/* got report kind 2 */
	struct report end;
	int status;
};

static int run_child(const char *path, enum op op, int fault_at, enum fault_mode mode,
		     struct outcome *o)
{
	int fds[2];
	pid_t pid;
	struct report rep;

	memset(o, 0, sizeof(*o));
	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fds[0]);
		child(path, op, fault_at, mode, fds[1]);
	}
	close(fds[1]);
	while (read(fds[0], &rep, sizeof(rep)) == sizeof(rep)) {
		if (rep.kind == 1) {
			o->answered = 1;
			o->ans = rep;
		} else if (rep.kind == 2) {
			o->ended = 1;
			o->end = rep;
		}
	}
	close(fds[0]);
	if (waitpid(pid, &o->status, 0) != pid)
		return -1;
	return 0;
}

static int copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out;
	ssize_t n;

	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	}
	close(in);
	close(out);
	return n < 0 ? -1 : 0;
}

static void remove_db(const char *path)
{
	char p[200];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static int quick_check_ok(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int ok = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return 0;
	}
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		ok = !strcmp((const char *)sqlite3_column_text(q, 0), "ok");
	sqlite3_finalize(q);
	sqlite3_close(db);
	return ok;
}

/* ---------------- the check after each fault ---------------- */

struct tally {
	int runs, before, after, errs_committed;
};

static void check_after(struct __test_metadata *_metadata, const char *path, enum op op,
			const struct outcome *o, const char *what, struct tally *ty)
{
	uint8_t rec[HCE_LOG_RECORD_LEN], capp[HCE_CAPP_RECORD_LEN];
	uint32_t purchases = 0, loads = 0, sum_p = 0, sum_l = 0;
	struct hce_card_keys keys;
	struct hce_purse_log_entry e;
	struct hce_purse_state s;
	struct hce_store *st = NULL;
	struct hce_purse *p = NULL;
	struct hce_proof pr;
	struct t_purchase pu;
	struct t_rsp r;
	int after = 0, i, op_counter = -1, has_ctc0 = 0;

	ty->runs++;
	ASSERT_TRUE(quick_check_ok(path)) TH_LOG("%s: quick_check", what);
	ASSERT_EQ(0, hce_store_open(path, 0, &st, NULL)) TH_LOG("%s: reopen", what);
	ASSERT_EQ(0, hce_store_state(st, &s));
	/* log vs counters vs balance */
	for (i = 1; i <= HCE_LOG_RECORDS; i++) {
		if (hce_store_log(st, (unsigned int)i, rec))
			break;
		hce_purse_log_parse(rec, &e);
		if (e.type == HCE_TX_LOAD) {
			loads++;
			sum_l += e.amount;
			if (e.amount == AMT_LOAD)
				after |= op == OP_LOAD || op == OP_CAPPED_LOAD || op == OP_OD_LOAD;
		} else {
			ASSERT_TRUE(e.type == HCE_TX_PURCHASE || e.type == HCE_TX_CAPP);
			purchases++;
			sum_p += e.amount;
			ASSERT_EQ(0, hce_store_proof(st, e.counter, &pr)) TH_LOG("%s: proof", what);
			EXPECT_EQ(e.type, pr.type);
			if (e.counter == 0)
				has_ctc0 = 1;
			if ((e.amount == AMT_PURCHASE && (op == OP_PURCHASE || op == OP_CAPPED)) ||
			    (e.amount == AMT_CAPP && op == OP_CAPP) ||
			    (e.amount == AMT_OD && op == OP_OD_PURCHASE)) {
				after = 1;
				op_counter = e.counter;
			}
		}
	}
	if (op == OP_SYNC_DONE) {
		struct hce_store_outrec out[HCE_LOG_RECORDS + 2];
		struct hce_store_offline off;
		size_t nout = 0, j;
		int acked = 1;

		/*
		 * Before: the purchase is in the outbox and counted against the old cap. After:
		 * it left the outbox, the cap is the new one and counts only what is left (the
		 * ioerr mode's extra purchase).
		 */
		ASSERT_EQ(0, hce_store_offline(st, &off));
		ASSERT_EQ(0, hce_store_outbox(st, out, HCE_LOG_RECORDS + 2, &nout));
		for (j = 0; j < nout; j++)
			acked &= !(out[j].amount == AMT_PURCHASE && out[j].ttc == TTC);
		EXPECT_EQ(acked ? 2000000u : 1000000u, off.cap_amount) TH_LOG("%s: cap", what);
		EXPECT_EQ(acked ? 2000u : 1000u, off.cap_count) TH_LOG("%s: cap count", what);
		EXPECT_EQ(acked ? sum_p - AMT_PURCHASE : sum_p, off.spent) TH_LOG("%s: spent", what);
		EXPECT_EQ(acked ? purchases - 1 : purchases, off.count) TH_LOG("%s: count", what);
		EXPECT_EQ(acked ? purchases - 1 : purchases, nout) TH_LOG("%s: outbox", what);
		after = acked;
		if (o->answered && o->ans.sw == HCE_SW_OK)
			EXPECT_TRUE(after) TH_LOG("%s: answered done but not committed", what);
	}
	if (op == OP_SET_CAP) {
		struct hce_store_offline off;

		/* Before: old cap, the purchase counted. After: new cap and validity, reset. */
		ASSERT_EQ(0, hce_store_offline(st, &off));
		after = off.cap_amount == 2000000;
		EXPECT_EQ(after ? 2000u : 1000u, off.cap_count) TH_LOG("%s: cap count", what);
		EXPECT_EQ(after ? 4000000000LL : 0, off.not_after) TH_LOG("%s: not_after", what);
		if (after) {
			/* ioerr mode's extra purchase may come after the reset */
			EXPECT_TRUE(off.count <= 1) TH_LOG("%s: count", what);
		} else {
			EXPECT_EQ(sum_p, off.spent) TH_LOG("%s: spent", what);
			EXPECT_EQ(purchases, off.count) TH_LOG("%s: count", what);
		}
		if (o->answered && o->ans.sw == HCE_SW_OK)
			EXPECT_TRUE(after) TH_LOG("%s: answered done but not committed", what);
	}
	/* signed: the overdraft runs cross zero (store.h "Balances") */
	EXPECT_EQ((int64_t)start_balance(op) - sum_p + sum_l, hce_balance_value(s.balance))
		TH_LOG("%s: balance", what);
	if (op == OP_OD_PURCHASE && after)
		EXPECT_GT(0, hce_balance_value(s.balance)) TH_LOG("%s: not negative", what);
	if (op == OP_OD_LOAD && !after)
		EXPECT_GT(0, hce_balance_value(s.balance)) TH_LOG("%s: not negative", what);
	EXPECT_EQ(purchases, s.ctc) TH_LOG("%s: CTC", what);
	EXPECT_EQ(loads, s.online_counter) TH_LOG("%s: online counter", what);
	EXPECT_EQ(purchases + loads, s.tx_total);
	if (op == OP_MAC_FAIL) {
		EXPECT_TRUE(s.mac_failures <= 1);
		if (o->answered && o->ans.sw == HCE_SW_MAC_INVALID)
			EXPECT_EQ(1, s.mac_failures) TH_LOG("%s: 9302 not persisted", what);
	} else {
		EXPECT_EQ(0, s.mac_failures);
		/* an answer 9000 means committed */
		if (o->answered && o->ans.sw == HCE_SW_OK)
			EXPECT_TRUE(after) TH_LOG("%s: answered 9000 but not committed", what);
		if (o->answered && o->ans.sw != HCE_SW_OK && after)
			ty->errs_committed++;
	}
	if (after)
		ty->after++;
	else
		ty->before++;
	/* the CAPP record moves with the debit */
	if (op == OP_CAPP) {
		ASSERT_EQ(0, hce_store_capp(st, 2, capp));
		EXPECT_EQ(after ? 0xC3 : 0x02, capp[0]) TH_LOG("%s: CAPP record", what);
	}
	/*
	 * GET TRANSACTION PROVE for the operation's CTC answers iff its debit committed and
	 * then equals the card's answer; with no purchase logged at CTC 0 (ioerr mode runs one
	 * more purchase, which may take CTC 0), CTC 0 answers 9406.
	 */
	t_card_keys(&keys, HCE_ALG_3DES);
	ASSERT_EQ(0, hce_purse_open(st, &keys, &p));
	ASSERT_EQ(HCE_SW_OK, t_select_ep(hce_purse_app(p)));
	if (op == OP_CAPPED_LOAD) {
		struct hce_store_outrec out[HCE_LOG_RECORDS + 2];
		size_t nout = 0, j;
		int in_outbox = 0;

		/* The load's record (online counter 0, its TAC) is queued iff the load committed. */
		ASSERT_EQ(0, hce_store_outbox(st, out, HCE_LOG_RECORDS + 2, &nout));
		for (j = 0; j < nout; j++)
			in_outbox |= out[j].type == HCE_TX_LOAD && out[j].amount == AMT_LOAD &&
				     out[j].counter == 0 && out[j].ttc == 0;
		EXPECT_EQ(after, in_outbox) TH_LOG("%s: outbox load record", what);
		EXPECT_EQ(purchases + loads, nout) TH_LOG("%s: outbox", what);
	}
	if (op == OP_CAPPED) {
		struct hce_store_outrec out[HCE_LOG_RECORDS + 2];
		struct hce_store_offline off;
		size_t nout = 0, j;
		int in_outbox = 0;

		/* The cap and the outbox move with the debit, in its transaction. */
		ASSERT_EQ(0, hce_store_offline(st, &off));
		ASSERT_TRUE(off.set);
		EXPECT_EQ(sum_p, off.spent) TH_LOG("%s: offline spent", what);
		EXPECT_EQ(purchases, off.count) TH_LOG("%s: offline count", what);
		ASSERT_EQ(0, hce_store_outbox(st, out, HCE_LOG_RECORDS + 2, &nout));
		EXPECT_EQ(purchases, nout) TH_LOG("%s: outbox", what);
		for (j = 0; j < nout; j++)
			in_outbox |= out[j].amount == AMT_PURCHASE && out[j].counter == op_counter &&
				     out[j].ttc == TTC;
		EXPECT_EQ(after, in_outbox) TH_LOG("%s: outbox record", what);
	}
	if (op == OP_PURCHASE || op == OP_CAPP || op == OP_CAPPED || op == OP_OD_PURCHASE) {
		uint8_t pc[8] = { 0x80, 0x5A, 0x00, op == OP_CAPP ? 0x09 : 0x06, 0x02, 0, 0, 8 };
		uint16_t sw;

		if (after)
			hce_put_be16(pc + 5, (uint16_t)op_counter);
		sw = t_xb(hce_purse_app(p), pc, sizeof(pc), &r);
		if (after || !has_ctc0)
			EXPECT_EQ(after ? HCE_SW_OK : HCE_SW_NO_PROOF, sw)
				TH_LOG("%s: prove", what);
		if (after && o->answered && o->ans.sw == HCE_SW_OK) {
			EXPECT_EQ(0, memcmp(r.b, o->ans.rsp + 4, 4));	/* MAC2 */
			EXPECT_EQ(0, memcmp(r.b + 4, o->ans.rsp, 4));	/* TAC */
		}
	}
	/* the card still works */
	if (hce_balance_value(s.balance) + (int64_t)T_OVERDRAFT >= 1)
		EXPECT_EQ(HCE_SW_OK, t_purchase(hce_purse_app(p), HCE_ALG_3DES, 1, 0x999, &pu))
			TH_LOG("%s: purchase after reopen", what);
	hce_purse_close(p);
	hce_store_close(st);
	hce_card_keys_wipe(&keys);
}

static void crash_every_point(struct __test_metadata *_metadata, enum op op)
{
	struct hce_card_data cd;
	struct hce_store *st;
	struct t_dir dir;
	char base[160], what[96], shm[160];
	struct outcome o;
	struct tally ty;
	int points, k, m;

	shim_register();
	ASSERT_EQ(0, t_mkdir(&dir));
	snprintf(base, sizeof(base), "%s/base.db", dir.dir);
	ASSERT_EQ(0, hce_store_open(base, HCE_STORE_CREATE, &st, NULL));
	t_card_data(&cd, HCE_ALG_3DES);
	cd.balance = hce_balance_raw(start_balance(op));
	ASSERT_EQ(0, hce_store_personalise(st, &cd, 0));
	if (op == OP_CAPPED || op == OP_SYNC_DONE || op == OP_SET_CAP || op == OP_CAPPED_LOAD)
		ASSERT_EQ(0, hce_store_set_offline(st, 1000000, 1000, 0, true));
	hce_store_close(st);	/* last connection: checkpointed, WAL removed */

	/* count the fault points with no fault */
	remove_db(dir.path);
	ASSERT_EQ(0, copy_file(base, dir.path));
	ASSERT_EQ(0, run_child(dir.path, op, 0, MODE_CRASH, &o));
	ASSERT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0);
	ASSERT_TRUE(o.ended);
	points = o.end.count;
	ASSERT_GT(points, 2);
	memset(&ty, 0, sizeof(ty));
	snprintf(what, sizeof(what), "%s no fault", op_name[op]);
	check_after(_metadata, dir.path, op, &o, what, &ty);
	EXPECT_EQ(op == OP_MAC_FAIL ? 0 : 1, ty.after);

	for (m = MODE_IOERR; m <= MODE_POWER; m++) {
		memset(&ty, 0, sizeof(ty));
		for (k = 1; k <= points; k++) {
			remove_db(dir.path);
			ASSERT_EQ(0, copy_file(base, dir.path));
			ASSERT_EQ(0, run_child(dir.path, op, k, (enum fault_mode)m, &o));
			if (m == MODE_POWER) {
				/* after a reboot the shared-memory index is gone too */
				snprintf(shm, sizeof(shm), "%s-shm", dir.path);
				unlink(shm);
			}
			snprintf(what, sizeof(what), "%s %s at point %d", op_name[op],
				 mode_name[m], k);
			if (m == MODE_IOERR) {
				ASSERT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0)
					TH_LOG("%s: child status %d", what, o.status);
				/* the purse must keep working in the same process */
				if (op != OP_MAC_FAIL && o.end.after_sw)
					EXPECT_EQ(HCE_SW_OK, o.end.after_sw)
						TH_LOG("%s: next purchase %04X", what,
						       o.end.after_sw);
			} else {
				ASSERT_TRUE(WIFEXITED(o.status) &&
					    WEXITSTATUS(o.status) == CRASH_EXIT)
					TH_LOG("%s: child status %d", what, o.status);
			}
			check_after(_metadata, dir.path, op, &o, what, &ty);
		}
		printf("# %s: %d fault points, mode %s: %d runs, %d before, %d after, "
		       "%d errors answered for a committed change\n", op_name[op], points,
		       mode_name[m], ty.runs, ty.before, ty.after, ty.errs_committed);
		fflush(stdout);
		if (op != OP_MAC_FAIL)
			EXPECT_GT(ty.before, 0);	/* the loop did hit the commit */
	}
	remove_db(dir.path);
	remove_db(base);
	rmdir(dir.dir);
}

TEST(crash_at_every_write_and_sync_of_purchase)
{
	crash_every_point(_metadata, OP_PURCHASE);
}

TEST(crash_at_every_write_and_sync_of_load)
{
	crash_every_point(_metadata, OP_LOAD);
}

TEST(crash_at_every_write_and_sync_of_compound_purchase)
{
	crash_every_point(_metadata, OP_CAPP);
}

TEST(crash_at_every_write_and_sync_of_mac_failure_count)
{
	crash_every_point(_metadata, OP_MAC_FAIL);
}

TEST(crash_at_every_write_and_sync_of_purchase_under_offline_cap)
{
	crash_every_point(_metadata, OP_CAPPED);
}

TEST(crash_at_every_write_and_sync_of_sync_acknowledgement)
{
	crash_every_point(_metadata, OP_SYNC_DONE);
}

TEST(crash_at_every_write_and_sync_of_load_on_wallet_card)
{
	crash_every_point(_metadata, OP_CAPPED_LOAD);
}

TEST(crash_at_every_write_and_sync_of_new_cap_and_validity)
{
	crash_every_point(_metadata, OP_SET_CAP);
}

TEST(crash_at_every_write_and_sync_of_purchase_into_the_overdraft)
{
	crash_every_point(_metadata, OP_OD_PURCHASE);
}

TEST(crash_at_every_write_and_sync_of_load_repaying_the_overdraft)
{
	crash_every_point(_metadata, OP_OD_LOAD);
}

TEST_HARNESS_MAIN
