// SPDX-License-Identifier: GPL-2.0
/*
 * ndef_record_test.c - NDEF records (ndef/ndef.h): the builder against byte strings written
 * out from NFC Forum NDEF 1.0 / RTD-URI 1.0 / RTD-Text 1.0, and the validator on each rule of
 * NDEF 1.0 section 3 (MB/ME, CF chunks, SR/IL, TNF, lengths).
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"

#include "codec/hex.h"
#include "ndef/ndef.h"

static char *hex(const uint8_t *b, size_t n)
{
	static char s[2 * 600 + 1];

	if (hce_hex_encode(b, n, s, sizeof(s)))
		abort();
	return s;
}

static int validate_hex(const char *h, char *err, size_t errlen)
{
	uint8_t b[300];
	ssize_t n = hce_hex_decode(h, b, sizeof(b));

	if (n < 0)
		abort();
	return hce_ndef_validate(b, (size_t)n, err, errlen);
}

/* RTD-URI 3.2.2: the longest matching prefix is abbreviated. */
TEST(uri_record_https_www_code_02_byte_exact)
{
	uint8_t m[64];
	size_t len;

	ASSERT_EQ(0, hce_ndef_build_uri("https://www.example.com", m, sizeof(m), &len));
	/* D1: MB ME SR TNF=1; type length 1; payload 0C; type 'U'; code 02; "example.com" */
	EXPECT_STREQ("D1010C55026578616D706C652E636F6D", hex(m, len));
	EXPECT_EQ(1, hce_ndef_validate(m, len, NULL, 0));
}

TEST(uri_identifier_code_table)
{
	size_t pl;

	EXPECT_EQ(0x01, hce_ndef_uri_code("http://www.a", &pl));
	EXPECT_EQ(11u, pl);
	EXPECT_EQ(0x03, hce_ndef_uri_code("http://a", &pl));
	EXPECT_EQ(0x04, hce_ndef_uri_code("https://a", &pl));
	EXPECT_EQ(0x05, hce_ndef_uri_code("tel:+8610", &pl));
	EXPECT_EQ(0x06, hce_ndef_uri_code("mailto:a@b", &pl));
	EXPECT_EQ(0x07, hce_ndef_uri_code("ftp://anonymous:anonymous@h", &pl));
	EXPECT_EQ(0x0D, hce_ndef_uri_code("ftp://h", &pl));
	EXPECT_EQ(0x13, hce_ndef_uri_code("urn:x", &pl));
	EXPECT_EQ(0x1D, hce_ndef_uri_code("file:///tmp", &pl));
	EXPECT_EQ(0x1E, hce_ndef_uri_code("urn:epc:id:sgtin", &pl));
	EXPECT_EQ(0x22, hce_ndef_uri_code("urn:epc:x", &pl));
	EXPECT_EQ(0x23, hce_ndef_uri_code("urn:nfc:wkt:U", &pl));
	EXPECT_EQ(8u, pl);
	EXPECT_EQ(0x00, hce_ndef_uri_code("geo:39.9,116.4", &pl));
	EXPECT_EQ(0u, pl);
	EXPECT_STREQ("urn:nfc:", hce_ndef_uri_prefix(0x23));
	EXPECT_EQ(NULL, hce_ndef_uri_prefix(0x00));
	EXPECT_EQ(NULL, hce_ndef_uri_prefix(0x24));
}

/* RTD-Text 3.2.1: status byte (UTF-8, language length), language, text. */
TEST(text_record_utf8_lang_byte_exact)
{
	uint8_t m[64];
	size_t len;

	ASSERT_EQ(0, hce_ndef_build_text("en", "Hello", m, sizeof(m), &len));
	EXPECT_STREQ("D101085402656E48656C6C6F", hex(m, len));
	ASSERT_EQ(0, hce_ndef_build_text("zh-CN", "\xE5\x85\xAC\xE4\xBA\xA4", m, sizeof(m), &len));
	EXPECT_STREQ("D1010C54057A682D434EE585ACE4BAA4", hex(m, len));
	EXPECT_EQ(-EINVAL, hce_ndef_build_text("", "x", m, sizeof(m), &len));
	EXPECT_EQ(-EINVAL, hce_ndef_build_text("e n", "x", m, sizeof(m), &len));
	EXPECT_EQ(-EINVAL, hce_ndef_build_uri("", m, sizeof(m), &len));
}

