// SPDX-License-Identifier: GPL-2.0
/*
 * hce-pn532 - presents a PN532 on a pseudo-terminal, so that libnfc's pn532_uart driver (and
 * every libnfc program) takes it for a real chip on a serial line, and carries its commands to
 * the kernel NFC devices of linux-hce (Documentation/pn532.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "codec/hex.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

void bridge_log(const struct bridge *b, const char *fmt, ...)
{
	va_list ap;

	if (!b->verbose)
		return;
	va_start(ap, fmt);
	fputs("hce-pn532: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hce-pn532 [--link PATH] [--reader N] [--card N] [-v]\n"
		"       hce-pn532 [--link PATH] --card-exec CMD [--uid HEX] [--ats HEX] [-v]\n"
		"\n"
		"Presents a PN532 (HSU frames, firmware 1.6) on a pseudo-terminal for libnfc's\n"
		"pn532_uart driver: LIBNFC_DEVICE=pn532_uart:PATH nfc-list\n"
		"\n"
		"  --link PATH     stable symlink to the terminal (default /run/hce-pn532/ttyPN532,\n"
		"                  or $XDG_RUNTIME_DIR/hce-pn532/ttyPN532 when /run is not writable)\n"
		"  --reader N      initiator commands use nfc device N (default: the reader of the\n"
		"                  first virtual pair)\n"
		"  --card N        target commands (TgInitAsTarget) use nfc_hce card device N\n"
		"                  (default: the card of the first virtual pair)\n"
		"  --card-exec CMD no kernel: the card is the program CMD (sh -c), one hex C-APDU\n"
		"                  line in, one hex R-APDU line out (hced --stdio); it has the\n"
		"                  identity --uid (default 04A1B2C3) and --ats (TL first, default\n"
		"                  0578807002: FSCI 8, FWI 7, SFGI 0, no historical bytes)\n"
		"  -v, --verbose   log frames and commands to stderr\n"
		"\n"
		"Prints the terminal's path on stdout. Exit: 0 on SIGTERM/SIGINT, 1 usage, 2 setup.\n");
}

/* --- the serial side */

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { fd, POLLOUT, 0 };

				if (poll(&pfd, 1, 1000) <= 0)
					return -EAGAIN;
				continue;
			}
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void dump(const struct bridge *b, const char *dir, const uint8_t *p, size_t n)
{
	char hex[2 * PN532_WIRE_MAX + 1];

	if (!b->verbose || hce_hex_encode(p, n, hex, sizeof(hex)))
		return;
	bridge_log(b, "%s %s", dir, hex);
}

static void raw_mode(int fd)
{
	struct termios t;

	/* also clears the claim bit (CCLAIMED) a vanished libnfc client left in c_iflag */
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		t.c_iflag = 0;
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		tcsetattr(fd, TCSANOW, &t);
	}
}

