// SPDX-License-Identifier: GPL-2.0
/* vault_seal_test.c - sealed card keys (lib/vault/vault.h, Documentation/vault.md). */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* kselftest_harness.h defines functions without prototypes and compares int with size_t. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"
#include "vault/vault.h"

#define PIN "123456"

struct clock {
	int64_t now;
	unsigned int slept[16];
	unsigned int n_sleeps;
};

static int64_t fake_now(void *ctx)
{
	return ((struct clock *)ctx)->now;
}

static void fake_sleep(void *ctx, unsigned int s)
{
	struct clock *c = ctx;

	if (c->n_sleeps < 16)
		c->slept[c->n_sleeps] = s;
	c->n_sleeps++;
	c->now += s;
}

static void sample_keys(struct hce_card_keys *k)
{
	int i;

	memset(k, 0, sizeof(*k));
	for (i = 0; i < 2; i++) {
		k->dpk[i].present = true;
		k->dpk[i].index = (uint8_t)(i + 1);
		k->dpk[i].version = 1;
		k->dpk[i].alg = i ? HCE_ALG_SM4 : HCE_ALG_3DES;
		memset(k->dpk[i].key, 0x11 * (i + 1), 16);
	}
	k->dlk[0].present = true;
	k->dlk[0].index = 1;
	k->dlk[0].version = 2;
	memset(k->dlk[0].key, 0x5a, 16);
	k->dtk.present = true;
	k->dtk.version = 3;
	memset(k->dtk.key, 0xa5, 16);
}

FIXTURE(vault) {
	char dir[64];
	char db[128];
	char secret[128];
	struct clock clk;
	struct hce_vault_cfg cfg;
	struct hce_vault *v;
	struct hce_card_keys keys;
};

FIXTURE_SETUP(vault)
{
	char err[HCE_VAULT_ERR_MAX];

	snprintf(self->dir, sizeof(self->dir), "/tmp/vault_test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->db, sizeof(self->db), "%s/card.db", self->dir);
	snprintf(self->secret, sizeof(self->secret), "%s/secret/device-secret", self->dir);
	self->clk.now = 1700000000;
	self->cfg.device_secret = self->secret;
	self->cfg.log2n = HCE_VAULT_LOG2N_MIN;
	self->cfg.create_db = true;
	self->cfg.now = fake_now;
	self->cfg.sleep = fake_sleep;
	self->cfg.hook_ctx = &self->clk;
	sample_keys(&self->keys);
	ASSERT_EQ(0, hce_vault_open(self->db, &self->cfg, &self->v, err)) TH_LOG("%s", err);
}

FIXTURE_TEARDOWN(vault)
{
	char cmd[128];

	hce_vault_close(self->v);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->dir);
	if (system(cmd))
		TH_LOG("cannot remove %s", self->dir);
}

static void reopen(struct _test_data_vault *self, struct __test_metadata *_metadata)
{
	char err[HCE_VAULT_ERR_MAX];

	hce_vault_close(self->v);
	self->v = NULL;
	ASSERT_EQ(0, hce_vault_open(self->db, &self->cfg, &self->v, err)) TH_LOG("%s", err);
}

static void sql(const char *db, const char *stmt, struct __test_metadata *_metadata)
{
	sqlite3 *h;

	ASSERT_EQ(SQLITE_OK, sqlite3_open(db, &h));
	ASSERT_EQ(SQLITE_OK, sqlite3_exec(h, stmt, NULL, NULL, NULL)) TH_LOG("%s", sqlite3_errmsg(h));
	sqlite3_close(h);
}

