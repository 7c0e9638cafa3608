// SPDX-License-Identifier: GPL-2.0
/* hconf.c - hced's configuration file; see hconf.h. */
#include "ctl/hconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sections[] = {
	"card", "frontend", "nfc", "pcsc", "control", "log", "apps",
};

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void hced_conf_init(struct hced_conf *cf)
{
	memset(cf, 0, sizeof(*cf));
	cf->log_level = -1;
	cf->trace_on = -1;
	cf->app_purse = -1;
}

const char *hced_fe_kind_name(enum hced_fe_kind k)
{
	switch (k) {
	case HCED_FE_STDIO: return "stdio";
	case HCED_FE_PCSC: return "pcsc";
	case HCED_FE_NFC: return "nfc";
	default: return NULL;
	}
}

int hced_fe_kind_parse(const char *s, enum hced_fe_kind *k)
{
	if (!strcmp(s, "stdio"))
		*k = HCED_FE_STDIO;
	else if (!strcmp(s, "pcsc"))
		*k = HCED_FE_PCSC;
	else if (!strcmp(s, "nfc"))
		*k = HCED_FE_NFC;
	else
		return -1;
	return 0;
}

static int parse_index(const char *s, unsigned int *idx)
{
	unsigned long v = 0;
	size_t i;

	if (!*s || strlen(s) > 10)
		return -1;
	for (i = 0; s[i]; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 0x7fffffffUL || (s[0] == '0' && s[1]))
		return -1;
	*idx = (unsigned int)v;
	return 0;
}

int hced_conf_device(const char *s, unsigned int *idx)
{
	size_t i, n = strlen(s);

	if (!n || !strcmp(s, "auto"))
		return 0;
	if (n >= HCE_NFCNL_NAME_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return -1;
	if (isdigit((unsigned char)s[0]))
		return parse_index(s, idx) ? -1 : 1;
	if (!strncmp(s, "nfc", 3) && isdigit((unsigned char)s[3]) && !parse_index(s + 3, idx))
		return 1;
	return 2;
}

int hced_conf_hostport(const char *s, char *host, size_t cap, unsigned int *port)
{
	const char *colon, *h = s;
	size_t hl;
	unsigned int p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl))
			return -1;	/* bare IPv6 needs brackets */
	}
	if (!hl || hl >= cap || parse_index(colon + 1, &p) || p < 1 || p > 65535)
		return -1;
	for (size_t i = 0; i < hl; i++)
		if (!isgraph((unsigned char)h[i]) || h[i] == '[' || h[i] == ']')
			return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = p;
	return 0;
}

/* Text key into a fixed buffer; 1 set, 0 absent, -1 error. */
static int get_str(struct hce_conf *c, const char *sec, const char *key, char *dst, size_t cap)
{
	const char *v;
	int r = hce_conf_get_text(c, sec, key, false, cap - 1, &v);

	if (r == 1) {
		if (!*v) {
			const struct hce_conf_entry *e = hce_conf_find(c, sec, key);

			return hce_conf_fail(c, e ? e->line : 0, "[%s] %s: empty value", sec, key);
		}
		strcpy(dst, v);
	}
	return r;
}

static int get_bool(struct hce_conf *c, const char *sec, const char *key, const char *yes,
		    const char *no, int *out)
{
	const struct hce_conf_entry *e;
	const char *v;
	int r = hce_conf_get_text(c, sec, key, false, 16, &v);

	if (r != 1)
		return r;
	if (!strcmp(v, yes)) {
		*out = 1;
	} else if (!strcmp(v, no)) {
		*out = 0;
	} else {
		e = hce_conf_find(c, sec, key);
		return hce_conf_fail(c, e ? e->line : 0, "[%s] %s: must be %s or %s", sec, key, yes,
				     no);
	}
	return 1;
}