/* Feed bytes read during an op: an ACK aborts; a new frame is queued and aborts too. */
static int watch_serial(struct bridge *b)
{
	uint8_t buf[64];
	ssize_t n = read(b->pty, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		b->hangup = true;
		return -EINTR;
	}
	for (ssize_t i = 0; i < n; i++) {
		enum pn532_event ev = pn532_parser_feed(&b->parser, buf[i]);

		if (ev == PN532_EV_ACK) {
			bridge_log(b, "host aborted the command (ACK)");
			/* bytes after the ACK in this read are lost: libnfc sends nothing more */
			return -EINTR;
		}
		if (ev == PN532_EV_FRAME) {
			b->queued = true;
			b->queued_tfi = b->parser.tfi;
			memcpy(b->queued_data, b->parser.data, b->parser.data_len);
			b->queued_len = b->parser.data_len;
			return -EINTR;
		}
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

int bridge_wait(struct bridge *b, int fd, int timeout_ms)
{
	long end = timeout_ms < 0 ? 0 : now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p[2] = { { b->pty, POLLIN, 0 }, { fd, POLLIN, 0 } };
		int left = -1, rc;

		if (stop)
			return -EINTR;
		if (timeout_ms >= 0) {
			long l = end - now_ms();

			if (l <= 0)
				return 0;
			left = (int)l;
		}
		/* while nobody holds the terminal open the master reports POLLHUP: check slowly */
		if (b->hangup)
			p[0].events = 0;
		rc = poll(p, fd >= 0 ? 2 : 1, b->hangup && (left < 0 || left > 100) ? 100 : left);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (fd >= 0 && (p[1].revents & (POLLIN | POLLERR | POLLHUP)))
			return 1;
		if (p[0].revents & POLLIN) {
			rc = watch_serial(b);
			if (rc)
				return rc;
		} else if (p[0].revents & POLLHUP) {
			b->hangup = true;
			return -EINTR;	/* the client went away: nobody waits for the answer */
		}
	}
}

struct serial {
	struct bridge *b;
	struct pn532_chip *chip;
	uint8_t last[PN532_WIRE_MAX];	/* last answer frame, for NACK */
	size_t last_len;
};

static void send_frame(struct serial *s, const uint8_t *p, size_t n, bool keep)
{
	dump(s->b, "<-", p, n);
	if (write_all(s->b->pty, p, n))
		bridge_log(s->b, "write to the terminal failed");
	if (keep) {
		memcpy(s->last, p, n);
		s->last_len = n;
	}
}

static void run_frame(struct serial *s, uint8_t tfi, const uint8_t *data, size_t len)
{
	static uint8_t out[PN532_DATA_MAX], wire[PN532_WIRE_MAX];
	size_t olen = 0, n;
	int rc;

	send_frame(s, pn532_ack_frame, sizeof(pn532_ack_frame), false);
	if (tfi != PN532_TFI_HOST || len == 0) {
		send_frame(s, pn532_error_frame, sizeof(pn532_error_frame), true);
		return;
	}
	bridge_log(s->b, "command %02X (%zu bytes)", data[0], len);
	rc = pn532_chip_command(s->chip, data, len, out, sizeof(out), &olen);
	if (rc == PN532_NO_ANSWER)
		return;
	if (rc == PN532_SYNTAX_ERROR) {
		send_frame(s, pn532_error_frame, sizeof(pn532_error_frame), true);
		return;
	}
	n = pn532_frame_encode(PN532_TFI_CHIP, out, olen, wire, sizeof(wire));
	if (!n) {
		send_frame(s, pn532_error_frame, sizeof(pn532_error_frame), true);
		return;
	}
	send_frame(s, wire, n, true);
}

static void on_hangup(struct serial *s)
{
	bridge_log(s->b, "client closed the terminal%s",
		   pn532_parser_busy(&s->b->parser) ? " mid-frame" : "");
	pn532_parser_init(&s->b->parser);
	pn532_chip_reset_session(s->chip);
	s->b->queued = false;
	s->last_len = 0;
	raw_mode(s->b->pty);
}

static void serve(struct serial *s)
{
	struct bridge *b = s->b;
	uint8_t buf[512];

	while (!stop) {
		struct pollfd p = { b->pty, POLLIN, 0 };
		ssize_t n;
		int rc;

		if (b->queued) {
			b->queued = false;
			run_frame(s, b->queued_tfi, b->queued_data, b->queued_len);
			continue;
		}
		if (b->hangup) {
			on_hangup(s);
			/* POLLHUP stays set until a client opens the terminal again */
			for (;;) {
				if (stop)
					return;
				rc = poll(&p, 1, 0);
				if (rc == 1 && !(p.revents & POLLHUP))
					break;
				if (rc == 1 && (p.revents & POLLIN))
					break;
				usleep(50000);
			}
			b->hangup = false;
			continue;
		}
		rc = poll(&p, 1, 500);
		if (rc < 0 && errno != EINTR)
			return;
		if (rc <= 0)
			continue;
		if (!(p.revents & POLLIN)) {
			if (p.revents & POLLHUP)
				b->hangup = true;
			continue;
		}
		n = read(b->pty, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			b->hangup = true;
			continue;
		}
		dump(b, "->", buf, (size_t)n);
		for (ssize_t i = 0; i < n && !stop; i++) {
			switch (pn532_parser_feed(&b->parser, buf[i])) {
			case PN532_EV_FRAME:
				run_frame(s, b->parser.tfi, b->parser.data, b->parser.data_len);
				break;
			case PN532_EV_NACK:
				if (s->last_len)
					send_frame(s, s->last, s->last_len, false);
				break;
			case PN532_EV_BAD_LCS:
			case PN532_EV_BAD_DCS:
			case PN532_EV_TOO_LONG:
				bridge_log(b, "bad frame: answered with the error frame");
				send_frame(s, pn532_error_frame, sizeof(pn532_error_frame), true);
				break;
			case PN532_EV_ACK:	/* abort: nothing runs */
			case PN532_EV_NONE:
				break;
			}
			if (b->hangup || b->queued)
				break;	/* the rest of this read belonged to a gone client */
		}
	}
}

/* --- the terminal and its symlink */

static int default_link(char *out, size_t cap)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (access("/run", W_OK) == 0)
		return snprintf(out, cap, "/run/hce-pn532/ttyPN532") >= (int)cap ? -1 : 0;
	if (xdg && *xdg)
		return snprintf(out, cap, "%s/hce-pn532/ttyPN532", xdg) >= (int)cap ? -1 : 0;
	return snprintf(out, cap, "/tmp/hce-pn532-%u/ttyPN532", (unsigned int)getuid()) >=
	       (int)cap ? -1 : 0;
}

