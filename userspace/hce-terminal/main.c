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

#include "codec/hex.h"
#include "terminal/psam.h"
#include "terminal/records.h"
#include "terminal/term.h"
#include "terminal/transport.h"

static void usage(FILE *f)
{
	fputs(
"Usage: hce-terminal [--pcsc [READER] | --stdio-exec \"CMD\"] --psam FILE\n"
"                    [--records DB] [--terminal-id HEX12] [--timeout MS] COMMAND\n"
"\n"
"Acts as a payment terminal with its PSAM in software (issuer master keys from FILE).\n"
"\n"
"Card connection (one of):\n"
"  --pcsc [READER]      PC/SC reader: full name or part of it; default the first reader\n"
"                       with a card (pcscd must run)\n"
"  --stdio-exec \"CMD\"   run CMD with /bin/sh and talk hex lines to it, e.g.\n"
"                       --stdio-exec \"hced --stdio --card card.db\"\n"
"Options:\n"
"  --psam FILE          PSAM / issuer key file (Documentation/profile.md, \"Key files\")\n"
"  --records DB         local records (SQLite, WAL, synchronous=FULL); default\n"
"                       ./hce-terminal.db. Holds the terminal transaction serial (TTC)\n"
"  --terminal-id HEX12  terminal number (6 bytes); default the key file's [terminal] id\n"
"  --timeout MS         answer timeout for --stdio-exec (default 10000)\n"
"  --no-date-check      accept cards outside their start/expiry dates\n"
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
"  records              the local transaction records\n"
"AMOUNT: fen as digits (150 = 1.50 CNY) or yuan with a point (1.50, 1.5).\n"
"\n"
"Exit codes: 0 done; 1 usage; 2 transport (no reader/card, card process died);\n"
"  3 card error (unexpected answer); 4 declined (6985/6901/9402, other issuer, expired);\n"
"  5 insufficient balance (9401); 6 MAC2/TAC (load: MAC1) from the card invalid;\n"
"  7 card rejected our MAC or key (9302/9403, key version); 8 application locked (9303);\n"
"  9 answer lost, recovery proved nothing was charged; 10 answer lost, outcome unknown;\n"
"  11 local records error; 12 PSAM file error.\n", f);
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

	(void)arg;
	if (r->has_serial)
		hce_hex_encode(r->serial, HCE_SERIAL_LEN, serial, sizeof(serial));
	hce_hex_encode(r->terminal_id, 6, tid, sizeof(tid));
	if (r->has_mac2)
		hce_hex_encode(r->mac2, 4, mac2, sizeof(mac2));
	if (r->has_tac)
		hce_hex_encode(r->tac, 4, tac, sizeof(tac));
	hce_term_format_amount(r->amount, amt);
	if (r->has_balance)
		hce_term_format_amount(r->balance_after, after);
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
	printf(" mac2=%s tac=%s result=%s%s\n", mac2, tac, r->result,
	       r->recovered ? " recovered" : "");
	return 0;
}

