// SPDX-License-Identifier: GPL-2.0
/*
 * hcectl - talk to hced over its control socket (protocol: lib/ctl/ctl.h,
 * Documentation/hced.md "hcectl").
 *
 *   hcectl [--socket PATH] COMMAND [ARG...]
 *
 * Prints hced's data lines as they come (one "key value" per line) and exits with the code of
 * the final line: 0 OK, 1 usage (ours or hced's), 2 cannot connect (or hced busy), 3 denied,
 * 4 the command failed, 5 protocol error (closed early, malformed answer).
 * "unlock" reads the PIN from --pin-file F, or from standard input (first line; without echo
 * when it is a terminal): never from the command line, where ps would show it.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "hcectl.h"

#include "crypto/crypto.h"
#include "ctl/ctl.h"
#include "ctl/hconf.h"
#include "vault/vault.h"

#define HCECTL_TIMEOUT_MS 30000

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hcectl [--socket PATH] [--pin-file F] COMMAND [ARG...]\n"
		"\n"
		"Commands (answered by hced):\n"
		"  status               front end, device, session, counters\n"
		"  card                 card identity: AID, issuer, serial, dates\n"
		"  balance              purse balance (fen and yuan)\n"
		"  log                  the card's transaction log, newest first\n"
		"  lock                 wipe the keys in hced (value commands then answer 6985)\n"
		"  unlock               unseal the keys; the PIN from --pin-file or standard input\n"
		"  trace on [FILE]      start the APDU trace (secrets redacted; FILE: root only)\n"
		"  trace off            stop it\n"
		"  ping, help\n"
		"\n"
		"Wallet commands (run here with the wallet config, Documentation/wallet.md):\n"
		"  enrol CODE [keep-pin] enrol with the issuer's code, install the token as the\n"
		"                       card (PIN from --pin-file or standard input)\n"
		"  token                token state and validity, balances, offline cap, unsynced\n"
		"  sync                 sync now: upload records, receive balance and a fresh cap\n"
		"  cap                  the offline cap: spent/allowed amount and fares, and why a\n"
		"                       fare is refused\n"
		"  --wallet-conf F      wallet config (default " HCECTL_WALLET_CONF ")\n"
		"\n"
		"  --socket PATH        hced's control socket (default " HCED_CTL_DEFAULT_SOCKET ")\n"
		"  --pin-file F         unlock: the PIN is the first line of F\n"
		"\n"
		"Exit codes: 0 done; 1 usage; 2 cannot connect; 3 denied (not root or in the\n"
		"  control group); 4 the command failed; 5 protocol error.\n");
}

/* Read the PIN: first line of the file, or of stdin (echo off on a terminal). */
static int read_pin(const char *path, char *pin)
{
	struct termios t, quiet;
	bool tty = !path && isatty(STDIN_FILENO);
	int n;

	if (tty) {
		fprintf(stderr, "PIN: ");
		tcgetattr(STDIN_FILENO, &t);
		quiet = t;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	n = hce_vault_read_pin(path, path ? -1 : STDIN_FILENO, pin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		fputc('\n', stderr);
	}
	return n;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "pin-file", required_argument, NULL, 'p' },
		{ "wallet-conf", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = HCED_CTL_DEFAULT_SOCKET, *pin_file = NULL;
	const char *wallet_conf = HCECTL_WALLET_CONF;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[HCE_CTL_REQ_MAX + 1], line[HCE_CTL_LINE_MAX + 2], pin[HCE_VAULT_PIN_MAX + 1];
	size_t len = 0, line_len = 0;
	int c, fd, i, rc = HCE_CTL_EXIT_PROTOCOL;

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'p':
			pin_file = optarg;
			break;
		case 'w':
			wallet_conf = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return HCE_CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return HCE_CTL_EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "token") || !strcmp(argv[optind], "sync") ||
	    !strcmp(argv[optind], "cap") || !strcmp(argv[optind], "enrol")) {
		int n = 0;

		if (!strcmp(argv[optind], "enrol")) {
			n = read_pin(pin_file, pin);
			if (n < 0) {
				fprintf(stderr, "hcectl: cannot read the PIN: %s\n",
					n == -EINVAL ? "one line of 4..64 bytes expected" :
					strerror(-n));
				return HCE_CTL_EXIT_USAGE;
			}
		}
		rc = hcectl_wallet(wallet_conf, argc - optind, argv + optind, pin, (size_t)n);
		hce_wipe(pin, sizeof(pin));
		return rc;
	}
	/* Build the request line: the words as given (unlock: plus the PIN). */
	for (i = optind; i < argc; i++) {
		size_t w = strlen(argv[i]);

		if (!w || strchr(argv[i], ' ') || strchr(argv[i], '\n') ||
		    len + w + 2 > HCE_CTL_REQ_MAX) {
			fprintf(stderr, "hcectl: bad argument '%s'\n", argv[i]);
			return HCE_CTL_EXIT_USAGE;
		}
		if (len)
			req[len++] = ' ';
		memcpy(req + len, argv[i], w);
		len += w;
	}
	if (!strcmp(argv[optind], "unlock")) {
		int n;

		if (argc - optind != 1) {
			fprintf(stderr, "hcectl: unlock takes no argument: the PIN comes from "
				"--pin-file or standard input\n");
			return HCE_CTL_EXIT_USAGE;
		}
		n = read_pin(pin_file, pin);
		if (n < 0) {
			fprintf(stderr, "hcectl: cannot read the PIN: %s\n",
				n == -EINVAL ? "one line of 4..64 bytes expected" : strerror(-n));
			return HCE_CTL_EXIT_USAGE;
		}
		if (memchr(pin, ' ', (size_t)n) || len + (size_t)n + 2 > HCE_CTL_REQ_MAX) {
			hce_wipe(pin, sizeof(pin));
			fprintf(stderr, "hcectl: a PIN with blanks cannot be sent\n");
			return HCE_CTL_EXIT_USAGE;
		}
		req[len++] = ' ';
		memcpy(req + len, pin, (size_t)n);
		len += (size_t)n;
		hce_wipe(pin, sizeof(pin));
	}
	req[len++] = '\n';

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "hcectl: socket path too long\n");
		return HCE_CTL_EXIT_USAGE;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "hcectl: cannot connect to %s: %s%s\n", path, strerror(errno),
			errno == ENOENT || errno == ECONNREFUSED ? " (is hced running with a "
			"control socket?)" : errno == EACCES ? " (root or the control group only)" :
			"");
		hce_wipe(req, sizeof(req));
		return HCE_CTL_EXIT_CONNECT;
	}
	if (send_all(fd, req, len)) {
		hce_wipe(req, sizeof(req));
		/* A refused peer may be closed before our request arrives: read the reason. */
	}
	hce_wipe(req, sizeof(req));
	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		char ch;
		ssize_t n;
		int kind;

		if (poll(&pfd, 1, HCECTL_TIMEOUT_MS) <= 0) {
			fprintf(stderr, "hcectl: no answer from hced\n");
			break;
		}
		n = recv(fd, &ch, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "hcectl: hced closed the connection without an answer\n");
			break;
		}
		if (ch != '\n') {
			if (line_len < sizeof(line) - 1)
				line[line_len++] = ch;
			continue;
		}
		line[line_len] = '\0';
		line_len = 0;
		kind = hce_ctl_classify(line);
		if (kind == 0) {
			puts(line);
			continue;
		}
		if (kind == 2)
			fprintf(stderr, "hcectl: %s\n", line + 4);
		else if (kind < 0)
			fprintf(stderr, "hcectl: malformed answer line\n");
		rc = hce_ctl_exit_code(line);
		break;
	}
	close(fd);
	fflush(stdout);
	return rc;
}