TEST_F(vault, seal_then_unlock_gives_the_same_keys)
{
	struct stat st;
	const struct hce_card_keys *k;

	EXPECT_EQ(NULL, hce_vault_keys(self->v));
	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	EXPECT_EQ(NULL, hce_vault_keys(self->v));	/* sealing leaves it locked */
	ASSERT_EQ(0, stat(self->secret, &st));
	EXPECT_EQ(0600, st.st_mode & 0777);
	EXPECT_EQ(HCE_VAULT_SECRET_LEN, st.st_size);
	reopen(self, _metadata);
	ASSERT_EQ(0, hce_vault_unlock(self->v, PIN, 6)) TH_LOG("%s", hce_vault_errmsg(self->v));
	k = hce_vault_keys(self->v);
	ASSERT_NE(NULL, k);
	EXPECT_EQ(0, memcmp(k, &self->keys, sizeof(*k)));
	EXPECT_EQ(0, self->clk.n_sleeps);
}

TEST_F(vault, keys_never_stored_in_plain_text)
{
	FILE *f;
	char buf[1 << 16];
	size_t n;
	uint8_t pat[16];

	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, HCE_VAULT_KEEP_PIN));
	hce_vault_close(self->v);
	self->v = NULL;
	f = fopen(self->db, "rb");
	ASSERT_NE(NULL, f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ASSERT_GT(n, 0);
	memset(pat, 0x5a, sizeof(pat));
	EXPECT_EQ(NULL, memmem(buf, n, pat, sizeof(pat)));
	EXPECT_EQ(NULL, memmem(buf, n, PIN, 6));
	reopen(self, _metadata);
}

TEST_F(vault, wrong_pin_is_eacces_and_counted_then_good_pin_resets)
{
	struct hce_vault_info info;

	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	EXPECT_EQ(-EACCES, hce_vault_unlock(self->v, "654321", 6));
	EXPECT_EQ(NULL, hce_vault_keys(self->v));
	EXPECT_EQ(NULL, strstr(hce_vault_errmsg(self->v), "654321"));
	EXPECT_EQ(-EACCES, hce_vault_unlock(self->v, "1234567", 7));
	ASSERT_EQ(0, hce_vault_info(self->v, &info));
	EXPECT_EQ(2, info.failures);
	reopen(self, _metadata);	/* the counter survives a restart */
	ASSERT_EQ(0, hce_vault_info(self->v, &info));
	EXPECT_EQ(2, info.failures);
	ASSERT_EQ(0, hce_vault_unlock(self->v, PIN, 6));
	ASSERT_EQ(0, hce_vault_info(self->v, &info));
	EXPECT_EQ(0, info.failures);
}

TEST_F(vault, wrong_pin_delay_schedule_and_limit)
{
	static const unsigned int want[] = { 1, 2, 4, 8, 16, 32, 64 };
	struct hce_vault_info info;
	unsigned int i;

	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	for (i = 0; i < HCE_VAULT_MAX_FAILURES; i++) {
		EXPECT_EQ(-EACCES, hce_vault_unlock(self->v, "0000", 4));
		if (i == 5)
			reopen(self, _metadata);	/* restarts do not reset the delay */
	}
	ASSERT_EQ(7, self->clk.n_sleeps);
	for (i = 0; i < 7; i++)
		EXPECT_EQ(want[i], self->clk.slept[i]);
	/* Locked out for good: even the right PIN is refused, without trying it. */
	EXPECT_EQ(-EPERM, hce_vault_unlock(self->v, PIN, 6));
	EXPECT_EQ(NULL, hce_vault_keys(self->v));
	ASSERT_EQ(0, hce_vault_info(self->v, &info));
	EXPECT_TRUE(info.locked_out);
	EXPECT_EQ(HCE_VAULT_MAX_FAILURES, info.failures);
}

TEST_F(vault, delay_already_elapsed_is_not_slept_again)
{
	unsigned int i;

	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(-EACCES, hce_vault_unlock(self->v, "0000", 4));
	EXPECT_EQ(1, self->clk.n_sleeps);	/* before the 4th: 1 s */
	self->clk.now += 1;			/* 2 s due, 1 s passed */
	ASSERT_EQ(0, hce_vault_unlock(self->v, PIN, 6));
	EXPECT_EQ(2, self->clk.n_sleeps);
	EXPECT_EQ(1, self->clk.slept[1]);
	EXPECT_EQ(0u, hce_vault_delay(2));
	EXPECT_EQ(1u, hce_vault_delay(3));
	EXPECT_EQ(64u, hce_vault_delay(9));
}

