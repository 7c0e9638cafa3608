/* SPDX-License-Identifier: GPL-2.0 */
/* hex.h - hexadecimal text <-> bytes. */
#ifndef HCE_HEX_H
#define HCE_HEX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Parse hex digits (upper or lower case; spaces, tabs and ':' between byte pairs ignored) into
 * out (capacity cap). Returns the number of bytes, or -1 on a non-hex character, an odd number
 * of digits, or more bytes than cap.
 */
ssize_t hce_hex_decode(const char *text, uint8_t *out, size_t cap);

/*
 * Write 2*len upper-case hex digits and a NUL to out (capacity cap >= 2*len+1).
 * Returns 0, or -1 when cap is too small (out then holds "").
 */
int hce_hex_encode(const uint8_t *in, size_t len, char *out, size_t cap);

#endif /* HCE_HEX_H */
