// SPDX-License-Identifier: GPL-2.0
/*
 * trace.c - hced's APDU trace (hcectl trace on|off, [log] trace), secrets redacted.
 *
 * One line per exchange:
 *   2026-11-25T21:30:00.123Z s=5 #3 C 80 50 01 02 Lc=11 Le=15 INITIALIZE-PURCHASE key=1
 *     amount=150 -> R 15+2 balance=10000 SW=9000 0.214ms
 * What is written: the header (CLA INS P1 P2), Lc and Le, the response length, the status
 * word, the command's name, the time the application took, and from the data only
 *   - SELECT's data (an AID or file id: public, any reader can list them),
 *   - amounts and balances (INITIALIZE's amount and key index, GET BALANCE's and
 *     INITIALIZE's balance: what the card owner reads on a receipt anyway).
 * Never written: MACs, TACs, random numbers, terminal numbers, dates, counters, file
 * contents (holder name, transaction log), keys or PINs; everything not listed above
 * appears as its length only. Documentation/hced.md "APDU trace" states the same rule.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hced.h"
#include "log.h"
#include "store/store.h"

static int trace_fd = -1;
static char trace_file[HCED_PATH_MAX];

int hced_trace_start(const char *path)
{
	int fd;

	if (strlen(path) >= sizeof(trace_file))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
		  0600);
	if (fd < 0)
		return -errno;
	hced_trace_stop();
	trace_fd = fd;
	strcpy(trace_file, path);
	hced_trace_note("trace on");
	hced_info("APDU trace on: %s", path);
	return 0;
}

void hced_trace_stop(void)
{
	if (trace_fd < 0)
		return;
	hced_trace_note("trace off");
	close(trace_fd);
	trace_fd = -1;
	hced_info("APDU trace off");
}

const char *hced_trace_path(void)
{
	return trace_fd >= 0 ? trace_file : NULL;
}

static size_t stamp(char *buf, size_t cap)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	return strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm) +
	       (size_t)snprintf(buf + 19, cap - 19, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void emit(const char *line, size_t len)
{
	/* Best effort: a full disk or a slow file must not stall the APDU path. */
	if (write(trace_fd, line, len) < 0)
		hced_dbg("trace: write failed: %s", strerror(errno));
}

void hced_trace_note(const char *what)
{
	char line[256];
	size_t n;

	if (trace_fd < 0)
		return;
	n = stamp(line, sizeof(line));
	n += (size_t)snprintf(line + n, sizeof(line) - n, " -- %s\n", what);
	emit(line, n < sizeof(line) ? n : sizeof(line) - 1);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#define APPEND(...) do { \
	if (n < cap) \
		n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__); \
} while (0)

/* Case of a short/extended APDU: Lc, data offset and Le (-1 none). */
static void lengths(const uint8_t *c, size_t len, size_t *lc, size_t *off, long *le)
{
	*lc = 0;
	*off = len;
	*le = -1;
	if (len <= 4)
		return;
	if (len == 5) {
		*le = c[4] ? c[4] : 256;
		return;
	}
	if (c[4] && (size_t)c[4] + 5 <= len) {
		*lc = c[4];
		*off = 5;
		if (len == 5 + *lc + 1)
			*le = c[5 + *lc] ? c[5 + *lc] : 256;
		return;
	}
	if (!c[4] && len >= 7) {	/* extended */
		size_t l = (size_t)c[5] << 8 | c[6];

		if (len == 7) {
			*le = l ? (long)l : 65536;
		} else if (7 + l <= len) {
			*lc = l;
			*off = 7;
		}
	}
}

void hced_trace_apdu(uint32_t session, uint64_t seq, const uint8_t *c, size_t clen,
		     const uint8_t *r, size_t rlen, uint64_t ns)
{
	char buf[512];
	size_t n, cap = sizeof(buf) - 2, lc, off, dlen = rlen >= 2 ? rlen - 2 : 0;
	const uint8_t *d;
	long le;

	if (trace_fd < 0)
		return;
	n = stamp(buf, cap);
	APPEND(" s=%u #%llu C", session, (unsigned long long)seq);
	if (clen < 4) {
		APPEND(" (%zu bytes)", clen);
		goto response;
	}
	APPEND(" %02X %02X %02X %02X", c[0], c[1], c[2], c[3]);
	lengths(c, clen, &lc, &off, &le);
	d = c + off;
	if (lc)
		APPEND(" Lc=%zu", lc);
	if (le >= 0)
		APPEND(" Le=%ld", le);
	if ((c[0] & 0xF0) == 0x00 && c[1] == 0xA4) {
		APPEND(" SELECT");
		if (lc) {
			APPEND(" %s=", c[2] == 0x04 ? "name" : "id");
			for (size_t i = 0; i < lc && i < 16; i++)
				APPEND("%02X", d[i]);
		}
	} else if (c[0] == 0x80 && c[1] == 0x5C) {
		APPEND(" GET-BALANCE");
	} else if (c[0] == 0x80 && c[1] == 0x50) {
		APPEND(" INITIALIZE-%s", c[2] == 0x00 ? "LOAD" : c[2] == 0x01 ? "PURCHASE" :
		       c[2] == 0x03 ? "CAPP-PURCHASE" : "?");
		if (lc >= 5)
			APPEND(" key=%u amount=%u", d[0], be32(d + 1));
	} else if (c[0] == 0x80 && c[1] == 0x54) {
		APPEND(" %s", c[2] == 0x03 ? "DEBIT-FOR-CAPP-PURCHASE" : "DEBIT-FOR-PURCHASE");
	} else if (c[0] == 0x80 && c[1] == 0x52) {
		APPEND(" CREDIT-FOR-LOAD");
	} else if (c[0] == 0x80 && c[1] == 0x5A) {
		APPEND(" GET-TRANSACTION-PROVE");
	} else if (c[0] == 0x80 && c[1] == 0xDC) {
		APPEND(" UPDATE-CAPP-DATA-CACHE");
	} else if ((c[0] & 0xF0) == 0x00 && c[1] == 0xB0) {
		APPEND(" READ-BINARY");
	} else if ((c[0] & 0xF0) == 0x00 && c[1] == 0xB2) {
		APPEND(" READ-RECORD");
	} else if ((c[0] & 0xF0) == 0x00 && c[1] == 0x84) {
		APPEND(" GET-CHALLENGE");
	}
response:
	APPEND(" -> R %zu+2", dlen);
	if (rlen >= 2 && r[rlen - 2] == 0x90 && r[rlen - 1] == 0x00 && clen >= 4 &&
	    c[0] == 0x80 && ((c[1] == 0x5C && dlen >= 4) || (c[1] == 0x50 && dlen >= 4)))
		APPEND(" balance=%d", hce_balance_value(be32(r)));	/* signed: overdraft */
	if (rlen >= 2)
		APPEND(" SW=%02X%02X", r[rlen - 2], r[rlen - 1]);
	APPEND(" %llu.%03llums", (unsigned long long)(ns / 1000000),
	       (unsigned long long)(ns / 1000 % 1000));
	if (n > cap)
		n = cap;
	buf[n++] = '\n';
	emit(buf, n);
}
