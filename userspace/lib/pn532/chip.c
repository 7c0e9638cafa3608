// SPDX-License-Identifier: GPL-2.0
/*
 * chip.c - the PN532 command set over an RF ops table (see chip.h, Documentation/pn532.md).
 */
#include <errno.h>
#include <string.h>

#include "pn532/chip.h"

/* SetParameters flags (UM0701-02 7.2.9). */
#define PARAM_AUTO_RATS		0x10
/* TgInitAsTarget answer Mode: 106 kbit/s, ISO/IEC 14443-4 PICC, type A framing. */
#define TG_MODE_PICC_106	0x08

/*
 * Reset values of the registers libnfc reads: the CIU (a PN512 core, PN532 data sheet
 * section 8.6.23) and the SFRs it touches. Everything else reads 0x00 until written.
 */
static const struct {
	uint16_t addr;
	uint8_t val;
} reg_resets[] = {
	{ 0x6301, 0x3f },	/* CIU_Mode: CRC preset 6363 */
	{ 0x6302, 0x00 },	/* CIU_TxMode: 106 kbit/s, no CRC */
	{ 0x6303, 0x00 },	/* CIU_RxMode */
	{ 0x6304, 0x80 },	/* CIU_TxControl: antenna drivers off */
	{ 0x6305, 0x00 },	/* CIU_TxAuto */
	{ 0x6306, 0x10 },	/* CIU_TxSel */
	{ 0x6307, 0x84 },	/* CIU_RxSel */
	{ 0x6308, 0x84 },	/* CIU_RxThreshold */
	{ 0x6309, 0x4d },	/* CIU_Demod */
	{ 0x630c, 0x62 },	/* CIU_MifNFC */
	{ 0x6311, 0xff },	/* CIU_CRCResultMSB */
	{ 0x6312, 0xff },	/* CIU_CRCResultLSB */
	{ 0x6313, 0x88 },	/* CIU_GsNOff */
	{ 0x6314, 0x26 },	/* CIU_ModWidth */
	{ 0x6315, 0x87 },	/* CIU_TxBitPhase */
	{ 0x6316, 0x48 },	/* CIU_RFCfg */
	{ 0x6317, 0x88 },	/* CIU_GsNOn */
	{ 0x6318, 0x20 },	/* CIU_CWGsP */
	{ 0x6319, 0x20 },	/* CIU_ModGsP */
	{ 0x6331, 0x20 },	/* CIU_Command: Idle, receiver on */
	{ 0x6332, 0x80 },	/* CIU_CommIEn */
	{ 0x6334, 0x14 },	/* CIU_CommIrq */
	{ 0x6337, 0x21 },	/* CIU_Status1 */
	{ 0x633b, 0x08 },	/* CIU_WaterLevel */
	{ 0x633c, 0x10 },	/* CIU_Control: initiator */
	{ 0x633e, 0x80 },	/* CIU_Coll */
	{ 0xffb0, 0xff },	/* SFR P3 */
	{ 0xfff4, 0x00 },	/* SFR P7CFGA */
	{ 0xfff5, 0x00 },	/* SFR P7CFGB */
	{ 0xfff7, 0x07 },	/* SFR P7 */
};

uint8_t pn532_reg_reset_value(uint16_t addr)
{
	for (size_t i = 0; i < sizeof(reg_resets) / sizeof(reg_resets[0]); i++)
		if (reg_resets[i].addr == addr)
			return reg_resets[i].val;
	return 0x00;
}

void pn532_chip_init(struct pn532_chip *c, const struct pn532_rf_ops *ops, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->ops = ops;
	c->ctx = ctx;
	for (size_t i = 0; i < sizeof(reg_resets) / sizeof(reg_resets[0]); i++)
		c->regs[reg_resets[i].addr] = reg_resets[i].val;
	c->params = PARAM_AUTO_RATS;	/* fAutomaticRATS is set at power-on */
	c->max_retries[0] = 0xff;
	c->max_retries[1] = 0x01;
	c->max_retries[2] = 0xff;
	c->gpio_p3 = 0xff;
	c->gpio_p7 = 0x07;
}

