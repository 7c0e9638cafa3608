// SPDX-License-Identifier: GPL-2.0
/* hced_conf_test.c - hced's configuration file (lib/ctl/hconf.h, Documentation/hced.md). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#include "kselftest_harness.h"
#include "ctl/hconf.h"

static int parse(struct hced_conf *cf, const char *text, char *err)
{
	return hced_conf_parse(cf, "t.conf", text, strlen(text), err, HCE_CONF_ERR_MAX);
}

TEST(conf_full_sample_parses_every_field)
{
	static const char text[] =
		"[card]\n"
		"db = /var/lib/hce/card.db\n"
		"device-secret = /var/lib/hce/device-secret\n"
		"pin-file = /etc/hced/pin\n"
		"[frontend]\n"
		"type = nfc\n"
		"[nfc]\n"
		"device = nfc3\n"
		"uid = 04 11 22 33 44 55 66\n"
		"fsci = 7\n"
		"fwi = 9\n"
		"sfgi = 1\n"
		"historical-bytes = 48 43 45\n"
		"wtx-max = 20\n"
		"[pcsc]\n"
		"vpcd = [::1]:35964\n"
		"[control]\n"
		"socket = /run/hced/ctl\n"
		"group = hce\n"
		"[log]\n"
		"level = debug\n"
		"trace-file = /var/log/hced/apdu.trace\n"
		"trace = on\n"
		"[apps]\n"
		"purse = yes\n";
	struct hced_conf cf;
	char err[HCE_CONF_ERR_MAX];
	unsigned int idx;

	ASSERT_EQ(0, parse(&cf, text, err)) TH_LOG("%s", err);
	EXPECT_STREQ("/var/lib/hce/card.db", cf.card_db);
	EXPECT_STREQ("/var/lib/hce/device-secret", cf.device_secret);
	EXPECT_STREQ("/etc/hced/pin", cf.pin_file);
	EXPECT_EQ(HCED_FE_NFC, cf.frontend);
	EXPECT_STREQ("nfc3", cf.nfc_device);
	EXPECT_EQ(1, hced_conf_device(cf.nfc_device, &idx));
	EXPECT_EQ(3, idx);
	EXPECT_TRUE(cf.listen.has_uid);
	EXPECT_FALSE(cf.listen.uid_random);
	EXPECT_EQ(7, cf.listen.uid_len);
	EXPECT_EQ(0x66, cf.listen.uid[6]);
	EXPECT_EQ(7, cf.listen.fsci);
	EXPECT_EQ(9, cf.listen.fwi);
	EXPECT_EQ(1, cf.listen.sfgi);
	EXPECT_EQ(20, cf.listen.wtx_max);
	EXPECT_EQ(3, cf.listen.hist_len);
	EXPECT_STREQ("[::1]:35964", cf.vpcd);
	EXPECT_STREQ("/run/hced/ctl", cf.ctl_socket);
	EXPECT_STREQ("hce", cf.ctl_group);
	EXPECT_EQ(3, cf.log_level);
	EXPECT_EQ(1, cf.trace_on);
	EXPECT_EQ(1, cf.app_purse);
}

TEST(conf_the_packaged_sample_parses)
{
	struct hced_conf cf;
	char err[HCE_CONF_ERR_MAX];
	const char *paths[] = { "../packaging/hced.conf", "packaging/hced.conf" };
	int rc = -2;

	for (size_t i = 0; i < 2 && rc == -2; i++)
		if (!access(paths[i], R_OK))
			rc = hced_conf_load(&cf, paths[i], err, sizeof(err));
	if (rc == -2)
		SKIP(return, "packaging/hced.conf not found from the current directory");
	ASSERT_EQ(0, rc) TH_LOG("%s", err);
	EXPECT_EQ(HCED_FE_NFC, cf.frontend);
	EXPECT_STREQ(HCED_CTL_DEFAULT_SOCKET, cf.ctl_socket);
}

TEST(conf_empty_file_sets_nothing)
{
	struct hced_conf cf;
	char err[HCE_CONF_ERR_MAX];

	ASSERT_EQ(0, parse(&cf, "# nothing\n", err));
	EXPECT_EQ(HCED_FE_UNSET, cf.frontend);
	EXPECT_EQ(-1, cf.log_level);
	EXPECT_EQ(-1, cf.trace_on);
	EXPECT_FALSE(cf.listen.has_uid);
	EXPECT_STREQ("", cf.card_db);
}

TEST(conf_ndef_message_and_default)
{
	struct hced_conf cf;
	char err[HCE_CONF_ERR_MAX];

	ASSERT_EQ(0, parse(&cf, "[apps]\nndef-message = D1 01 01 54 00\ndefault = ndef\n", err))
		TH_LOG("%s", err);
	EXPECT_EQ(5, cf.ndef_msg_len);
	EXPECT_EQ(0xD1, cf.ndef_msg[0]);
	EXPECT_STREQ("ndef", cf.app_default);
	ASSERT_EQ(0, parse(&cf, "[apps]\nndef-text = Hallo\nndef-lang = de\n", err));
	EXPECT_STREQ("Hallo", cf.ndef_text);
	EXPECT_STREQ("de", cf.ndef_lang);
}

TEST(conf_uid_random)
{
	struct hced_conf cf;
	char err[HCE_CONF_ERR_MAX];

	ASSERT_EQ(0, parse(&cf, "[nfc]\nuid = random\n", err));
	EXPECT_TRUE(cf.listen.has_uid);
	EXPECT_TRUE(cf.listen.uid_random);
}

TEST(conf_empty_historical_bytes_means_none)
{
	struct hced_conf cf;
	char err[HCE_CONF_ERR_MAX];

	ASSERT_EQ(0, parse(&cf, "[nfc]\nhistorical-bytes =\n", err)) TH_LOG("%s", err);
	EXPECT_TRUE(cf.listen.has_hist);
	EXPECT_EQ(0, cf.listen.hist_len);
}

/* Each bad file fails with the line of the culprit in the message. */
static const struct {
	const char *text, *msg;
} bad[] = {
	{ "[card]\ndb = /a\n[cards]\n", "t.conf:3: unknown section [cards]" },
	{ "db = /a\n", "t.conf:1: key outside any section" },
	{ "[card]\ndb = /a\ndatabase = /b\n", "t.conf:3: unknown key 'database' in [card]" },
	{ "[card]\ndb = /a\ndb = /b\n", "t.conf:3:" },
	{ "[frontend]\ntype = usb\n", "t.conf:2: [frontend] type: must be nfc, pcsc or stdio" },
	{ "[nfc]\n\nuid = 04 11 22 33 44\n", "t.conf:3: [nfc] uid: random, or 4, 7 or 10 bytes" },
	{ "[nfc]\nuid = 88 11 22 33\n", "t.conf:2: [nfc] uid: the first byte may not be" },
	{ "[nfc]\nuid = 04 1\n", "t.conf:2:" },
	{ "[nfc]\nfsci = 9\n", "t.conf:2: [nfc] fsci: out of range 0..8" },
	{ "[nfc]\nfwi = 15\n", "t.conf:2: [nfc] fwi: out of range 0..14" },
	{ "[nfc]\nsfgi = -1\n", "t.conf:2: [nfc] sfgi: not an unsigned decimal number" },
	{ "[nfc]\nwtx-max = 61\n", "t.conf:2: [nfc] wtx-max: out of range 0..60" },
	{ "[nfc]\nhistorical-bytes = 00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF\n",
	  "t.conf:2:" },
	{ "[nfc]\ndevice = nfc 0\n", "t.conf:2: [nfc] device:" },
	{ "[pcsc]\nvpcd = localhost\n", "t.conf:2: [pcsc] vpcd: HOST:PORT" },
	{ "[pcsc]\nvpcd = ::1:35963\n", "t.conf:2: [pcsc] vpcd:" },
	{ "[pcsc]\nvpcd = 127.0.0.1:70000\n", "t.conf:2: [pcsc] vpcd:" },
	{ "[control]\nsocket = run/ctl\n", "t.conf:2: [control] socket: an absolute path or none" },
	{ "[control]\ngroup = a b\n", "t.conf:2: [control] group: not a group name" },
	{ "[log]\nlevel = loud\n", "t.conf:2: [log] level: error, warn, info or debug" },
	{ "[log]\ntrace = yes\n", "t.conf:2: [log] trace: must be on or off" },
	{ "[log]\ntrace = on\n", "t.conf:2: [log] trace = on needs trace-file" },
	{ "[apps]\npurse = maybe\n", "t.conf:2: [apps] purse: must be yes or no" },
	{ "[card]\ndb =\n", "t.conf:2: [card] db: empty value" },
	{ "[apps]\nndef-uri = a\nndef-message = D1\n", "t.conf:3: [apps] one of ndef-uri" },
	{ "[apps]\nndef-uri = a\nndef-lang = en\n", "t.conf:3: [apps] ndef-lang goes with ndef-text" },
	{ "[apps]\ndefault = wallet\n", "t.conf:2: [apps] default: purse, ndef or none" },
};

