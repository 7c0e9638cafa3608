// SPDX-License-Identifier: GPL-2.0
/*
 * fe_pcsc.c - the PC/SC front end: a virtual contactless card on pcscd through vsmartcard's
 * vpcd reader driver (Documentation/hced.md, "--pcsc").
 *
 * vpcd (inside pcscd) listens on HOST:PORT (default 127.0.0.1:35963); we connect as the card.
 * Every message both ways is a 2-byte big-endian length then the payload. A 1-byte payload
 * from vpcd is a control code: 0 power off, 1 power on, 2 reset, 4 get ATR (answered with the
 * ATR); anything longer is a C-APDU, answered with the R-APDU. Power off and reset end the
 * application's RF session; so does losing the connection, after which we reconnect (pcscd
 * restarted) with a growing pause (0.1 s doubling to 2 s) until stopped.
 *
 * Latency: vpcd writes the length and the APDU separately; we set TCP_NODELAY on our socket
 * and TCP_QUICKACK after every receive, so no exchange waits for a delayed ACK
 * (/work/shared/spec/platform.md: 44 ms -> 0.2 ms per APDU).
 *
 * ATR (PC/SC part 3, contactless ISO 14443-4 type A card: pseudo-ATR from the ATS):
 *   3B 8n 80 01 <n historical bytes> TCK
 * TS = 3B direct convention; T0 = 8n: TD1 present, n historical bytes; TD1 = 80: TD2 present,
 * T = 0; TD2 = 01: T = 1; TCK = XOR of T0..last historical byte. Historical bytes
 * (HCED_ATR_HIST): "HCE-EP" in ASCII (first byte 0x48: proprietary format).
 */
#include <errno.h>
#include <stdbool.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "frontend.h"
#include "hced.h"
#include "log.h"

#define HCED_VPCD_DEFAULT "127.0.0.1:35963"
#define VPCD_OFF 0
#define VPCD_ON 1
#define VPCD_RESET 2
#define VPCD_ATR 4

static const uint8_t hist[] = { 'H', 'C', 'E', '-', 'E', 'P' };

/* Build the ATR into atr (>= 5 + sizeof(hist) bytes); returns its length. */
static size_t build_atr(uint8_t *atr)
{
	size_t n = 0, i;
	uint8_t tck = 0;

	atr[n++] = 0x3B;
	atr[n++] = (uint8_t)(0x80 | sizeof(hist));
	atr[n++] = 0x80;
	atr[n++] = 0x01;
	memcpy(atr + n, hist, sizeof(hist));
	n += sizeof(hist);
	for (i = 1; i < n; i++)
		tck ^= atr[i];
	atr[n++] = tck;
	return n;
}