static int get_u8(struct hce_conf *c, const char *key, unsigned int max, bool *has, uint8_t *out)
{
	uint64_t v;
	int r = hce_conf_get_uint(c, "nfc", key, false, 0, max, &v);

	if (r == 1) {
		*has = true;
		*out = (uint8_t)v;
	}
	return r;
}

static int line_of(struct hce_conf *c, const char *sec, const char *key)
{
	const struct hce_conf_entry *e = hce_conf_find(c, sec, key);

	return e ? (int)e->line : 0;
}

static int parse_conf(struct hced_conf *cf, struct hce_conf *c)
{
	struct hce_nfcnl_listen *l = &cf->listen;
	const char *v;
	unsigned int idx, port;
	char host[HCED_NAME_MAX];
	size_t i, j, n;
	int r;

	for (i = 0; i < hce_conf_section_count(c); i++) {
		const struct hce_conf_section *s = hce_conf_section_at(c, i);

		for (j = 0; j < sizeof(sections) / sizeof(sections[0]); j++)
			if (!strcmp(s->name, sections[j]))
				break;
		if (j == sizeof(sections) / sizeof(sections[0]))
			return hce_conf_fail(c, s->line, "unknown section [%s]", s->name);
	}
	if (hce_conf_has_section(c, ""))
		return hce_conf_fail(c, 1, "key outside any section");

	if (get_str(c, "card", "db", cf->card_db, sizeof(cf->card_db)) < 0 ||
	    get_str(c, "card", "device-secret", cf->device_secret, sizeof(cf->device_secret)) < 0 ||
	    get_str(c, "card", "pin-file", cf->pin_file, sizeof(cf->pin_file)) < 0)
		return -1;

	r = hce_conf_get_text(c, "frontend", "type", false, 16, &v);
	if (r < 0)
		return -1;
	if (r == 1 && hced_fe_kind_parse(v, &cf->frontend))
		return hce_conf_fail(c, line_of(c, "frontend", "type"),
				     "[frontend] type: must be nfc, pcsc or stdio");

	r = get_str(c, "nfc", "device", cf->nfc_device, sizeof(cf->nfc_device));
	if (r < 0)
		return -1;
	if (r == 1 && hced_conf_device(cf->nfc_device, &idx) < 0)
		return hce_conf_fail(c, line_of(c, "nfc", "device"),
				     "[nfc] device: auto, nfcN, a device index or a device name");
	r = hce_conf_get_text(c, "nfc", "uid", false, 64, &v);
	if (r < 0)
		return -1;
	if (r == 1 && !strcmp(v, "random")) {
		l->has_uid = true;
		l->uid_random = true;
	} else if (r == 1) {
		r = hce_conf_get_hex(c, "nfc", "uid", false, l->uid, 4, HCE_NFCNL_UID_MAX, &n);
		if (r < 0)
			return -1;
		if (n != 4 && n != 7 && n != 10)
			return hce_conf_fail(c, line_of(c, "nfc", "uid"),
					     "[nfc] uid: random, or 4, 7 or 10 bytes");
		if (l->uid[0] == 0x88)
			return hce_conf_fail(c, line_of(c, "nfc", "uid"),
					     "[nfc] uid: the first byte may not be the cascade tag 88");
		l->has_uid = true;
		l->uid_len = n;
	}
	if (get_u8(c, "fsci", 8, &l->has_fsci, &l->fsci) < 0 ||
	    get_u8(c, "fwi", 14, &l->has_fwi, &l->fwi) < 0 ||
	    get_u8(c, "sfgi", 14, &l->has_sfgi, &l->sfgi) < 0 ||
	    get_u8(c, "wtx-max", 60, &l->has_wtx_max, &l->wtx_max) < 0)
		return -1;
	if (hce_conf_find(c, "nfc", "historical-bytes")) {
		/* An empty value means "no historical bytes". */
		r = hce_conf_get_text(c, "nfc", "historical-bytes", false, 64, &v);
		if (r < 0)
			return -1;
		if (*v && hce_conf_get_hex(c, "nfc", "historical-bytes", false, l->hist, 1,
					   HCE_NFCNL_HIST_MAX, &l->hist_len) < 0)
			return -1;
		if (!*v)
			l->hist_len = 0;
		l->has_hist = true;
	}

	r = get_str(c, "pcsc", "vpcd", cf->vpcd, sizeof(cf->vpcd));
	if (r < 0)
		return -1;
	if (r == 1 && hced_conf_hostport(cf->vpcd, host, sizeof(host), &port))
		return hce_conf_fail(c, line_of(c, "pcsc", "vpcd"),
				     "[pcsc] vpcd: HOST:PORT or [IPv6]:PORT");

	if (get_str(c, "control", "socket", cf->ctl_socket, sizeof(cf->ctl_socket)) < 0)
		return -1;
	if (cf->ctl_socket[0] && strcmp(cf->ctl_socket, "none") && cf->ctl_socket[0] != '/')
		return hce_conf_fail(c, line_of(c, "control", "socket"),
				     "[control] socket: an absolute path or none");
	if (strlen(cf->ctl_socket) >= 108)
		return hce_conf_fail(c, line_of(c, "control", "socket"),
				     "[control] socket: path longer than 107 bytes");
	r = get_str(c, "control", "group", cf->ctl_group, sizeof(cf->ctl_group));
	if (r < 0)
		return -1;
	for (i = 0; r == 1 && cf->ctl_group[i]; i++)
		if (!isalnum((unsigned char)cf->ctl_group[i]) && !strchr("_-.", cf->ctl_group[i]))
			return hce_conf_fail(c, line_of(c, "control", "group"),
					     "[control] group: not a group name");

	r = hce_conf_get_text(c, "log", "level", false, 16, &v);
	if (r < 0)
		return -1;
	if (r == 1) {
		for (i = 0; i < 4; i++)
			if (!strcmp(v, level_names[i]))
				cf->log_level = (int)i;
		if (cf->log_level < 0)
			return hce_conf_fail(c, line_of(c, "log", "level"),
					     "[log] level: error, warn, info or debug");
	}
	if (get_str(c, "log", "trace-file", cf->trace_file, sizeof(cf->trace_file)) < 0 ||
	    get_bool(c, "log", "trace", "on", "off", &cf->trace_on) < 0 ||
	    get_bool(c, "apps", "purse", "yes", "no", &cf->app_purse) < 0 ||
	    get_str(c, "apps", "ndef-uri", cf->ndef_uri, sizeof(cf->ndef_uri)) < 0 ||
	    get_str(c, "apps", "ndef-text", cf->ndef_text, sizeof(cf->ndef_text)) < 0 ||
	    get_str(c, "apps", "ndef-lang", cf->ndef_lang, sizeof(cf->ndef_lang)) < 0 ||
	    hce_conf_get_hex(c, "apps", "ndef-message", false, cf->ndef_msg, 1,
			     sizeof(cf->ndef_msg), &cf->ndef_msg_len) < 0 ||
	    get_str(c, "apps", "default", cf->app_default, sizeof(cf->app_default)) < 0)
		return -1;
	if (!!cf->ndef_uri[0] + !!cf->ndef_text[0] + !!cf->ndef_msg_len > 1)
		return hce_conf_fail(c, line_of(c, "apps", cf->ndef_uri[0] && cf->ndef_text[0] ?
						"ndef-text" : "ndef-message"),
				     "[apps] one of ndef-uri, ndef-text, ndef-message");
	if (cf->ndef_lang[0] && !cf->ndef_text[0])
		return hce_conf_fail(c, line_of(c, "apps", "ndef-lang"),
				     "[apps] ndef-lang goes with ndef-text");
	if (cf->app_default[0] && strcmp(cf->app_default, "purse") &&
	    strcmp(cf->app_default, "ndef") && strcmp(cf->app_default, "none"))
		return hce_conf_fail(c, line_of(c, "apps", "default"),
				     "[apps] default: purse, ndef or none");
	if (cf->trace_on == 1 && !cf->trace_file[0])
		return hce_conf_fail(c, line_of(c, "log", "trace"),
				     "[log] trace = on needs trace-file");
	return hce_conf_check_unused(c);
}

