/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chip.h - a PN532 as libnfc sees it: the command set (UM0701-02 section 7), a register file,
 * the chip's settings, and the initiator/target state, with the RF side behind an ops table.
 * I/O free: the program (hce-pn532) supplies the ops (the kernel NFC devices, or a card on a
 * pipe) and moves frames; see Documentation/pn532.md for what is emulated and what is not.
 *
 * pn532_chip_command() takes the data of one host frame (TFI 0xD4 stripped: command code and
 * parameters) and writes the data of the answer (TFI 0xD5 stripped: code + 1 and the output
 * parameters). It returns 0, PN532_SYNTAX_ERROR when the chip answers with the
 * application-level error frame (unknown command, malformed parameters), or PN532_NO_ANSWER
 * when the host aborted a waiting command.
 */
#ifndef HCE_PN532_CHIP_H
#define HCE_PN532_CHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PN532_SYNTAX_ERROR	1
#define PN532_NO_ANSWER		2	/* the host aborted the command (ACK): send nothing */

/* Command codes (UM0701-02 table 11). */
enum {
	PN532_DIAGNOSE = 0x00, PN532_GET_FIRMWARE_VERSION = 0x02, PN532_GET_GENERAL_STATUS = 0x04,
	PN532_READ_REGISTER = 0x06, PN532_WRITE_REGISTER = 0x08, PN532_READ_GPIO = 0x0c,
	PN532_WRITE_GPIO = 0x0e, PN532_SET_SERIAL_BAUD_RATE = 0x10, PN532_SET_PARAMETERS = 0x12,
	PN532_SAM_CONFIGURATION = 0x14, PN532_POWER_DOWN = 0x16, PN532_RF_CONFIGURATION = 0x32,
	PN532_RF_REGULATION_TEST = 0x58,
	PN532_IN_JUMP_FOR_DEP = 0x56, PN532_IN_JUMP_FOR_PSL = 0x46,
	PN532_IN_LIST_PASSIVE_TARGET = 0x4a, PN532_IN_ATR = 0x50, PN532_IN_PSL = 0x4e,
	PN532_IN_DATA_EXCHANGE = 0x40, PN532_IN_COMMUNICATE_THRU = 0x42, PN532_IN_DESELECT = 0x44,
	PN532_IN_RELEASE = 0x52, PN532_IN_SELECT = 0x54, PN532_IN_AUTO_POLL = 0x60,
	PN532_TG_INIT_AS_TARGET = 0x8c, PN532_TG_SET_GENERAL_BYTES = 0x92,
	PN532_TG_GET_DATA = 0x86, PN532_TG_SET_DATA = 0x8e, PN532_TG_SET_META_DATA = 0x94,
	PN532_TG_GET_INITIATOR_COMMAND = 0x88, PN532_TG_RESPONSE_TO_INITIATOR = 0x90,
	PN532_TG_GET_TARGET_STATUS = 0x8a,
};

/* Status byte error codes (UM0701-02 table 12) the bridge uses. */
enum {
	PN532_ST_OK = 0x00,
	PN532_ST_TIMEOUT = 0x01,	/* the target did not answer */
	PN532_ST_OVERFLOW = 0x09,	/* data too long for the chip's buffer */
	PN532_ST_BAD_PARAM = 0x10,	/* invalid parameter (range, format) */
	PN532_ST_NOT_SUPPORTED = 0x27,	/* not acceptable in the current context */
	PN532_ST_RELEASED = 0x29,	/* target mode: released by the initiator */
};

/* Largest part of a response the chip returns in one frame before setting MI. */
#define PN532_CHUNK_MAX		262
/* Largest APDU the bridge carries either way (extended-length APDUs included). */
#define PN532_APDU_MAX		4096

/* An ISO/IEC 14443-3 type A target, as InListPassiveTarget reports it. */
struct pn532_target {
	uint8_t sens_res[2];	/* ATQA, in the order the chip sends it */
	uint8_t sel_res;	/* SAK */
	uint8_t uid[10];
	size_t uid_len;
	uint8_t ats[64];	/* with TL first, as the chip reports it */
	size_t ats_len;		/* 0: no ATS (not ISO-DEP) */
};