TEST(conf_errors_name_file_line_and_key)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hced_conf cf;
		char err[HCE_CONF_ERR_MAX] = "";

		EXPECT_EQ(-1, parse(&cf, bad[i].text, err)) TH_LOG("case %zu accepted", i);
		EXPECT_EQ(0, strncmp(err, bad[i].msg, strlen(bad[i].msg)))
			TH_LOG("case %zu: got '%s', want '%s...'", i, err, bad[i].msg);
		/* A failed parse leaves nothing set. */
		EXPECT_EQ(HCED_FE_UNSET, cf.frontend);
		EXPECT_STREQ("", cf.card_db);
	}
}

TEST(conf_command_line_overrides_field_by_field)
{
	struct hced_conf file, cli;
	char err[HCE_CONF_ERR_MAX];

	ASSERT_EQ(0, parse(&file, "[card]\ndb = /file.db\npin-file = /pin\n[frontend]\ntype = nfc\n"
			   "[nfc]\nfwi = 9\nfsci = 5\n[log]\nlevel = warn\n", err));
	hced_conf_init(&cli);
	strcpy(cli.card_db, "/cli.db");
	cli.frontend = HCED_FE_STDIO;
	cli.listen.has_fwi = true;
	cli.listen.fwi = 12;
	hced_conf_merge(&file, &cli);
	EXPECT_STREQ("/cli.db", file.card_db);
	EXPECT_STREQ("/pin", file.pin_file);
	EXPECT_EQ(HCED_FE_STDIO, file.frontend);
	EXPECT_EQ(12, file.listen.fwi);
	EXPECT_EQ(5, file.listen.fsci);
	EXPECT_EQ(1, file.log_level);
}

