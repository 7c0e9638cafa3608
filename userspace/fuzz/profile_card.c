// SPDX-License-Identifier: GPL-2.0
/*
 * profile_card.c - libFuzzer target for the card profile parser (profile/profile.h), checked
 * end to end: a profile that parses must make a card. Input: the profile text.
 *   - failure: -1, a "fuzz.profile:<line>: " message that quotes no key value (every `key` /
 *     `master` value of the input, as hex digits, is absent from it), the profile wiped;
 *   - success: the store accepts the card data (hce_store_personalise in a fresh file), the
 *     purse opens over it with the profile's keys (every key the card names is present with
 *     its version and algorithm), SELECT by the profile's AID answers the FCI with EF 0015
 *     of the profile, GET BALANCE the profile's balance, and the serial is EF 0015[10..19];
 *   - every key given as `master` is hce_diversify(alg, master, serial[2..9]), every key given
 *     as `key` is that value (read back with conf.h from the same text).
 */
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "crypto/crypto.h"
#include "fuzz.h"
#include "profile/conf.h"
#include "profile/profile.h"
#include "purse/purse.h"
#include "store/store.h"

static char dir[128], path[160];

static void remove_store_files(void)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[200];
	size_t i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		unlink(p);
	}
}

static void cleanup(void)
{
	remove_store_files();
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("HCE_FUZZ_TMPDIR");

	if (!base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/hce-fuzz-XXXXXX", base);
	FUZZ_CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/card.db", dir);
	FUZZ_CHECK(atexit(cleanup) == 0);
	return 0;
}

/* Occurrences of needle (n bytes) in hay (len bytes). */
static size_t count(const char *hay, size_t len, const char *needle, size_t n)
{
	size_t c = 0, i;

	for (i = 0; n && i + n <= len; i++)
		if (!memcmp(hay + i, needle, n))
			c++;
	return c;
}

/*
 * No `key = ...` / `master = ...` value (16+ characters, trimmed) of the input appears in msg,
 * unless the same text also occurs elsewhere in the input (then msg may be quoting a name).
 */
static void check_no_key_in(const char *text, size_t len, const char *msg)
{
	size_t i = 0;

	while (i < len) {
		size_t e = i, k;
		const char *eq;

		while (e < len && text[e] != '\n')
			e++;
		for (k = i; k < e && (text[k] == ' ' || text[k] == '\t'); k++)
			;
		eq = memchr(text + k, '=', e - k);
		if (eq && ((e - k > 3 && !strncmp(text + k, "key", 3)) ||
			   (e - k > 6 && !strncmp(text + k, "master", 6)))) {
			const char *v = eq + 1, *ve = text + e;
			char buf[1100];
			size_t vn;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
				ve--;
			vn = (size_t)(ve - v);
			if (vn >= 16 && vn < sizeof(buf) && !memchr(v, '\0', vn)) {
				memcpy(buf, v, vn);
				buf[vn] = '\0';
				if (strstr(msg, buf))
					FUZZ_CHECK(count(text, len, buf, vn) > 1);
			}
		}
		i = e + 1;
	}
}

/* The slot of kind ("purchase-key", "load-key", "tac-key") and index in keys. */
static const struct hce_key_slot *slot_of(const struct hce_card_keys *k, const char *kind,
					  uint32_t index)
{
	const struct hce_key_slot *s = !strcmp(kind, "load-key") ? k->dlk : k->dpk;
	int i;

	if (!strcmp(kind, "tac-key"))
		return k->dtk.present ? &k->dtk : NULL;
	for (i = 0; i < HCE_KEY_SLOTS; i++)
		if (s[i].present && s[i].index == index)
			return &s[i];
	return NULL;
}

/* Every key section's key equals its `key`, or the diversification of its `master`. */
static void check_keys(const char *text, size_t len, const struct hce_profile *p)
{
	static const char *const kinds[] = { "purchase-key", "load-key" };
	struct hce_conf c;
	size_t i, j;

	FUZZ_CHECK(hce_conf_parse(&c, "again", text, len) == 0);
	for (i = 0; i < hce_conf_section_count(&c); i++) {
		const struct hce_conf_section *s = hce_conf_section_at(&c, i);
		const struct hce_key_slot *slot = NULL;
		uint8_t alg, mk[16], want[16];
		uint32_t n = 0;

		for (j = 0; j < 2 && !slot; j++)
			if (hce_conf_section_arg(&c, s, kinds[j], 255, &n) == 1)
				slot = slot_of(&p->keys, kinds[j], n);
		if (!slot && !strcmp(s->name, "tac-key"))
			slot = slot_of(&p->keys, "tac-key", 0);
		if (!slot)
			continue;
		FUZZ_CHECK(hce_conf_get_hex(&c, s->name, "alg", true, &alg, 1, 1, NULL) == 1);
		FUZZ_CHECK(slot->alg == alg);
		if (hce_conf_get_hex(&c, s->name, "master", false, mk, 16, 16, NULL) == 1) {
			FUZZ_CHECK(hce_diversify((enum hce_alg)alg, mk, p->serial + 2, want) == 0);
		} else {
			FUZZ_CHECK(hce_conf_get_hex(&c, s->name, "key", true, want, 16, 16, NULL) ==
				   1);
		}
		FUZZ_CHECK(!memcmp(slot->key, want, 16));
		hce_wipe(mk, sizeof(mk));
		hce_wipe(want, sizeof(want));
	}
	hce_conf_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1), err[256], serr[HCE_STORE_ERR_MAX];
	static const uint8_t zero[sizeof(struct hce_card_keys)];
	uint8_t capdu[32], rsp[HCE_RAPDU_MIN_CAP];
	struct hce_profile p;
	struct hce_store *st;
	struct hce_purse *purse;
	struct hce_app *app;
	size_t n;

	FUZZ_CHECK(text);
	memcpy(text, data, size);
	memset(err, 0, sizeof(err));
	if (hce_profile_parse(&p, "fuzz.profile", text, size, err, sizeof(err)) != 0) {
		FUZZ_CHECK(!strncmp(err, "fuzz.profile:", 13));
		check_no_key_in(text, size, err);
		FUZZ_CHECK(!memcmp(&p.keys, zero, sizeof(p.keys)));
		free(text);
		return 0;
	}
	FUZZ_CHECK(!memcmp(p.serial, p.card.ef0015 + 10, HCE_PROFILE_SERIAL_LEN));
	check_keys(text, size, &p);

	remove_store_files();
	FUZZ_CHECK(hce_store_open(path, HCE_STORE_CREATE, &st, serr) == 0);
	if (hce_store_personalise(st, &p.card, 0) != 0) {
		fprintf(stderr, "store refused a parsed profile: %s\n", hce_store_errmsg(st));
		FUZZ_CHECK(!"a profile that parses is a card the store accepts");
	}
	FUZZ_CHECK(hce_purse_open(st, &p.keys, &purse) == 0);
	app = hce_purse_app(purse);

	capdu[0] = 0x00;
	capdu[1] = 0xA4;
	capdu[2] = 0x04;
	capdu[3] = 0x00;
	capdu[4] = (uint8_t)p.card.aid_len;
	memcpy(capdu + 5, p.card.aid, p.card.aid_len);
	n = hce_app_process(app, capdu, 5 + p.card.aid_len, rsp, sizeof(rsp));
	FUZZ_CHECK(n >= 2 + 30 && rsp[n - 2] == 0x90 && rsp[n - 1] == 0x00);
	FUZZ_CHECK(!memcmp(rsp + n - 2 - 30, p.card.ef0015, 30));
	n = hce_app_process(app, (const uint8_t *)"\x80\x5C\x00\x02\x04", 5, rsp, sizeof(rsp));
	FUZZ_CHECK(n == 6 && rsp[4] == 0x90);
	FUZZ_CHECK(((uint32_t)rsp[0] << 24 | (uint32_t)rsp[1] << 16 | (uint32_t)rsp[2] << 8 |
		    rsp[3]) == p.card.balance);

	hce_purse_close(purse);
	hce_store_close(st);
	hce_profile_wipe(&p);
	free(text);
	return 0;
}
