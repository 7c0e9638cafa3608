// SPDX-License-Identifier: GPL-2.0
/*
 * purse_sequence.c - libFuzzer target: random command sequences against the e-purse
 * (lib/purse over a real SQLite store, a new file in a temporary directory per input).
 *
 * The input is a program: each op byte picks a raw APDU (any bytes), a raw value command
 * (CLA 80, a value INS, fuzzed body), a selection, a purchase / CAPP purchase / load done as a
 * terminal would (correct MACs from the test keys, or one bit off, optionally interrupted),
 * a read, GET TRANSACTION PROVE, GET CHALLENGE, end of session, purse reopen (restart) or
 * vault lock/unlock. After every op the target checks the purse's invariants against its own
 * model of the card:
 *   - no balance change without a valid MAC: a change is allowed only on 9000 to a DEBIT
 *     directly after a successful INIT (or INIT CAPP + UPDATE CAPP DATA CACHE), or to a CREDIT
 *     directly after INIT FOR LOAD, whose MAC1 / MAC2 equals the one the target computes
 *     itself from that INIT's answer and the test keys; and the amount is the INIT's;
 *   - balance, CTC, online counter and transaction count equal the model; counters never go
 *     back; the newest log record is the committed transaction's, the log holds
 *     min(transactions, 10) records, and for up to 10 transactions initial balance + loads
 *     - purchases over the log equals the balance;
 *   - the MAC2 and TAC a DEBIT answers, and the TAC of a CREDIT, verify;
 *   - MAC failures count up only on 9302 and lock value commands (9303) at the limit;
 *   - a correct, uninterrupted purchase or load on an unlocked card with keys succeeds;
 *   - every R-APDU is 2..cap bytes; the state survives a reopen.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "codec/apdu.h"
#include "codec/buf.h"
#include "crypto/crypto.h"
#include "fuzz.h"
#include "purse/keys.h"
#include "purse/purse.h"
#include "store/store.h"

#define CAP HCE_RAPDU_MIN_CAP
#define INITIAL_BALANCE 10000u
#define MAX_BALANCE 100000u
#define MAX_OPS 64

static const uint8_t dpk1[16] = { 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x07, 0x18,
				  0x29, 0x3A, 0x4B, 0x5C, 0x6D, 0x7E, 0x8F, 0x90 };
static const uint8_t dpk2[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				  0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF };
static const uint8_t dlk1[16] = { 0x5A, 0x6B, 0x7C, 0x8D, 0x9E, 0xAF, 0xB0, 0xC1,
				  0xD2, 0xE3, 0xF4, 0x05, 0x16, 0x27, 0x38, 0x49 };
static const uint8_t dtk[16] = { 0x0F, 0x1E, 0x2D, 0x3C, 0x4B, 0x5A, 0x69, 0x78,
				 0x87, 0x96, 0xA5, 0xB4, 0xC3, 0xD2, 0xE1, 0xF0 };
static const uint8_t aid[8] = { 0xA0, 0x00, 0x00, 0x06, 0x32, 0x01, 0x01, 0x05 };

static struct hce_store *st;
static struct hce_card_data card;
static struct hce_card_keys keys;
static char dir[128], path[160];

/* The input, consumed byte by byte (zeros once exhausted). */
struct prog {
	const uint8_t *p;
	size_t n;
};

static uint8_t next8(struct prog *g)
{
	if (!g->n)
		return 0;
	g->n--;
	return *g->p++;
}

static uint16_t next16(struct prog *g)
{
	return (uint16_t)(next8(g) << 8 | next8(g));
}

/* What the last successful INIT answered (the terminal's view of the pending operation). */
struct pend {
	int valid;
	uint8_t kind;		/* 0x00 load, 0x01 purchase, 0x03 CAPP */
	int since;		/* commands since the INIT */
	int capp_cached;	/* UPDATE CAPP DATA CACHE answered 9000 right after INIT CAPP */
	uint8_t index, alg;
	uint32_t balance, amount;
	uint16_t counter;
	uint8_t random[4], terminal[6], mac1[4];
};