static void drop_target(struct pn532_chip *c)
{
	if (c->target_active && c->ops->in_release)
		c->ops->in_release(c->ctx);
	c->target_active = false;
	c->tx_len = 0;
	c->rx_len = c->rx_off = 0;
}

static void drop_tg(struct pn532_chip *c)
{
	if (c->tg_active && c->ops->tg_release)
		c->ops->tg_release(c->ctx);
	c->tg_active = false;
	c->tx_len = 0;
}

void pn532_chip_reset_session(struct pn532_chip *c)
{
	drop_target(c);
	drop_tg(c);
}

/* Output helpers: out[0] is already the answer code. */
struct obuf {
	uint8_t *p;
	size_t cap, len;
	int overflow;
};

static void put(struct obuf *o, uint8_t b)
{
	if (o->len < o->cap)
		o->p[o->len++] = b;
	else
		o->overflow = 1;
}

static void put_n(struct obuf *o, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(o, b[i]);
}

/* Tg SENS_RES SEL_RES NFCIDLength NFCID1 [ATS]: target data of InListPassiveTarget. */
static void put_target(struct pn532_chip *c, struct obuf *o)
{
	put(o, 0x01);
	put_n(o, c->target.sens_res, 2);
	put(o, c->target.sel_res);
	put(o, (uint8_t)c->target.uid_len);
	put_n(o, c->target.uid, c->target.uid_len);
	if ((c->params & PARAM_AUTO_RATS) && (c->target.sel_res & 0x20) && c->target.ats_len)
		put_n(o, c->target.ats, c->target.ats_len);
}

static int status_of(int rc)
{
	switch (rc) {
	case 0:
		return PN532_ST_OK;
	case -EMSGSIZE:
	case -ENOBUFS:
		return PN532_ST_OVERFLOW;
	default:
		return PN532_ST_TIMEOUT;
	}
}

/* Hand out the next part of a long answer: MI (0x40) set while more follows. */
static void put_rx_chunk(struct pn532_chip *c, struct obuf *o)
{
	size_t n = c->rx_len - c->rx_off;

	if (n > PN532_CHUNK_MAX) {
		put(o, 0x40);
		n = PN532_CHUNK_MAX;
	} else {
		put(o, PN532_ST_OK);
	}
	put_n(o, c->rx + c->rx_off, n);
	c->rx_off += n;
	if (c->rx_off == c->rx_len)
		c->rx_len = c->rx_off = 0;
}

static int list_timeout_ms(uint8_t retries)
{
	/* one activation attempt is a few ms on air; a kernel poll needs its round trip */
	return retries == 0xff ? -1 : 200 + 100 * retries;
}

static int do_list(struct pn532_chip *c, int timeout_ms)
{
	struct pn532_target t;
	int rc;

	drop_target(c);
	if (!c->ops->in_list)
		return 0;
	memset(&t, 0, sizeof(t));
	rc = c->ops->in_list(c->ctx, timeout_ms, &t);
	if (rc == -EINTR)
		return -EINTR;
	if (rc <= 0)
		return 0;
	c->target = t;
	c->target_active = true;
	c->rf_field = 1;
	return 1;
}

static int in_list_passive(struct pn532_chip *c, const uint8_t *in, size_t n, struct obuf *o)
{
	uint8_t maxtg, brty;
	int rc;

	if (n < 3)
		return PN532_SYNTAX_ERROR;
	maxtg = in[1];
	brty = in[2];
	if (maxtg < 1 || maxtg > 2 || brty > 0x04)
		return PN532_SYNTAX_ERROR;
	if (brty != 0x00) {		/* FeliCa, type B, Jewel: no such target on our link */
		drop_target(c);
		put(o, 0x00);
		return 0;
	}
	rc = do_list(c, list_timeout_ms(c->max_retries[2]));
	if (rc == -EINTR)
		return PN532_NO_ANSWER;
	/* InitiatorData for 106 kbit/s type A: the UID of the card wanted */
	if (rc == 1 && n > 3 && (n - 3 != c->target.uid_len ||
				 memcmp(in + 3, c->target.uid, n - 3))) {
		drop_target(c);
		rc = 0;
	}
	put(o, rc == 1 ? 1 : 0);
	if (rc == 1)
		put_target(c, o);
	return 0;
}