TEST_F(vault, counter_reset_by_editing_the_file_is_detected)
{
	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	EXPECT_EQ(-EACCES, hce_vault_unlock(self->v, "0000", 4));
	sql(self->db, "UPDATE hce_vault SET failures = 0", _metadata);
	EXPECT_EQ(-EBADMSG, hce_vault_unlock(self->v, PIN, 6));
	EXPECT_EQ(NULL, hce_vault_keys(self->v));
}

TEST_F(vault, deleting_the_record_loses_the_keys_not_the_counter)
{
	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	sql(self->db, "DELETE FROM hce_vault", _metadata);
	EXPECT_EQ(-ENOENT, hce_vault_unlock(self->v, PIN, 6));
}

TEST_F(vault, tampered_ciphertext_or_tag_rejected)
{
	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	/* flip the first ciphertext byte */
	sql(self->db, "UPDATE hce_vault SET sealed = X'FF' || substr(sealed, 2)", _metadata);
	EXPECT_EQ(-EBADMSG, hce_vault_unlock(self->v, PIN, 6));
	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, HCE_VAULT_REPLACE));
	/* change the last tag byte */
	sql(self->db, "UPDATE hce_vault SET sealed = substr(sealed, 1, length(sealed) - 1) ||"
		      " CASE WHEN substr(sealed, -1) = X'00' THEN X'01' ELSE X'00' END",
	    _metadata);
	EXPECT_EQ(-EBADMSG, hce_vault_unlock(self->v, PIN, 6));
	/* truncated */
	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, HCE_VAULT_REPLACE));
	sql(self->db, "UPDATE hce_vault SET sealed = substr(sealed, 2)", _metadata);
	EXPECT_EQ(-EBADMSG, hce_vault_unlock(self->v, PIN, 6));
	/* lower scrypt cost */
	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, HCE_VAULT_REPLACE));
	sql(self->db, "UPDATE hce_vault SET log2n = 11", _metadata);
	EXPECT_EQ(-EBADMSG, hce_vault_unlock(self->v, PIN, 6));
	EXPECT_EQ(NULL, hce_vault_keys(self->v));
}

TEST_F(vault, wrong_device_secret_rejected)
{
	uint8_t other[HCE_VAULT_SECRET_LEN];
	int fd;

	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	memset(other, 0x42, sizeof(other));
	fd = open(self->secret, O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(sizeof(other), write(fd, other, sizeof(other)));
	close(fd);
	EXPECT_EQ(-EKEYREJECTED, hce_vault_unlock(self->v, PIN, 6));
	EXPECT_EQ(NULL, hce_vault_keys(self->v));
}

TEST_F(vault, missing_or_unsafe_device_secret_rejected)
{
	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	ASSERT_EQ(0, chmod(self->secret, 0644));
	EXPECT_EQ(-EPROTO, hce_vault_unlock(self->v, PIN, 6));
	ASSERT_EQ(0, unlink(self->secret));
	EXPECT_EQ(-ENOKEY, hce_vault_unlock(self->v, PIN, 6));
	EXPECT_EQ(NULL, hce_vault_keys(self->v));
}

TEST_F(vault, lock_wipes_the_keys)
{
	const struct hce_card_keys *k;
	struct hce_card_keys zero;

	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	ASSERT_EQ(0, hce_vault_unlock(self->v, PIN, 6));
	k = hce_vault_keys(self->v);
	ASSERT_NE(NULL, k);
	EXPECT_EQ(0x5a, k->dlk[0].key[0]);
	hce_vault_lock(self->v);
	EXPECT_EQ(NULL, hce_vault_keys(self->v));
	memset(&zero, 0, sizeof(zero));
	/* the page stays mapped until close: its content is gone */
	EXPECT_EQ(0, memcmp(k, &zero, sizeof(zero)));
}

TEST_F(vault, keep_pin_mode_unlocks_without_pin)
{
	struct hce_vault_info info;

	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, HCE_VAULT_KEEP_PIN));
	ASSERT_EQ(0, hce_vault_info(self->v, &info));
	EXPECT_TRUE(info.pin_kept);
	reopen(self, _metadata);
	ASSERT_EQ(0, hce_vault_unlock(self->v, NULL, 0)) TH_LOG("%s", hce_vault_errmsg(self->v));
	ASSERT_NE(NULL, hce_vault_keys(self->v));
	EXPECT_EQ(0, memcmp(hce_vault_keys(self->v), &self->keys, sizeof(self->keys)));
	/* the explicit PIN still works too */
	ASSERT_EQ(0, hce_vault_unlock(self->v, PIN, 6));
}

