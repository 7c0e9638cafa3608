// SPDX-License-Identifier: GPL-2.0
/*
 * bench-purse - purchases per second, terminal + purse in one process (no I/O but SQLite),
 * without and with the durable commit, and TAC verifications per second on the terminal side.
 *
 *   bench-purse [-n PURCHASES] [-r RUNS] [-w WARMUP] [-m TMPFS_DIR] [-d DISK_DIR]
 *
 * Each run personalises a fresh card (not timed), warms up, then times n purchases of 1 fen
 * through hce_term_purchase() against the purse over the in-process app transport. Every
 * purchase is the full flow: SELECT, READ BINARY EF 0015, GET BALANCE, record begin (TTC),
 * INITIALIZE FOR PURCHASE, MAC1, DEBIT (purse: MAC1 check, store commit, MAC2, TAC), MAC2 and
 * TAC verification, record finish. The figure is the median over the runs of the wall-clock
 * rate (min..max shown), with the rate per CPU second of this process beside it (steadier on a
 * busy machine; it leaves out the time spent waiting for fsync). TAC verifications are timed
 * in CPU time.
 *
 *   no durable commit: card store on tmpfs (its WAL + synchronous=FULL fsyncs cost nothing
 *                      there) and terminal records in an in-memory SQLite database
 *                      (synchronous=OFF, journal in memory);
 *   durable commit:    card store and terminal records as files on DISK_DIR, both
 *                      journal_mode=WAL + synchronous=FULL (the product configuration).
 * Exit status 0 when every purchase succeeded and the balances add up, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "purse/purse.h"
#include "store/store.h"
#include "terminal/psam.h"
#include "terminal/records.h"
#include "terminal/term.h"
#include "terminal/transport.h"

/* TEST ONLY issuer master keys (profiles/sample-psam.conf). */
static const char psam_text[] =
	"[issuer]\nid = 99 99 00 00 00 00 00 01\n"
	"[terminal]\nid = 11 22 33 44 55 66\n"
	"[purchase-key 1]\nalg = 00\nversion = 01\n"
	"master = 01 23 45 67 89 AB CD EF FE DC BA 98 76 54 32 10\n"
	"[load-key 1]\nalg = 00\nversion = 01\n"
	"master = 10 32 54 76 98 BA DC FE EF CD AB 89 67 45 23 01\n"
	"[tac-key]\nalg = 00\nversion = 01\n"
	"master = 89 AB CD EF 01 23 45 67 76 54 32 10 FE DC BA 98\n";

static const uint8_t serial[10] = { 0x03, 0x10, 0x99, 0, 0, 0, 0, 0, 0, 0x01 };

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static double cpu_s(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void card_data(struct hce_card_data *c, uint32_t balance)
{
	static const uint8_t aid[8] = { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05 };
	static const uint8_t head[10] = { 0x99, 0x99, 0, 0, 0, 0, 0, 0x01, 0x02, 0x02 };
	static const uint8_t dates[8] = { 0x20, 0x20, 0x01, 0x01, 0x20, 0x99, 0x12, 0x31 };

	memset(c, 0, sizeof(*c));
	memcpy(c->aid, aid, sizeof(aid));
	c->aid_len = sizeof(aid);
	c->app_version = 0x02;
	memcpy(c->ef0015, head, 10);
	memcpy(c->ef0015 + 10, serial, 10);
	memcpy(c->ef0015 + 20, dates, 8);
	memset(c->ef0016, 0x20, 55);
	c->ef0016_len = 55;
	c->max_balance = 0xffffffffu;
	c->balance = balance;
	c->keys[0] = (struct hce_key_info){ HCE_KEY_DPK, 1, 0x01, 0x00 };
	c->keys[1] = (struct hce_key_info){ HCE_KEY_DLK, 1, 0x01, 0x00 };
	c->keys[2] = (struct hce_key_info){ HCE_KEY_DTK, 0, 0x01, 0x00 };
	c->n_keys = 3;
}

static void unlink_db(const char *path)
{
	char p[600];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-journal", path);
	unlink(p);
}

/* One run: returns purchases per second, or a negative value on failure. */
static double run_once(const struct hce_psam *psam, const struct hce_card_keys *keys,
		       const char *card_path, const char *rec_path, enum hce_term_db_mode mode,
		       int n, int warmup, double *cpu_rate)
{
	struct hce_store *st = NULL;
	struct hce_purse *purse = NULL;
	struct hce_term_db *db = NULL;
	struct hce_term_transport tp;
	struct hce_term term;
	struct hce_term_result res;
	struct hce_card_data c;
	char err[512];
	uint32_t bal;
	double t0, c0, rate = -1;
	int i, rc;

	unlink_db(card_path);
	if (strcmp(rec_path, ":memory:"))
		unlink_db(rec_path);
	if (hce_store_open(card_path, HCE_STORE_CREATE, &st, err)) {
		fprintf(stderr, "bench-purse: store %s: %s\n", card_path, err);
		return -1;
	}
	card_data(&c, 1000000);
	if (hce_store_personalise(st, &c, 0) || hce_purse_open(st, keys, &purse)) {
		fprintf(stderr, "bench-purse: personalise: %s\n", hce_store_errmsg(st));
		goto out;
	}
	if (hce_term_db_open(&db, rec_path, mode, err, sizeof(err))) {
		fprintf(stderr, "bench-purse: records: %s\n", err);
		goto out;
	}
	hce_term_transport_app(&tp, hce_purse_app(purse));
	hce_term_init(&term, &tp, psam, db);
	for (i = 0; i < warmup; i++) {
		rc = hce_term_purchase(&term, 1, &res);
		if (rc) {
			fprintf(stderr, "bench-purse: warm-up purchase: %s\n", term.err);
			goto out;
		}
	}
	t0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < n; i++) {
		rc = hce_term_purchase(&term, 1, &res);
		if (rc) {
			fprintf(stderr, "bench-purse: purchase %d: %s\n", i, term.err);
			goto out;
		}
	}
	rate = n / (now_s() - t0);
	*cpu_rate = n / (cpu_s() - c0);
	if (hce_purse_balance(purse, &bal) || bal != 1000000u - (uint32_t)(n + warmup)) {
		fprintf(stderr, "bench-purse: balance does not add up\n");
		rate = -1;
	}
out:
	hce_term_db_close(db);
	hce_purse_close(purse);
	hce_store_close(st);
	unlink_db(card_path);
	if (strcmp(rec_path, ":memory:"))
		unlink_db(rec_path);
	return rate;
}

