// SPDX-License-Identifier: GPL-2.0
/*
 * issuer_lib_test - lib/issuer: records (strict parsing), clearing arithmetic against the
 * real purse (purchase TAC, load MAC1/MAC2/TAC through lib/purse in-process), sealing,
 * request signatures, key blob, validators. Test keys from purse_fixture.h.
 */
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "issuer/issuer.h"
#include "kselftest_harness.h"
#include "purse_fixture.h"

static const char good_rec[] =
	"{\"serial\":\"0310990000000000000001\",\"counter\":1,\"type\":6,\"amount\":100,"
	"\"terminal\":\"112233445500\",\"ttc\":256,\"date\":\"20261125\",\"time\":\"204500\","
	"\"tac\":\"01020304\"}";

static int parse(const char *txt, struct hce_iss_record *r, char *why)
{
	json_t *o = json_loads(txt, 0, NULL);
	int rc = o ? hce_iss_record_parse(o, r, why) : -2;

	json_decref(o);
	return rc;
}

TEST(record_parse_strict_fields_hex_bcd_type)
{
	struct hce_iss_record r;
	char why[HCE_ISS_WHY_MAX];
	char buf[512];
	json_t *o;

	/* serial is 10 bytes: the 11-byte text above is refused. */
	EXPECT_EQ(-1, parse(good_rec, &r, why));
	EXPECT_NE(NULL, strstr(why, "serial"));
	snprintf(buf, sizeof(buf), "%s", good_rec);
	memmove(strstr(buf, "0310990000000000000001") + 20, strstr(buf, "0310990000000000000001") + 22,
		strlen(strstr(buf, "0310990000000000000001") + 22) + 1);
	ASSERT_EQ(0, parse(buf, &r, why)) {
		TH_LOG("%s", why);
	}
	EXPECT_EQ(1, r.counter);
	EXPECT_EQ(6, r.type);
	EXPECT_EQ(100, r.amount);
	EXPECT_EQ(256, r.ttc);
	/* Round trip. */
	o = hce_iss_record_json(&r);
	ASSERT_NE(NULL, o);
	if (o) {
		struct hce_iss_record r2;

		ASSERT_EQ(0, hce_iss_record_parse(o, &r2, why));
		EXPECT_EQ(1, hce_iss_record_same(&r, &r2));
		r2.amount++;
		EXPECT_EQ(0, hce_iss_record_same(&r, &r2));
	}
	json_decref(o);
	/* Unknown field, wrong type, bad BCD, bad hex, negative, out of range. */
	o = json_loads(buf, 0, NULL);
	json_object_set_new(o, "extra", json_true());
	EXPECT_EQ(-1, hce_iss_record_parse(o, &r, why));
	EXPECT_NE(NULL, strstr(why, "unknown field"));
	json_object_del(o, "extra");
	json_object_set_new(o, "type", json_integer(7));
	EXPECT_EQ(-1, hce_iss_record_parse(o, &r, why));
	json_object_set_new(o, "type", json_integer(9));
	EXPECT_EQ(0, hce_iss_record_parse(o, &r, why));
	json_object_set_new(o, "date", json_string("20261325"));
	EXPECT_EQ(-1, hce_iss_record_parse(o, &r, why));
	json_object_set_new(o, "date", json_string("2026112g"));
	EXPECT_EQ(-1, hce_iss_record_parse(o, &r, why));
	json_object_set_new(o, "date", json_string("20261125"));
	json_object_set_new(o, "time", json_string("246000"));
	EXPECT_EQ(-1, hce_iss_record_parse(o, &r, why));
	json_object_set_new(o, "time", json_string("235959"));
	json_object_set_new(o, "counter", json_integer(65536));
	EXPECT_EQ(-1, hce_iss_record_parse(o, &r, why));
	json_object_set_new(o, "counter", json_integer(-1));
	EXPECT_EQ(-1, hce_iss_record_parse(o, &r, why));
	json_object_set_new(o, "counter", json_string("1"));
	EXPECT_EQ(-1, hce_iss_record_parse(o, &r, why));
	json_object_set_new(o, "counter", json_integer(65535));
	EXPECT_EQ(0, hce_iss_record_parse(o, &r, why));
	json_decref(o);
	EXPECT_EQ(-1, hce_iss_record_parse(json_array(), &r, why));
}

static void open_card(struct __test_metadata *_metadata, struct pf *f)
{
	memset(f, 0, sizeof(*f));
	pf_default_card(&f->card);
	pf_default_keys(&f->keys);
	ASSERT_EQ(0, pf_open(f));
	ASSERT_EQ(HCE_SW_OK, pf_xfer_hex(f, "00A4040008A000000632010105"));
}