TEST_F(vault, no_kept_pin_gives_enodata)
{
	struct hce_vault_info info;

	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	EXPECT_EQ(-ENODATA, hce_vault_unlock(self->v, NULL, 0));
	ASSERT_EQ(0, hce_vault_info(self->v, &info));
	EXPECT_FALSE(info.pin_kept);
	EXPECT_EQ(0, info.failures);	/* not an attempt */
}

TEST_F(vault, seal_twice_needs_replace)
{
	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	EXPECT_EQ(-EEXIST, hce_vault_seal(self->v, &self->keys, "9999", 4, 0));
	EXPECT_EQ(0, hce_vault_unlock(self->v, PIN, 6));
	EXPECT_EQ(0, hce_vault_seal(self->v, &self->keys, "9999", 4, HCE_VAULT_REPLACE));
	EXPECT_EQ(-EACCES, hce_vault_unlock(self->v, PIN, 6));
	EXPECT_EQ(0, hce_vault_unlock(self->v, "9999", 4));
}

TEST_F(vault, pin_length_limits)
{
	char long_pin[HCE_VAULT_PIN_MAX + 2];

	memset(long_pin, '1', sizeof(long_pin));
	EXPECT_EQ(-EINVAL, hce_vault_seal(self->v, &self->keys, "123", 3, 0));
	EXPECT_EQ(-EINVAL, hce_vault_seal(self->v, &self->keys, long_pin, HCE_VAULT_PIN_MAX + 1,
					  0));
	EXPECT_EQ(0, hce_vault_seal(self->v, &self->keys, long_pin, HCE_VAULT_PIN_MAX, 0));
	EXPECT_EQ(-EINVAL, hce_vault_unlock(self->v, "123", 3));
	EXPECT_EQ(0, hce_vault_unlock(self->v, long_pin, HCE_VAULT_PIN_MAX));
}

TEST_F(vault, no_sealed_keys_is_enoent)
{
	struct hce_vault_info info;

	EXPECT_EQ(-ENOENT, hce_vault_unlock(self->v, PIN, 6));
	ASSERT_EQ(0, hce_vault_info(self->v, &info));
	EXPECT_FALSE(info.sealed);
}

