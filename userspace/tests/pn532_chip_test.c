// SPDX-License-Identifier: GPL-2.0
/*
 * pn532_chip_test.c - the PN532 command set (UM0701-02 section 7) as hce-pn532 answers it,
 * over a scripted RF side (a card that answers fixed APDUs). The kernel RF side is tested
 * with libnfc's tools in tests/vm.d/60-libnfc.
 */
#include <errno.h>
#include <string.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"

#include "pn532/chip.h"
#include "pn532/frame.h"

struct script {
	int present;			/* in_list finds the card */
	int list_rc;			/* forced in_list result when non-zero */
	int xchg_rc;			/* forced in_exchange result when non-zero */
	size_t resp_len;		/* R-APDU length (bytes i & 0xff, then 90 00) */
	uint8_t last_c[PN532_APDU_MAX];
	size_t last_clen;
	int exchanges, releases, lists, last_timeout;
	/* target mode */
	struct pn532_tg_params tg;
	int tg_inits;
	int tg_get_rc;
	uint8_t tg_set[PN532_APDU_MAX];
	size_t tg_set_len;
};

static int s_list(void *ctx, int timeout_ms, struct pn532_target *t)
{
	struct script *s = ctx;
	const uint8_t uid[] = { 0x04, 0xa1, 0xb2, 0xc3 };
	const uint8_t ats[] = { 0x08, 0x78, 0x80, 0x70, 0x00, 0x48, 0x43, 0x45 };

	s->lists++;
	s->last_timeout = timeout_ms;
	if (s->list_rc)
		return s->list_rc;
	if (!s->present)
		return 0;
	t->sens_res[0] = 0x00;
	t->sens_res[1] = 0x04;
	t->sel_res = 0x20;
	memcpy(t->uid, uid, sizeof(uid));
	t->uid_len = sizeof(uid);
	memcpy(t->ats, ats, sizeof(ats));
	t->ats_len = sizeof(ats);
	return 1;
}

static int s_xchg(void *ctx, const uint8_t *c, size_t clen, uint8_t *r, size_t rcap, size_t *rlen)
{
	struct script *s = ctx;

	s->exchanges++;
	memcpy(s->last_c, c, clen);
	s->last_clen = clen;
	if (s->xchg_rc)
		return s->xchg_rc;
	if (s->resp_len + 2 > rcap)
		return -EMSGSIZE;
	for (size_t i = 0; i < s->resp_len; i++)
		r[i] = (uint8_t)i;
	r[s->resp_len] = 0x90;
	r[s->resp_len + 1] = 0x00;
	*rlen = s->resp_len + 2;
	return 0;
}

static void s_release(void *ctx)
{
	((struct script *)ctx)->releases++;
}

static int s_tg_init(void *ctx, const struct pn532_tg_params *p, unsigned int *fsd)
{
	struct script *s = ctx;

	s->tg = *p;
	s->tg_inits++;
	*fsd = 256;
	return 0;
}

static int s_tg_get(void *ctx, uint8_t *c, size_t cap, size_t *clen)
{
	struct script *s = ctx;
	const uint8_t sel[] = { 0x00, 0xa4, 0x04, 0x00, 0x02, 0xe1, 0x04 };

	if (s->tg_get_rc)
		return s->tg_get_rc;
	memcpy(c, sel, sizeof(sel));
	*clen = sizeof(sel);
	return 0;
}

static int s_tg_set(void *ctx, const uint8_t *r, size_t rlen)
{
	struct script *s = ctx;

	memcpy(s->tg_set, r, rlen);
	s->tg_set_len = rlen;
	return 0;
}

static void s_tg_release(void *ctx)
{
}

static const struct pn532_rf_ops script_ops = {
	s_list, s_xchg, s_release, s_tg_init, s_tg_get, s_tg_set, s_tg_release,
};

FIXTURE(chip) {
	struct pn532_chip c;
	struct script s;
	uint8_t out[PN532_DATA_MAX];
	size_t olen;
};