/* NDEF 1.0 3.2.4: payloads over 255 bytes use the 4-byte PAYLOAD_LENGTH (SR clear). */
TEST(long_payload_uses_normal_record)
{
	uint8_t m[400];
	char uri[301];
	size_t len;

	memset(uri, 'a', 300);
	uri[300] = 0;
	ASSERT_EQ(0, hce_ndef_build_uri(uri, m, sizeof(m), &len));
	EXPECT_EQ(1u + 1 + 4 + 1 + 301, len);
	EXPECT_EQ(0xC1, m[0]);		/* MB ME TNF 1, no SR */
	EXPECT_EQ(0, memcmp(m + 1, "\x01\x00\x00\x01\x2D\x55\x00", 7));
	EXPECT_EQ(1, hce_ndef_validate(m, len, NULL, 0));
	/* one byte short of space */
	EXPECT_EQ(-ENOSPC, hce_ndef_build_uri(uri, m, len - 1, &len));
}

TEST(builder_multi_record_mb_first_me_last_with_id)
{
	struct hce_ndef_builder b;
	uint8_t m[128];
	size_t len;

	hce_ndef_builder_init(&b, m, sizeof(m));
	EXPECT_EQ(-EINVAL, hce_ndef_finish(&b, &len));		/* no record */
	ASSERT_EQ(0, hce_ndef_add_uri(&b, "tel:+861012345"));
	ASSERT_EQ(0, hce_ndef_add_text(&b, "en", "Hi"));
	ASSERT_EQ(0, hce_ndef_add_record(&b, HCE_TNF_MEDIA, "text/plain", 10, "id", 2, "x", 1));
	ASSERT_EQ(0, hce_ndef_finish(&b, &len));
	EXPECT_STREQ("91010B55052B383631303132333435"
		     "110105540265" "6E4869"
		     "5A0A0102746578742F706C61696E696478", hex(m, len));
	EXPECT_EQ(3, hce_ndef_validate(m, len, NULL, 0));
	/* bad arguments fail the builder for good */
	hce_ndef_builder_init(&b, m, sizeof(m));
	EXPECT_EQ(-EINVAL, hce_ndef_add_record(&b, HCE_TNF_WELL_KNOWN, NULL, 0, NULL, 0, NULL, 0));
	EXPECT_EQ(-EINVAL, hce_ndef_add_uri(&b, "http://x"));
	EXPECT_EQ(-EINVAL, hce_ndef_finish(&b, &len));
	hce_ndef_builder_init(&b, m, sizeof(m));
	EXPECT_EQ(-EINVAL, hce_ndef_add_record(&b, HCE_TNF_EMPTY, "x", 1, NULL, 0, NULL, 0));
	hce_ndef_builder_init(&b, m, sizeof(m));
	EXPECT_EQ(-EINVAL, hce_ndef_add_record(&b, HCE_TNF_UNCHANGED, NULL, 0, NULL, 0, NULL, 0));
	hce_ndef_builder_init(&b, m, sizeof(m));
	ASSERT_EQ(0, hce_ndef_add_record(&b, HCE_TNF_EMPTY, NULL, 0, NULL, 0, NULL, 0));
	ASSERT_EQ(0, hce_ndef_finish(&b, &len));
	EXPECT_STREQ("D00000", hex(m, len));
}

/* --- validator: NDEF 1.0 section 3 rules ------------------------------------------------- */