static int finish(struct hced_conf *cf, struct hce_conf *c, int r, char *err, size_t errlen)
{
	if (r && err && errlen)
		snprintf(err, errlen, "%s", hce_conf_error(c));
	hce_conf_free(c);
	if (r) {
		hced_conf_init(cf);
		return -1;
	}
	return 0;
}

int hced_conf_parse(struct hced_conf *cf, const char *name, const char *text, size_t len,
		    char *err, size_t errlen)
{
	struct hce_conf c;
	int r;

	hced_conf_init(cf);
	r = hce_conf_parse(&c, name, text, len);
	if (!r)
		r = parse_conf(cf, &c);
	return finish(cf, &c, r, err, errlen);
}

int hced_conf_load(struct hced_conf *cf, const char *path, char *err, size_t errlen)
{
	struct hce_conf c;
	int r;

	hced_conf_init(cf);
	r = hce_conf_load(&c, path);
	if (!r)
		r = parse_conf(cf, &c);
	return finish(cf, &c, r, err, errlen);
}

#define MERGE_STR(f) do { if (over->f[0]) strcpy(dst->f, over->f); } while (0)

void hced_conf_merge(struct hced_conf *dst, const struct hced_conf *over)
{
	const struct hce_nfcnl_listen *ol = &over->listen;
	struct hce_nfcnl_listen *dl = &dst->listen;

	MERGE_STR(card_db);
	MERGE_STR(device_secret);
	MERGE_STR(pin_file);
	MERGE_STR(nfc_device);
	MERGE_STR(vpcd);
	MERGE_STR(ctl_socket);
	MERGE_STR(ctl_group);
	MERGE_STR(trace_file);
	MERGE_STR(app_default);
	if (over->ndef_uri[0] || over->ndef_text[0] || over->ndef_msg_len) {
		/* One NDEF message: the overriding one replaces the file's. */
		strcpy(dst->ndef_uri, over->ndef_uri);
		strcpy(dst->ndef_text, over->ndef_text);
		strcpy(dst->ndef_lang, over->ndef_lang);
		memcpy(dst->ndef_msg, over->ndef_msg, over->ndef_msg_len);
		dst->ndef_msg_len = over->ndef_msg_len;
	}
	if (over->frontend != HCED_FE_UNSET)
		dst->frontend = over->frontend;
	if (over->log_level >= 0)
		dst->log_level = over->log_level;
	if (over->trace_on >= 0)
		dst->trace_on = over->trace_on;
	if (over->app_purse >= 0)
		dst->app_purse = over->app_purse;
	if (ol->has_uid) {
		dl->has_uid = true;
		dl->uid_random = ol->uid_random;
		memcpy(dl->uid, ol->uid, sizeof(dl->uid));
		dl->uid_len = ol->uid_len;
	}
	if (ol->has_fsci) {
		dl->has_fsci = true;
		dl->fsci = ol->fsci;
	}
	if (ol->has_fwi) {
		dl->has_fwi = true;
		dl->fwi = ol->fwi;
	}
	if (ol->has_sfgi) {
		dl->has_sfgi = true;
		dl->sfgi = ol->sfgi;
	}
	if (ol->has_wtx_max) {
		dl->has_wtx_max = true;
		dl->wtx_max = ol->wtx_max;
	}
	if (ol->has_hist) {
		dl->has_hist = true;
		memcpy(dl->hist, ol->hist, sizeof(dl->hist));
		dl->hist_len = ol->hist_len;
	}
}