static int series(const char *label, const struct hce_psam *psam,
		  const struct hce_card_keys *keys, const char *card_path, const char *rec_path,
		  enum hce_term_db_mode mode, int n, int runs, int warmup)
{
	double *r = calloc((size_t)runs, sizeof(double));
	double *c = calloc((size_t)runs, sizeof(double));
	int i, rc = -1;

	if (!r || !c)
		goto out;
	for (i = 0; i < runs; i++) {
		r[i] = run_once(psam, keys, card_path, rec_path, mode, n, warmup, &c[i]);
		if (r[i] < 0)
			goto out;
	}
	qsort(r, (size_t)runs, sizeof(double), cmp_double);
	qsort(c, (size_t)runs, sizeof(double), cmp_double);
	printf("  %-44s %9.0f purchases/s  (%.1f us each; min..max %.0f..%.0f; per CPU second "
	       "%.0f)\n", label, r[runs / 2], 1e6 / r[runs / 2], r[0], r[runs - 1], c[runs / 2]);
	rc = 0;
out:
	free(r);
	free(c);
	return rc;
}

/* TAC verifications per second: median over runs of n verifications. */
static int tac_bench(const struct hce_psam *psam, const struct hce_card_keys *keys, int n,
		     int runs)
{
	static const uint8_t tid[6] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66 };
	static const uint8_t date[4] = { 0x20, 0x26, 0x11, 0x25 }, tm[3] = { 0x12, 0x34, 0x56 };
	static const uint8_t rnd[4] = { 1, 2, 3, 4 };
	struct hce_psam_session s;
	double *plain = calloc((size_t)runs, sizeof(double));
	double *full = calloc((size_t)runs, sizeof(double));
	uint8_t tac[4];
	int i, k, rc = -1;

	if (!plain || !full)
		goto out;
	if (hce_psam_purchase_session(&s, &keys->dpk[0], &keys->dtk, rnd, 7, 42) ||
	    hce_psam_purchase_tac(&s, 150, HCE_TX_PURCHASE, tid, 42, date, tm, tac))
		goto out;
	for (k = 0; k < runs; k++) {
		double t0 = cpu_s();

		for (i = 0; i < n; i++)
			if (hce_psam_verify_purchase_tac(&s, 150, HCE_TX_PURCHASE, tid, 42, date, tm,
							 tac) != 1)
				goto out;
		plain[k] = n / (cpu_s() - t0);
		t0 = cpu_s();
		for (i = 0; i < n; i++) {
			struct hce_card_keys ck;
			struct hce_psam_session s2;
			int ok;

			/* as clearing does it: card keys from the masters, then the TAC */
			if (hce_psam_card_keys(psam, serial, &ck) ||
			    hce_psam_purchase_session(&s2, &ck.dpk[0], &ck.dtk, rnd, 7, 42))
				goto out;
			ok = hce_psam_verify_purchase_tac(&s2, 150, HCE_TX_PURCHASE, tid, 42, date,
							  tm, tac);
			hce_card_keys_wipe(&ck);
			hce_psam_session_wipe(&s2);
			if (ok != 1)
				goto out;
		}
		full[k] = n / (cpu_s() - t0);
	}
	qsort(plain, (size_t)runs, sizeof(double), cmp_double);
	qsort(full, (size_t)runs, sizeof(double), cmp_double);
	printf("TAC verifications, terminal side (median of %d runs x %d, per CPU second):\n",
	       runs, n);
	printf("  %-44s %9.0f verifications/s  (min..max %.0f..%.0f)\n",
	       "session keys ready (TAC key + MAC)", plain[runs / 2], plain[0], plain[runs - 1]);
	printf("  %-44s %9.0f verifications/s  (min..max %.0f..%.0f)\n",
	       "from master keys (diversify + session + TAC)", full[runs / 2], full[0],
	       full[runs - 1]);
	rc = 0;