FIXTURE_SETUP(chip)
{
	memset(&self->s, 0, sizeof(self->s));
	self->s.present = 1;
	pn532_chip_init(&self->c, &script_ops, &self->s);
}

FIXTURE_TEARDOWN(chip)
{
}

static int run(struct pn532_chip *c, const uint8_t *in, size_t n, uint8_t *out, size_t *olen)
{
	return pn532_chip_command(c, in, n, out, PN532_DATA_MAX, olen);
}

#define RUN(...) ({ const uint8_t _in[] = { __VA_ARGS__ }; \
	run(&self->c, _in, sizeof(_in), self->out, &self->olen); })
#define EXPECT_OUT(...) do { const uint8_t _w[] = { __VA_ARGS__ }; \
	ASSERT_EQ(sizeof(_w), self->olen); \
	EXPECT_EQ(0, memcmp(_w, self->out, sizeof(_w))); } while (0)

/* 7.2.2: IC 0x32 (PN532), Ver 1, Rev 6, Support 7 (ISO 14443 A, B, ISO 18092). */
TEST_F(chip, get_firmware_version_pn532_v1_6)
{
	ASSERT_EQ(0, RUN(0x02));
	EXPECT_OUT(0x03, 0x32, 0x01, 0x06, 0x07);
}

/* 7.2.1: NumTst 0x00, the test libnfc's pn53x_check_communication sends. */
TEST_F(chip, diagnose_communication_line_echoes_libnfc)
{
	ASSERT_EQ(0, RUN(0x00, 0x00, 'l', 'i', 'b', 'n', 'f', 'c'));
	EXPECT_OUT(0x01, 0x00, 'l', 'i', 'b', 'n', 'f', 'c');
}

TEST_F(chip, diagnose_unknown_test_is_syntax_error)
{
	EXPECT_EQ(PN532_SYNTAX_ERROR, RUN(0x00, 0x03));
	EXPECT_EQ(PN532_SYNTAX_ERROR, RUN(0x00));
}

/* 7.2.4/7.2.5: reset values, then what was written reads back. */
TEST_F(chip, read_register_reset_values_then_write_read_back)
{
	ASSERT_EQ(0, RUN(0x06, 0x63, 0x04, 0x63, 0x3c, 0x63, 0x02, 0xff, 0xb0));
	EXPECT_OUT(0x07, 0x80, 0x10, 0x00, 0xff);
	ASSERT_EQ(0, RUN(0x08, 0x63, 0x02, 0x80, 0x63, 0x3d, 0x07));
	EXPECT_OUT(0x09);
	ASSERT_EQ(0, RUN(0x06, 0x63, 0x02, 0x63, 0x3d));
	EXPECT_OUT(0x07, 0x80, 0x07);
	EXPECT_EQ(0x80, pn532_reg_reset_value(0x6304));
}

TEST_F(chip, register_commands_malformed_are_syntax_errors)
{
	EXPECT_EQ(PN532_SYNTAX_ERROR, RUN(0x06, 0x63));
	EXPECT_EQ(PN532_SYNTAX_ERROR, RUN(0x08, 0x63, 0x02));
	EXPECT_EQ(PN532_SYNTAX_ERROR, RUN(0x06));
}

TEST_F(chip, unknown_command_is_syntax_error)
{
	EXPECT_EQ(PN532_SYNTAX_ERROR, RUN(0xfe));
	EXPECT_EQ(PN532_SYNTAX_ERROR, RUN(0x58, 0x00));	/* RFRegulationTest: not emulated */
	EXPECT_EQ(2, self->c.syntax_errors);
}

TEST_F(chip, sam_configuration_and_power_down)
{
	ASSERT_EQ(0, RUN(0x14, 0x01, 0x14, 0x01));
	EXPECT_OUT(0x15);
	EXPECT_EQ(PN532_SYNTAX_ERROR, RUN(0x14, 0x00));
	ASSERT_EQ(0, RUN(0x16, 0xf0));
	EXPECT_OUT(0x17, 0x00);
	EXPECT_TRUE(self->c.powered_down);
}

