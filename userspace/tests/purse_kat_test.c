// SPDX-License-Identifier: GPL-2.0
/*
 * purse_kat_test.c - the purse application answers the known answers of
 * crypto_kat_vectors.h (values from the openssl command line, see
 * tests/host.d/12-crypto-openssl), end to end through its APDUs:
 *   purchase / CAPP purchase: a card personalised with the vector's DPK, DTK, CTC and a
 *   card random fixed to the vector's, accepts the vector's MAC1 in DEBIT, answers the
 *   vector's TAC and MAC2, and GET TRANSACTION PROVE repeats them (MAC2 then TAC);
 *   load: INITIALIZE FOR LOAD answers the vector's MAC1, CREDIT accepts its MAC2 and answers
 *   its TAC. A MAC1/MAC2 one bit off is refused with 9302 and changes nothing.
 */
#include <string.h>

/* The harness (and FIXTURE_SETUP) define functions without prototypes; non-literal formats. */
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "purse_fixture.h"

struct kat_purchase {
	const char *name, *alg, *type, *dpk, *dtk, *random, *ctc, *ttc, *amount, *terminal,
		*date, *time, *sespk, *mac1, *mac2, *tac;
};

struct kat_load {
	const char *name, *alg, *dlk, *dtk, *random, *online, *old_balance, *amount, *terminal,
		*date, *time, *seslk, *mac1, *mac2, *tac;
};

static const struct kat_purchase kat_purchase[] = {
#define KAT_PURCHASE(n, ...) { #n, __VA_ARGS__ },
#include "crypto_kat_vectors.h"
};