TEST(validate_accepts_well_formed)
{
	EXPECT_EQ(1, validate_hex("D00000", NULL, 0));			/* empty record */
	EXPECT_EQ(1, validate_hex("D101085402656E48656C6C6F", NULL, 0));
	EXPECT_EQ(1, validate_hex("C1010000000154" "00", NULL, 0));	/* normal length */
	EXPECT_EQ(1, validate_hex("D9010101" "55" "AA" "00", NULL, 0));	/* IL, 1-byte id */
	EXPECT_EQ(1, validate_hex("D50000", NULL, 0));			/* TNF 5 unknown */
	/* chunked: first (CF, TNF 1), middle (CF, TNF 6), terminating (ME, TNF 6) */
	EXPECT_EQ(1, validate_hex("B1010154" "AA" "36000" "1BB" "560001CC", NULL, 0));
	/* two records, the second chunked */
	EXPECT_EQ(2, validate_hex("9101015400" "31010154AA" "560001BB", NULL, 0));
}

TEST(validate_rejects_each_rule)
{
	static const struct {
		const char *hex, *why;
	} bad[] = {
		{ "", "empty message" },
		{ "D1", "truncated" },
		{ "D10105540265", "truncated" },			/* payload short */
		{ "C101FFFFFFFF54", "truncated" },			/* 4 GiB payload */
		{ "D9010155", "truncated" },				/* IL, no id length */
		{ "51010154AA", "MB" },					/* no MB */
		{ "91010154AA" "D1010154AA", "MB" },			/* MB twice */
		{ "91010154AA", "ME" },					/* no ME */
		{ "D1010154AA" "51010154AA", "after the ME" },
		{ "D7000000", "reserved TNF" },
		{ "D0010154AA", "empty TNF" },
		{ "D0000100", "empty TNF" },
		{ "D5010154AA", "TNF 5/6 with a type" },			/* TNF 5 + type */
		{ "D1000100", "without a type" },			/* TNF 1, no type */
		{ "D4000100", "without a type" },			/* TNF 4, no type */
		{ "D6000100", "outside a chunked" },			/* TNF 6 alone */
		{ "F1010154AA", "ME on a chunk" },			/* CF + ME */
		{ "B1010154AA" "510101" "54BB", "chunk not TNF 6" },	/* TNF 1 in a chunk */
		{ "B1010154AA" "5E000101CC" "DD", "chunk not TNF 6" },	/* IL in a chunk */
		{ "B1010154AA", "ME" },					/* chunk never ends */
	};
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		EXPECT_EQ(-EBADMSG, validate_hex(bad[i].hex, err, sizeof(err)))
			TH_LOG("case %zu: %s", i, bad[i].hex);
		EXPECT_NE(NULL, strstr(err, bad[i].why)) TH_LOG("case %zu: %s", i, err);
	}
	EXPECT_EQ(-EBADMSG, hce_ndef_validate(NULL, 0, NULL, 0));
}

TEST(next_reads_fields_and_leaves_reader_on_truncation)
{
	const uint8_t m[] = { 0xD9, 0x01, 0x02, 0x01, 'U', 'I', 0x00, 0x41, 0xD1 };
	struct hce_rd r = hce_rd_init(m, sizeof(m));
	struct hce_ndef_record rec;

	ASSERT_EQ(1, hce_ndef_next(&r, &rec));
	EXPECT_EQ(HCE_NDEF_MB | HCE_NDEF_ME | HCE_NDEF_SR | HCE_NDEF_IL, rec.flags);
	EXPECT_EQ(1, rec.tnf);
	EXPECT_EQ(1u, rec.type_len);
	EXPECT_EQ('U', rec.type[0]);
	EXPECT_EQ(1u, rec.id_len);
	EXPECT_EQ('I', rec.id[0]);
	EXPECT_EQ(2u, rec.payload_len);
	EXPECT_EQ(0x41, rec.payload[1]);
	EXPECT_EQ(1u, hce_rd_left(&r));
	EXPECT_EQ(-1, hce_ndef_next(&r, &rec));
	EXPECT_EQ(1u, hce_rd_left(&r));
	r = hce_rd_init(m, 0);
	EXPECT_EQ(0, hce_ndef_next(&r, &rec));
}

TEST_HARNESS_MAIN