/* 7.3.1: item 5 MaxRetries sets how long InListPassiveTarget looks. */
TEST_F(chip, rf_configuration_max_retries_bound_the_poll)
{
	ASSERT_EQ(0, RUN(0x32, 0x05, 0x00, 0x01, 0x02));
	EXPECT_OUT(0x33);
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	EXPECT_EQ(400, self->s.last_timeout);
	ASSERT_EQ(0, RUN(0x32, 0x05, 0xff, 0xff, 0xff));
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	EXPECT_EQ(-1, self->s.last_timeout);
	EXPECT_EQ(PN532_SYNTAX_ERROR, RUN(0x32, 0x05, 0x00));
	EXPECT_EQ(PN532_SYNTAX_ERROR, RUN(0x32, 0x03, 0x00));
}

TEST_F(chip, rf_field_off_releases_the_target)
{
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	ASSERT_TRUE(self->c.target_active);
	ASSERT_EQ(0, RUN(0x32, 0x01, 0x00));
	EXPECT_FALSE(self->c.target_active);
	EXPECT_EQ(1, self->s.releases);
}

/* 7.3.5: Tg, SENS_RES, SEL_RES, NFCIDLength, NFCID1, ATS (fAutomaticRATS). */
TEST_F(chip, in_list_passive_target_106a_with_ats)
{
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	EXPECT_OUT(0x4b, 0x01, 0x01, 0x00, 0x04, 0x20, 0x04, 0x04, 0xa1, 0xb2, 0xc3,
		   0x08, 0x78, 0x80, 0x70, 0x00, 0x48, 0x43, 0x45);
}

TEST_F(chip, in_list_passive_target_without_auto_rats_has_no_ats)
{
	ASSERT_EQ(0, RUN(0x12, 0x04));
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	EXPECT_OUT(0x4b, 0x01, 0x01, 0x00, 0x04, 0x20, 0x04, 0x04, 0xa1, 0xb2, 0xc3);
}

TEST_F(chip, in_list_passive_target_no_card_and_other_modulations)
{
	self->s.present = 0;
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	EXPECT_OUT(0x4b, 0x00);
	self->s.present = 1;
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x03, 0x00));	/* type B */
	EXPECT_OUT(0x4b, 0x00);
	EXPECT_EQ(PN532_SYNTAX_ERROR, RUN(0x4a, 0x03, 0x00));
	EXPECT_EQ(PN532_SYNTAX_ERROR, RUN(0x4a, 0x01, 0x05));
}

TEST_F(chip, in_list_passive_target_initiator_data_selects_by_uid)
{
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00, 0x04, 0xa1, 0xb2, 0xc4));
	EXPECT_OUT(0x4b, 0x00);
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00, 0x04, 0xa1, 0xb2, 0xc3));
	EXPECT_EQ(0x01, self->out[1]);
}

/* The host's ACK while the chip waits: no answer at all. */
TEST_F(chip, host_abort_while_polling_gives_no_answer)
{
	self->s.list_rc = -EINTR;
	EXPECT_EQ(PN532_NO_ANSWER, RUN(0x4a, 0x01, 0x00));
}

/* 7.3.13: InAutoPoll answers Type, length, target data. */
TEST_F(chip, in_auto_poll_type_20_with_length)
{
	ASSERT_EQ(0, RUN(0x60, 0x14, 0x02, 0x20, 0x10, 0x03, 0x11, 0x12, 0x04));
	EXPECT_OUT(0x61, 0x01, 0x20, 0x11, 0x01, 0x00, 0x04, 0x20, 0x04, 0x04, 0xa1, 0xb2,
		   0xc3, 0x08, 0x78, 0x80, 0x70, 0x00, 0x48, 0x43, 0x45);
	EXPECT_EQ(20 * 2 * 150 * 6, self->s.last_timeout);
	ASSERT_EQ(0, RUN(0x60, 0x01, 0x01, 0x11, 0x12));	/* FeliCa only */
	EXPECT_OUT(0x61, 0x00);
	EXPECT_EQ(PN532_SYNTAX_ERROR, RUN(0x60, 0x01, 0x01));
}