static int in_auto_poll(struct pn532_chip *c, const uint8_t *in, size_t n, struct obuf *o)
{
	uint8_t type = 0xff;
	long ms;
	size_t before;
	int rc;

	if (n < 4 || n > 18 || in[1] == 0 || in[2] == 0 || in[2] > 0x0f)
		return PN532_SYNTAX_ERROR;
	for (size_t i = 3; i < n && type == 0xff; i++)
		if (in[i] == 0x00 || in[i] == 0x10 || in[i] == 0x20)
			type = in[i];
	if (type == 0xff) {		/* only types our link has no card of */
		put(o, 0x00);
		return 0;
	}
	/* PollNr polls of every type, Period x 150 ms each; 0xFF: endless */
	ms = (long)in[1] * in[2] * 150 * (long)(n - 3);
	rc = do_list(c, in[1] == 0xff ? -1 : (int)(ms < 200 ? 200 : ms));
	if (rc == -EINTR)
		return PN532_NO_ANSWER;
	if (rc != 1) {
		put(o, 0x00);
		return 0;
	}
	put(o, 0x01);
	put(o, type);
	before = o->len;
	put(o, 0);			/* length, patched below */
	put_target(c, o);
	if (!o->overflow)
		o->p[before] = (uint8_t)(o->len - before - 1);
	return 0;
}

static int in_data_exchange(struct pn532_chip *c, const uint8_t *in, size_t n, struct obuf *o)
{
	size_t rlen = 0;
	int rc;

	if (n < 2)
		return PN532_SYNTAX_ERROR;
	if ((in[1] & 0x3f) != 1 || !c->target_active) {
		put(o, PN532_ST_NOT_SUPPORTED);
		return 0;
	}
	if (c->rx_len) {		/* the host collects the rest of a chained answer */
		put_rx_chunk(c, o);
		return 0;
	}
	if (c->tx_len + (n - 2) > sizeof(c->tx)) {
		c->tx_len = 0;
		put(o, PN532_ST_OVERFLOW);
		return 0;
	}
	memcpy(c->tx + c->tx_len, in + 2, n - 2);
	c->tx_len += n - 2;
	if (in[1] & 0x40) {		/* MI: more host data follows */
		put(o, PN532_ST_OK);
		return 0;
	}
	rc = c->ops->in_exchange(c->ctx, c->tx, c->tx_len, c->rx, sizeof(c->rx), &rlen);
	c->tx_len = 0;
	if (rc == -EINTR)
		return PN532_NO_ANSWER;
	if (rc) {
		/* the link to the card is gone: the chip reports a timeout */
		c->last_error = (uint8_t)status_of(rc);
		put(o, (uint8_t)status_of(rc));
		drop_target(c);
		return 0;
	}
	c->rx_len = rlen;
	c->rx_off = 0;
	if (!rlen) {
		put(o, PN532_ST_OK);
		return 0;
	}
	put_rx_chunk(c, o);
	return 0;
}

static int in_release(struct pn532_chip *c, const uint8_t *in, size_t n, struct obuf *o)
{
	if (n < 2)
		return PN532_SYNTAX_ERROR;
	if (in[1] > 1) {
		put(o, PN532_ST_NOT_SUPPORTED);
		return 0;
	}
	drop_target(c);
	put(o, PN532_ST_OK);
	return 0;
}

