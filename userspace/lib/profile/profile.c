// SPDX-License-Identifier: GPL-2.0
/* profile.c - card profiles; see profile.h and Documentation/profile.md. */
#include "profile/profile.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "profile/conf.h"

static bool is_leap(unsigned int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int hce_profile_parse_date(const char *text, uint8_t bcd[4])
{
	static const unsigned int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned int y, m, d, i, max;

	for (i = 0; i < 8; i++)
		if (text[i] < '0' || text[i] > '9')
			return -1;
	if (text[8])
		return -1;
	y = (unsigned int)((text[0] - '0') * 1000 + (text[1] - '0') * 100 + (text[2] - '0') * 10 +
			   (text[3] - '0'));
	m = (unsigned int)((text[4] - '0') * 10 + (text[5] - '0'));
	d = (unsigned int)((text[6] - '0') * 10 + (text[7] - '0'));
	if (y < 1900 || y > 2099 || m < 1 || m > 12)
		return -1;
	max = mdays[m - 1] + (m == 2 && is_leap(y));
	if (d < 1 || d > max)
		return -1;
	for (i = 0; i < 4; i++)
		bcd[i] = (uint8_t)((text[2 * i] - '0') << 4 | (text[2 * i + 1] - '0'));
	return 0;
}

static int get_date(struct hce_conf *c, const char *key, uint8_t bcd[4])
{
	const char *t;
	const struct hce_conf_entry *e;

	if (hce_conf_get_text(c, "card", key, true, 8, &t) < 0)
		return -1;
	if (hce_profile_parse_date(t, bcd) == 0)
		return 0;
	e = hce_conf_find(c, "card", key);
	return hce_conf_fail(c, e ? e->line : 0, "[card] %s: expected a date YYYYMMDD", key);
}

static int get_byte(struct hce_conf *c, const char *section, const char *key, uint8_t *out)
{
	return hce_conf_get_hex(c, section, key, true, out, 1, 1, NULL) < 0 ? -1 : 0;
}

static int parse_card(struct hce_conf *c, struct hce_profile *p)
{
	struct hce_card_data *cd = &p->card;
	uint8_t *ef = cd->ef0015;
	uint8_t reserved[2] = { 0, 0 };
	size_t n;

	if (!hce_conf_has_section(c, "card"))
		return hce_conf_fail(c, 0, "missing section [card]");
	if (hce_conf_get_hex(c, "card", "aid", true, cd->aid, HCE_STORE_AID_MIN,
			     HCE_STORE_AID_MAX, &cd->aid_len) < 0)
		return -1;
	if (hce_conf_get_hex(c, "card", "issuer-id", true, ef, 8, 8, NULL) < 0 ||
	    get_byte(c, "card", "app-type", &ef[8]) || get_byte(c, "card", "app-version", &ef[9]) ||
	    hce_conf_get_hex(c, "card", "serial", true, p->serial, HCE_PROFILE_SERIAL_LEN,
			     HCE_PROFILE_SERIAL_LEN, NULL) < 0 ||
	    get_date(c, "start-date", &ef[20]) || get_date(c, "expiry-date", &ef[24]) ||
	    hce_conf_get_hex(c, "card", "reserved", false, reserved, 2, 2, NULL) < 0)
		return -1;
	memcpy(&ef[10], p->serial, HCE_PROFILE_SERIAL_LEN);
	memcpy(&ef[28], reserved, 2);
	cd->app_version = ef[9];
	if (memcmp(&ef[24], &ef[20], 4) < 0)
		return hce_conf_fail(c, hce_conf_find(c, "card", "expiry-date")->line,
				     "[card] expiry-date precedes start-date");
	if (hce_conf_get_hex(c, "card", "holder", true, cd->ef0016, 1, HCE_EF0016_MAX, &n) < 0)
		return -1;
	cd->ef0016_len = n;
	if (hce_conf_get_hex(c, "card", "management", true, cd->ef0017, HCE_EF0017_LEN,
			     HCE_EF0017_LEN, NULL) < 0)
		return -1;
	return 0;
}

static int parse_purse(struct hce_conf *c, struct hce_profile *p)
{
	struct hce_card_data *cd = &p->card;
	uint64_t v;

	if (!hce_conf_has_section(c, "purse"))
		return hce_conf_fail(c, 0, "missing section [purse]");
	/* the balance is a signed 32-bit amount on the card (purse.md "Overdraft") */
	if (hce_conf_get_uint(c, "purse", "balance", true, 0, HCE_BALANCE_MAX, &v) < 0)
		return -1;
	cd->balance = (uint32_t)v;
	v = UINT32_MAX;
	if (hce_conf_get_uint(c, "purse", "max-balance", false, cd->balance, UINT32_MAX, &v) < 0)
		return -1;
	cd->max_balance = (uint32_t)v;
	v = 0;
	if (hce_conf_get_uint(c, "purse", "overdraft-limit", false, 0, HCE_OVERDRAFT_MAX, &v) < 0)
		return -1;
	cd->overdraft_limit = (uint32_t)v;
	v = 0;
	if (hce_conf_get_uint(c, "purse", "ctc", false, 0, UINT16_MAX, &v) < 0)
		return -1;
	cd->ctc = (uint16_t)v;
	v = 0;
	if (hce_conf_get_uint(c, "purse", "online-counter", false, 0, UINT16_MAX, &v) < 0)
		return -1;
	cd->online_counter = (uint16_t)v;
	return 0;
}

/* One key section: fill slot (index given) and the store's key table entry. */
static int parse_key(struct hce_conf *c, const struct hce_conf_section *s, uint8_t kind,
		     uint8_t index, struct hce_key_slot *slot, struct hce_profile *p)
{
	const struct hce_conf_entry *has_key, *has_master;
	uint8_t mk[HCE_KEY_LEN];
	int ret = -1;

	if (get_byte(c, s->name, "alg", &slot->alg) || get_byte(c, s->name, "version",
								 &slot->version))
		return -1;
	if (slot->alg != HCE_ALG_3DES && slot->alg != HCE_ALG_SM4)
		return hce_conf_fail(c, hce_conf_find(c, s->name, "alg")->line,
				     "[%s] alg: expected 00 (DES/3DES) or 04 (SM4)", s->name);
	has_key = hce_conf_find(c, s->name, "key");
	has_master = hce_conf_find(c, s->name, "master");
	if (!!has_key == !!has_master)
		return hce_conf_fail(c, s->line, "[%s] needs exactly one of 'key' and 'master'",
				     s->name);
	if (has_key) {
		if (hce_conf_get_hex(c, s->name, "key", true, slot->key, HCE_KEY_LEN, HCE_KEY_LEN,
				     NULL) < 0)
			return -1;
	} else {
		if (hce_conf_get_hex(c, s->name, "master", true, mk, HCE_KEY_LEN, HCE_KEY_LEN,
				     NULL) < 0)
			return -1;
		if (hce_diversify((enum hce_alg)slot->alg, mk, &p->serial[2], slot->key)) {
			hce_conf_fail(c, s->line, "[%s] key diversification failed", s->name);
			goto out;
		}
	}
	for (size_t i = 0; i < p->card.n_keys; i++) {
		if (p->card.keys[i].kind == kind && p->card.keys[i].index == index) {
			hce_conf_fail(c, s->line, "[%s]: key index %u given twice", s->name, index);
			goto out;
		}
	}
	slot->present = true;
	slot->index = index;
	if (p->card.n_keys >= HCE_STORE_KEYS_MAX) {
		hce_conf_fail(c, s->line, "too many keys");
		goto out;
	}
	p->card.keys[p->card.n_keys].kind = kind;
	p->card.keys[p->card.n_keys].index = index;
	p->card.keys[p->card.n_keys].version = slot->version;
	p->card.keys[p->card.n_keys].alg = slot->alg;
	p->card.n_keys++;
	ret = 0;
out:
	hce_wipe(mk, sizeof(mk));
	return ret;
}

static int parse_keys(struct hce_conf *c, struct hce_profile *p)
{
	size_t i, n_dpk = 0, n_dlk = 0;
	bool dtk = false;

	for (i = 0; i < hce_conf_section_count(c); i++) {
		const struct hce_conf_section *s = hce_conf_section_at(c, i);
		uint32_t idx;
		int r;

		if (!strcmp(s->name, "card") || !strcmp(s->name, "purse"))
			continue;
		if (!strcmp(s->name, "tac-key")) {
			if (parse_key(c, s, HCE_KEY_DTK, 0, &p->keys.dtk, p))
				return -1;
			dtk = true;
			continue;
		}
		r = hce_conf_section_arg(c, s, "purchase-key", 255, &idx);
		if (r < 0)
			return -1;
		if (r > 0) {
			if (idx == 0)
				return hce_conf_fail(c, s->line, "key index must be 1..255");
			if (n_dpk >= HCE_KEY_SLOTS)
				return hce_conf_fail(c, s->line, "more than %d purchase keys",
						     HCE_KEY_SLOTS);
			if (parse_key(c, s, HCE_KEY_DPK, (uint8_t)idx, &p->keys.dpk[n_dpk++], p))
				return -1;
			continue;
		}
		r = hce_conf_section_arg(c, s, "load-key", 255, &idx);
		if (r < 0)
			return -1;
		if (r > 0) {
			if (idx == 0)
				return hce_conf_fail(c, s->line, "key index must be 1..255");
			if (n_dlk >= HCE_KEY_SLOTS)
				return hce_conf_fail(c, s->line, "more than %d load keys",
						     HCE_KEY_SLOTS);
			if (parse_key(c, s, HCE_KEY_DLK, (uint8_t)idx, &p->keys.dlk[n_dlk++], p))
				return -1;
			continue;
		}
		r = hce_conf_section_arg(c, s, "capp-record", HCE_CAPP_RECORDS, &idx);
		if (r < 0)
			return -1;
		if (r > 0) {
			if (idx == 0)
				return hce_conf_fail(c, s->line, "record number must be 1..%d",
						     HCE_CAPP_RECORDS);
			if (hce_conf_get_hex(c, s->name, "data", true, p->card.capp[idx - 1],
					     HCE_CAPP_RECORD_LEN, HCE_CAPP_RECORD_LEN, NULL) < 0)
				return -1;
			p->card.capp_present[idx - 1] = 1;
			continue;
		}
		return hce_conf_fail(c, s->line, "unknown section [%s]", s->name);
	}
	if (!n_dpk)
		return hce_conf_fail(c, 0, "no [purchase-key N] section");
	if (!n_dlk)
		return hce_conf_fail(c, 0, "no [load-key N] section");
	if (!dtk)
		return hce_conf_fail(c, 0, "no [tac-key] section");
	return 0;
}

static int finish(struct hce_profile *p, struct hce_conf *c, int ret, char *err, size_t errlen)
{
	if (!ret)
		ret = hce_conf_check_unused(c);
	if (ret) {
		if (errlen)
			snprintf(err, errlen, "%s", hce_conf_error(c));
		hce_profile_wipe(p);
	} else if (errlen) {
		err[0] = '\0';
	}
	hce_conf_free(c);
	return ret ? -1 : 0;
}

static int parse_conf(struct hce_conf *c, struct hce_profile *p)
{
	if (parse_card(c, p) || parse_purse(c, p) || parse_keys(c, p))
		return -1;
	return 0;
}

int hce_profile_parse(struct hce_profile *p, const char *name, const char *text, size_t len,
		      char *err, size_t errlen)
{
	struct hce_conf c;

	memset(p, 0, sizeof(*p));
	if (hce_conf_parse(&c, name, text, len))
		return finish(p, &c, -1, err, errlen);
	return finish(p, &c, parse_conf(&c, p), err, errlen);
}

int hce_profile_load(struct hce_profile *p, const char *path, char *err, size_t errlen)
{
	struct hce_conf c;

	memset(p, 0, sizeof(*p));
	if (hce_conf_load(&c, path))
		return finish(p, &c, -1, err, errlen);
	return finish(p, &c, parse_conf(&c, p), err, errlen);
}

void hce_profile_wipe(struct hce_profile *p)
{
	hce_wipe(p, sizeof(*p));
}
