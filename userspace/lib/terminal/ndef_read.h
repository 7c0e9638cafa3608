/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ndef_read.h - the terminal as an NFC Forum Type 4 Tag reader: SELECT the NDEF application
 * (D2760000850101), SELECT and READ BINARY the capability container (E103), take the NDEF
 * file's id and maximum size from its NDEF File Control TLV, SELECT the NDEF file, read NLEN
 * and then the message in chunks of at most MLe bytes.
 */
#ifndef HCE_TERMINAL_NDEF_READ_H
#define HCE_TERMINAL_NDEF_READ_H

#include <stddef.h>
#include <stdint.h>

#include "terminal/transport.h"

/*
 * The NDEF message into msg (cap bytes), its length in *len. 0 on success, else the
 * hce-terminal exit code (HCE_TERM_E_TRANSPORT, HCE_TERM_E_CARD) with the reason in err.
 */
int hce_term_ndef_read(struct hce_term_transport *tp, uint8_t *msg, size_t cap, size_t *len,
		       char *err, size_t errlen);

#endif /* HCE_TERMINAL_NDEF_READ_H */