TEST(purchase_tac_of_the_real_purse_verifies_forgery_does_not)
{
	struct hce_iss_record r;
	struct pf f;
	struct pf_tx t = pf_tx_make(321, 3);

	open_card(_metadata, &f);
	ASSERT_EQ(HCE_SW_OK, pf_purchase(&f, &t, HCE_TX_PURCHASE, 0, 0, NULL));
	memset(&r, 0, sizeof(r));
	memcpy(r.serial, f.card.ef0015 + 10, 10);
	r.counter = t.counter;
	r.type = HCE_ISS_TX_PURCHASE;
	r.amount = t.amount;
	memcpy(r.terminal, t.terminal, 6);
	r.ttc = hce_get_be32(t.ttc);
	memcpy(r.date, t.date, 4);
	memcpy(r.time, t.time, 3);
	memcpy(r.tac, t.tac, 4);
	EXPECT_EQ(1, hce_iss_record_tac_ok(&r, pf_dtk));
	r.amount++;
	EXPECT_EQ(0, hce_iss_record_tac_ok(&r, pf_dtk));
	r.amount--;
	r.ttc++;
	EXPECT_EQ(0, hce_iss_record_tac_ok(&r, pf_dtk));
	r.ttc--;
	{
		/* Another DTK (the fixture's keys all share DTK[0..7]^DTK[8..15]: change one half). */
		uint8_t k[16];

		memcpy(k, pf_dtk, 16);
		k[3] ^= 0x10;
		EXPECT_EQ(0, hce_iss_record_tac_ok(&r, k));
	}
	r.type = HCE_ISS_TX_LOAD;
	EXPECT_EQ(-1, hce_iss_record_tac_ok(&r, pf_dtk));
	pf_close(&f);
}

TEST(load_mac2_from_issuer_credits_the_real_purse_and_tac_matches)
{
	static const uint8_t term[6] = { 0x99, 0x99, 0, 0, 0, 1 };
	static const uint8_t date[4] = { 0x20, 0x26, 0x11, 0x25 }, tm[3] = { 0x21, 0x00, 0x01 };
	struct hce_iss_load_init li;
	uint8_t apdu[32], mac2[4], tac[4];
	uint32_t bal;
	struct pf f;

	open_card(_metadata, &f);
	memcpy(apdu, "\x80\x50\x00\x02\x0B\x01", 6);
	hce_put_be32(apdu + 6, 500);
	memcpy(apdu + 10, term, 6);
	apdu[16] = 0x10;
	ASSERT_EQ(HCE_SW_OK, pf_xfer(&f, apdu, 17));
	ASSERT_EQ(0, hce_iss_load_init_parse(f.rsp, pf_data_len(&f), &li));
	EXPECT_EQ(10000, li.balance);
	/* MAC1 for another amount or terminal is refused. */
	EXPECT_EQ(1, hce_iss_load_mac2(pf_dlk, &li, 501, term, date, tm, mac2));
	EXPECT_EQ(1, hce_iss_load_mac2(pf_dpk, &li, 500, term, date, tm, mac2));
	ASSERT_EQ(0, hce_iss_load_mac2(pf_dlk, &li, 500, term, date, tm, mac2));
	memcpy(apdu, "\x80\x52\x00\x00\x0B", 5);
	memcpy(apdu + 5, date, 4);
	memcpy(apdu + 9, tm, 3);
	memcpy(apdu + 12, mac2, 4);
	apdu[16] = 0x04;
	ASSERT_EQ(HCE_SW_OK, pf_xfer(&f, apdu, 17));
	ASSERT_EQ(4, pf_data_len(&f));
	ASSERT_EQ(0, hce_iss_load_tac(pf_dtk, li.balance + 500, li.online_counter, 500, term, date,
				      tm, tac));
	EXPECT_EQ(0, memcmp(tac, f.rsp, 4));
	ASSERT_EQ(0, hce_purse_balance(f.purse, &bal));
	EXPECT_EQ(10500, bal);
	EXPECT_EQ(-1, hce_iss_load_init_parse(f.rsp, 15, &li));
	pf_close(&f);
}

static char *pub_hex(EVP_PKEY *k, uint8_t *der, size_t *n)
{
	uint8_t *p = der;
	int l = i2d_PUBKEY(k, &p);
	char *h = malloc(2 * (size_t)l + 1);

	*n = (size_t)l;
	hce_iss_hex(der, (size_t)l, h);
	return h;
}