static int in_select(struct pn532_chip *c, const uint8_t *in, size_t n, struct obuf *o)
{
	struct pn532_target was = c->target;

	if (n < 2)
		return PN532_SYNTAX_ERROR;
	if (in[1] != 1 || (!c->target_active && !was.uid_len)) {
		put(o, PN532_ST_NOT_SUPPORTED);
		return 0;
	}
	if (!c->target_active) {	/* deselected: activate the same card again */
		int rc = do_list(c, 500);

		if (rc == -EINTR)
			return PN532_NO_ANSWER;
		if (rc != 1 || c->target.uid_len != was.uid_len ||
		    memcmp(c->target.uid, was.uid, was.uid_len)) {
			drop_target(c);
			c->target = was;
			put(o, PN532_ST_TIMEOUT);
			return 0;
		}
	}
	put(o, PN532_ST_OK);
	return 0;
}

static uint8_t fsdi_of(unsigned int fsd)
{
	static const unsigned int sizes[] = { 16, 24, 32, 40, 48, 64, 96, 128, 256 };
	uint8_t i = 0;

	while (i < 8 && sizes[i + 1] <= fsd)
		i++;
	return i;
}

static int tg_init_as_target(struct pn532_chip *c, const uint8_t *in, size_t n, struct obuf *o)
{
	struct pn532_tg_params p;
	size_t gt, tk;
	unsigned int fsd = 256;
	int rc;

	/* Mode, MifareParams (6), FeliCaParams (18), NFCID3t (10), LEN Gt, Gt, LEN Tk, Tk */
	if (n < 38)
		return PN532_SYNTAX_ERROR;
	gt = in[36];
	if (gt > 47 || n < 37 + gt + 1)
		return PN532_SYNTAX_ERROR;
	tk = in[37 + gt];
	if (tk > sizeof(p.hist) || n != 38 + gt + tk)
		return PN532_SYNTAX_ERROR;
	memset(&p, 0, sizeof(p));
	p.mode = in[1];
	memcpy(p.sens_res, in + 2, 2);
	memcpy(p.nfcid1t, in + 4, 3);
	p.sel_res = in[7];
	memcpy(p.hist, in + 38 + gt, tk);
	p.hist_len = tk;
	drop_target(c);
	drop_tg(c);
	if (!c->ops->tg_init)
		return PN532_SYNTAX_ERROR;
	rc = c->ops->tg_init(c->ctx, &p, &fsd);
	if (rc == -EINTR)
		return PN532_NO_ANSWER;
	if (rc) {
		/* no card device to listen with (gone, busy, none): the application-level error */
		return PN532_SYNTAX_ERROR;
	}
	c->tg_active = true;
	c->tg_fsd = fsd;
	c->tg_mode = TG_MODE_PICC_106;
	put(o, c->tg_mode);
	put(o, 0xe0);			/* InitiatorCommand: the RATS the reader sent */
	put(o, (uint8_t)(fsdi_of(fsd) << 4));
	return 0;
}

static int tg_get_data(struct pn532_chip *c, struct obuf *o)
{
	size_t len = 0;
	int rc;

	if (!c->tg_active) {
		put(o, PN532_ST_RELEASED);
		return 0;
	}
	if (c->rx_len) {
		put_rx_chunk(c, o);
		return 0;
	}
	rc = c->ops->tg_get(c->ctx, c->rx, sizeof(c->rx), &len);
	if (rc == -EINTR)
		return PN532_NO_ANSWER;
	if (rc) {
		drop_tg(c);
		put(o, PN532_ST_RELEASED);
		return 0;
	}
	c->rx_len = len;
	c->rx_off = 0;
	if (!len) {
		put(o, PN532_ST_OK);
		return 0;
	}
	put_rx_chunk(c, o);
	return 0;
}

static int tg_set_data(struct pn532_chip *c, const uint8_t *in, size_t n, bool meta,
		       struct obuf *o)
{
	int rc;

	if (!c->tg_active) {
		put(o, PN532_ST_RELEASED);
		return 0;
	}
	if (c->tx_len + (n - 1) > sizeof(c->tx)) {
		c->tx_len = 0;
		put(o, PN532_ST_OVERFLOW);
		return 0;
	}
	memcpy(c->tx + c->tx_len, in + 1, n - 1);
	c->tx_len += n - 1;
	if (meta) {			/* TgSetMetaData: a part, more follows */
		put(o, PN532_ST_OK);
		return 0;
	}
	rc = c->ops->tg_set(c->ctx, c->tx, c->tx_len);
	c->tx_len = 0;
	if (rc == -EINTR)
		return PN532_NO_ANSWER;
	if (rc) {
		drop_tg(c);
		put(o, PN532_ST_RELEASED);
		return 0;
	}
	put(o, PN532_ST_OK);
	return 0;
}

