// SPDX-License-Identifier: GPL-2.0
/*
 * terminal_exec_test.c - the child-process transport (transport_exec.c): against small shell
 * children for its error paths (no answer, child gone, non-hex answer, '#' lines skipped) and
 * against the real `hced --stdio` with a card made by `hce-personalise` from
 * profiles/sample-card.conf (TEST ONLY keys): a purchase, and a DEBIT answer lost after hced
 * executed it, recovered through "!reset" and GET TRANSACTION PROVE. The hced cases SKIP when
 * the programs are not built.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The harness (and FIXTURE_SETUP) define functions without prototypes; formats non-literal. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "terminal/psam.h"
#include "terminal/records.h"
#include "terminal/term.h"
#include "terminal/transport.h"

static const uint8_t select_ep[] = { 0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00, 0x00, 0x06,
				     0x32, 0x01, 0x01, 0x05, 0x00 };

TEST(exec_answer_line_decoded_comment_lines_skipped)
{
	struct hce_term_transport t;
	uint8_t r[HCE_RAPDU_MIN_CAP];
	size_t n = 0;

	ASSERT_EQ(0, hce_term_transport_exec(&t, "read l; echo '# note'; echo; echo '12 34 90 00'; "
					     "cat > /dev/null", 2000));
	ASSERT_EQ(0, hce_term_transmit(&t, select_ep, sizeof(select_ep), r, sizeof(r), &n));
	ASSERT_EQ((size_t)4, n);
	EXPECT_EQ(0x12, r[0]);
	EXPECT_EQ(0x90, r[2]);
	hce_term_close(&t);
}

TEST(exec_no_answer_times_out)
{
	struct hce_term_transport t;
	uint8_t r[HCE_RAPDU_MIN_CAP];
	size_t n;

	ASSERT_EQ(0, hce_term_transport_exec(&t, "exec cat > /dev/null", 200));
	EXPECT_EQ(-ETIMEDOUT, hce_term_transmit(&t, select_ep, sizeof(select_ep), r, sizeof(r),
						&n));
	hce_term_close(&t);
}

TEST(exec_child_gone_is_eio_not_sigpipe)
{
	struct hce_term_transport t;
	uint8_t r[HCE_RAPDU_MIN_CAP];
	size_t n;

	ASSERT_EQ(0, hce_term_transport_exec(&t, "exit 0", 2000));
	usleep(100000);
	EXPECT_EQ(-EIO, hce_term_transmit(&t, select_ep, sizeof(select_ep), r, sizeof(r), &n));
	EXPECT_EQ(-EIO, hce_term_transmit(&t, select_ep, sizeof(select_ep), r, sizeof(r), &n));
	hce_term_close(&t);
}

TEST(exec_non_hex_answer_is_eio)
{
	struct hce_term_transport t;
	uint8_t r[HCE_RAPDU_MIN_CAP];
	size_t n;

	ASSERT_EQ(0, hce_term_transport_exec(&t, "read l; echo 'hello'; cat > /dev/null", 2000));
	EXPECT_EQ(-EIO, hce_term_transmit(&t, select_ep, sizeof(select_ep), r, sizeof(r), &n));
	hce_term_close(&t);
}

/* ---- against hced --stdio ---- */

struct lose {
	struct hce_term_transport *inner;
	int lost, resets;
};

static int lose_transmit(struct hce_term_transport *t, const uint8_t *c, size_t len,
			 uint8_t *r, size_t cap, size_t *rlen)
{
	struct lose *l = t->priv;
	int rc = hce_term_transmit(l->inner, c, len, r, cap, rlen);

	if (!rc && !l->lost && len > 2 && c[0] == 0x80 && c[1] == 0x54) {
		l->lost = 1;
		snprintf(t->err, sizeof(t->err), "test: DEBIT answer lost");
		return -EIO;
	}
	return rc;
}

static int lose_reset(struct hce_term_transport *t)
{
	struct lose *l = t->priv;

	l->resets++;
	return hce_term_reset(l->inner);
}

static const struct hce_term_transport_ops lose_ops = {
	.name = "lose", .transmit = lose_transmit, .reset = lose_reset,
};

FIXTURE(hced) {
	char dir[64];
	char cmd[1024];
	char top[512];
	struct hce_psam psam;
	struct hce_term_db *db;
	bool ready;
};