/* 7.3.8: InDataExchange carries one APDU; status 00 then the R-APDU. */
TEST_F(chip, in_data_exchange_one_apdu)
{
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	self->s.resp_len = 4;
	ASSERT_EQ(0, RUN(0x40, 0x01, 0x80, 0x5c, 0x00, 0x02, 0x04));
	EXPECT_OUT(0x41, 0x00, 0x00, 0x01, 0x02, 0x03, 0x90, 0x00);
	EXPECT_EQ(5, self->s.last_clen);
}

TEST_F(chip, in_data_exchange_without_target_is_27)
{
	ASSERT_EQ(0, RUN(0x40, 0x01, 0x00, 0xa4, 0x04, 0x00));
	EXPECT_OUT(0x41, 0x27);
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	ASSERT_EQ(0, RUN(0x40, 0x02, 0x00, 0xa4, 0x04, 0x00));	/* target 2: none */
	EXPECT_OUT(0x41, 0x27);
	EXPECT_EQ(0, self->s.exchanges);
}

/* MI from the host: parts collected, one APDU to the card. */
TEST_F(chip, in_data_exchange_host_chaining_mi)
{
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	ASSERT_EQ(0, RUN(0x40, 0x41, 0x00, 0xd6, 0x00));
	EXPECT_OUT(0x41, 0x00);
	EXPECT_EQ(0, self->s.exchanges);
	ASSERT_EQ(0, RUN(0x40, 0x01, 0x00, 0x02, 0xaa, 0xbb));
	EXPECT_OUT(0x41, 0x00, 0x90, 0x00);
	EXPECT_EQ(1, self->s.exchanges);
	ASSERT_EQ(7, self->s.last_clen);
	EXPECT_EQ(0xbb, self->s.last_c[6]);
}

/* An answer longer than the chip's buffer: MI (0x40) status until the last part. */
TEST_F(chip, in_data_exchange_long_answer_mi_parts)
{
	size_t total = 0;

	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	self->s.resp_len = 600;
	ASSERT_EQ(0, RUN(0x40, 0x01, 0x00, 0xb0, 0x00, 0x00, 0x00));
	ASSERT_EQ(2 + PN532_CHUNK_MAX, self->olen);
	EXPECT_EQ(0x40, self->out[1]);
	total += self->olen - 2;
	ASSERT_EQ(0, RUN(0x40, 0x01));
	EXPECT_EQ(0x40, self->out[1]);
	EXPECT_EQ((uint8_t)PN532_CHUNK_MAX, self->out[2]);
	total += self->olen - 2;
	ASSERT_EQ(0, RUN(0x40, 0x01));
	EXPECT_EQ(0x00, self->out[1]);
	total += self->olen - 2;
	EXPECT_EQ(602, total);
	EXPECT_EQ(0x90, self->out[self->olen - 2]);
	EXPECT_EQ(1, self->s.exchanges);
}

/* The card went away: status 01 (timeout), the target is gone. */
TEST_F(chip, in_data_exchange_link_lost_is_timeout_status)
{
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	self->s.xchg_rc = -ECONNREFUSED;
	ASSERT_EQ(0, RUN(0x40, 0x01, 0x80, 0x5c, 0x00, 0x02, 0x04));
	EXPECT_OUT(0x41, 0x01);
	EXPECT_FALSE(self->c.target_active);
	ASSERT_EQ(0, RUN(0x40, 0x01, 0x80, 0x5c, 0x00, 0x02, 0x04));
	EXPECT_OUT(0x41, 0x27);
}

TEST_F(chip, in_deselect_and_release)
{
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	ASSERT_EQ(0, RUN(0x44, 0x01));
	EXPECT_OUT(0x45, 0x00);
	EXPECT_EQ(1, self->s.releases);
	ASSERT_EQ(0, RUN(0x52, 0x00));
	EXPECT_OUT(0x53, 0x00);
	ASSERT_EQ(0, RUN(0x52, 0x05));
	EXPECT_OUT(0x53, 0x27);
}

