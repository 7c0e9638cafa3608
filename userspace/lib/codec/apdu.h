/* SPDX-License-Identifier: GPL-2.0 */
/*
 * apdu.h - ISO/IEC 7816-4 command APDU parsing and status words.
 *
 * A C-APDU is one of (ISO 7816-4 5.1, short and extended length):
 *   case 1   CLA INS P1 P2
 *   case 2S  CLA INS P1 P2 Le            (Le 00 means 256)
 *   case 3S  CLA INS P1 P2 Lc Data       (Lc 01..FF)
 *   case 4S  CLA INS P1 P2 Lc Data Le
 *   case 2E  CLA INS P1 P2 00 Le1 Le2    (Le 0000 means 65536)
 *   case 3E  CLA INS P1 P2 00 Lc1 Lc2 Data        (Lc 0001..FFFF)
 *   case 4E  CLA INS P1 P2 00 Lc1 Lc2 Data Le1 Le2
 * Anything else is malformed: hce_capdu_parse() returns HCE_SW_WRONG_LENGTH (6700) and does
 * not fill *out. In particular: fewer than 4 bytes; short Lc 00 followed by anything but
 * exactly two bytes (an extended Le); an Lc that disagrees with the bytes present; a mixed
 * short/extended form. The parser only reads buf[0..len-1].
 */
#ifndef HCE_APDU_H
#define HCE_APDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Status words used across the project. */
#define HCE_SW_OK 0x9000
#define HCE_SW_WARN_EOF 0x6282		/* end of file reached before Le bytes */
#define HCE_SW_MEMORY_FAILURE 0x6581	/* the durable write failed: nothing changed */
#define HCE_SW_WRONG_LENGTH 0x6700
#define HCE_SW_NOT_ALLOWED 0x6901	/* command not accepted in this state (sequencing) */
#define HCE_SW_INCOMPATIBLE_FILE 0x6981	/* command incompatible with file structure */
#define HCE_SW_CONDITIONS 0x6985	/* conditions of use not satisfied */
#define HCE_SW_NO_EF 0x6986		/* command not allowed (no current EF) */
#define HCE_SW_WRONG_DATA 0x6A80
#define HCE_SW_FUNC_NOT_SUPPORTED 0x6A81
#define HCE_SW_FILE_NOT_FOUND 0x6A82
#define HCE_SW_RECORD_NOT_FOUND 0x6A83
#define HCE_SW_WRONG_P1P2 0x6A86
#define HCE_SW_WRONG_OFFSET 0x6B00
#define HCE_SW_WRONG_LE(n) (0x6C00 | ((n) & 0xff))	/* exact length is n (00 = 256) */
#define HCE_SW_INS_NOT_SUPPORTED 0x6D00
#define HCE_SW_CLA_NOT_SUPPORTED 0x6E00
#define HCE_SW_UNKNOWN 0x6F00		/* internal error (storage, RNG) */
#define HCE_SW_MAC_INVALID 0x9302
#define HCE_SW_APP_LOCKED 0x9303
#define HCE_SW_INSUFFICIENT 0x9401
#define HCE_SW_COUNTER_MAX 0x9402
#define HCE_SW_KEY_INDEX 0x9403
#define HCE_SW_NO_PROOF 0x9406

struct hce_capdu {
	uint8_t cla, ins, p1, p2;
	uint8_t icase;		/* 1..4 */
	bool extended;		/* extended length encoding */
	const uint8_t *data;	/* points into the parsed buffer (NULL when nc == 0) */
	size_t nc;		/* Lc: data length, 0 for cases 1 and 2 */
	size_t ne;		/* Le decoded: 0 (absent), 1..256 short, 1..65536 extended */
	bool has_le;
};

/*
 * Parse buf (len bytes) into *out. Returns 0 on success, or HCE_SW_WRONG_LENGTH for a
 * malformed APDU (see the header comment); out is then zeroed.
 */
uint16_t hce_capdu_parse(const uint8_t *buf, size_t len, struct hce_capdu *out);

/*
 * Build an R-APDU: copy n bytes of data then SW1 SW2 into out (capacity cap). Returns the
 * length written, or 0 when it does not fit (nothing useful written).
 */
size_t hce_rapdu_build(uint8_t *out, size_t cap, const uint8_t *data, size_t n, uint16_t sw);

/*
 * Encode a C-APDU in the shortest legal form (short when nc <= 255 and ne <= 256, else
 * extended) from cla/ins/p1/p2/data/nc/ne (icase, extended and has_le are ignored: ne == 0
 * means no Le). Returns the length, or 0 when it does not fit in cap or nc/ne are too large.
 */
size_t hce_capdu_build(const struct hce_capdu *c, uint8_t *out, size_t cap);

#endif /* HCE_APDU_H */