FIXTURE_SETUP(hced)
{
	const char *top = getenv("HCE_TOP");
	char bin[600], sh[2048], err[256], path[700];

	self->ready = false;
	snprintf(self->top, sizeof(self->top), "%s", top ? top : ".");
	snprintf(bin, sizeof(bin), "%s/build/userspace/asan/bin", self->top);
	snprintf(path, sizeof(path), "%s/hced", bin);
	if (access(path, X_OK))
		snprintf(bin, sizeof(bin), "%s/build/userspace/release/bin", self->top);
	snprintf(path, sizeof(path), "%s/hce-personalise", bin);
	if (access(path, X_OK))
		return;
	snprintf(self->dir, sizeof(self->dir), "/tmp/hce-term-exec-XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(sh, sizeof(sh),
		 "cd '%s' && printf '4321\\n' > pin && head -c 32 /dev/urandom > secret && "
		 "chmod 600 secret && '%s/hce-personalise' --profile '%s/profiles/sample-card.conf' "
		 "--card card.db --pin-file pin --device-secret secret --scrypt-log2n 10 "
		 "> pers.log 2>&1", self->dir, bin, self->top);
	ASSERT_EQ(0, system(sh)) TH_LOG("hce-personalise failed (see %s/pers.log)", self->dir);
	snprintf(self->cmd, sizeof(self->cmd),
		 "exec '%s/hced' --card '%s/card.db' --pin-file '%s/pin' --device-secret "
		 "'%s/secret' --stdio --log-level error", bin, self->dir, self->dir, self->dir);
	snprintf(path, sizeof(path), "%s/profiles/sample-psam.conf", self->top);
	ASSERT_EQ(0, hce_psam_load(&self->psam, path, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, hce_term_db_open(&self->db, ":memory:", HCE_TERM_DB_FAST, err, sizeof(err)));
	self->ready = true;
}

FIXTURE_TEARDOWN(hced)
{
	char sh[128];

	if (!self->ready)
		return;
	hce_term_db_close(self->db);
	hce_psam_wipe(&self->psam);
	snprintf(sh, sizeof(sh), "rm -rf '%s'", self->dir);
	if (system(sh))
		TH_LOG("cleanup failed");
}

TEST_F(hced, purchase_through_hced_stdio)
{
	struct hce_term_transport tp;
	struct hce_term term;
	struct hce_term_result res;
	struct hce_term_card card;
	uint32_t bal;

	if (!self->ready)
		SKIP(return, "hced / hce-personalise not built");
	ASSERT_EQ(0, hce_term_transport_exec(&tp, self->cmd, 5000));
	hce_term_init(&term, &tp, &self->psam, self->db);
	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&term, 150, &res)) TH_LOG("%s", term.err);
	EXPECT_EQ(9850U, res.rec.balance_after);
	ASSERT_EQ(HCE_TERM_OK, hce_term_select(&term, &card));
	ASSERT_EQ(HCE_TERM_OK, hce_term_balance(&term, &bal));
	EXPECT_EQ(9850U, bal);
	hce_term_close(&tp);
}

TEST_F(hced, debit_answer_lost_recovered_through_reset_and_prove)
{
	struct hce_term_transport inner, tp = { 0 };
	struct lose l = { 0 };
	struct hce_term term;
	struct hce_term_result res;
	struct hce_term_card card;
	uint32_t bal;

	if (!self->ready)
		SKIP(return, "hced / hce-personalise not built");
	ASSERT_EQ(0, hce_term_transport_exec(&inner, self->cmd, 5000));
	l.inner = &inner;
	tp.ops = &lose_ops;
	tp.priv = &l;
	hce_term_init(&term, &tp, &self->psam, self->db);
	ASSERT_EQ(HCE_TERM_OK, hce_term_purchase(&term, 300, &res)) TH_LOG("%s", term.err);
	EXPECT_EQ(1, l.lost);
	EXPECT_EQ(1, l.resets);
	EXPECT_TRUE(res.rec.recovered);
	EXPECT_EQ(9700U, res.rec.balance_after);
	ASSERT_EQ(HCE_TERM_OK, hce_term_select(&term, &card));
	ASSERT_EQ(HCE_TERM_OK, hce_term_balance(&term, &bal));
	EXPECT_EQ(9700U, bal);
	hce_term_close(&inner);
}

TEST_HARNESS_MAIN