TEST(seal_opens_only_with_the_device_key_serial_and_intact_ciphertext)
{
	EVP_PKEY *dev = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	uint8_t der[256], serial[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, pt[256], out[256];
	struct hce_card_keys k, k2;
	size_t dl, pl, ol;
	char *h = pub_hex(dev, der, &dl), *ct;
	json_t *s;

	pf_default_keys(&k);
	ASSERT_EQ(0, hce_iss_keys_encode(&k, pt, sizeof(pt), &pl));
	EXPECT_EQ(3 * HCE_ISS_SEAL_ENTRY, pl);
	s = hce_iss_seal(der, dl, serial, pt, pl);
	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, hce_iss_unseal(dev, serial, s, out, sizeof(out), &ol));
	ASSERT_EQ(pl, ol);
	ASSERT_EQ(0, hce_iss_keys_decode(out, ol, &k2));
	EXPECT_EQ(0, memcmp(&k, &k2, sizeof(k)));
	EXPECT_EQ(-1, hce_iss_unseal(other, serial, s, out, sizeof(out), &ol));
	serial[9] ^= 1;
	EXPECT_EQ(-1, hce_iss_unseal(dev, serial, s, out, sizeof(out), &ol));
	serial[9] ^= 1;
	ct = strdup(json_string_value(json_object_get(s, "ct")));
	ct[0] = ct[0] == '0' ? '1' : '0';
	json_object_set_new(s, "ct", json_string(ct));
	EXPECT_EQ(-1, hce_iss_unseal(dev, serial, s, out, sizeof(out), &ol));
	free(ct);
	/* Not a P-256 key: refused. */
	EXPECT_EQ(NULL, hce_iss_seal(der, dl - 1, serial, pt, pl));
	EXPECT_EQ(-1, hce_iss_keys_decode(out, 19, &k2));
	out[0] = 7;
	EXPECT_EQ(-1, hce_iss_keys_decode(out, 20, &k2));
	json_decref(s);
	free(h);
	EVP_PKEY_free(dev);
	EVP_PKEY_free(other);
}

TEST(request_signature_covers_every_signed_field)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *o = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char *s = hce_iss_sign_string("POST", "/v1/wallet/sync", "dev:1", "r1", "1700000000",
				      (const uint8_t *)"{}", 2);
	char *s2 = hce_iss_sign_string("POST", "/v1/wallet/sync", "dev:1", "r1", "1700000000",
				       (const uint8_t *)"{ }", 3);
	char *sig = hce_iss_sign(k, s);

	ASSERT_NE(NULL, sig);
	EXPECT_EQ(0, strncmp(s, "HCE1\nPOST\n/v1/wallet/sync\ndev:1\nr1\n1700000000\n", 45));
	/* sha256("{}") */
	EXPECT_NE(NULL, strstr(s, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"));
	EXPECT_EQ(1, hce_iss_verify(k, s, sig));
	EXPECT_EQ(0, hce_iss_verify(k, s2, sig));
	EXPECT_EQ(0, hce_iss_verify(o, s, sig));
	EXPECT_EQ(0, hce_iss_verify(k, s, "!!!!"));
	EXPECT_EQ(0, hce_iss_verify(k, s, ""));
	EXPECT_EQ(0, hce_iss_verify(k, s, "QUJD"));
	free(s);
	free(s2);
	free(sig);
	EVP_PKEY_free(k);
	EVP_PKEY_free(o);
}

TEST(validators_request_id_hex_bcd)
{
	uint8_t b[4], d[4], t[3];
	char h[9];

	EXPECT_EQ(1, hce_iss_reqid_ok("abc-DEF_1.2"));
	EXPECT_EQ(0, hce_iss_reqid_ok(""));
	EXPECT_EQ(0, hce_iss_reqid_ok("a b"));
	EXPECT_EQ(0, hce_iss_reqid_ok("a/b"));
	EXPECT_EQ(1, hce_iss_reqid_ok("0123456789012345678901234567890123456789012345678901234567890123"));
	EXPECT_EQ(0, hce_iss_reqid_ok("01234567890123456789012345678901234567890123456789012345678901234"));
	EXPECT_EQ(0, hce_iss_hex_exact("A0b1C2d3", b, 4));
	hce_iss_hex(b, 4, h);
	EXPECT_STREQ("a0b1c2d3", h);
	EXPECT_EQ(-1, hce_iss_hex_exact("a0b1c2d", b, 4));
	EXPECT_EQ(-1, hce_iss_hex_exact("a0b1c2d3e4", b, 4));
	EXPECT_EQ(-1, hce_iss_hex_exact("a0 b1c2d", b, 4));
	hce_iss_bcd_now(1764102896, d, t);	/* 2025-11-25 20:34:56 UTC */
	EXPECT_EQ(0, memcmp(d, "\x20\x25\x11\x25", 4));
	EXPECT_EQ(0, memcmp(t, "\x20\x34\x56", 3));
	EXPECT_EQ(1, hce_iss_bcd_date_ok(d));
	EXPECT_EQ(1, hce_iss_bcd_time_ok(t));
}

TEST_HARNESS_MAIN