enum { OPT_PCSC = 256, OPT_EXEC, OPT_PSAM, OPT_RECORDS, OPT_TID, OPT_TIMEOUT, OPT_RECORD,
	OPT_RECNO, OPT_NODATE };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pcsc", optional_argument, NULL, OPT_PCSC },
		{ "stdio-exec", required_argument, NULL, OPT_EXEC },
		{ "psam", required_argument, NULL, OPT_PSAM },
		{ "records", required_argument, NULL, OPT_RECORDS },
		{ "terminal-id", required_argument, NULL, OPT_TID },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "recno", required_argument, NULL, OPT_RECNO },
		{ "no-date-check", no_argument, NULL, OPT_NODATE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *exec_cmd = NULL, *psam_path = NULL, *records = "hce-terminal.db",
		*tid_hex = NULL, *reader = NULL, *record_hex = NULL, *cmd;
	bool use_pcsc = false, no_date = false;
	int timeout = 0, recno = 1, opt, rc;
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
			use_pcsc = true;
			/* --pcsc READER (separate word) as well as --pcsc=READER */
			if (optarg)
				reader = optarg;
			else if (optind < argc && argv[optind][0] != '-' && optind + 1 < argc &&
				 strcmp(argv[optind], "info") && strcmp(argv[optind], "balance") &&
				 strcmp(argv[optind], "purchase") && strcmp(argv[optind], "load") &&
				 strcmp(argv[optind], "capp") && strcmp(argv[optind], "log") &&
				 strcmp(argv[optind], "records"))
				reader = argv[optind++];
			break;
		case OPT_EXEC: exec_cmd = optarg; break;
		case OPT_PSAM: psam_path = optarg; break;
		case OPT_RECORDS: records = optarg; break;
		case OPT_TID: tid_hex = optarg; break;
		case OPT_TIMEOUT: timeout = atoi(optarg); break;
		case OPT_RECORD: record_hex = optarg; break;
		case OPT_RECNO: recno = atoi(optarg); break;
		case OPT_NODATE: no_date = true; break;
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
	/* options may also follow the command (capp AMOUNT --record HEX): getopt_long
	 * permutes them in front of the operands, so the first loop saw them all. */
	if (optind < argc) {
		fprintf(stderr, "hce-terminal: unexpected argument '%s'\n", argv[optind]);
		return HCE_TERM_E_USAGE;
	}
	if (!strcmp(cmd, "capp")) {
		capp_len = record_hex ? hce_hex_decode(record_hex, capp, sizeof(capp)) : -1;
		if (capp_len < 1 || recno < 1 || recno > 8) {
			fprintf(stderr, "hce-terminal: capp needs --record HEX (1..48 bytes) and "
				"--recno 1..8\n");
			return HCE_TERM_E_USAGE;
		}
	}
	if (hce_term_db_open(&db, records, HCE_TERM_DB_DURABLE, err, sizeof(err))) {
		fprintf(stderr, "hce-terminal: records: %s\n", err);
		return HCE_TERM_E_RECORDS;
	}
	if (!strcmp(cmd, "records")) {
		rc = hce_term_db_foreach(db, print_record, NULL);
		if (rc < 0)
			fprintf(stderr, "hce-terminal: %s\n", hce_term_db_error(db));
		hce_term_db_close(db);
		return rc < 0 ? HCE_TERM_E_RECORDS : 0;
	}
	if (strcmp(cmd, "info") && strcmp(cmd, "balance") && strcmp(cmd, "purchase") &&
	    strcmp(cmd, "load") && strcmp(cmd, "capp") && strcmp(cmd, "log")) {
		fprintf(stderr, "hce-terminal: unknown command '%s'\n", cmd);
		hce_term_db_close(db);
		return HCE_TERM_E_USAGE;
	}
	if (!psam_path) {
		fprintf(stderr, "hce-terminal: --psam FILE is required\n");
		hce_term_db_close(db);
		return HCE_TERM_E_USAGE;
	}
	if (hce_psam_load(&psam, psam_path, err, sizeof(err))) {
		fprintf(stderr, "hce-terminal: %s\n", err);
		hce_term_db_close(db);
		return HCE_TERM_E_CONFIG;
	}
	if (!!use_pcsc == !!exec_cmd) {
		fprintf(stderr, "hce-terminal: choose one of --pcsc and --stdio-exec\n");
		rc = HCE_TERM_E_USAGE;
		goto out;
	}
	rc = use_pcsc ? hce_term_transport_pcsc(&tp, reader) :
		hce_term_transport_exec(&tp, exec_cmd, timeout);
	if (rc) {
		fprintf(stderr, "hce-terminal: %s\n", tp.err[0] ? tp.err : strerror(-rc));
		rc = HCE_TERM_E_TRANSPORT;
		goto out;
	}
	hce_term_init(&term, &tp, &psam, db);
	term.check_dates = !no_date;
	if (tid_hex && hce_hex_decode(tid_hex, term.terminal_id, 6) != 6) {
		fprintf(stderr, "hce-terminal: --terminal-id needs 12 hex digits\n");
		rc = HCE_TERM_E_USAGE;
		goto out_tp;
	}

	if (!strcmp(cmd, "info") || !strcmp(cmd, "balance")) {
		struct hce_term_card card;
		uint32_t bal;
		char b[16], hex[61];

		rc = hce_term_select(&term, &card);
		if (!rc)
			rc = hce_term_balance(&term, &bal);
		if (rc)
			goto fail;
		hce_term_format_amount(bal, b);
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

		if (!strcmp(cmd, "purchase"))
			rc = hce_term_purchase(&term, amount, &res);
		else if (!strcmp(cmd, "load"))
			rc = hce_term_load(&term, amount, &res);
		else
			rc = hce_term_capp(&term, amount, (uint8_t)recno, capp, (size_t)capp_len,
					   &res);
		if (res.rec.id && !hce_term_receipt(&res, receipt, sizeof(receipt)))
			fputs(receipt, stdout);
		if (rc || term.err[0])
			fprintf(stderr, "hce-terminal: %s: %s\n", hce_term_status_name(rc),
				term.err);
	}
	goto out_tp;
fail:
	fprintf(stderr, "hce-terminal: %s: %s\n", hce_term_status_name(rc), term.err);
out_tp:
	hce_term_close(&tp);
out:
	hce_psam_wipe(&psam);
	hce_term_db_close(db);
	return rc;
}