TEST(conf_device_designations)
{
	unsigned int idx = 99;

	EXPECT_EQ(0, hced_conf_device("", &idx));
	EXPECT_EQ(0, hced_conf_device("auto", &idx));
	EXPECT_EQ(1, hced_conf_device("0", &idx));
	EXPECT_EQ(0, idx);
	EXPECT_EQ(1, hced_conf_device("nfc12", &idx));
	EXPECT_EQ(12, idx);
	EXPECT_EQ(2, hced_conf_device("pn533", &idx));
	EXPECT_EQ(-1, hced_conf_device("01", &idx));
	EXPECT_EQ(-1, hced_conf_device("nfc 1", &idx));
	EXPECT_EQ(-1, hced_conf_device("99999999999", &idx));
	EXPECT_EQ(-1, hced_conf_device("averyveryverylongname", &idx));
}

TEST(conf_hostport)
{
	char host[64];
	unsigned int port;

	ASSERT_EQ(0, hced_conf_hostport("127.0.0.1:35963", host, sizeof(host), &port));
	EXPECT_STREQ("127.0.0.1", host);
	EXPECT_EQ(35963, port);
	ASSERT_EQ(0, hced_conf_hostport("[::1]:1", host, sizeof(host), &port));
	EXPECT_STREQ("::1", host);
	EXPECT_EQ(-1, hced_conf_hostport(":1", host, sizeof(host), &port));
	EXPECT_EQ(-1, hced_conf_hostport("h:0", host, sizeof(host), &port));
	EXPECT_EQ(-1, hced_conf_hostport("h:", host, sizeof(host), &port));
	EXPECT_EQ(-1, hced_conf_hostport("[::1]35963", host, sizeof(host), &port));
	EXPECT_EQ(-1, hced_conf_hostport("h:1x", host, sizeof(host), &port));
}

TEST_HARNESS_MAIN