TEST_F(chip, in_select_reactivates_the_deselected_card)
{
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	ASSERT_EQ(0, RUN(0x44, 0x01));
	ASSERT_EQ(0, RUN(0x54, 0x01));
	EXPECT_OUT(0x55, 0x00);
	EXPECT_TRUE(self->c.target_active);
	self->s.present = 0;
	ASSERT_EQ(0, RUN(0x44, 0x01));
	ASSERT_EQ(0, RUN(0x54, 0x01));
	EXPECT_OUT(0x55, 0x01);
}

TEST_F(chip, raw_and_dep_commands_find_nothing)
{
	ASSERT_EQ(0, RUN(0x42, 0x26));
	EXPECT_OUT(0x43, 0x01);
	ASSERT_EQ(0, RUN(0x56, 0x01, 0x00, 0x00));
	EXPECT_OUT(0x57, 0x01);
}

/* 7.3.14: TgInitAsTarget as nfc-emulate-forum-tag4 sends it (PICC only, Tk empty). */
TEST_F(chip, tg_init_as_target_get_set_data)
{
	uint8_t in[38] = { 0x8c, 0x05, 0x04, 0x00, 0x00, 0xb0, 0x0b, 0x20 };

	ASSERT_EQ(0, run(&self->c, in, sizeof(in), self->out, &self->olen));
	EXPECT_OUT(0x8d, 0x08, 0xe0, 0x80);
	EXPECT_EQ(1, self->s.tg_inits);
	EXPECT_EQ(0x00, self->s.tg.nfcid1t[0]);
	EXPECT_EQ(0x0b, self->s.tg.nfcid1t[2]);
	EXPECT_EQ(0x20, self->s.tg.sel_res);
	ASSERT_EQ(0, RUN(0x86));
	EXPECT_OUT(0x87, 0x00, 0x00, 0xa4, 0x04, 0x00, 0x02, 0xe1, 0x04);
	ASSERT_EQ(0, RUN(0x8e, 0x90, 0x00));
	EXPECT_OUT(0x8f, 0x00);
	EXPECT_EQ(2, self->s.tg_set_len);
	ASSERT_EQ(0, RUN(0x8a));
	EXPECT_OUT(0x8b, 0x01, 0x00);
	/* the reader released us */
	self->s.tg_get_rc = -ENOLINK;
	ASSERT_EQ(0, RUN(0x86));
	EXPECT_OUT(0x87, 0x29);
	ASSERT_EQ(0, RUN(0x8e, 0x90, 0x00));
	EXPECT_OUT(0x8f, 0x29);
}

TEST_F(chip, tg_init_as_target_historical_bytes_and_malformed)
{
	uint8_t in[38 + 3] = { 0x8c, 0x04, 0x04, 0x00, 0x12, 0x34, 0x56, 0x20 };

	in[37] = 3;
	in[38] = 'H';
	in[39] = 'C';
	in[40] = 'E';
	ASSERT_EQ(0, run(&self->c, in, sizeof(in), self->out, &self->olen));
	ASSERT_EQ(3, self->s.tg.hist_len);
	EXPECT_EQ('E', self->s.tg.hist[2]);
	EXPECT_EQ(PN532_SYNTAX_ERROR, run(&self->c, in, 37, self->out, &self->olen));
	in[37] = 4;	/* Tk longer than what follows */
	EXPECT_EQ(PN532_SYNTAX_ERROR, run(&self->c, in, sizeof(in), self->out, &self->olen));
}

TEST_F(chip, get_general_status_reports_the_target)
{
	ASSERT_EQ(0, RUN(0x04));
	EXPECT_OUT(0x05, 0x00, 0x00, 0x00, 0x00);
	ASSERT_EQ(0, RUN(0x4a, 0x01, 0x00));
	ASSERT_EQ(0, RUN(0x04));
	EXPECT_OUT(0x05, 0x00, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00);
}

TEST_HARNESS_MAIN