struct model {
	uint32_t balance;
	uint16_t ctc, onl;
	uint64_t tx;
	uint32_t mac_failures;
	int keys_on;
	struct pend pend;
	uint32_t rng;
};

static struct hce_purse *purse;
static struct model m;

static int rng(void *ctx, uint8_t *buf, size_t len)
{
	struct model *mm = ctx;
	size_t i;

	for (i = 0; i < len; i++) {
		mm->rng = mm->rng * 1103515245u + 12345u;
		buf[i] = (uint8_t)(mm->rng >> 16);
	}
	return 0;
}

static void slot(struct hce_key_slot *s, uint8_t index, uint8_t alg, const uint8_t k[16])
{
	s->present = true;
	s->index = index;
	s->version = 1;
	s->alg = alg;
	memcpy(s->key, k, 16);
}

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

/* Remove the temporary store when libFuzzer exits (after -runs; a crash keeps it). */
static void cleanup(void)
{
	hce_purse_close(purse);
	purse = NULL;
	hce_store_close(st);
	st = NULL;
	remove_store_files();
	rmdir(dir);
	hce_card_keys_wipe(&keys);
}

/*
 * A brand-new store file per input, so that an input always runs from the same card (a
 * re-personalisation would keep the counters: they never go back).
 */
static void fresh_store(void)
{
	char err[HCE_STORE_ERR_MAX];

	hce_store_close(st);
	st = NULL;
	remove_store_files();
	FUZZ_CHECK(hce_store_open(path, HCE_STORE_CREATE, &st, err) == 0);
	FUZZ_CHECK(hce_store_personalise(st, &card, 0) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = getenv("HCE_FUZZ_TMPDIR");
	size_t i;

	if (!base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/hce-fuzz-XXXXXX", base);
	FUZZ_CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/card.db", dir);

	memcpy(card.aid, aid, sizeof(aid));
	card.aid_len = sizeof(aid);
	card.app_version = 2;
	for (i = 0; i < HCE_EF0015_LEN; i++)
		card.ef0015[i] = (uint8_t)i;
	card.ef0016_len = 55;
	card.max_balance = MAX_BALANCE;
	card.balance = INITIAL_BALANCE;
	card.overdraft_limit = 0x000100;
	card.keys[0] = (struct hce_key_info){ HCE_KEY_DPK, 1, 1, HCE_ALG_3DES };
	card.keys[1] = (struct hce_key_info){ HCE_KEY_DPK, 2, 1, HCE_ALG_SM4 };
	card.keys[2] = (struct hce_key_info){ HCE_KEY_DLK, 1, 1, HCE_ALG_3DES };
	card.keys[3] = (struct hce_key_info){ HCE_KEY_DTK, 0, 1, HCE_ALG_3DES };
	card.n_keys = 4;
	slot(&keys.dpk[0], 1, HCE_ALG_3DES, dpk1);
	slot(&keys.dpk[1], 2, HCE_ALG_SM4, dpk2);
	slot(&keys.dlk[0], 1, HCE_ALG_3DES, dlk1);
	slot(&keys.dtk, 0, HCE_ALG_3DES, dtk);
	FUZZ_CHECK(atexit(cleanup) == 0);
	return 0;
}

static const struct hce_key_slot *key_for(uint8_t kind, uint8_t index)
{
	const struct hce_key_slot *s = kind == 0x00 ? keys.dlk : keys.dpk;
	int i;

	for (i = 0; i < HCE_KEY_SLOTS; i++)
		if (s[i].present && s[i].index == index)
			return &s[i];
	return NULL;
}

/* MAC under the session key of the pending op (purchase: TTC low bytes; load: 8000). */
static void session_mac(const struct pend *p, const uint8_t ttc[4], const uint8_t *d, size_t n,
			uint8_t mac[4])
{
	const struct hce_key_slot *k = key_for(p->kind, p->index);
	uint8_t in[8], sk[16];
	size_t skl;

	FUZZ_CHECK(k);
	memcpy(in, p->random, 4);
	hce_put_be16(in + 4, p->counter);
	if (ttc) {
		in[6] = ttc[2];
		in[7] = ttc[3];
	} else {
		in[6] = 0x80;
		in[7] = 0x00;
	}
	FUZZ_CHECK(hce_session_key((enum hce_alg)k->alg, k->key, in, sk, &skl) == 0);
	FUZZ_CHECK(hce_mac((enum hce_alg)k->alg, sk, skl, d, n, mac) == 0);
}

static void tac_mac(const uint8_t *d, size_t n, uint8_t mac[4])
{
	uint8_t tk[16];
	size_t tkl;

	FUZZ_CHECK(hce_tac_key((enum hce_alg)keys.dtk.alg, keys.dtk.key, tk, &tkl) == 0);
	FUZZ_CHECK(hce_mac((enum hce_alg)keys.dtk.alg, tk, tkl, d, n, mac) == 0);
}

/* Correct MAC1 of a DEBIT body (TTC, date, time) for the pending purchase. */
static void purchase_mac1(const struct pend *p, const uint8_t *body, uint8_t mac[4])
{
	uint8_t d[18];

	hce_put_be32(d, p->amount);
	d[4] = p->kind == 0x03 ? HCE_TX_CAPP : HCE_TX_PURCHASE;
	memcpy(d + 5, p->terminal, 6);
	memcpy(d + 11, body + 4, 7);	/* date, time */
	session_mac(p, body, d, sizeof(d), mac);
}

/* Correct MAC2 of a CREDIT body (date, time) for the pending load. */
static void load_mac2(const struct pend *p, const uint8_t *body, uint8_t mac[4])
{
	uint8_t d[18];

	hce_put_be32(d, p->amount);
	d[4] = HCE_TX_LOAD;
	memcpy(d + 5, p->terminal, 6);
	memcpy(d + 11, body, 7);
	session_mac(p, NULL, d, sizeof(d), mac);
}

static void check_state(void)
{
	struct hce_purse_state s;

	FUZZ_CHECK(hce_purse_state(purse, &s) == 0);
	FUZZ_CHECK(s.balance == m.balance);
	FUZZ_CHECK(s.ctc == m.ctc);
	FUZZ_CHECK(s.online_counter == m.onl);
	FUZZ_CHECK(s.tx_total == m.tx);
	FUZZ_CHECK(s.mac_failures == m.mac_failures);
	FUZZ_CHECK(hce_purse_locked(purse) == (m.mac_failures >= HCE_PURSE_MAC_FAIL_LIMIT));
}

/* The log: min(tx, 10) records; with <= 10 transactions it explains the balance. */
static void check_log(void)
{
	uint8_t rec[HCE_LOG_RECORD_LEN];
	struct hce_purse_log_entry e;
	uint64_t n = 0;
	int64_t bal = INITIAL_BALANCE;	/* signed: purchases may spend the overdraft */
	unsigned int i;
	int ret;

	for (i = 1; i <= HCE_LOG_RECORDS + 1; i++) {
		ret = hce_store_log(st, i, rec);
		if (ret == -ENOENT)
			break;
		FUZZ_CHECK(ret == 0);
		hce_purse_log_parse(rec, &e);
		FUZZ_CHECK(e.type == HCE_TX_LOAD || e.type == HCE_TX_PURCHASE ||
			   e.type == HCE_TX_CAPP);
		if (e.type == HCE_TX_LOAD)
			bal += e.amount;
		else
			bal -= e.amount;
		n++;
	}
	FUZZ_CHECK(n == (m.tx < HCE_LOG_RECORDS ? m.tx : HCE_LOG_RECORDS));
	if (m.tx <= HCE_LOG_RECORDS)
		FUZZ_CHECK(bal == hce_balance_value(m.balance));
}

/* The newest log record must be the transaction just committed. */
static void check_newest(uint8_t type, uint16_t counter, uint32_t amount, const uint8_t term[6],
			 const uint8_t datetime[7])
{
	uint8_t rec[HCE_LOG_RECORD_LEN];
	struct hce_purse_log_entry e;

	FUZZ_CHECK(hce_store_log(st, 1, rec) == 0);
	hce_purse_log_parse(rec, &e);
	FUZZ_CHECK(e.type == type && e.counter == counter && e.amount == amount);
	FUZZ_CHECK(e.overdraft == card.overdraft_limit);
	FUZZ_CHECK(memcmp(e.terminal, term, 6) == 0);
	FUZZ_CHECK(memcmp(e.date, datetime, 4) == 0 && memcmp(e.time, datetime + 4, 3) == 0);
}

/*
 * Send one C-APDU and check everything that follows from its answer. Returns the SW and
 * leaves the R-APDU in rsp/rlen.
 */
static uint8_t rsp[CAP + 8];
static size_t rlen;

static int trace = -1;	/* HCE_FUZZ_TRACE=1: print every exchange (corpus debugging) */

static void trace_apdu(const char *dir_, const uint8_t *b, size_t n)
{
	size_t i;

	fprintf(stderr, "%s ", dir_);
	for (i = 0; i < n; i++)
		fprintf(stderr, "%02X", b[i]);
	fprintf(stderr, "\n");
}

static uint16_t xfer(const uint8_t *c, size_t n)
{
	struct hce_purse_state before, after;
	struct hce_capdu a;
	uint16_t sw;
	int parsed;

	FUZZ_CHECK(hce_purse_state(purse, &before) == 0);
	memset(rsp, 0xEE, sizeof(rsp));
	rlen = hce_app_process(hce_purse_app(purse), c, n, rsp, CAP);
	if (trace < 0)
		trace = getenv("HCE_FUZZ_TRACE") != NULL;
	if (trace) {
		trace_apdu(">>", c, n);
		trace_apdu("<<", rsp, rlen <= CAP ? rlen : 0);
	}
	FUZZ_CHECK(rlen >= 2 && rlen <= CAP);
	FUZZ_CHECK(rsp[CAP] == 0xEE);
	sw = hce_get_be16(rsp + rlen - 2);
	FUZZ_CHECK(sw == HCE_SW_OK || sw == HCE_SW_WARN_EOF || rlen == 2 ||
		   (sw & 0xFF00) == 0x6100);
	FUZZ_CHECK(hce_purse_state(purse, &after) == 0);
	parsed = hce_capdu_parse(c, n, &a) == 0;

	/* Counters never go back; they move by at most one. */
	FUZZ_CHECK(after.ctc == before.ctc || after.ctc == before.ctc + 1);
	FUZZ_CHECK(after.online_counter == before.online_counter ||
		   after.online_counter == before.online_counter + 1);
	FUZZ_CHECK(after.tx_total == before.tx_total || after.tx_total == before.tx_total + 1);

	if (after.balance != before.balance || after.tx_total != before.tx_total) {
		/* A value change: only a verified second half may cause it. */
		uint8_t mac[4], d[32];

		FUZZ_CHECK(sw == HCE_SW_OK && parsed && a.cla == 0x80 && m.pend.valid);
		FUZZ_CHECK(m.keys_on && m.mac_failures < HCE_PURSE_MAC_FAIL_LIMIT);
		FUZZ_CHECK(after.tx_total == before.tx_total + 1);
		if (a.ins == 0x54) {
			FUZZ_CHECK(m.pend.kind == 0x01 || m.pend.kind == 0x03);
			FUZZ_CHECK(m.pend.kind == 0x01 ? m.pend.since == 0 :
				   m.pend.since == 1 && m.pend.capp_cached);
			FUZZ_CHECK(a.nc == 15);
			purchase_mac1(&m.pend, a.data, mac);
			FUZZ_CHECK(memcmp(mac, a.data + 11, 4) == 0);
			/* into the overdraft down to -limit, never below (purse.md "Overdraft") */
			FUZZ_CHECK(before.balance == m.pend.balance &&
				   (int64_t)m.pend.amount <= (int64_t)hce_balance_value(before.balance) +
				   card.overdraft_limit);
			FUZZ_CHECK(after.balance == before.balance - m.pend.amount);
			FUZZ_CHECK(hce_balance_value(after.balance) >= -(int64_t)card.overdraft_limit);
			FUZZ_CHECK(after.ctc == before.ctc + 1 && m.pend.counter == before.ctc);
			FUZZ_CHECK(after.online_counter == before.online_counter);
			/* Answer: TAC then MAC2, both verifiable. */
			FUZZ_CHECK(rlen == 10);
			hce_put_be32(d, m.pend.amount);
			session_mac(&m.pend, a.data, d, 4, mac);
			FUZZ_CHECK(memcmp(mac, rsp + 4, 4) == 0);
			d[4] = m.pend.kind == 0x03 ? HCE_TX_CAPP : HCE_TX_PURCHASE;
			memcpy(d + 5, m.pend.terminal, 6);
			memcpy(d + 11, a.data, 4);
			memcpy(d + 15, a.data + 4, 7);
			tac_mac(d, 22, mac);
			FUZZ_CHECK(memcmp(mac, rsp, 4) == 0);
			m.balance -= m.pend.amount;
			m.ctc++;
			check_newest(d[4], m.pend.counter, m.pend.amount, m.pend.terminal,
				     a.data + 4);
		} else {
			FUZZ_CHECK(a.ins == 0x52 && m.pend.kind == 0x00 && m.pend.since == 0);
			FUZZ_CHECK(a.nc == 11);
			load_mac2(&m.pend, a.data, mac);
			FUZZ_CHECK(memcmp(mac, a.data + 7, 4) == 0);
			FUZZ_CHECK(before.balance == m.pend.balance);
			FUZZ_CHECK(after.balance == before.balance + m.pend.amount);
			FUZZ_CHECK(hce_balance_value(after.balance) <= (int64_t)MAX_BALANCE);
			FUZZ_CHECK(after.online_counter == before.online_counter + 1);
			FUZZ_CHECK(m.pend.counter == before.online_counter);
			FUZZ_CHECK(after.ctc == before.ctc);
			FUZZ_CHECK(rlen == 6);
			hce_put_be32(d, after.balance);
			hce_put_be16(d + 4, m.pend.counter);
			hce_put_be32(d + 6, m.pend.amount);
			d[10] = HCE_TX_LOAD;
			memcpy(d + 11, m.pend.terminal, 6);
			memcpy(d + 17, a.data, 7);
			tac_mac(d, 24, mac);
			FUZZ_CHECK(memcmp(mac, rsp, 4) == 0);
			m.balance += m.pend.amount;
			m.onl++;
			check_newest(HCE_TX_LOAD, m.pend.counter, m.pend.amount, m.pend.terminal,
				     a.data);
		}
		m.tx++;
		m.mac_failures = 0;
	} else {
		FUZZ_CHECK(after.ctc == before.ctc && after.online_counter == before.online_counter);
	}

	/* MAC failures: +1 exactly on 9302; the limit locks value commands. */
	if (sw == HCE_SW_MAC_INVALID) {
		FUZZ_CHECK(parsed && (a.ins == 0x54 || a.ins == 0x52));
		m.mac_failures++;
	}
	if (parsed && a.cla == 0x80 && a.ins == 0x50 && sw == HCE_SW_OK)
		FUZZ_CHECK(m.keys_on && m.mac_failures < HCE_PURSE_MAC_FAIL_LIMIT);

	/* Track the pending operation as the terminal sees it. */
	if (parsed && a.cla == 0x80 && a.ins == 0x50 && sw == HCE_SW_OK && a.nc == 11) {
		memset(&m.pend, 0, sizeof(m.pend));
		m.pend.valid = 1;
		m.pend.kind = a.p1;
		m.pend.index = a.data[0];
		m.pend.amount = hce_get_be32(a.data + 1);
		memcpy(m.pend.terminal, a.data + 5, 6);
		m.pend.balance = hce_get_be32(rsp);
		FUZZ_CHECK(m.pend.balance == m.balance);
		m.pend.counter = hce_get_be16(rsp + 4);
		if (a.p1 == 0x00) {
			FUZZ_CHECK(rlen == 18 && m.pend.counter == m.onl);
			m.pend.alg = rsp[7];
			memcpy(m.pend.random, rsp + 8, 4);
			/* The card's load MAC1 verifies. */
			{
				uint8_t d[15], mac[4];

				hce_put_be32(d, m.pend.balance);
				hce_put_be32(d + 4, m.pend.amount);
				d[8] = HCE_TX_LOAD;
				memcpy(d + 9, m.pend.terminal, 6);
				session_mac(&m.pend, NULL, d, sizeof(d), mac);
				FUZZ_CHECK(memcmp(mac, rsp + 12, 4) == 0);
			}
		} else {
			FUZZ_CHECK(rlen == 17 && m.pend.counter == m.ctc);
			FUZZ_CHECK((int64_t)m.pend.amount <=
				   (int64_t)hce_balance_value(m.balance) + card.overdraft_limit);
			m.pend.alg = rsp[10];
			memcpy(m.pend.random, rsp + 11, 4);
		}
		FUZZ_CHECK(key_for(m.pend.kind, m.pend.index));
		FUZZ_CHECK(m.pend.alg == key_for(m.pend.kind, m.pend.index)->alg);
	} else if (m.pend.valid) {
		if (m.pend.kind == 0x03 && m.pend.since == 0 && parsed && a.cla == 0x80 &&
		    a.ins == 0xDC && sw == HCE_SW_OK)
			m.pend.capp_cached = 1;
		m.pend.since++;
	}
	return sw;
}

static void cancel_pending(void)
{
	memset(&m.pend, 0, sizeof(m.pend));
}

static void session_end(void)
{
	hce_app_session_end(hce_purse_app(purse));
	cancel_pending();
}

static const char *const selects[] = {
	"\x00\xA4\x04\x00\x08\xA0\x00\x00\x06\x32\x01\x01\x05",
	"\x00\xA4\x00\x00\x02\x10\x01",
	"\x00\xA4\x04\x00\x0E" "2PAY.SYS.DDF01",
	"\x00\xA4\x04\x00\x0E" "1PAY.SYS.DDF01",
	"\x00\xA4\x00\x00\x02\x3F\x00",
	"\x00\xA4\x00\x00\x02\x00\x15",
};
static const size_t select_len[] = { 13, 7, 19, 19, 7, 7 };

/* A purchase (type 06) or CAPP purchase (09) as a terminal does it. */
static void do_purchase(struct prog *g, int capp)
{
	uint8_t c[80], flags = next8(g), body[15], mac[4], corrupt;
	uint32_t amount = next16(g) % 4000;
	uint8_t index = (flags & 0x30) == 0x30 ? 3 : (flags & 0x10) ? 2 : 1;
	struct hce_wr w = hce_wr_init(c, sizeof(c));
	int clean, locked = m.mac_failures >= HCE_PURSE_MAC_FAIL_LIMIT;
	uint16_t sw;

	hce_wr_bytes(&w, "\x80\x50", 2);
	hce_wr_u8(&w, capp ? 0x03 : 0x01);
	hce_wr_bytes(&w, "\x02\x0B", 2);
	hce_wr_u8(&w, index);
	hce_wr_be32(&w, amount);
	hce_wr_bytes(&w, "\x10\x20\x30\x40\x50", 5);
	hce_wr_u8(&w, next8(g));
	hce_wr_u8(&w, 0x0F);
	sw = xfer(c, w.len);
	if (sw != HCE_SW_OK)
		return;
	if (flags & 0x04)
		xfer(c, 5);	/* an interruption: a command that cancels the pending op */
	if (flags & 0x08)
		session_end();
	if (capp) {
		w = hce_wr_init(c, sizeof(c));
		hce_wr_bytes(&w, "\x80\xDC", 2);
		hce_wr_u8(&w, (uint8_t)(1 + next8(g) % 9));	/* 9: beyond the 8 records */
		hce_wr_bytes(&w, "\xF4\x30", 2);
		memset(c + w.len, next8(g), 48);
		w.len += 48;
		xfer(c, w.len);
	}
	hce_put_be32(body, 0x1000 + next8(g));
	memcpy(body + 4, "\x20\x26\x11\x25\x21\x30", 6);
	body[10] = next8(g);
	clean = m.pend.valid && m.pend.since == (capp ? 1 : 0) && (!capp || m.pend.capp_cached);
	if (m.pend.valid)
		purchase_mac1(&m.pend, body, mac);
	else
		memset(mac, 0, 4);
	corrupt = next8(g);	/* bit 7: one MAC bit off, byte corrupt & 3, bit (corrupt >> 2) & 7 */
	if (corrupt & 0x80)
		mac[corrupt & 3] ^= (uint8_t)(1u << ((corrupt >> 2) & 7));
	memcpy(body + 11, mac, 4);
	w = hce_wr_init(c, sizeof(c));
	hce_wr_bytes(&w, "\x80\x54\x01\x00\x0F", 5);
	hce_wr_bytes(&w, body, 15);
	hce_wr_u8(&w, 0x08);
	sw = xfer(c, w.len);
	/* Liveness: a correct, uninterrupted debit on an unlocked card goes through. */
	if (clean && !(corrupt & 0x80) && !locked && m.keys_on)
		FUZZ_CHECK(sw == HCE_SW_OK);
	if (clean && (corrupt & 0x80) && !locked && m.keys_on)
		FUZZ_CHECK(sw == HCE_SW_MAC_INVALID);
}

static void do_load(struct prog *g)
{
	uint8_t c[64], flags = next8(g), body[11], mac[4], corrupt;
	uint32_t amount = (uint32_t)next16(g) * 2;
	struct hce_wr w = hce_wr_init(c, sizeof(c));
	int clean, locked = m.mac_failures >= HCE_PURSE_MAC_FAIL_LIMIT;
	uint16_t sw;

	hce_wr_bytes(&w, "\x80\x50\x00\x02\x0B", 5);
	hce_wr_u8(&w, (flags & 0x10) ? 2 : 1);
	hce_wr_be32(&w, amount);
	hce_wr_bytes(&w, "\x99\x88\x77\x66\x55\x44", 6);
	hce_wr_u8(&w, 0x10);
	sw = xfer(c, w.len);
	if (sw != HCE_SW_OK)
		return;
	if (flags & 0x04)
		xfer((const uint8_t *)"\x80\x5C\x00\x02\x04", 5);
	if (flags & 0x08)
		session_end();
	memcpy(body, "\x20\x26\x11\x25\x22\x00", 6);
	body[6] = next8(g);
	clean = m.pend.valid && m.pend.since == 0;
	if (m.pend.valid)
		load_mac2(&m.pend, body, mac);
	else
		memset(mac, 0, 4);
	corrupt = next8(g);	/* bit 7: one MAC bit off, byte corrupt & 3, bit (corrupt >> 2) & 7 */
	if (corrupt & 0x80)
		mac[corrupt & 3] ^= (uint8_t)(1u << ((corrupt >> 2) & 7));
	memcpy(body + 7, mac, 4);
	w = hce_wr_init(c, sizeof(c));
	hce_wr_bytes(&w, "\x80\x52\x00\x00\x0B", 5);
	hce_wr_bytes(&w, body, 11);
	hce_wr_u8(&w, 0x04);
	sw = xfer(c, w.len);
	if (clean && !(corrupt & 0x80) && !locked && m.keys_on)
		FUZZ_CHECK(sw == HCE_SW_OK);
	if (clean && (corrupt & 0x80) && !locked && m.keys_on)
		FUZZ_CHECK(sw == HCE_SW_MAC_INVALID);
}

static void reopen(void)
{
	hce_purse_close(purse);
	FUZZ_CHECK(hce_purse_open(st, m.keys_on ? &keys : NULL, &purse) == 0);
	hce_purse_set_rng(purse, rng, &m);
	cancel_pending();
	check_state();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prog g = { data, size };
	static const uint8_t value_ins[] = { 0x50, 0x52, 0x54, 0x5A, 0x5C, 0xDC, 0x84, 0xB2 };
	uint8_t c[300];
	int ops;

	fresh_store();
	memset(&m, 0, sizeof(m));
	m.balance = INITIAL_BALANCE;
	m.keys_on = 1;
	m.rng = 1;
	FUZZ_CHECK(hce_purse_open(st, &keys, &purse) == 0);
	hce_purse_set_rng(purse, rng, &m);

	for (ops = 0; ops < MAX_OPS && g.n; ops++) {
		uint8_t op = next8(&g), n, i;

		switch (op % 14) {
		case 0:		/* raw APDU */
			n = next8(&g) % 48;
			for (i = 0; i < n; i++)
				c[i] = next8(&g);
			xfer(c, n);
			break;
		case 1:		/* raw value command: right CLA/INS, fuzzed P1 P2 and body */
			c[0] = 0x80;
			c[1] = value_ins[next8(&g) % sizeof(value_ins)];
			if (c[1] == 0x84 || c[1] == 0xB2)
				c[0] = 0x00;
			n = (uint8_t)(2 + next8(&g) % 24);
			for (i = 2; i < n; i++)
				c[i] = next8(&g);
			xfer(c, n);
			break;
		case 2:
			i = next8(&g) % 6;
			xfer((const uint8_t *)selects[i], select_len[i]);
			break;
		case 3:
		case 4:
			do_purchase(&g, 0);
			break;
		case 5:
			do_purchase(&g, 1);
			break;
		case 6:
			do_load(&g);
			break;
		case 7:		/* GET BALANCE, P1 00..04 */
			memcpy(c, "\x80\x5C\x00\x02\x04", 5);
			c[2] = next8(&g) % 5;
			if (xfer(c, 5) == HCE_SW_OK)
				FUZZ_CHECK(rlen == 6 && hce_get_be32(rsp) == m.balance);
			break;
		case 8:		/* READ RECORD, any P1, SFI, mode */
			memcpy(c, "\x00\xB2\x01\xC4\x00", 5);
			c[2] = next8(&g);
			c[3] = next8(&g);
			xfer(c, 5);
			break;
		case 9:		/* GET TRANSACTION PROVE of the last or a fuzzed counter */
			memcpy(c, "\x80\x5A\x00\x06\x02\x00\x00\x08", 8);
			c[3] = next8(&g) & 1 ? 0x09 : 0x06;
			hce_put_be16(c + 5, next8(&g) & 1 ? (uint16_t)(m.ctc - 1) : next16(&g));
			xfer(c, 8);
			break;
		case 10:
			memcpy(c, "\x00\x84\x00\x00\x04", 5);
			c[4] = next8(&g) & 1 ? 0x08 : 0x04;
			xfer(c, 5);
			break;
		case 11:
			session_end();
			break;
		case 12:
			reopen();
			break;
		case 13:	/* vault lock / unlock */
			m.keys_on = !m.keys_on;
			FUZZ_CHECK(hce_purse_set_keys(purse, m.keys_on ? &keys : NULL) == 0);
			cancel_pending();
			break;
		}
		check_state();
	}
	check_log();
	reopen();
	hce_purse_close(purse);
	purse = NULL;
	return 0;
}