static const struct kat_load kat_load[] = {
#define KAT_LOAD(n, ...) { #n, __VA_ARGS__ },
#include "crypto_kat_vectors.h"
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Decode exactly n bytes of hex or fail the test. */
#define UNHEX(field, out, n) ASSERT_EQ((ssize_t)(n), hce_hex_decode((field), (out), (n)))

static void hexs(const uint8_t *b, size_t n, char *out, size_t cap)
{
	hce_hex_encode(b, n, out, cap);
}

/* A card for one vector: its key(s) at index 1 with its algorithm, random fixed to rnd. */
static void card_for(struct pf *f, uint8_t alg, const uint8_t *dpk, const uint8_t *dlk,
		     const uint8_t dtk[16])
{
	memset(f, 0, sizeof(*f));
	pf_default_card(&f->card);
	memset(&f->keys, 0, sizeof(f->keys));
	f->card.keys[0].alg = alg;
	f->card.keys[1].alg = alg;
	f->card.keys[2].alg = alg;
	pf_slot(&f->keys.dpk[0], 1, 1, alg, dpk ? dpk : pf_dpk);
	pf_slot(&f->keys.dlk[0], 1, 1, alg, dlk ? dlk : pf_dlk);
	pf_slot(&f->keys.dtk, 0, 1, alg, dtk);
}

/* Fixed card random: every call answers the same 4 bytes. */
static int fixed_rng(void *ctx, uint8_t *buf, size_t len)
{
	const uint8_t *r = ctx;
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = r[i % 4];
	return 0;
}

/* The open card lives in the fixture so that a failed ASSERT still removes its files. */
FIXTURE(kat)
{
	struct pf f;
};

FIXTURE_SETUP(kat)
{
}

FIXTURE_TEARDOWN(kat)
{
	pf_close(&self->f);
}

TEST_F(kat, purchase_and_capp_debit_answers_openssl_vectors)
{
	size_t i;

	for (i = 0; i < N(kat_purchase); i++) {
		const struct kat_purchase *v = &kat_purchase[i];
		uint8_t alg, type, dpk[16], dtk[16], rnd[4], ctc[2], ttc[4], amount[4], term[6];
		uint8_t date[4], tim[3], mac1[4], mac2[4], tac[4], c[64], capp[48];
		char got[32];
		struct hce_purse_state st;
		struct pf *const f = &self->f;
		struct hce_wr w;
		int bad;

		UNHEX(v->alg, &alg, 1);
		UNHEX(v->type, &type, 1);
		UNHEX(v->dpk, dpk, 16);
		UNHEX(v->dtk, dtk, 16);
		UNHEX(v->random, rnd, 4);
		UNHEX(v->ctc, ctc, 2);
		UNHEX(v->ttc, ttc, 4);
		UNHEX(v->amount, amount, 4);
		UNHEX(v->terminal, term, 6);
		UNHEX(v->date, date, 4);
		UNHEX(v->time, tim, 3);
		UNHEX(v->mac1, mac1, 4);
		UNHEX(v->mac2, mac2, 4);
		UNHEX(v->tac, tac, 4);

		/* First with MAC1 one bit off (9302, nothing changes), then the vector's. */
		for (bad = 1; bad >= 0; bad--) {
			card_for(f, alg, dpk, NULL, dtk);
			f->card.ctc = hce_get_be16(ctc);
			f->card.balance = hce_get_be32(amount) + 12345;
			ASSERT_EQ(0, pf_open(f));
			hce_purse_set_rng(f->purse, fixed_rng, rnd);
			ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A4040008A000000632010105"));

			w = hce_wr_init(c, sizeof(c));
			hce_wr_bytes(&w, "\x80\x50", 2);
			hce_wr_u8(&w, type == HCE_TX_CAPP ? 0x03 : 0x01);
			hce_wr_bytes(&w, "\x02\x0B\x01", 3);
			hce_wr_bytes(&w, amount, 4);
			hce_wr_bytes(&w, term, 6);
			hce_wr_u8(&w, 0x0F);
			ASSERT_EQ(HCE_SW_OK, pf_xfer(f, c, w.len)) TH_LOG("%s INIT", v->name);
			ASSERT_EQ(15u, pf_data_len(f));
			EXPECT_EQ(0, memcmp(f->rsp + 4, ctc, 2));
			EXPECT_EQ(alg, f->rsp[10]);
			EXPECT_EQ(0, memcmp(f->rsp + 11, rnd, 4));

			if (type == HCE_TX_CAPP) {
				memset(capp, 0x5C, sizeof(capp));
				capp[0] = 0x01;
				w = hce_wr_init(c, sizeof(c));
				hce_wr_bytes(&w, "\x80\xDC\x01\xF4\x30", 5);
				hce_wr_bytes(&w, capp, sizeof(capp));
				ASSERT_EQ(HCE_SW_OK, pf_xfer(f, c, w.len)) TH_LOG("%s UPDATE", v->name);
			}

			w = hce_wr_init(c, sizeof(c));
			hce_wr_bytes(&w, "\x80\x54\x01\x00\x0F", 5);
			hce_wr_bytes(&w, ttc, 4);
			hce_wr_bytes(&w, date, 4);
			hce_wr_bytes(&w, tim, 3);
			hce_wr_bytes(&w, mac1, 4);
			if (bad)
				c[w.len - 1] ^= 0x01;
			hce_wr_u8(&w, 0x08);
			if (bad) {
				EXPECT_EQ(HCE_SW_MAC_INVALID, pf_xfer(f, c, w.len)) TH_LOG("%s", v->name);
				ASSERT_EQ(0, hce_purse_state(f->purse, &st));
				EXPECT_EQ(f->card.balance, st.balance);
				EXPECT_EQ(f->card.ctc, st.ctc);
				EXPECT_EQ(0u, st.tx_total);
				pf_close(f);
				continue;
			}
			ASSERT_EQ(HCE_SW_OK, pf_xfer(f, c, w.len)) TH_LOG("%s DEBIT", v->name);
			ASSERT_EQ(8u, pf_data_len(f));
			hexs(f->rsp, 4, got, sizeof(got));
			EXPECT_STREQ(v->tac, got) TH_LOG("%s TAC", v->name);
			hexs(f->rsp + 4, 4, got, sizeof(got));
			EXPECT_STREQ(v->mac2, got) TH_LOG("%s MAC2", v->name);

			/* GET TRANSACTION PROVE for the CTC INIT answered: MAC2 then TAC. */
			w = hce_wr_init(c, sizeof(c));
			hce_wr_bytes(&w, "\x80\x5A\x00", 3);
			hce_wr_u8(&w, type);
			hce_wr_u8(&w, 0x02);
			hce_wr_bytes(&w, ctc, 2);
			hce_wr_u8(&w, 0x08);
			ASSERT_EQ(HCE_SW_OK, pf_xfer(f, c, w.len)) TH_LOG("%s PROVE", v->name);
			ASSERT_EQ(8u, pf_data_len(f));
			EXPECT_EQ(0, memcmp(f->rsp, mac2, 4));
			EXPECT_EQ(0, memcmp(f->rsp + 4, tac, 4));
			ASSERT_EQ(0, hce_purse_state(f->purse, &st));
			EXPECT_EQ(f->card.balance - hce_get_be32(amount), st.balance);
			EXPECT_EQ((uint16_t)(f->card.ctc + 1), st.ctc);
			pf_close(f);
		}
	}
}

TEST_F(kat, load_init_mac1_and_credit_tac_answer_openssl_vectors)
{
	size_t i;

	for (i = 0; i < N(kat_load); i++) {
		const struct kat_load *v = &kat_load[i];
		uint8_t alg, dlk[16], dtk[16], rnd[4], onl[2], old[4], amount[4], term[6];
		uint8_t date[4], tim[3], mac2[4], c[64];
		char got[32];
		struct hce_purse_state st;
		struct pf *const f = &self->f;
		struct hce_wr w;
		int bad;

		UNHEX(v->alg, &alg, 1);
		UNHEX(v->dlk, dlk, 16);
		UNHEX(v->dtk, dtk, 16);
		UNHEX(v->random, rnd, 4);
		UNHEX(v->online, onl, 2);
		UNHEX(v->old_balance, old, 4);
		UNHEX(v->amount, amount, 4);
		UNHEX(v->terminal, term, 6);
		UNHEX(v->date, date, 4);
		UNHEX(v->time, tim, 3);
		UNHEX(v->mac2, mac2, 4);

		for (bad = 1; bad >= 0; bad--) {
			card_for(f, alg, NULL, dlk, dtk);
			f->card.online_counter = hce_get_be16(onl);
			f->card.balance = hce_get_be32(old);
			ASSERT_EQ(0, pf_open(f));
			hce_purse_set_rng(f->purse, fixed_rng, rnd);
			ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A4040008A000000632010105"));

			w = hce_wr_init(c, sizeof(c));
			hce_wr_bytes(&w, "\x80\x50\x00\x02\x0B\x01", 6);
			hce_wr_bytes(&w, amount, 4);
			hce_wr_bytes(&w, term, 6);
			hce_wr_u8(&w, 0x10);
			ASSERT_EQ(HCE_SW_OK, pf_xfer(f, c, w.len)) TH_LOG("%s INIT", v->name);
			ASSERT_EQ(16u, pf_data_len(f));
			EXPECT_EQ(0, memcmp(f->rsp, old, 4));
			EXPECT_EQ(0, memcmp(f->rsp + 4, onl, 2));
			EXPECT_EQ(alg, f->rsp[7]);
			EXPECT_EQ(0, memcmp(f->rsp + 8, rnd, 4));
			hexs(f->rsp + 12, 4, got, sizeof(got));
			EXPECT_STREQ(v->mac1, got) TH_LOG("%s load MAC1", v->name);

			w = hce_wr_init(c, sizeof(c));
			hce_wr_bytes(&w, "\x80\x52\x00\x00\x0B", 5);
			hce_wr_bytes(&w, date, 4);
			hce_wr_bytes(&w, tim, 3);
			hce_wr_bytes(&w, mac2, 4);
			if (bad)
				c[w.len - 4] ^= 0x80;
			hce_wr_u8(&w, 0x04);
			if (bad) {
				EXPECT_EQ(HCE_SW_MAC_INVALID, pf_xfer(f, c, w.len)) TH_LOG("%s", v->name);
				ASSERT_EQ(0, hce_purse_state(f->purse, &st));
				EXPECT_EQ(f->card.balance, st.balance);
				EXPECT_EQ(f->card.online_counter, st.online_counter);
				pf_close(f);
				continue;
			}
			ASSERT_EQ(HCE_SW_OK, pf_xfer(f, c, w.len)) TH_LOG("%s CREDIT", v->name);
			ASSERT_EQ(4u, pf_data_len(f));
			hexs(f->rsp, 4, got, sizeof(got));
			EXPECT_STREQ(v->tac, got) TH_LOG("%s load TAC", v->name);
			ASSERT_EQ(0, hce_purse_state(f->purse, &st));
			EXPECT_EQ(hce_get_be32(old) + hce_get_be32(amount), st.balance);
			EXPECT_EQ((uint16_t)(f->card.online_counter + 1), st.online_counter);
			pf_close(f);
		}
	}
}

TEST_HARNESS_MAIN