/* What TgInitAsTarget asked for (PICC emulation at 106 kbit/s). */
struct pn532_tg_params {
	uint8_t mode;		/* TgInitAsTarget Mode byte */
	uint8_t sens_res[2];
	uint8_t nfcid1t[3];	/* the chip makes UID 08 + these 3 bytes; we let the kernel pick */
	uint8_t sel_res;
	uint8_t hist[15];	/* Tk: ATS historical bytes */
	size_t hist_len;
};

/*
 * The RF side. Each op returns 0 or a negative errno; -EINTR when the host aborted the
 * command (an ACK frame arrived while the op waited). Ops may block; the program watches the
 * serial line while they do.
 */
struct pn532_rf_ops {
	/*
	 * Find and activate one ISO 14443 type A target (ISO-DEP activated when the card
	 * supports it), waiting at most timeout_ms (-1: until a card comes, as the chip does
	 * with MxRtyPassiveActivation 0xFF). Returns 1 and fills *t when found, 0 when none
	 * answered in time.
	 */
	int (*in_list)(void *ctx, int timeout_ms, struct pn532_target *t);
	/* Exchange one whole APDU with the active target: *rlen set; 0 or -errno. */
	int (*in_exchange)(void *ctx, const uint8_t *c, size_t clen, uint8_t *r, size_t rcap,
			   size_t *rlen);
	/* Deselect / release the active target (no error when none). */
	void (*in_release)(void *ctx);
	/*
	 * Target mode: wait for a reader to activate us (ISO-DEP) with the given identity;
	 * *fsd: the reader's frame size from RATS. 0, -EINTR, or -errno.
	 */
	int (*tg_init)(void *ctx, const struct pn532_tg_params *p, unsigned int *fsd);
	/* Target mode: the next C-APDU. -ENOLINK when the reader released us. */
	int (*tg_get)(void *ctx, uint8_t *c, size_t cap, size_t *clen);
	/* Target mode: answer the last C-APDU. -ENOLINK when the reader released us. */
	int (*tg_set)(void *ctx, const uint8_t *r, size_t rlen);
	/* Target mode ends (the host re-initialised or released): stop listening. */
	void (*tg_release)(void *ctx);
};

struct pn532_chip {
	const struct pn532_rf_ops *ops;
	void *ctx;
	uint8_t regs[0x10000];		/* XRAM/SFR/CIU register file, see regs_reset() */
	uint8_t params;			/* SetParameters flags */
	uint8_t sam_mode;
	uint8_t max_retries[3];		/* RFConfiguration item 5: ATR, PSL, passive activation */
	uint8_t rf_field;		/* RFConfiguration item 1 */
	uint8_t rf_items[16][12];	/* other RFConfiguration items, kept as sent */
	uint8_t gpio_p3, gpio_p7;
	bool powered_down;
	/* initiator */
	bool target_active;
	struct pn532_target target;
	uint8_t tx[PN532_APDU_MAX];	/* host data collected while MI is set */
	size_t tx_len;
	uint8_t rx[PN532_APDU_MAX];	/* response still to hand out (MI) */
	size_t rx_len, rx_off;
	/* target */
	bool tg_active;
	uint8_t tg_mode;		/* Mode byte reported by TgInitAsTarget */
	unsigned int tg_fsd;
	uint8_t last_error;		/* for GetGeneralStatus */
	unsigned long commands, syntax_errors;
};

/* Power-on state: registers at their documented reset values, settings at chip defaults. */
void pn532_chip_init(struct pn532_chip *c, const struct pn532_rf_ops *ops, void *ctx);

/*
 * Run one command. in[0] = command code; out gets code + 1 and the output parameters.
 * out_cap must be at least PN532_DATA_MAX. Returns 0, PN532_SYNTAX_ERROR or PN532_NO_ANSWER.
 */
int pn532_chip_command(struct pn532_chip *c, const uint8_t *in, size_t in_len, uint8_t *out,
		       size_t out_cap, size_t *out_len);

/* The host went away (pty hang-up): drop the active target and target mode. */
void pn532_chip_reset_session(struct pn532_chip *c);

/* The reset value of register addr (documented in Documentation/pn532.md). */
uint8_t pn532_reg_reset_value(uint16_t addr);

#endif /* HCE_PN532_CHIP_H */