static int split_hostport(const char *spec, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon = strrchr(spec, ':');
	size_t hl;

	if (!colon || colon == spec || !colon[1])
		return -1;
	hl = (size_t)(colon - spec);
	if (hl >= hcap || strlen(colon + 1) >= pcap)
		return -1;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {	/* [::1]:35963 */
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	snprintf(port, pcap, "%s", colon + 1);
	return 0;
}

static int vpcd_connect(const char *host, const char *port)
{
	struct addrinfo hints = { 0 }, *ai, *a;
	int fd = -1, one = 1;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai))
		return -1;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		if (!connect(fd, a->ai_addr, a->ai_addrlen))
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Read exactly n bytes; 0 on success, -1 on EOF/error/stop. */
static int read_full(int fd, uint8_t *p, size_t n)
{
	int one = 1;

	while (n) {
		ssize_t got;

		if (hced_wait(fd, -1) < 0)
			return -1;
		got = recv(fd, p, n, 0);

		if (got < 0 && errno == EINTR && !hced_stop)
			continue;
		if (got <= 0)
			return -1;
		/* Quick ACK again: the kernel drops back to delayed ACKs on its own. */
		setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

static int send_msg(int fd, const uint8_t *payload, size_t len, uint8_t *buf)
{
	size_t off = 0, total = len + 2;

	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)len;
	memcpy(buf + 2, payload, len);
	while (off < total) {
		ssize_t n = send(fd, buf + off, total - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR && !hced_stop)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static void pause_ms(unsigned int ms)
{
	hced_wait(-1, (int)ms);	/* a stop request ends the pause early */
}

/* Serve one connection until it drops or we are stopped. Returns 0 (dropped) or -ENOMEM. */
static int serve(int fd, struct hce_app *app, uint8_t *in, uint8_t *out, uint8_t *msg,
		 unsigned long *n_apdus)
{
	uint8_t atr[16], hdr[2];
	size_t atr_len = build_atr(atr);
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	while (!hced_stop) {
		size_t len, rlen;

		if (read_full(fd, hdr, 2))
			return 0;
		len = (size_t)hdr[0] << 8 | hdr[1];
		if (read_full(fd, in, len))
			return 0;
		if (len == 1) {
			switch (in[0]) {
			case VPCD_OFF:
				hced_dbg("pcsc: power off");
				if (hced.in_session)
					hced_session_end("power off");
				break;
			case VPCD_ON:
				hced_dbg("pcsc: power on");
				if (!hced.in_session)
					hced_session_start("power on");
				break;
			case VPCD_RESET:
				hced_dbg("pcsc: reset");
				if (hced.in_session)
					hced_session_end("reset");
				hced_session_start("reset");
				break;
			case VPCD_ATR:
				if (send_msg(fd, atr, atr_len, msg))
					return 0;
				break;
			default:
				hced_warn("pcsc: unknown vpcd control code %u ignored", in[0]);
				break;
			}
			continue;
		}
		if (len == 0) {
			hced_warn("pcsc: empty message from vpcd ignored");
			continue;
		}
		rlen = hced_process("pcsc", in, len, out, HCE_RAPDU_MAX);
		(*n_apdus)++;
		if (rlen > 0xffff) {	/* vpcd's length field is 16 bits */
			static const uint8_t sw[2] = { 0x6F, 0x00 };

			hced_warn("pcsc: R-APDU of %zu bytes does not fit vpcd's framing", rlen);
			memcpy(out, sw, 2);
			rlen = 2;
		}
		if (send_msg(fd, out, rlen, msg))
			return 0;
	}
	return 0;
}

static int pcsc_run(struct hce_app *app, const struct hced_frontend_opts *opts)
{
	const char *spec = opts->vpcd ? opts->vpcd : HCED_VPCD_DEFAULT;
	char host[256], port[32];
	uint8_t *in = malloc(0x10000), *out = malloc(HCE_RAPDU_MAX), *msg = malloc(0x10000 + 2);
	unsigned int backoff = 100;
	unsigned long n_apdus = 0;
	bool announced = false;
	int ret = 0;

	if (!in || !out || !msg) {
		hced_err("pcsc: out of memory");
		ret = -ENOMEM;
		goto out;
	}
	if (split_hostport(spec, host, sizeof(host), port, sizeof(port))) {
		hced_err("pcsc: --vpcd wants HOST:PORT, got '%s'", spec);
		ret = -EINVAL;
		goto out;
	}
	while (!hced_stop) {
		int fd = vpcd_connect(host, port);

		if (fd < 0) {
			if (!announced)
				hced_info("pcsc: waiting for vpcd at %s:%s (is pcscd running?)", host,
					  port);
			announced = true;
			pause_ms(backoff);
			backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
			continue;
		}
		hced_info("pcsc: connected to vpcd at %s:%s; card inserted", host, port);
		snprintf(hced.device, sizeof(hced.device), "vpcd %.40s:%.8s", host, port);
		hced.listening = true;
		backoff = 100;
		announced = false;
		ret = serve(fd, app, in, out, msg, &n_apdus);
		close(fd);
		hced.listening = false;
		if (hced.in_session)
			hced_session_end("vpcd connection closed");
		else
			hce_app_session_end(app);
		if (ret)
			break;
		if (!hced_stop)
			hced_info("pcsc: vpcd closed the connection; reconnecting");
	}
	hced_info("pcsc: stopped after %lu APDUs", n_apdus);
out:
	if (in)
		hce_wipe(in, 0x10000);
	if (out)
		hce_wipe(out, HCE_RAPDU_MAX);
	if (msg)
		hce_wipe(msg, 0x10000 + 2);
	free(in);
	free(out);
	free(msg);
	return ret;
}

const struct hced_frontend_ops hced_fe_pcsc = {
	.name = "pcsc",
	.run = pcsc_run,
};
