/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ndef.h - NDEF messages and the NFC Forum Type 4 Tag application (mapping version 2.0)
 * serving one read-only NDEF message. I/O-free; details in Documentation/ndef.md.
 *
 * The tag as a reader sees it:
 *   SELECT NDEF Tag Application  00 A4 04 00 07 D2760000850101 [00]       -> 9000
 *   SELECT CC file               00 A4 00 0C 02 E103                       -> 9000
 *   READ BINARY                  00 B0 <offset 15 bits> <Le>               -> CC bytes
 *   SELECT NDEF file             00 A4 00 0C 02 E104                       -> 9000
 *   READ BINARY                  ... NLEN (2 bytes) then the message
 *   UPDATE BINARY                00 D6 ...                                 -> 6982 (read-only)
 * CC file E103 (15 bytes): CCLEN 000F | mapping version 20 | MLe 00FF | MLc 00FF |
 * NDEF file control TLV 04 06 E104 <max NDEF file size = 2 + message length> 00 FF.
 *
 * Return contract for int functions: 0 or a negative errno value.
 */
#ifndef HCE_NDEF_H
#define HCE_NDEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "codec/buf.h"

/* The NDEF Tag Application AID (mapping version 2.0). */
#define HCE_NDEF_AID_LEN 7
extern const uint8_t hce_ndef_aid[HCE_NDEF_AID_LEN];

#define HCE_NDEF_CC_FID 0xE103
#define HCE_NDEF_FILE_FID 0xE104
#define HCE_NDEF_CC_LEN 15
#define HCE_NDEF_MAPPING_VERSION 0x20
#define HCE_NDEF_MLE 0x00FF	/* most R-APDU data bytes a READ BINARY returns */
#define HCE_NDEF_MLC 0x00FF	/* most C-APDU data bytes (UPDATE BINARY is refused anyway) */
/* Largest message: the NDEF file (NLEN + message) stays within 15-bit READ BINARY offsets. */
#define HCE_NDEF_MSG_MAX (0x7FFF - 2)

#define HCE_NDEF_SW_SECURITY 0x6982	/* security status not satisfied: write refused */

/* Record header flags and TNF (NFC Forum NDEF 1.0, 3.2). */
#define HCE_NDEF_MB 0x80
#define HCE_NDEF_ME 0x40
#define HCE_NDEF_CF 0x20
#define HCE_NDEF_SR 0x10
#define HCE_NDEF_IL 0x08
#define HCE_NDEF_TNF_MASK 0x07
enum hce_ndef_tnf {
	HCE_TNF_EMPTY = 0,
	HCE_TNF_WELL_KNOWN = 1,
	HCE_TNF_MEDIA = 2,
	HCE_TNF_URI = 3,
	HCE_TNF_EXTERNAL = 4,
	HCE_TNF_UNKNOWN = 5,
	HCE_TNF_UNCHANGED = 6,
	HCE_TNF_RESERVED = 7,
};

/* One record (or chunk) as parsed; pointers into the message. */
struct hce_ndef_record {
	uint8_t flags;		/* MB ME CF SR IL bits */
	uint8_t tnf;
	const uint8_t *type;
	size_t type_len;
	const uint8_t *id;
	size_t id_len;
	const uint8_t *payload;
	size_t payload_len;
};

/*
 * Read the next record header and fields from r (no cross-record rules: see
 * hce_ndef_validate). Returns 1 and fills *rec, 0 when r is empty, -1 when the record is
 * truncated (r unchanged).
 */
int hce_ndef_next(struct hce_rd *r, struct hce_ndef_record *rec);

/*
 * Check that msg is one well-formed NDEF message (NDEF 1.0): MB on the first record only,
 * ME on the last only and nothing after it; TNF 7 never; TNF 0 with all lengths 0; TNF 5/6
 * with no type; TNF 1..4 with a type; chunks: a first chunk (CF, TNF != 6), middle chunks
 * (CF, TNF 6, no type, no IL) and a terminating chunk (TNF 6, no CF, no IL), ME never on a
 * chunk with CF; every length inside msg. len 0 is not a message. Returns the number of
 * (logical) records >= 1, or -EBADMSG with a reason in err (when not NULL).
 */
int hce_ndef_validate(const uint8_t *msg, size_t len, char *err, size_t errlen);

/*
 * Building a message record by record into a caller buffer: MB is set on the first record,
 * ME on the last by hce_ndef_finish. Records with a payload up to 255 bytes use the short
 * form (SR). Every add returns 0, or -ENOSPC when out of space / -EINVAL on bad arguments
 * (then the builder is failed and hce_ndef_finish fails too).
 */
struct hce_ndef_builder {
	struct hce_wr w;
	size_t last;		/* offset of the last record header */
	size_t n;		/* records added */
	int err;		/* first error, 0 when none */
};

void hce_ndef_builder_init(struct hce_ndef_builder *b, uint8_t *buf, size_t cap);
int hce_ndef_add_record(struct hce_ndef_builder *b, uint8_t tnf, const void *type,
			size_t type_len, const void *id, size_t id_len, const void *payload,
			size_t payload_len);
/*
 * URI record (RTD-URI): type "U", payload = identifier code + the rest of uri. The code is
 * the longest entry of the URI identifier code table (0x01 "http://www." .. 0x23 "urn:nfc:")
 * that uri starts with, 0x00 when none. uri: 1 or more characters.
 */
int hce_ndef_add_uri(struct hce_ndef_builder *b, const char *uri);
/*
 * Text record (RTD-Text), UTF-8: type "T", payload = status byte (bit 7 = 0 UTF-8, bits 5..0
 * = language code length) + lang (IANA language code, 1..63 ASCII characters) + text.
 */
int hce_ndef_add_text(struct hce_ndef_builder *b, const char *lang, const char *text);
/* Set ME on the last record; *len = message length. -EINVAL when no record was added. */
int hce_ndef_finish(struct hce_ndef_builder *b, size_t *len);

/* One-record messages. */
int hce_ndef_build_uri(const char *uri, uint8_t *out, size_t cap, size_t *len);
int hce_ndef_build_text(const char *lang, const char *text, uint8_t *out, size_t cap,
			size_t *len);

/*
 * The URI identifier code for uri and the length of its prefix (0 and 0 when none). Exposed
 * for tests and for tools that print a message.
 */
uint8_t hce_ndef_uri_code(const char *uri, size_t *prefix_len);
/* The prefix of an identifier code, NULL for 0x00 and codes past 0x23. */
const char *hce_ndef_uri_prefix(uint8_t code);

/*
 * The Type 4 Tag application serving a copy of msg (validated with hce_ndef_validate:
 * -EBADMSG with err; -EMSGSIZE past HCE_NDEF_MSG_MAX; -ENOMEM). Free with hce_ndef_app_free.
 * Register it with the router under an "other" group holding the exact AID hce_ndef_aid.
 */
int hce_ndef_app_new(const uint8_t *msg, size_t len, struct hce_app **out, char *err,
		     size_t errlen);
void hce_ndef_app_free(struct hce_app *app);

/* Write the 15-byte CC file of a tag serving a message of msg_len bytes. */
void hce_ndef_cc(size_t msg_len, uint8_t cc[HCE_NDEF_CC_LEN]);

#endif /* HCE_NDEF_H */