static int make_link(const char *target, const char *link)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 16];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", link) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
	}
	snprintf(tmp, sizeof(tmp), "%s.%ld", link, (long)getpid());
	unlink(tmp);
	if (symlink(target, tmp))
		return -errno;
	if (rename(tmp, link)) {
		int e = -errno;

		unlink(tmp);
		return e;
	}
	return 0;
}

static int open_pty(char *name, size_t cap)
{
	int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (grantpt(fd) || unlockpt(fd) || ptsname_r(fd, name, cap)) {
		int e = -errno;

		close(fd);
		return e;
	}
	raw_mode(fd);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static long parse_index(const char *s)
{
	char *end;
	long v;

	if (!strncmp(s, "nfc", 3))
		s += 3;
	v = strtol(s, &end, 10);
	return (*s && !*end && v >= 0 && v < INT_MAX) ? v : -2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "reader", required_argument, NULL, 'r' },
		{ "card", required_argument, NULL, 'c' },
		{ "card-exec", required_argument, NULL, 'x' },
		{ "uid", required_argument, NULL, 'u' },
		{ "ats", required_argument, NULL, 'a' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct pn532_chip chip;
	struct pipe_rf_id id = {
		.uid = { 0x04, 0xa1, 0xb2, 0xc3 }, .uid_len = 4,
		.sens_res = { 0x00, 0x04 }, .sel_res = 0x20,
		.ats = { 0x05, 0x78, 0x80, 0x70, 0x02 }, .ats_len = 5,
	};
	char link[PATH_MAX] = "", pts[128];
	const char *exec_cmd = NULL;
	struct bridge b = { .pty = -1 };
	struct serial s = { .b = &b, .chip = &chip };
	struct kernel_rf *k = NULL;
	struct pipe_rf *pr = NULL;
	long reader = -1, card = -1;
	struct sigaction sa;
	ssize_t hl;
	int o, rc;

	while ((o = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (o) {
		case 'l':
			if (snprintf(link, sizeof(link), "%s", optarg) >= (int)sizeof(link))
				return 1;
			break;
		case 'r':
		case 'c':
			if (parse_index(optarg) < 0) {
				fprintf(stderr, "hce-pn532: %s: nfcN or an index\n", optarg);
				return 1;
			}
			*(o == 'r' ? &reader : &card) = parse_index(optarg);
			break;
		case 'x':
			exec_cmd = optarg;
			break;
		case 'u':
			hl = hce_hex_decode(optarg, id.uid, sizeof(id.uid));
			if (hl != 4 && hl != 7 && hl != 10) {
				fprintf(stderr, "hce-pn532: --uid: 4, 7 or 10 bytes of hex\n");
				return 1;
			}
			id.uid_len = (size_t)hl;
			id.sens_res[1] = hl == 4 ? 0x04 : hl == 7 ? 0x44 : 0x84;
			break;
		case 'a':
			hl = hce_hex_decode(optarg, id.ats, sizeof(id.ats));
			if (hl < 1 || id.ats[0] != hl) {
				fprintf(stderr, "hce-pn532: --ats: hex, TL (its length) first\n");
				return 1;
			}
			id.ats_len = (size_t)hl;
			break;
		case 'v':
			b.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	if (!*link && default_link(link, sizeof(link))) {
		fprintf(stderr, "hce-pn532: no place for the link: use --link\n");
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	b.pty = open_pty(pts, sizeof(pts));
	if (b.pty < 0) {
		fprintf(stderr, "hce-pn532: pseudo-terminal: %s\n", strerror(-b.pty));
		return 2;
	}
	rc = make_link(pts, link);
	if (rc) {
		fprintf(stderr, "hce-pn532: link %s: %s\n", link, strerror(-rc));
		return 2;
	}
	pn532_parser_init(&b.parser);
	if (exec_cmd) {
		rc = pipe_rf_new(&b, exec_cmd, &id, &pr);
		if (!rc)
			pn532_chip_init(&chip, &pipe_rf_ops, pr);
	} else {
		rc = kernel_rf_new(&b, reader, card, &k);
		if (!rc)
			pn532_chip_init(&chip, &kernel_rf_ops, k);
	}
	if (rc) {
		fprintf(stderr, "hce-pn532: RF side: %s\n", strerror(-rc));
		unlink(link);
		return 2;
	}
	printf("%s %s\n", pts, link);
	fflush(stdout);
	b.hangup = true;		/* no client yet */
	serve(&s);
	pn532_chip_reset_session(&chip);
	kernel_rf_free(k);
	pipe_rf_free(pr);
	unlink(link);
	close(b.pty);
	return 0;
}