out:
	hce_psam_session_wipe(&s);
	free(plain);
	free(full);
	if (rc)
		fprintf(stderr, "bench-purse: TAC benchmark failed\n");
	return rc;
}

int main(int argc, char **argv)
{
	const char *tmpfs = "/dev/shm", *disk = NULL;
	int n = 2000, runs = 7, warmup = 50, dn = 0, opt;
	char err[256], card_path[600], rec_path[600], dir[512];
	struct hce_card_keys keys;
	struct hce_psam psam;
	int rc = 1;

	while ((opt = getopt(argc, argv, "n:r:w:m:d:D:h")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 'D': dn = atoi(optarg); break;
		case 'r': runs = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 'm': tmpfs = optarg; break;
		case 'd': disk = optarg; break;
		default:
			fprintf(stderr, "usage: bench-purse [-n PURCHASES] [-D DURABLE_PURCHASES] "
				"[-r RUNS] [-w WARMUP] [-m TMPFS_DIR] [-d DISK_DIR]\n");
			return opt == 'h' ? 0 : 2;
		}
	}
	if (n < 1 || n > 60000 || runs < 1 || runs > 99 || warmup < 0 || warmup > 1000) {
		fprintf(stderr, "bench-purse: -n 1..60000, -r 1..99, -w 0..1000\n");
		return 2;
	}
	if (dn <= 0)
		dn = n / 10 > 0 ? n / 10 : 1;
	if (dn > 60000)
		dn = 60000;
	if (hce_psam_parse(&psam, "bench", psam_text, sizeof(psam_text) - 1, err, sizeof(err)) ||
	    hce_psam_card_keys(&psam, serial, &keys)) {
		fprintf(stderr, "bench-purse: PSAM: %s\n", err);
		return 1;
	}
	printf("Purchases, terminal + purse in process (median of %d runs):\n", runs);
	snprintf(card_path, sizeof(card_path), "%s/bench-purse-%d-card.db", tmpfs, (int)getpid());
	if (series("no durable commit (tmpfs card, :memory: rec)", &psam, &keys, card_path,
		   ":memory:", HCE_TERM_DB_FAST, n, runs, warmup))
		goto out;
	if (!disk) {
		snprintf(dir, sizeof(dir), "/var/tmp/bench-purse-XXXXXX");
		if (!mkdtemp(dir)) {
			perror("bench-purse: mkdtemp");
			goto out;
		}
	} else {
		snprintf(dir, sizeof(dir), "%s", disk);
	}
	snprintf(card_path, sizeof(card_path), "%s/card.db", dir);
	snprintf(rec_path, sizeof(rec_path), "%s/records.db", dir);
	if (series("durable commit (disk, WAL + synchronous=FULL)", &psam, &keys, card_path,
		   rec_path, HCE_TERM_DB_DURABLE, dn, runs, warmup < dn ? warmup : dn))
		goto out_dir;
	printf("  (n = %d purchases per run without, %d with the durable commit; disk dir %s)\n",
	       n, dn, dir);
	if (tac_bench(&psam, &keys, n * 10, runs))
		goto out_dir;
	rc = 0;
out_dir:
	if (!disk)
		rmdir(dir);
out:
	hce_card_keys_wipe(&keys);
	hce_psam_wipe(&psam);
	return rc;
}
