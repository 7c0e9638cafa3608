/* SPDX-License-Identifier: GPL-2.0 */
/*
 * frame.h - the PN532 host-controller frame protocol (NXP UM0701-02 section 6.2), I/O free.
 *
 * Host to chip, as the PN532's HSU (UART) link carries it:
 *   [0x55 wake-up bytes and 0x00 preamble bytes ...] 00 FF LEN LCS TFI PD0..PDn DCS [00]
 *   extended:  00 FF FF FF LENM LENL LCS TFI PD0..PDn DCS [00]
 *   ACK:       00 FF 00 FF [00]            NACK: 00 FF FF 00 [00]
 * LEN counts TFI and the data; LEN + LCS = 0 (mod 256) (LENM + LENL + LCS for extended
 * frames); TFI + PD0 + ... + PDn + DCS = 0 (mod 256). The parser hunts for the start code
 * 00 FF, so any number of 0x55 wake-up bytes, preamble bytes and postamble bytes between
 * frames is skipped, as the chip does.
 *
 * The parser is fed one byte at a time and never reads past what it was given; it keeps at
 * most PN532_DATA_MAX bytes of frame data (longer frames are consumed and reported as
 * PN532_EV_TOO_LONG).
 */
#ifndef HCE_PN532_FRAME_H
#define HCE_PN532_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define PN532_TFI_HOST		0xd4	/* host to chip */
#define PN532_TFI_CHIP		0xd5	/* chip to host */
#define PN532_TFI_ERROR		0x7f	/* application-level error frame */
/* Largest TFI + data the chip's buffer takes (UM0701: 265 bytes incl. TFI). */
#define PN532_FRAME_MAX		265
#define PN532_DATA_MAX		(PN532_FRAME_MAX - 1)
/* Largest encoded frame: 00 00 FF FF FF LENM LENL LCS + 265 + DCS + 00. */
#define PN532_WIRE_MAX		(8 + PN532_FRAME_MAX + 2)

enum pn532_event {
	PN532_EV_NONE,		/* byte consumed, no frame complete yet */
	PN532_EV_FRAME,		/* a frame with good checksums: tfi, data, len */
	PN532_EV_ACK,		/* 00 FF 00 FF: from the host, aborts the running command */
	PN532_EV_NACK,		/* 00 FF FF 00: the host asks for the last answer again */
	PN532_EV_BAD_LCS,	/* length checksum wrong: frame dropped at that byte */
	PN532_EV_BAD_DCS,	/* data checksum wrong: whole frame read, then dropped */
	PN532_EV_TOO_LONG,	/* LEN beyond PN532_FRAME_MAX (or 0): frame consumed, dropped */
};

struct pn532_parser {
	int state;
	size_t need;		/* bytes of TFI + data still to come */
	size_t len;		/* declared LEN */
	size_t got;		/* bytes of TFI + data stored */
	uint8_t lenm;
	uint8_t sum;		/* running data checksum */
	uint8_t tfi;
	uint8_t data[PN532_DATA_MAX];	/* PD0..PDn of the last complete frame */
	size_t data_len;
};

void pn532_parser_init(struct pn532_parser *p);

/*
 * Feed one byte. Returns an enum pn532_event; on PN532_EV_FRAME, p->tfi, p->data and
 * p->data_len hold the frame until the next call.
 */
enum pn532_event pn532_parser_feed(struct pn532_parser *p, uint8_t byte);

/* True while the parser is inside a frame (a hang-up now loses a partial frame). */
int pn532_parser_busy(const struct pn532_parser *p);

/*
 * Encode a frame with TFI tfi and len data bytes into out (capacity cap): a normal frame when
 * 1 + len <= 255, an extended frame otherwise. Returns the number of bytes written, or 0 when
 * len + 1 > PN532_FRAME_MAX or cap is too small.
 */
size_t pn532_frame_encode(uint8_t tfi, const uint8_t *data, size_t len, uint8_t *out, size_t cap);

/* The fixed frames the chip sends: ACK (6 bytes), NACK (6), error frame (8: 00 00 FF 01 FF 7F 81 00). */
extern const uint8_t pn532_ack_frame[6];
extern const uint8_t pn532_nack_frame[6];
extern const uint8_t pn532_error_frame[8];

#endif /* HCE_PN532_FRAME_H */
