// SPDX-License-Identifier: GPL-2.0
/*
 * fe_stdio.c - the stdio front end: one hex C-APDU per input line, one hex R-APDU per output
 * line (Documentation/hced.md, "--stdio").
 *
 *   - blank lines and lines starting with '#' are ignored (no output);
 *   - "!reset" (also "!off") ends the RF session (hce_app_session_end), no output;
 *   - hex digits, blanks and ':' between byte pairs: the C-APDU; the answer is the R-APDU in
 *     upper-case hex;
 *   - anything else (non-hex, odd digit count, empty after decoding, longer than a C-APDU or
 *     HCED_STDIO_LINE_MAX) gets a message on stderr naming the line and the answer "6700";
 *   - end of input ends the session and the program (exit status 0).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/hex.h"
#include "crypto/crypto.h"
#include "frontend.h"
#include "hced.h"
#include "log.h"

#define HCED_STDIO_LINE_MAX (3 * HCE_CAPDU_MAX + 64)

struct line_reader {
	char *buf;
	size_t len;	/* bytes in buf */
	size_t start;	/* first unconsumed byte */
	bool eof;
};

/*
 * Next line (NUL-terminated, newline removed) in *line. Returns 1 with a line, 0 at end of
 * input, -1 on error or stop, 2 for a line longer than the limit (skipped).
 */
static int next_line(struct line_reader *r, char **line)
{
	bool overlong = false;

	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->len - r->start);
		ssize_t n;

		if (nl) {
			*nl = '\0';
			*line = r->buf + r->start;
			r->start = (size_t)(nl - r->buf) + 1;
			return overlong ? 2 : 1;
		}
		if (r->eof) {
			if (r->start == r->len)
				return 0;
			/* last line without newline */
			r->buf[r->len] = '\0';
			*line = r->buf + r->start;
			r->start = r->len;
			return overlong ? 2 : 1;
		}
		if (r->start) {
			memmove(r->buf, r->buf + r->start, r->len - r->start);
			r->len -= r->start;
			r->start = 0;
		}
		if (r->len == HCED_STDIO_LINE_MAX) {
			overlong = true;	/* drop what we have, keep looking for the end */
			r->len = 0;
		}
		if (hced_wait(STDIN_FILENO, -1) < 0)
			return -1;
		n = read(STDIN_FILENO, r->buf + r->len, HCED_STDIO_LINE_MAX - r->len);
		if (n < 0) {
			if (errno == EINTR && !hced_stop)
				continue;
			return -1;
		}
		if (n == 0)
			r->eof = true;
		r->len += (size_t)n;
	}
}

static int answer(const uint8_t *rapdu, size_t rlen, char *hex, size_t hexcap)
{
	if (hce_hex_encode(rapdu, rlen, hex, hexcap))
		return -1;
	if (puts(hex) == EOF || fflush(stdout) == EOF)
		return -1;
	return 0;
}

static int stdio_run(struct hce_app *app, const struct hced_frontend_opts *opts)
{
	static const uint8_t sw_wrong_length[2] = { 0x67, 0x00 };
	struct line_reader r = { 0 };
	uint8_t *capdu = malloc(HCE_CAPDU_MAX), *rapdu = malloc(HCE_RAPDU_MAX);
	size_t hexcap = 2 * HCE_RAPDU_MAX + 1;
	char *hex = malloc(hexcap), *line;
	unsigned long lineno = 0;
	int ret = 0, got;

	r.buf = malloc(HCED_STDIO_LINE_MAX + 1);
	if (!capdu || !rapdu || !hex || !r.buf) {
		hced_err("stdio: out of memory");
		ret = -ENOMEM;
		goto out;
	}
	snprintf(hced.device, sizeof(hced.device), "stdin");
	hced.listening = true;
	hced_session_start("stdio session start");
	hced_info("stdio: ready (one hex C-APDU per line)");
	while (!hced_stop && (got = next_line(&r, &line)) != 0) {
		size_t len, rlen;
		ssize_t n;
		char *p;

		if (got < 0) {
			if (!hced_stop) {
				hced_err("stdio: read error: %s", strerror(errno));
				ret = -EIO;
			}
			break;
		}
		lineno++;
		if (got == 2) {
			hced_err("stdio: line %lu: longer than %d characters; answered 6700", lineno,
				 HCED_STDIO_LINE_MAX);
			if (answer(sw_wrong_length, 2, hex, hexcap))
				break;
			continue;
		}
		len = strlen(line);
		while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' ||
			       line[len - 1] == '\t'))
			line[--len] = '\0';
		p = line + strspn(line, " \t");
		if (!*p || *p == '#')
			continue;
		if (*p == '!') {
			if (!strcmp(p, "!reset") || !strcmp(p, "!off")) {
				hced_dbg("stdio: line %lu: session end", lineno);
				hced_session_end("!reset");
				hced_session_start("stdio session start");
				continue;
			}
			hced_err("stdio: line %lu: unknown control line (known: !reset, !off); "
				 "answered 6700", lineno);
			if (answer(sw_wrong_length, 2, hex, hexcap))
				break;
			continue;
		}
		n = hce_hex_decode(p, capdu, HCE_CAPDU_MAX);
		if (n <= 0) {
			hced_err("stdio: line %lu: not a C-APDU (%s); answered 6700", lineno,
				 n == 0 ? "no bytes" :
				 "hex digit pairs expected, blanks or ':' between bytes");
			if (answer(sw_wrong_length, 2, hex, hexcap))
				break;
			continue;
		}
		rlen = hced_process("stdio", capdu, (size_t)n, rapdu, HCE_RAPDU_MAX);
		if (answer(rapdu, rlen, hex, hexcap)) {
			hced_warn("stdio: output closed");
			break;
		}
	}
	hced_session_end("end of input");
	hced_info("stdio: end of session (%lu lines)", lineno);
out:
	if (capdu)
		hce_wipe(capdu, HCE_CAPDU_MAX);
	if (rapdu)
		hce_wipe(rapdu, HCE_RAPDU_MAX);
	free(capdu);
	free(rapdu);
	free(hex);
	free(r.buf);
	return ret;
}

const struct hced_frontend_ops hced_fe_stdio = {
	.name = "stdio",
	.run = stdio_run,
};