static int64_t db_failures(const char *db)
{
	sqlite3_stmt *st;
	sqlite3 *h;
	int64_t f = -1;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		return -1;
	}
	sqlite3_busy_timeout(h, 1000);
	if (sqlite3_prepare_v2(h, "SELECT failures FROM hce_vault", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			f = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return f;
}

/*
 * The attempt is counted before it is evaluated: while an unlock with the RIGHT PIN is still
 * deriving the key (scrypt N = 2^17), the stored count is already 1; killing the process then
 * leaves it at 1 (a guesser cannot dodge the count by killing hced when an answer is slow).
 */
TEST_F(vault, attempt_counted_before_evaluation_survives_kill)
{
	struct hce_vault_info info;
	struct timespec ms = { 0, 1000000 };
	int64_t seen = 0;
	pid_t pid;
	int i, status;

	hce_vault_close(self->v);
	self->v = NULL;
	self->cfg.log2n = 17;
	reopen(self, _metadata);
	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(hce_vault_unlock(self->v, PIN, 6) == 0 ? 0 : 1);
	for (i = 0; i < 20000 && seen != 1; i++) {
		seen = db_failures(self->db);
		if (seen != 1)
			nanosleep(&ms, NULL);
	}
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(1, seen);
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("the unlock finished before the kill");
	reopen(self, _metadata);
	ASSERT_EQ(0, hce_vault_info(self->v, &info));
	EXPECT_EQ(1, info.failures);
	ASSERT_EQ(0, hce_vault_unlock(self->v, PIN, 6));
	ASSERT_EQ(0, hce_vault_info(self->v, &info));
	EXPECT_EQ(0, info.failures);
}

TEST(vault_read_pin_first_line_from_file_or_fd)
{
	char path[] = "/tmp/vault_pin.XXXXXX", pin[HCE_VAULT_PIN_MAX + 1];
	int fd = mkstemp(path), p[2];

	ASSERT_LE(0, fd);
	ASSERT_EQ(12, write(fd, "2468\r\nrest\n", 12));
	close(fd);
	EXPECT_EQ(4, hce_vault_read_pin(path, -1, pin));
	EXPECT_STREQ("2468", pin);
	fd = open(path, O_WRONLY | O_TRUNC);
	ASSERT_EQ(3, write(fd, "12\n", 3));
	close(fd);
	EXPECT_EQ(-EINVAL, hce_vault_read_pin(path, -1, pin));
	unlink(path);
	EXPECT_EQ(-ENOENT, hce_vault_read_pin(path, -1, pin));
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(10, write(p[1], "13579\nxyz\n", 10));
	EXPECT_EQ(5, hce_vault_read_pin(NULL, p[0], pin));
	EXPECT_STREQ("13579", pin);
	close(p[1]);
	close(p[0]);
}

/*
 * hced and the wallet's sync agent unlock the same card file, possibly at the same moment:
 * the attempt counter's compare-and-set race must never fail a right PIN, and leaves the
 * counter at 0.
 */
TEST_F(vault, concurrent_unlocks_of_one_file_all_succeed)
{
	struct hce_vault_cfg cfg = self->cfg;
	pid_t kids[3];
	int i, status, fails = 0;

	ASSERT_EQ(0, hce_vault_seal(self->v, &self->keys, PIN, 6, 0));
	hce_vault_close(self->v);
	self->v = NULL;
	cfg.create_db = false;
	cfg.now = NULL;		/* each process its own clock: the real one */
	cfg.sleep = NULL;
	for (i = 0; i < 3; i++) {
		kids[i] = fork();
		ASSERT_LE(0, kids[i]);
		if (!kids[i]) {
			char err[HCE_VAULT_ERR_MAX];
			struct hce_vault *v;
			int n, bad = 0;

			for (n = 0; n < 40; n++) {
				if (hce_vault_open(self->db, &cfg, &v, err)) {
					fprintf(stderr, "open: %s\n", err);
					bad++;
					continue;
				}
				if (hce_vault_unlock(v, PIN, 6)) {
					fprintf(stderr, "unlock: %s\n", hce_vault_errmsg(v));
					bad++;
				}
				hce_vault_close(v);
			}
			_exit(bad ? 1 : 0);
		}
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(kids[i], waitpid(kids[i], &status, 0));
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			fails++;
	}
	EXPECT_EQ(0, fails);
	reopen(self, _metadata);
	{
		struct hce_vault_info info;

		ASSERT_EQ(0, hce_vault_info(self->v, &info));
		EXPECT_EQ(0U, info.failures);
	}
}

TEST_HARNESS_MAIN