static int rf_configuration(struct pn532_chip *c, const uint8_t *in, size_t n)
{
	static const uint8_t item_len[16] = {
		[0x01] = 1, [0x02] = 3, [0x04] = 1, [0x05] = 3,
		[0x0a] = 11, [0x0b] = 8, [0x0c] = 9, [0x0d] = 3,
	};
	uint8_t item;

	if (n < 2)
		return PN532_SYNTAX_ERROR;
	item = in[1];
	if (item > 0x0f || !item_len[item] || n - 2 != item_len[item])
		return PN532_SYNTAX_ERROR;
	memcpy(c->rf_items[item], in + 2, item_len[item]);
	if (item == 0x01) {
		c->rf_field = in[2] & 0x01;
		if (!c->rf_field)	/* field off: every card in it is gone */
			drop_target(c);
	} else if (item == 0x05) {
		memcpy(c->max_retries, in + 2, 3);
	}
	return 0;
}

static int diagnose(struct pn532_chip *c, const uint8_t *in, size_t n, struct obuf *o)
{
	if (n < 2)
		return PN532_SYNTAX_ERROR;
	switch (in[1]) {
	case 0x00:			/* communication line test: echo NumTst + InParam */
		put_n(o, in + 1, n - 1);
		return 0;
	case 0x01:			/* ROM test */
	case 0x02:			/* RAM test */
		put(o, 0x00);
		return 0;
	case 0x04:			/* polling test: number of failures */
		put(o, 0x00);
		return 0;
	case 0x06:			/* attention request / card presence */
		put(o, c->target_active ? PN532_ST_OK : PN532_ST_TIMEOUT);
		return 0;
	case 0x07:			/* antenna test */
		put(o, 0x00);
		return 0;
	default:
		return PN532_SYNTAX_ERROR;
	}
}

