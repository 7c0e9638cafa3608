/* SPDX-License-Identifier: GPL-2.0 */
/*
 * conf.h - a small, strict INI-style reader for card profiles and PSAM/issuer key files.
 *
 * Syntax (Documentation/profile.md has the full description):
 *   # comment                 '#' or ';' as the first non-blank character: whole line ignored
 *   [section]                 a section name; "[kind arg]" (e.g. "[purchase-key 1]") is one
 *                             name, stored with inner blanks collapsed to one space
 *   key = value               key: [A-Za-z0-9_.-]+; value: the rest of the line, blanks around
 *                             it trimmed; no inline comments (a '#' inside a value is data)
 * Blank lines are ignored. Lines are at most HCE_CONF_LINE_MAX bytes (without the newline),
 * the whole text at most HCE_CONF_TEXT_MAX bytes and HCE_CONF_ENTRIES_MAX key lines.
 * Control characters other than tab (and NUL anywhere) are rejected; values may hold UTF-8.
 * A key repeated in the same section and a section header repeated are errors. Keys before
 * the first section header belong to the section "" (empty name).
 *
 * Values are read through typed getters (text, unsigned decimal with a range, hex bytes with
 * a length range). Each getter marks the key as used; hce_conf_check_unused() then reports
 * the first key nobody asked for, so a misspelt key is an error, not silently ignored.
 *
 * Every error message has the form "<name>:<line>: <what>" (line 0 when the error concerns
 * the whole text, e.g. a missing required key reports the section header's line) and is kept
 * in the struct (hce_conf_error()). Values are never quoted in messages: key files hold
 * secrets. hce_conf_free() wipes the parsed text (OPENSSL_cleanse) before freeing it.
 *
 * Contract for int-returning functions: documented per function; -1 always means an error
 * whose message is in hce_conf_error(). No function keeps a pointer to caller memory.
 */
#ifndef HCE_PROFILE_CONF_H
#define HCE_PROFILE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HCE_CONF_LINE_MAX 1024
#define HCE_CONF_TEXT_MAX (256 * 1024)
#define HCE_CONF_ENTRIES_MAX 4096
#define HCE_CONF_ERR_MAX 320
#define HCE_CONF_NAME_MAX 128

struct hce_conf_entry {
	const char *section;	/* points into the parsed copy */
	const char *key;
	const char *value;
	unsigned int line;
	bool used;
};

struct hce_conf_section {
	const char *name;
	unsigned int line;
};

struct hce_conf {
	char name[HCE_CONF_NAME_MAX];	/* file name used in messages */
	char *text;			/* private copy, NUL-separated tokens */
	size_t text_len;
	struct hce_conf_entry *entries;
	size_t n_entries;
	struct hce_conf_section *sections;
	size_t n_sections;
	char err[HCE_CONF_ERR_MAX];
};

/*
 * Parse len bytes of text (need not be NUL-terminated; may contain anything: it is checked).
 * name is used in error messages (truncated to HCE_CONF_NAME_MAX-1). On success returns 0
 * and c owns a private copy; on failure returns -1, c holds only the error message (and is
 * still safe to pass to hce_conf_free()). c need not be initialised before the call.
 */
int hce_conf_parse(struct hce_conf *c, const char *name, const char *text, size_t len);

/*
 * Read the file at path (at most HCE_CONF_TEXT_MAX bytes, regular file) and parse it as
 * hce_conf_parse() does, with path as name. The read buffer is wiped. 0 or -1.
 */
int hce_conf_load(struct hce_conf *c, const char *path);

/* Wipe and free everything c holds; c is left empty (error message kept). NULL-safe. */
void hce_conf_free(struct hce_conf *c);

/* The last error message ("" when none). */
const char *hce_conf_error(const struct hce_conf *c);

/* Number of section headers seen, and the i-th (in file order; i < count or NULL). */
size_t hce_conf_section_count(const struct hce_conf *c);
const struct hce_conf_section *hce_conf_section_at(const struct hce_conf *c, size_t i);

/* 1 when section exists (header present), else 0. "" exists when any key precedes headers. */
int hce_conf_has_section(const struct hce_conf *c, const char *section);

/*
 * When section is "<kind> <n>" with n decimal (or 0x-prefixed hex) in 0..max, store n in *n
 * and return 1; return 0 when the kind differs; -1 (message set, with the header's line)
 * when the kind matches but the argument is missing, malformed or out of range.
 */
int hce_conf_section_arg(struct hce_conf *c, const struct hce_conf_section *s,
			 const char *kind, uint32_t max, uint32_t *n);

/*
 * Look up key in section and mark it used. Returns the entry or NULL (absent). Does not set
 * an error: the typed getters below do.
 */
const struct hce_conf_entry *hce_conf_find(struct hce_conf *c, const char *section,
					   const char *key);

/*
 * Typed getters. All: return 1 when the key is present and valid (output written), 0 when it
 * is absent and !required (output untouched), -1 when absent and required or invalid (message
 * "name:line: [section] key: what", output untouched or wiped).
 */

/* Text value; *out points into c (valid until hce_conf_free). Length max_len bytes at most. */
int hce_conf_get_text(struct hce_conf *c, const char *section, const char *key, bool required,
		      size_t max_len, const char **out);

/* Unsigned decimal (digits only, no sign, no leading '+', at most 20 digits) in [min, max]. */
int hce_conf_get_uint(struct hce_conf *c, const char *section, const char *key, bool required,
		      uint64_t min, uint64_t max, uint64_t *out);

/*
 * Hex bytes (as hce_hex_decode: blanks or ':' between byte pairs allowed) into out (capacity
 * max_len); the decoded length must be in [min_len, max_len]. *out_len (may be NULL when
 * min_len == max_len) receives the length. On failure out is wiped.
 */
int hce_conf_get_hex(struct hce_conf *c, const char *section, const char *key, bool required,
		     uint8_t *out, size_t min_len, size_t max_len, size_t *out_len);

/*
 * Report keys no getter asked for. Returns 0 when every key was used; otherwise -1 with the
 * message for the first unused key in file order ("name:line: unknown key 'k' in [s]").
 * Unknown keys carry no secret, so the key name is quoted; the value never is.
 */
int hce_conf_check_unused(struct hce_conf *c);

/* Set the error message (printf-style) with the "name:line: " prefix. Always returns -1. */
int hce_conf_fail(struct hce_conf *c, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* HCE_PROFILE_CONF_H */
