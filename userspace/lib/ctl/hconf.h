/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hconf.h - hced's configuration file (Documentation/hced.md "Configuration"; a commented
 * sample is packaging/hced.conf).
 *
 * Read with the strict INI reader of profile/conf.h: unknown sections and keys, repeated keys,
 * bad values are errors with "file:line: what" messages; values are never quoted (a path or a
 * PIN file name is not secret, but the reader's rule is kept). Sections and keys:
 *
 *   [card]      db, device-secret, pin-file
 *   [frontend]  type = nfc | pcsc | stdio
 *   [nfc]       device (auto | nfcN | index), uid (random | 4/7/10 hex bytes), fsci (0..8),
 *               fwi (0..14), sfgi (0..14), historical-bytes (0..15 hex bytes), wtx-max (0..60)
 *   [pcsc]      vpcd (HOST:PORT, [IPv6]:PORT)
 *   [control]   socket (path, or "none"), group (group name allowed besides root)
 *   [log]       level (error | warn | info | debug), trace-file (path), trace (on | off)
 *   [apps]      purse (yes | no), ndef-uri (URI) | ndef-text (text, with ndef-lang) |
 *               ndef-message (hex NDEF message), default (purse | ndef | none)
 *
 * Every field has a has_/flag telling whether the file set it, so command-line options can
 * override the file field by field (hced_conf_merge).
 */
#ifndef HCE_CTL_HCONF_H
#define HCE_CTL_HCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfcnl/nfcnl.h"
#include "profile/conf.h"

#define HCED_PATH_MAX 512
#define HCED_NAME_MAX 64
#define HCED_CTL_DEFAULT_SOCKET "/run/hced/ctl"
#define HCED_VPCD_DEFAULT_ADDR "127.0.0.1:35963"
#define HCED_NDEF_MSG_MAX 480			/* hex on one config line */

enum hced_fe_kind {
	HCED_FE_UNSET = 0,
	HCED_FE_STDIO,
	HCED_FE_PCSC,
	HCED_FE_NFC,
};

struct hced_conf {
	char card_db[HCED_PATH_MAX];
	char device_secret[HCED_PATH_MAX];
	char pin_file[HCED_PATH_MAX];
	enum hced_fe_kind frontend;
	char nfc_device[HCED_NAME_MAX];		/* "" = auto (first unbound card device) */
	struct hce_nfcnl_listen listen;		/* has_* = set in the file */
	char vpcd[HCED_NAME_MAX];
	char ctl_socket[HCED_PATH_MAX];		/* "" = default; "none" = no control socket */
	char ctl_group[HCED_NAME_MAX];		/* "" = root only */
	int log_level;				/* -1 = unset, else enum hced_log_level */
	char trace_file[HCED_PATH_MAX];
	int trace_on;				/* -1 unset, 0 off, 1 on */
	int app_purse;				/* -1 unset, 0 no, 1 yes */
	/* The NDEF Type 4 Tag: at most one of uri / text / message. */
	char ndef_uri[HCED_PATH_MAX];
	char ndef_text[HCED_PATH_MAX];
	char ndef_lang[16];			/* "" = "en" */
	uint8_t ndef_msg[HCED_NDEF_MSG_MAX];
	size_t ndef_msg_len;			/* 0 = not set */
	char app_default[16];			/* "" = purse when served, else none */
};

/* An empty configuration: every field unset. */
void hced_conf_init(struct hced_conf *cf);

/*
 * Parse config text (name used in messages). 0, or -1 with the message in err (errlen bytes,
 * "name:line: what"). cf is initialised by the call.
 */
int hced_conf_parse(struct hced_conf *cf, const char *name, const char *text, size_t len,
		    char *err, size_t errlen);

/* Read and parse the file at path (as hce_conf_load reads it). 0 or -1 with err set. */
int hced_conf_load(struct hced_conf *cf, const char *path, char *err, size_t errlen);

/* Copy into dst every field set in over (command-line values win over the file). */
void hced_conf_merge(struct hced_conf *dst, const struct hced_conf *over);

/* "nfc", "pcsc", "stdio" (NULL for unset). */
const char *hced_fe_kind_name(enum hced_fe_kind k);
/* Parse a front end name; -1 when unknown. */
int hced_fe_kind_parse(const char *s, enum hced_fe_kind *k);

/*
 * Parse an nfc device designation: "nfcN" or decimal N (0..2^31-1). Returns 1 and *idx for
 * an index, 2 (and nothing in *idx) for another well-formed name to look up, 0 for "auto" or
 * "", -1 when malformed (blanks, too long, control characters).
 */
int hced_conf_device(const char *s, unsigned int *idx);

/* Parse "HOST:PORT" or "[V6]:PORT" (port 1..65535) into host (cap bytes) and port; 0 or -1. */
int hced_conf_hostport(const char *s, char *host, size_t cap, unsigned int *port);

#endif /* HCE_CTL_HCONF_H */