static int dispatch(struct pn532_chip *c, const uint8_t *in, size_t n, struct obuf *o)
{
	switch (in[0]) {
	case PN532_DIAGNOSE:
		return diagnose(c, in, n, o);
	case PN532_GET_FIRMWARE_VERSION:
		/* IC PN532, version 1.6, supports ISO 14443 A, B and ISO 18092 */
		put(o, 0x32);
		put(o, 0x01);
		put(o, 0x06);
		put(o, 0x07);
		return 0;
	case PN532_GET_GENERAL_STATUS:
		put(o, c->last_error);
		put(o, c->rf_field || c->target_active);
		put(o, c->target_active ? 1 : 0);
		if (c->target_active) {
			put(o, 0x01);	/* Tg */
			put(o, 0x00);	/* BrRx 106 kbit/s */
			put(o, 0x00);	/* BrTx 106 kbit/s */
			put(o, 0x00);	/* type A */
		}
		put(o, 0x00);		/* SAM status */
		return 0;
	case PN532_READ_REGISTER:
		if (n < 3 || (n - 1) % 2)
			return PN532_SYNTAX_ERROR;
		for (size_t i = 1; i < n; i += 2)
			put(o, c->regs[(uint16_t)(in[i] << 8 | in[i + 1])]);
		return 0;
	case PN532_WRITE_REGISTER:
		if (n < 4 || (n - 1) % 3)
			return PN532_SYNTAX_ERROR;
		for (size_t i = 1; i < n; i += 3)
			c->regs[(uint16_t)(in[i] << 8 | in[i + 1])] = in[i + 2];
		return 0;
	case PN532_READ_GPIO:
		put(o, c->gpio_p3);
		put(o, c->gpio_p7);
		put(o, 0x00);		/* I0I1: HSU selected */
		return 0;
	case PN532_WRITE_GPIO:
		if (n != 3)
			return PN532_SYNTAX_ERROR;
		if (in[1] & 0x80)
			c->gpio_p3 = (uint8_t)(in[1] & 0x3f) | 0xc0;
		if (in[2] & 0x80)
			c->gpio_p7 = in[2] & 0x06;
		return 0;
	case PN532_SET_SERIAL_BAUD_RATE:
		if (n != 2 || in[1] > 0x08)
			return PN532_SYNTAX_ERROR;
		return 0;		/* a pseudo-terminal has no line speed */
	case PN532_SET_PARAMETERS:
		if (n != 2)
			return PN532_SYNTAX_ERROR;
		c->params = in[1];
		return 0;
	case PN532_SAM_CONFIGURATION:
		if (n < 2 || n > 4 || in[1] < 0x01 || in[1] > 0x04)
			return PN532_SYNTAX_ERROR;
		c->sam_mode = in[1];
		c->powered_down = false;
		return 0;
	case PN532_POWER_DOWN:
		if (n < 2 || n > 3)
			return PN532_SYNTAX_ERROR;
		drop_target(c);
		drop_tg(c);
		c->powered_down = true;
		put(o, PN532_ST_OK);
		return 0;
	case PN532_RF_CONFIGURATION:
		return rf_configuration(c, in, n);
	case PN532_IN_LIST_PASSIVE_TARGET:
		return in_list_passive(c, in, n, o);
	case PN532_IN_AUTO_POLL:
		return in_auto_poll(c, in, n, o);
	case PN532_IN_DATA_EXCHANGE:
		return in_data_exchange(c, in, n, o);
	case PN532_IN_COMMUNICATE_THRU:
		/* raw ISO 14443-3 frames: the kernel link carries APDUs only, nothing answers */
		put(o, PN532_ST_TIMEOUT);
		return 0;
	case PN532_IN_DESELECT:
	case PN532_IN_RELEASE:
		return in_release(c, in, n, o);
	case PN532_IN_SELECT:
		return in_select(c, in, n, o);
	case PN532_IN_ATR:
	case PN532_IN_PSL:
	case PN532_IN_JUMP_FOR_DEP:
	case PN532_IN_JUMP_FOR_PSL:
		/* NFC-DEP: no such target on our link */
		put(o, PN532_ST_TIMEOUT);
		return 0;
	case PN532_TG_INIT_AS_TARGET:
		return tg_init_as_target(c, in, n, o);
	case PN532_TG_GET_DATA:
		return tg_get_data(c, o);
	case PN532_TG_SET_DATA:
		return tg_set_data(c, in, n, false, o);
	case PN532_TG_SET_META_DATA:
		return tg_set_data(c, in, n, true, o);
	case PN532_TG_GET_TARGET_STATUS:
		put(o, c->tg_active ? 0x01 : 0x00);
		put(o, 0x00);		/* BRit: 106 kbit/s both ways */
		return 0;
	case PN532_TG_SET_GENERAL_BYTES:
	case PN532_TG_GET_INITIATOR_COMMAND:
	case PN532_TG_RESPONSE_TO_INITIATOR:
		/* NFC-DEP and raw target frames: not in ISO-DEP PICC emulation */
		put(o, PN532_ST_NOT_SUPPORTED);
		return 0;
	default:
		return PN532_SYNTAX_ERROR;
	}
}

int pn532_chip_command(struct pn532_chip *c, const uint8_t *in, size_t in_len, uint8_t *out,
		       size_t out_cap, size_t *out_len)
{
	struct obuf o = { .p = out, .cap = out_cap };
	int rc;

	*out_len = 0;
	if (in_len < 1 || out_cap < 1)
		return PN532_SYNTAX_ERROR;
	c->commands++;
	put(&o, (uint8_t)(in[0] + 1));
	rc = dispatch(c, in, in_len, &o);
	if (rc == PN532_SYNTAX_ERROR)
		c->syntax_errors++;
	if (rc)
		return rc;
	if (o.overflow)
		return PN532_SYNTAX_ERROR;
	*out_len = o.len;
	return 0;
}
