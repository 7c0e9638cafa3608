// SPDX-License-Identifier: GPL-2.0
/*
 * profile_conf.c - libFuzzer target for the profile/key-file reader (profile/conf.h).
 *
 * Input: the text of a profile (not NUL-terminated, in an exact-size buffer so ASan sees any
 * read past it). Checks the contract of conf.h: errors carry a "name:line: " message and
 * never quote a value (key files hold secrets); a parsed text gives well-formed keys, trimmed
 * values without control characters, unique (section, key) pairs that hce_conf_find()
 * returns, typed getters that answer 1 or -1 for a present key, and hce_conf_check_unused()
 * that reports exactly the keys nobody asked for.
 */
#include <string.h>

#include "fuzz.h"
#include "profile/conf.h"

static const char name[] = "fuzz.conf";

static int key_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

/*
 * The message must start with "fuzz.conf:" and must not contain a long value verbatim, unless
 * the value also occurs in what messages legitimately quote: the section and key names with
 * their surroundings ("[section] key", "'key' in [section]").
 */
static void check_message(const struct hce_conf *c, const struct hce_conf_entry *e)
{
	const char *m = hce_conf_error(c);
	size_t n;
	char *ctx;

	FUZZ_CHECK(strncmp(m, name, strlen(name)) == 0 && m[strlen(name)] == ':');
	if (!e || strlen(e->value) < 16 || !strstr(m, e->value))
		return;
	n = 2 * strlen(e->section) + 2 * strlen(e->key) + 32;
	ctx = malloc(n);
	FUZZ_CHECK(ctx);
	snprintf(ctx, n, "[%s] %s: '%s' in [%s]", e->section, e->key, e->key, e->section);
	FUZZ_CHECK(strstr(ctx, e->value));
	free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	struct hce_conf c;
	size_t i, j;

	FUZZ_CHECK(text);
	memcpy(text, data, size);
	if (hce_conf_parse(&c, name, text, size) != 0) {
		check_message(&c, NULL);
		hce_conf_free(&c);
		free(text);
		return 0;
	}
	FUZZ_CHECK(c.n_entries <= HCE_CONF_ENTRIES_MAX);
	FUZZ_CHECK(size <= HCE_CONF_TEXT_MAX);

	for (i = 0; i < c.n_entries; i++) {
		const struct hce_conf_entry *e = &c.entries[i];
		size_t kl = strlen(e->key), vl = strlen(e->value);

		FUZZ_CHECK(kl > 0);
		for (j = 0; j < kl; j++)
			FUZZ_CHECK(key_char(e->key[j]));
		for (j = 0; j < vl; j++)
			FUZZ_CHECK((unsigned char)e->value[j] >= 0x20 || e->value[j] == '\t');
		FUZZ_CHECK(vl == 0 || (e->value[0] != ' ' && e->value[0] != '\t'));
		FUZZ_CHECK(vl == 0 || (e->value[vl - 1] != ' ' && e->value[vl - 1] != '\t'));
		FUZZ_CHECK(e->line >= 1);
		FUZZ_CHECK(!e->section[0] || hce_conf_has_section(&c, e->section));
		FUZZ_CHECK(!e->used);
	}
	for (i = 0; i < hce_conf_section_count(&c); i++) {
		const struct hce_conf_section *s = hce_conf_section_at(&c, i);
		uint32_t n;
		int r;

		FUZZ_CHECK(s && hce_conf_has_section(&c, s->name));
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(hce_conf_section_at(&c, j)->name, s->name) != 0);
		r = hce_conf_section_arg(&c, s, "purchase-key", 255, &n);
		FUZZ_CHECK(r == 1 ? n <= 255 : r == 0 || r == -1);
		if (r == -1)
			check_message(&c, NULL);
	}
	FUZZ_CHECK(hce_conf_section_at(&c, hce_conf_section_count(&c)) == NULL);

	/* Leave the first key unasked: check_unused must name it (by key, never by value). */
	for (i = 1; i < c.n_entries; i++) {
		const struct hce_conf_entry *e = &c.entries[i];
		const char *txt = NULL;
		uint8_t bytes[64];
		uint64_t u = 0;
		size_t bl = 0;
		int r;

		FUZZ_CHECK(hce_conf_find(&c, e->section, e->key) == e);
		r = hce_conf_get_text(&c, e->section, e->key, true, 16, &txt);
		if (r == 1)
			FUZZ_CHECK(txt == e->value && strlen(txt) <= 16);
		else
			FUZZ_CHECK(r == -1 && strlen(e->value) > 16);
		r = hce_conf_get_uint(&c, e->section, e->key, true, 0, 1000000, &u);
		FUZZ_CHECK(r == 1 || r == -1);
		if (r == 1)
			FUZZ_CHECK(u <= 1000000);
		else
			check_message(&c, e);
		r = hce_conf_get_hex(&c, e->section, e->key, true, bytes, 1, sizeof(bytes), &bl);
		FUZZ_CHECK(r == 1 || r == -1);
		if (r == 1)
			FUZZ_CHECK(bl >= 1 && bl <= sizeof(bytes));
		else
			check_message(&c, e);
		FUZZ_CHECK(e->used);
	}
	if (c.n_entries) {
		FUZZ_CHECK(hce_conf_check_unused(&c) == -1);
		check_message(&c, &c.entries[0]);
		/* It names the key (unless the message was cut at HCE_CONF_ERR_MAX). */
		FUZZ_CHECK(strstr(hce_conf_error(&c), c.entries[0].key) ||
			   strlen(hce_conf_error(&c)) == HCE_CONF_ERR_MAX - 1);
		FUZZ_CHECK(hce_conf_find(&c, c.entries[0].section, c.entries[0].key) ==
			   &c.entries[0]);
	}
	FUZZ_CHECK(hce_conf_check_unused(&c) == 0);
	FUZZ_CHECK(hce_conf_get_text(&c, "no such section\n", "k", false, 1, NULL) == 0);
	hce_conf_free(&c);
	free(text);
	return 0;
}
