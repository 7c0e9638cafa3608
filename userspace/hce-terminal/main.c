// SPDX-License-Identifier: GPL-2.0
/*
 * hce-terminal - the reader/gate side of linux-hce: PSAM role in software, purchases, loads,
 * compound purchases with recovery, receipts and local records. See --help and
 * Documentation/terminal.md. The exit code is the outcome (enum hce_term_status).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gate.h"

#include "codec/buf.h"
#include "codec/hex.h"
#include "ndef/ndef.h"
#include "terminal/psam.h"
#include "terminal/records.h"
#include "terminal/term.h"
#include "terminal/transport.h"
#include "terminal/transport_nfc.h"
#include "terminal/ndef_read.h"

static void usage(FILE *f)
{
	fputs(
"Usage: hce-terminal [--nfc [READER] | --pcsc [READER] | --stdio-exec \"CMD\"]\n"
"                    --psam FILE [--records DB] [--terminal-id HEX12] [--timeout MS]\n"
"                    [--count N] [--timing FILE] [--issuer FILE] COMMAND\n"
"\n"
"Acts as a payment terminal with its PSAM in software (issuer master keys from FILE).\n"
"\n"
"Card connection (one of):\n"
"  --nfc [READER]       kernel NFC reader device (nfcN or index; default the reader of\n"
"                       the first nfc_hce virtual pair, else the first nfc device that\n"
"                       is not a card device): poll, then APDUs over an AF_NFC raw socket\n"
"  --pcsc [READER]      PC/SC reader: full name or part of it; default the first reader\n"
"                       with a card (pcscd must run)\n"
"  --stdio-exec \"CMD\"   run CMD with /bin/sh and talk hex lines to it, e.g.\n"
"                       --stdio-exec \"hced --stdio --card card.db\"\n"
"Options:\n"
"  --psam FILE          PSAM / issuer key file (Documentation/profile.md, \"Key files\")\n"
"  --records DB         local records (SQLite, WAL, synchronous=FULL); default\n"
"                       ./hce-terminal.db. Holds the terminal transaction serial (TTC)\n"
"  --terminal-id HEX12  terminal number (6 bytes); default the key file's [terminal] id\n"
"  --timeout MS         answer timeout (--stdio-exec default 10000, --nfc 5000)\n"
"  --present-timeout MS --nfc: how long to wait for a card at each poll (default 10000)\n"
"  --field-loss-once N  --nfc on a virtual pair: the field is lost at frame N of the first\n"
"                       activation; cleared when the card is presented again (tests)\n"
"  --count N            purchase/load/capp N times, each a new tap (card session);\n"
"                       stops at the first failure; one line per transaction\n"
"  --retry N            with --count: a transaction that failed before anything could be\n"
"                       charged (transport error before DEBIT, or proved not charged) is\n"
"                       tried again with a new tap, up to N times (default 0)\n"
"  --timing FILE        append each transaction's duration in microseconds to FILE\n"
"  --no-date-check      accept cards outside their start/expiry dates (never the deny list)\n"
"  --issuer FILE        the issuer (URL, pinned certificate, terminal id and key, deny list\n"
"                       cache): purchases and capp check the cached deny list, and the\n"
"                       commands denylist-update and upload talk to it\n"
"  --batch N            upload: at most N records per request (1..1000, default 1000)\n"
"  --upload-after       purchase/capp/load with --issuer: upload right after (a failure\n"
"                       is only warned about)\n"
"  -h, --help           this text\n"
"\n"
"Commands:\n"
"  info                 card identity (EF 0015) and balance\n"
"  balance              the balance\n"
"  purchase AMOUNT      purchase (INITIALIZE FOR PURCHASE, DEBIT, MAC2/TAC checked)\n"
"  load AMOUNT          load (INITIALIZE FOR LOAD, MAC1 checked, CREDIT, TAC checked)\n"
"  capp AMOUNT --record HEX [--recno N]\n"
"                       compound purchase writing HEX (1..48 bytes, padded with 00 to 48)\n"
"                       to EF 001E record N (default 1) with UPDATE CAPP DATA CACHE\n"
"  log                  the card's transaction log (EF 0018)\n"
"  records              the local transaction records (with --issuer: upload state)\n"
"  denylist-update      fetch the issuer's deny list into the records database\n"
"  upload               send the records not yet uploaded to the issuer, in batches\n"
"  ndef                 read the card's NDEF message (Type 4 Tag: D2760000850101, CC\n"
"                       E103, NDEF file) and print its records\n"
"Kernel reader administration (--nfc; nfc_hce virtual pairs):\n"
"  pairs                list card/reader pairs with link options and counters\n"
"  link [--bitrate K] [--field-loss-after N] [--drop-every N]\n"
"                       set the link options of READER's pair (0 turns one off)\n"
"  pair-create          create a virtual pair, print \"card reader\" indexes\n"
"  pair-destroy CARD    destroy the pair of card device index CARD\n"
"AMOUNT: fen as digits (150 = 1.50 CNY) or yuan with a point (1.50, 1.5).\n"
"\n"
"Exit codes: 0 done; 1 usage; 2 transport (no reader/card, card process died);\n"
"  3 card error (unexpected answer); 4 declined (6985/6901/9402, other issuer, expired);\n"
"  5 insufficient balance (9401); 6 MAC2/TAC (load: MAC1) from the card invalid;\n"
"  7 card rejected our MAC or key (9302/9403, key version); 8 application locked (9303);\n"
"  9 answer lost, recovery proved nothing was charged; 10 answer lost, outcome unknown;\n"
"  11 local records error; 12 PSAM or issuer file error.\n"
"  upload/denylist-update: 2 issuer unreachable (a pending batch goes again with the same\n"
"  request id); 3 malformed answer; 6 records rejected (bad_tac, invalid); 7 request\n"
"  refused (terminal key, clock).\n", f);
}

static void print_bcd(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02X", b[i]);
}

static int print_record(const struct hce_term_record *r, void *arg)
{
	char serial[21] = "-", tid[13], mac2[9] = "-", tac[9] = "-", amt[16], after[16] = "-";
	const bool *show_upload = arg;

	if (r->has_serial)
		hce_hex_encode(r->serial, HCE_SERIAL_LEN, serial, sizeof(serial));
	hce_hex_encode(r->terminal_id, 6, tid, sizeof(tid));
	if (r->has_mac2)
		hce_hex_encode(r->mac2, 4, mac2, sizeof(mac2));
	if (r->has_tac)
		hce_hex_encode(r->tac, 4, tac, sizeof(tac));
	hce_term_format_amount(r->amount, amt);
	if (r->has_balance)
		hce_term_format_balance(r->balance_after, after);
	printf("%lld %s ttc=%u card=%s type=%02X counter=", (long long)r->id, tid, r->ttc,
	       serial, r->type);
	if (r->has_counter)
		printf("%u", r->counter);
	else
		printf("-");
	printf(" amount=%s balance=%s date=", amt, after);
	print_bcd(r->date, 4);
	printf(" time=");
	print_bcd(r->time, 3);
	printf(" mac2=%s tac=%s result=%s%s", mac2, tac, r->result,
	       r->recovered ? " recovered" : "");
	/* the upload state once there is one, or on request (--issuer): existing parsers of
	 * these lines (tests/vm.d) see them unchanged */
	if (r->uploaded)
		printf(" upload=%s", r->upload_result);
	else if (r->upload_batch[0])
		printf(" upload=sending");
	else if (show_upload && *show_upload)
		printf(" upload=%s", hce_term_record_uploadable(r) ? "waiting" : "-");
	printf("\n");
	return 0;
}

enum { OPT_PCSC = 256, OPT_EXEC, OPT_PSAM, OPT_RECORDS, OPT_TID, OPT_TIMEOUT, OPT_RECORD,
	OPT_RECNO, OPT_NODATE, OPT_NFC, OPT_PRESENT, OPT_FAULT, OPT_COUNT, OPT_TIMING,
	OPT_BITRATE, OPT_FLOSS, OPT_DROP, OPT_RETRY, OPT_ISSUER, OPT_BATCH, OPT_UPAFTER };

static const char *const commands[] = {
	"info", "balance", "purchase", "load", "capp", "log", "records", "ndef", "pairs", "link",
	"pair-create", "pair-destroy", "denylist-update", "upload", NULL,
};

static bool is_command(const char *s)
{
	int i;

	for (i = 0; commands[i]; i++)
		if (!strcmp(s, commands[i]))
			return true;
	return false;
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int parse_num(const char *s, long long max, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return errno || end == s || *end || *v < 0 || *v > max ? -1 : 0;
}

/* Commands on the virtual pairs (no card, no PSAM). */
static int admin(const char *cmd, const char *reader, const char *arg,
		 const struct hce_term_nfc_link *l)
{
	char err[256] = "";
	int rc;

	if (!strcmp(cmd, "pairs")) {
		struct hce_term_nfc_pair p[32];
		size_t n, i;

		rc = hce_term_nfc_pairs(p, 32, &n, err, sizeof(err));
		for (i = 0; !rc && i < n; i++) {
			printf("card nfc%u", p[i].card);
			if (p[i].reader != UINT32_MAX)
				printf(" reader nfc%u", p[i].reader);
			printf(" bound=%u listening=%u bitrate=%u field_loss_after=%u "
			       "drop_every=%u activations=%llu capdus=%llu field_losses=%llu "
			       "deadline_expiries=%llu frames=%llu retransmissions=%llu\n",
			       p[i].bound, p[i].listening, p[i].bitrate, p[i].field_loss_after,
			       p[i].drop_every, (unsigned long long)p[i].activations,
			       (unsigned long long)p[i].capdus,
			       (unsigned long long)p[i].field_losses,
			       (unsigned long long)p[i].deadline_expiries,
			       (unsigned long long)p[i].frames,
			       (unsigned long long)p[i].retransmissions);
		}
	} else if (!strcmp(cmd, "link")) {
		rc = hce_term_nfc_link_set(reader, l, err, sizeof(err));
	} else if (!strcmp(cmd, "pair-create")) {
		uint32_t card, rd;

		rc = hce_term_nfc_pair_create(&card, &rd, err, sizeof(err));
		if (!rc)
			printf("%u %u\n", card, rd);
	} else {
		long long card;

		if (!arg || parse_num(arg, UINT32_MAX, &card)) {
			fprintf(stderr, "hce-terminal: pair-destroy needs a card device index\n");
			return HCE_TERM_E_USAGE;
		}
		rc = hce_term_nfc_pair_destroy((uint32_t)card, err, sizeof(err));
	}
	if (rc) {
		fprintf(stderr, "hce-terminal: %s\n", err[0] ? err : strerror(-rc));
		return HCE_TERM_E_TRANSPORT;
	}
	return 0;
}

static void print_ndef(const uint8_t *msg, size_t len)
{
	struct hce_rd r;
	struct hce_ndef_record rec;
	int i = 0;

	r = hce_rd_init(msg, len);
	while (hce_ndef_next(&r, &rec) == 1) {
		i++;
		if (rec.tnf == 1 && rec.type_len == 1 && rec.type[0] == 'U' && rec.payload_len >= 1) {
			const char *pre = hce_ndef_uri_prefix(rec.payload[0]);

			printf("record %d: URI %s%.*s\n", i, pre ? pre : "", (int)rec.payload_len - 1,
			       (const char *)rec.payload + 1);
		} else if (rec.tnf == 1 && rec.type_len == 1 && rec.type[0] == 'T' &&
			   rec.payload_len >= 1 && 1 + (size_t)(rec.payload[0] & 0x3F) <=
			   rec.payload_len) {
			size_t ll = rec.payload[0] & 0x3F;

			printf("record %d: Text [%.*s] %.*s\n", i, (int)ll,
			       (const char *)rec.payload + 1, (int)(rec.payload_len - 1 - ll),
			       (const char *)rec.payload + 1 + ll);
		} else {
			char hex[2 * 64 + 1];
			size_t n = rec.payload_len > 64 ? 64 : rec.payload_len;

			hce_hex_encode(rec.payload, n, hex, sizeof(hex));
			printf("record %d: TNF %u type '%.*s' payload %zu bytes %s%s\n", i, rec.tnf,
			       (int)rec.type_len, (const char *)rec.type, rec.payload_len, hex,
			       n < rec.payload_len ? "..." : "");
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pcsc", optional_argument, NULL, OPT_PCSC },
		{ "nfc", optional_argument, NULL, OPT_NFC },
		{ "stdio-exec", required_argument, NULL, OPT_EXEC },
		{ "psam", required_argument, NULL, OPT_PSAM },
		{ "records", required_argument, NULL, OPT_RECORDS },
		{ "terminal-id", required_argument, NULL, OPT_TID },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "present-timeout", required_argument, NULL, OPT_PRESENT },
		{ "field-loss-once", required_argument, NULL, OPT_FAULT },
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "timing", required_argument, NULL, OPT_TIMING },
		{ "retry", required_argument, NULL, OPT_RETRY },
		{ "bitrate", required_argument, NULL, OPT_BITRATE },
		{ "field-loss-after", required_argument, NULL, OPT_FLOSS },
		{ "drop-every", required_argument, NULL, OPT_DROP },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "recno", required_argument, NULL, OPT_RECNO },
		{ "no-date-check", no_argument, NULL, OPT_NODATE },
		{ "issuer", required_argument, NULL, OPT_ISSUER },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "upload-after", no_argument, NULL, OPT_UPAFTER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *exec_cmd = NULL, *psam_path = NULL, *records = "hce-terminal.db",
		*tid_hex = NULL, *reader = NULL, *record_hex = NULL, *timing = NULL, *cmd,
		*arg = NULL, *issuer_path = NULL;
	bool use_pcsc = false, use_nfc = false, no_date = false, upload_after = false;
	bool show_upload = false;
	struct hce_term_denylist *dl = NULL;
	struct hce_term_db *deny_db = NULL;
	struct gate gate = { 0 };
	long long batch = HCE_TERM_BATCH_MAX;
	int timeout = 0, present = 0, recno = 1, opt, rc;
	long long count = 1, v, fault = 0, retry = 0;
	struct hce_term_nfc_link link = { -1, -1, -1 };
	struct hce_term_transport tp = { 0 };
	struct hce_term_db *db = NULL;
	struct hce_psam psam;
	struct hce_term term;
	char err[512];
	uint32_t amount = 0;
	uint8_t capp[48];
	ssize_t capp_len = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_PCSC:
		case OPT_NFC:
			if (opt == OPT_PCSC)
				use_pcsc = true;
			else
				use_nfc = true;
			/* --pcsc READER (separate word) as well as --pcsc=READER */
			if (optarg)
				reader = optarg;
			else if (optind < argc && argv[optind][0] != '-' && optind + 1 < argc &&
				 !is_command(argv[optind]))
				reader = argv[optind++];
			break;
		case OPT_EXEC: exec_cmd = optarg; break;
		case OPT_PSAM: psam_path = optarg; break;
		case OPT_RECORDS: records = optarg; break;
		case OPT_TID: tid_hex = optarg; break;
		case OPT_TIMEOUT: timeout = atoi(optarg); break;
		case OPT_PRESENT: present = atoi(optarg); break;
		case OPT_TIMING: timing = optarg; break;
		case OPT_RECORD: record_hex = optarg; break;
		case OPT_RECNO: recno = atoi(optarg); break;
		case OPT_NODATE: no_date = true; break;
		case OPT_ISSUER: issuer_path = optarg; break;
		case OPT_UPAFTER: upload_after = true; break;
		case OPT_BATCH:
			if (parse_num(optarg, HCE_TERM_BATCH_MAX, &batch) || batch < 1) {
				fprintf(stderr, "hce-terminal: --batch needs 1..%d\n",
					HCE_TERM_BATCH_MAX);
				return HCE_TERM_E_USAGE;
			}
			break;
		case OPT_FAULT:
		case OPT_RETRY:
		case OPT_COUNT:
		case OPT_BITRATE:
		case OPT_FLOSS:
		case OPT_DROP:
			if (parse_num(optarg, opt == OPT_COUNT ? 10000000 : UINT32_MAX, &v) ||
			    (opt == OPT_COUNT && v < 1)) {
				fprintf(stderr, "hce-terminal: bad number '%s'\n", optarg);
				return HCE_TERM_E_USAGE;
			}
			if (opt == OPT_FAULT)
				fault = v;
			else if (opt == OPT_RETRY)
				retry = v;
			else if (opt == OPT_COUNT)
				count = v;
			else if (opt == OPT_BITRATE)
				link.bitrate = v;
			else if (opt == OPT_FLOSS)
				link.field_loss_after = v;
			else
				link.drop_every = v;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return HCE_TERM_E_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return HCE_TERM_E_USAGE;
	}
	cmd = argv[optind++];
	if (!strcmp(cmd, "purchase") || !strcmp(cmd, "load") || !strcmp(cmd, "capp")) {
		if (optind >= argc || hce_term_parse_amount(argv[optind], &amount)) {
			fprintf(stderr, "hce-terminal: %s needs an amount (fen, or yuan as 1.50)\n",
				cmd);
			return HCE_TERM_E_USAGE;
		}
		optind++;
	}
	if (!strcmp(cmd, "pair-destroy") && optind < argc)
		arg = argv[optind++];
	/* options may also follow the command (capp AMOUNT --record HEX): getopt_long
	 * permutes them in front of the operands, so the first loop saw them all. */
	if (optind < argc) {
		fprintf(stderr, "hce-terminal: unexpected argument '%s'\n", argv[optind]);
		return HCE_TERM_E_USAGE;
	}
	if (!is_command(cmd)) {
		fprintf(stderr, "hce-terminal: unknown command '%s'\n", cmd);
		return HCE_TERM_E_USAGE;
	}
	if (!strcmp(cmd, "pairs") || !strcmp(cmd, "link") || !strcmp(cmd, "pair-create") ||
	    !strcmp(cmd, "pair-destroy"))
		return admin(cmd, reader, arg, &link);
	if (!strcmp(cmd, "capp")) {
		capp_len = record_hex ? hce_hex_decode(record_hex, capp, sizeof(capp)) : -1;
		if (capp_len < 1 || recno < 1 || recno > 8) {
			fprintf(stderr, "hce-terminal: capp needs --record HEX (1..48 bytes) and "
				"--recno 1..8\n");
			return HCE_TERM_E_USAGE;
		}
	}
	if ((!strcmp(cmd, "denylist-update") || !strcmp(cmd, "upload") || upload_after) &&
	    !issuer_path) {
		fprintf(stderr, "hce-terminal: %s needs --issuer FILE\n",
			upload_after ? "--upload-after" : cmd);
		return HCE_TERM_E_USAGE;
	}
	if (strcmp(cmd, "records") && strcmp(cmd, "denylist-update") && strcmp(cmd, "upload") &&
	    use_pcsc + use_nfc + !!exec_cmd != 1) {
		fprintf(stderr, "hce-terminal: choose one of --nfc, --pcsc and --stdio-exec\n");
		return HCE_TERM_E_USAGE;
	}
	if (fault && !use_nfc) {
		fprintf(stderr, "hce-terminal: --field-loss-once needs --nfc\n");
		return HCE_TERM_E_USAGE;
	}
	if (!strcmp(cmd, "ndef")) {
		struct hce_term_nfc_opts no = { .reader = reader, .present_ms = present,
						.timeout_ms = timeout };
		uint8_t msg[4096];
		size_t len;

		rc = use_nfc ? hce_term_transport_nfc(&tp, &no) : use_pcsc ?
			hce_term_transport_pcsc(&tp, reader) :
			hce_term_transport_exec(&tp, exec_cmd, timeout);
		if (rc) {
			fprintf(stderr, "hce-terminal: %s\n", tp.err[0] ? tp.err : strerror(-rc));
			return HCE_TERM_E_TRANSPORT;
		}
		rc = hce_term_ndef_read(&tp, msg, sizeof(msg), &len, err, sizeof(err));
		if (!rc) {
			printf("NDEF message, %zu bytes\n", len);
			print_ndef(msg, len);
		} else {
			fprintf(stderr, "hce-terminal: ndef: %s\n", err);
		}
		hce_term_close(&tp);
		return rc;
	}
	if (issuer_path && gate_load(&gate, issuer_path, err, sizeof(err))) {
		fprintf(stderr, "hce-terminal: %s\n", err);
		gate_free(&gate);
		return HCE_TERM_E_CONFIG;
	}
	if (hce_term_db_open(&db, records, HCE_TERM_DB_DURABLE, err, sizeof(err))) {
		fprintf(stderr, "hce-terminal: records: %s\n", err);
		gate_free(&gate);
		return HCE_TERM_E_RECORDS;
	}
	deny_db = db;
	if (issuer_path && gate.deny_db[0] && strcmp(gate.deny_db, records) &&
	    hce_term_db_open(&deny_db, gate.deny_db, HCE_TERM_DB_DURABLE, err, sizeof(err))) {
		fprintf(stderr, "hce-terminal: deny list cache: %s\n", err);
		rc = HCE_TERM_E_RECORDS;
		goto out_db;
	}
	if (!strcmp(cmd, "records")) {
		show_upload = issuer_path != NULL;
		rc = hce_term_db_foreach(db, print_record, &show_upload);
		if (rc < 0)
			fprintf(stderr, "hce-terminal: %s\n", hce_term_db_error(db));
		rc = rc < 0 ? HCE_TERM_E_RECORDS : 0;
		goto out_db;
	}
	if (!strcmp(cmd, "denylist-update")) {
		rc = gate_denylist_update(&gate, deny_db);
		goto out_db;
	}
	if (!strcmp(cmd, "upload")) {
		rc = gate_upload(&gate, db, (size_t)batch);
		goto out_db;
	}
	if (issuer_path && (!strcmp(cmd, "purchase") || !strcmp(cmd, "capp"))) {
		dl = malloc(sizeof(*dl));
		if (!dl) {
			fprintf(stderr, "hce-terminal: out of memory\n");
			rc = HCE_TERM_E_RECORDS;
			goto out_db;
		}
		rc = gate_denylist_load(&gate, deny_db, time(NULL), dl);
		if (rc)
			goto out_db;
	}
	if (!psam_path) {
		fprintf(stderr, "hce-terminal: --psam FILE is required\n");
		rc = HCE_TERM_E_USAGE;
		goto out_db;
	}
	if (hce_psam_load(&psam, psam_path, err, sizeof(err))) {
		fprintf(stderr, "hce-terminal: %s\n", err);
		rc = HCE_TERM_E_CONFIG;
		goto out_db;
	}
	if (use_nfc) {
		struct hce_term_nfc_opts no = { .reader = reader, .present_ms = present,
						.timeout_ms = timeout,
						.field_loss_once = (uint32_t)fault };

		rc = hce_term_transport_nfc(&tp, &no);
	} else if (use_pcsc) {
		rc = hce_term_transport_pcsc(&tp, reader);
	} else {
		rc = hce_term_transport_exec(&tp, exec_cmd, timeout);
	}
	if (rc) {
		fprintf(stderr, "hce-terminal: %s\n", tp.err[0] ? tp.err : strerror(-rc));
		rc = HCE_TERM_E_TRANSPORT;
		goto out;
	}
	hce_term_init(&term, &tp, &psam, db);
	/* dates (unless --no-date-check) and, with --issuer, the deny list: one check */
	term.check_dates = !no_date;
	term.denylist = dl;
	if (tid_hex && hce_hex_decode(tid_hex, term.terminal_id, 6) != 6) {
		fprintf(stderr, "hce-terminal: --terminal-id needs 12 hex digits\n");
		rc = HCE_TERM_E_USAGE;
		goto out_tp;
	}
	if (issuer_path && !tid_hex)
		memcpy(term.terminal_id, gate.is.id, 6);
	else if (issuer_path && memcmp(term.terminal_id, gate.is.id, 6))
		fprintf(stderr, "hce-terminal: warning: --terminal-id %s is not the issuer file's"
			" terminal id: these records will not be uploaded\n", tid_hex);

	if (!strcmp(cmd, "info") || !strcmp(cmd, "balance")) {
		struct hce_term_card card;
		uint32_t bal;
		char b[16], hex[61];

		rc = hce_term_select(&term, &card);
		if (!rc)
			rc = hce_term_balance(&term, &bal);
		if (rc)
			goto fail;
		hce_term_format_balance(bal, b);
		if (!strcmp(cmd, "balance")) {
			printf("%s\n", b);
			goto out_tp;
		}
		printf("card number   %s\n", card.number);
		hce_hex_encode(card.issuer, 8, hex, sizeof(hex));
		printf("issuer        %s\n", hex);
		printf("app type      %02X  version %02X\n", card.app_type, card.app_version);
		hce_hex_encode(card.serial, 10, hex, sizeof(hex));
		printf("serial        %s\n", hex);
		printf("valid         ");
		print_bcd(card.start, 4);
		printf(" .. ");
		print_bcd(card.expiry, 4);
		printf("\nbalance       %s CNY\n", b);
	} else if (!strcmp(cmd, "log")) {
		struct hce_term_card card;
		struct hce_term_log_entry e[10];
		size_t n, i;

		rc = hce_term_select(&term, &card);
		if (!rc)
			rc = hce_term_read_log(&term, e, 10, &n);
		if (rc)
			goto fail;
		for (i = 0; i < n; i++) {
			char a[16], tid[13];

			hce_term_format_amount(e[i].amount, a);
			hce_hex_encode(e[i].terminal, 6, tid, sizeof(tid));
			printf("%zu counter=%u type=%02X amount=%s terminal=%s ", i + 1,
			       e[i].counter, e[i].type, a, tid);
			print_bcd(e[i].date, 4);
			printf(" ");
			print_bcd(e[i].time, 3);
			printf("\n");
		}
	} else {
		struct hce_term_result res;
		char receipt[1024];
		FILE *tf = NULL;
		long long i, done = 0, retried = 0, tries = 0;

		if (timing) {
			tf = fopen(timing, "a");
			if (!tf) {
				fprintf(stderr, "hce-terminal: %s: %s\n", timing, strerror(errno));
				rc = HCE_TERM_E_USAGE;
				goto out_tp;
			}
		}
		for (i = 0, rc = 0; i < count && !rc; i++) {
			long long t0;

			/* every transaction after the first is a new tap */
			if ((i || tries) && hce_term_reset(&tp)) {
				fprintf(stderr, "hce-terminal: transaction %lld: %s\n", i + 1, tp.err);
				rc = HCE_TERM_E_TRANSPORT;
				break;
			}
			t0 = now_us();
			memset(&res, 0, sizeof(res));
			term.err[0] = '\0';
			/* a card refused at the gate (DECLINED) is neither recorded nor charged */
			if (!strcmp(cmd, "purchase"))
				rc = hce_term_purchase(&term, amount, &res);
			else if (!strcmp(cmd, "load"))
				rc = hce_term_load(&term, amount, &res);
			else
				rc = hce_term_capp(&term, amount, (uint8_t)recno, capp,
						   (size_t)capp_len, &res);
			if (tf && !rc)
				fprintf(tf, "%lld\n", now_us() - t0);
			if (!rc)
				done++;
			if (count == 1) {
				if (res.rec.id && !hce_term_receipt(&res, receipt, sizeof(receipt)))
					fputs(receipt, stdout);
			} else if (res.rec.id) {
				print_record(&res.rec, NULL);
			}
			if (rc || term.err[0])
				fprintf(stderr, "hce-terminal: %s: %s\n", hce_term_status_name(rc),
					term.err);
			/* nothing can have been charged: the gate asks for the card again */
			if ((rc == HCE_TERM_E_TRANSPORT || rc == HCE_TERM_E_NOT_CHARGED) &&
			    tries < retry) {
				tries++;
				retried++;
				i--;
				rc = 0;
				continue;
			}
			tries = 0;
		}
		if (count > 1)
			printf("%lld of %lld transactions done (%lld taps retried)\n", done, count,
			       retried);
		if (upload_after && done) {
			int up = gate_upload(&gate, db, (size_t)batch);

			if (up)
				fprintf(stderr, "hce-terminal: warning: upload after the transaction"
					" failed (%s); the records stay queued\n",
					hce_term_status_name(up));
		}
		if (tf)
			fclose(tf);
	}
	goto out_tp;
fail:
	fprintf(stderr, "hce-terminal: %s: %s\n", hce_term_status_name(rc), term.err);
out_tp:
	if (fault && use_nfc)
		fprintf(stderr, "hce-terminal: field-loss fault at frame %lld %s\n", fault,
			hce_term_nfc_fault_fired(&tp) ? "hit the transaction" :
			"did not hit the transaction");
	hce_term_close(&tp);
out:
	hce_psam_wipe(&psam);
out_db:
	if (deny_db != db)
		hce_term_db_close(deny_db);
	hce_term_db_close(db);
	gate_free(&gate);
	free(dl);
	return rc;
}
