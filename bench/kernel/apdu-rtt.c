// SPDX-License-Identifier: GPL-2.0
/*
 * apdu-rtt: APDU round trip through the kernel card-emulation path, beside a
 * plain userspace ping-pong of the same sizes.
 *
 * Kernel path: a reader (AF_NFC SOCK_SEQPACKET/NFC_SOCKPROTO_RAW socket on
 * the reader device of a virtual pair) sends a C-APDU of N bytes; the card
 * owner (bound with "nfc_hce", in a second thread) answers each C-APDU event
 * with an R-APDU of N bytes (echo + 90 00). The reader times send() to the
 * end of recv(), checking every R-APDU byte for byte.
 * Plain path: two processes over an AF_UNIX SOCK_SEQPACKET socketpair, the
 * child answering exactly as the card owner does.
 *
 * Must run as root inside the VM (tools/vm/run), with nfc_hce and
 * nfc_hce_vctrl loaded. Exit status: 0 figures printed, 1 a failure
 * (printed on stderr), 2 bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/nfc.h>
#include <linux/nfc_hce.h>

#include "nfcnl/nfcnl.h"
#include "nfcnl/reader.h"

#define MAX_SIZES 8
#define MAX_APDU 65536

struct figures {
	double median, p99, mean;
};

static const char *prog = "apdu-rtt";

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void summarize(double *v, int n, struct figures *f)
{
	double sum = 0;
	int i, k;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	for (i = 0; i < n; i++)
		sum += v[i];
	f->mean = sum / n;
	f->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	/* Nearest-rank p99. */
	k = (99 * n + 99) / 100;
	f->p99 = v[(k < 1 ? 1 : k) - 1];
}

/* A C-APDU of exactly @size bytes (short or extended Lc), data varying by @iter. */
static size_t make_capdu(uint8_t *buf, size_t size, unsigned int iter)
{
	size_t hdr, dlen, i;

	buf[0] = 0x80;
	buf[1] = 0xEE;		/* proprietary "echo" */
	buf[2] = (uint8_t)(iter >> 8);
	buf[3] = (uint8_t)iter;
	if (size <= 4 + 1 + 255) {
		hdr = 5;
		dlen = size - hdr;
		buf[4] = (uint8_t)dlen;
	} else {
		hdr = 7;
		dlen = size - hdr;
		buf[4] = 0;
		buf[5] = (uint8_t)(dlen >> 8);
		buf[6] = (uint8_t)dlen;
	}
	for (i = 0; i < dlen; i++)
		buf[hdr + i] = (uint8_t)(i * 7 + iter);
	return size;
}

/* The answer both peers give: first len - 2 bytes of the C-APDU, 90 00. */
static void make_rapdu(uint8_t *r, const uint8_t *c, size_t len)
{
	memcpy(r, c, len - 2);
	r[len - 2] = 0x90;
	r[len - 1] = 0x00;
}

static int check_rapdu(const uint8_t *c, size_t clen, const uint8_t *r,
		       size_t rlen)
{
	return rlen == clen && !memcmp(r, c, clen - 2) &&
	       r[clen - 2] == 0x90 && r[clen - 1] == 0x00;
}

/* ---- plain userspace ping-pong */

static int plain_child(int fd)
{
	static uint8_t c[MAX_APDU], r[MAX_APDU];

	for (;;) {
		ssize_t n = recv(fd, c, sizeof(c), 0);

		if (n <= 0)
			return n < 0;
		if (n < 2)
			return 1;
		make_rapdu(r, c, (size_t)n);
		if (send(fd, r, (size_t)n, 0) != n)
			return 1;
	}
}

static int plain_run(const size_t *sizes, int nsizes, int iters, int warmup,
		     struct figures *out)
{
	static uint8_t c[MAX_APDU], r[MAX_APDU];
	double *t = calloc((size_t)iters, sizeof(*t));
	int sv[2], s, i, status, err = 0;
	pid_t pid;

	if (!t)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0) {
		free(t);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		err = -errno;
		goto out;
	}
	if (pid == 0) {
		close(sv[0]);
		_exit(plain_child(sv[1]));
	}
	close(sv[1]);
	sv[1] = -1;
	for (s = 0; s < nsizes && !err; s++) {
		for (i = -warmup; i < iters; i++) {
			size_t len = make_capdu(c, sizes[s], (unsigned int)(i + warmup));
			double t0 = now_us();
			ssize_t n;

			if (send(sv[0], c, len, 0) != (ssize_t)len) {
				err = -EIO;
				break;
			}
			n = recv(sv[0], r, sizeof(r), 0);
			if (n < 0 || !check_rapdu(c, len, r, (size_t)n)) {
				err = -EBADMSG;
				break;
			}
			if (i >= 0)
				t[i] = now_us() - t0;
		}
		if (!err)
			summarize(t, iters, &out[s]);
	}
	close(sv[0]);
	sv[0] = -1;
	if (waitpid(pid, &status, 0) == pid &&
	    (!WIFEXITED(status) || WEXITSTATUS(status)) && !err)
		err = -ECHILD;
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	free(t);
	return err;
}

/* ---- kernel path */

struct owner_stats {
	uint64_t capdus;	/* C-APDU events received */
	uint64_t responses;	/* R-APDUs sent */
	uint64_t nl_errors;	/* netlink error replies (e.g. -ESTALE) */
	uint64_t sessions;	/* SESSION_START events */
	uint64_t session_ends;	/* SESSION_END events */
	int last_error;		/* last netlink error, negative errno */
};

/*
 * The card owner (lib/nfcnl owner socket bound to the card device), in its own thread: every
 * C-APDU event is answered with an R-APDU of the same length, as the plain child answers.
 */
struct owner_thread {
	struct hce_nfcnl_owner *owner;
	atomic_int stop;
	int err;
	struct owner_stats st;
	uint8_t rapdu[MAX_APDU];
};

static void owner_event(void *arg, const struct hce_nfcnl_owner_event *ev)
{
	struct owner_thread *ot = arg;
	size_t rlen;
	int err;

	switch (ev->cmd) {
	case NFC_HCE_CMD_SESSION_START:
		ot->st.sessions++;
		break;
	case NFC_HCE_CMD_SESSION_END:
		ot->st.session_ends++;
		break;
	case NFC_HCE_CMD_APDU:
		ot->st.capdus++;
		rlen = ev->apdu_len < 2 ? 2 : ev->apdu_len;
		make_rapdu(ot->rapdu, ev->apdu, rlen);
		err = hce_nfcnl_owner_respond(ot->owner, ev->session, ev->seq, ot->rapdu, rlen);
		if (err)
			ot->st.last_error = err;
		else
			ot->st.responses++;
		break;
	default:
		break;
	}
}

/* Until stop is set (checked every 100 ms) or a socket error (ot->err). */
static void *owner_main(void *arg)
{
	struct owner_thread *ot = arg;

	while (!atomic_load(&ot->stop)) {
		struct pollfd pfd = { .fd = hce_nfcnl_owner_fd(ot->owner), .events = POLLIN };
		int n = poll(&pfd, 1, 100);

		if (n < 0 && errno != EINTR) {
			ot->err = -errno;
			break;
		}
		if (n <= 0)
			continue;
		n = hce_nfcnl_owner_recv(ot->owner, owner_event, ot, &ot->st.nl_errors,
					 &ot->st.last_error);
		if (n < 0) {
			ot->err = n;
			break;
		}
	}
	return NULL;
}

/* The first card device that has a reader (a virtual pair). */
static int find_pair(struct hce_nfcnl *nl, uint32_t *card, uint32_t *reader)
{
	static struct hce_nfcnl_card cards[HCE_NFCNL_DEV_MAX];
	size_t n, i;
	int err = hce_nfcnl_cards(nl, cards, HCE_NFCNL_DEV_MAX, &n);

	if (err)
		return err;
	for (i = 0; i < n; i++) {
		if (cards[i].has_reader) {
			*card = cards[i].index;
			*reader = cards[i].reader;
			return 0;
		}
	}
	return -ENODEV;
}

static int kernel_exchange(int fd, const size_t *sizes, int nsizes, int iters,
			   int warmup, struct figures *out)
{
	static uint8_t c[MAX_APDU], r[MAX_APDU + 1];
	double *t = calloc((size_t)iters, sizeof(*t));
	int s, i;

	if (!t)
		return -ENOMEM;
	for (s = 0; s < nsizes; s++) {
		for (i = -warmup; i < iters; i++) {
			size_t len = make_capdu(c, sizes[s], (unsigned int)(i + warmup));
			double t0 = now_us();
			ssize_t n;

			if (send(fd, c, len, 0) != (ssize_t)len) {
				fprintf(stderr, "%s: send %zu bytes: %s\n", prog,
					len, strerror(errno));
				free(t);
				return -EIO;
			}
			n = recv(fd, r, sizeof(r), 0);
			if (n < 0) {
				fprintf(stderr, "%s: recv (size %zu, round %d): %s\n",
					prog, len, i, strerror(errno));
				free(t);
				return -EIO;
			}
			/* The raw socket puts a one-byte header (0x00) first. */
			if (n < 1 || r[0] != 0 ||
			    !check_rapdu(c, len, r + 1, (size_t)n - 1)) {
				fprintf(stderr, "%s: wrong R-APDU (size %zu, round %d, got %zd bytes)\n",
					prog, len, i, n);
				free(t);
				return -EBADMSG;
			}
			if (i >= 0)
				t[i] = now_us() - t0;
		}
		summarize(t, iters, &out[s]);
	}
	free(t);
	return 0;
}

static int kernel_run(const size_t *sizes, int nsizes, int iters, int warmup,
		      struct figures *out, uint32_t *card_out, uint32_t *reader_out)
{
	static struct owner_thread ot;
	const struct hce_nfcnl_activate act = { .timeout_ms = 10000, .dev_up = true };
	/* Longest frame waiting time: the benchmark measures speed, not deadlines. */
	const struct hce_nfcnl_listen fwi14 = { .has_fwi = true, .fwi = 14 };
	unsigned long long expected = (unsigned long long)nsizes * (unsigned long long)(iters + warmup);
	struct timeval tv = { .tv_sec = 20 };
	struct hce_nfcnl *nl = NULL;
	struct hce_nfcnl_target tg;
	enum hce_nfcnl_step step;
	uint32_t card, reader;
	int created = 0, fd = -1, err, started = 0;
	pthread_t th;

	err = hce_nfcnl_open(&nl);
	if (!err)
		err = hce_nfcnl_hce_resolve(nl);
	if (err) {
		fprintf(stderr, "%s: netlink families nfc / nfc_hce: %s\n", prog, strerror(-err));
		hce_nfcnl_close(nl);
		return err;
	}
	err = hce_nfcnl_vpair_create(nl, &card, &reader);
	if (!err) {
		created = 1;
	} else {
		fprintf(stderr, "%s: VPAIR_CREATE: %s; using an existing pair\n",
			prog, strerror(-err));
		err = find_pair(nl, &card, &reader);
		if (err) {
			fprintf(stderr, "%s: no virtual pair: %s\n", prog, strerror(-err));
			goto out;
		}
	}
	*card_out = card;
	*reader_out = reader;
	err = hce_nfcnl_set_listen(nl, card, &fwi14);
	if (err) {
		fprintf(stderr, "%s: SET_LISTEN fwi 14 on nfc%u: %s\n", prog, card, strerror(-err));
		goto out;
	}
	err = hce_nfcnl_owner_open(nl, card, &ot.owner);
	if (err) {
		fprintf(stderr, "%s: BIND nfc%u: %s\n", prog, card, strerror(-err));
		goto out;
	}
	err = pthread_create(&th, NULL, owner_main, &ot);
	if (err) {
		err = -err;
		goto out;
	}
	started = 1;
	if ((err = hce_nfcnl_dev_up(nl, card)) ||
	    (err = hce_nfcnl_start_poll(nl, card, 0, NFC_PROTO_ISO14443_MASK))) {
		fprintf(stderr, "%s: card nfc%u up/listen: %s\n", prog, card, strerror(-err));
		goto out;
	}
	err = hce_nfcnl_reader_activate(nl, reader, &act, &tg, &step);
	if (err < 0) {
		if (step == HCE_NFCNL_STEP_DEV_UP || step == HCE_NFCNL_STEP_START_POLL)
			fprintf(stderr, "%s: reader nfc%u up/poll: %s\n", prog, reader,
				strerror(-err));
		else if (step == HCE_NFCNL_STEP_CONNECT)
			fprintf(stderr, "%s: connect nfc%u target %u: %s\n", prog, reader,
				tg.index, strerror(-err));
		else
			fprintf(stderr, "%s: reader nfc%u found no target: %s\n", prog, reader,
				strerror(-err));
		goto out;
	}
	fd = err;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		err = -errno;
		fprintf(stderr, "%s: SO_RCVTIMEO: %s\n", prog, strerror(-err));
		goto out;
	}
	err = kernel_exchange(fd, sizes, nsizes, iters, warmup, out);
out:
	if (fd >= 0)
		close(fd);
	if (started) {
		const struct owner_stats *st = &ot.st;

		atomic_store(&ot.stop, 1);
		pthread_join(th, NULL);
		if (err || ot.err || st->nl_errors)
			fprintf(stderr, "%s: owner: %llu C-APDUs, %llu R-APDUs, %llu netlink errors (last %s), run: %s\n",
				prog, (unsigned long long)st->capdus,
				(unsigned long long)st->responses,
				(unsigned long long)st->nl_errors,
				st->last_error ? strerror(-st->last_error) : "none",
				ot.err ? strerror(-ot.err) : "ok");
		if (!err && (ot.err || st->nl_errors))
			err = ot.err ? ot.err : -EIO;
		/* Every timed and warm-up C-APDU must have reached the owner once. */
		if (!err && (st->capdus != expected || st->responses != expected)) {
			fprintf(stderr, "%s: owner saw %llu C-APDUs and sent %llu R-APDUs, expected %llu\n",
				prog, (unsigned long long)st->capdus,
				(unsigned long long)st->responses,
				(unsigned long long)expected);
			err = -EPROTO;
		}
	}
	hce_nfcnl_owner_close(ot.owner);
	if (created) {
		int e = hce_nfcnl_vpair_destroy(nl, card);

		if (e) {
			fprintf(stderr, "%s: VPAIR_DESTROY nfc%u: %s\n", prog, card, strerror(-e));
			if (!err)
				err = e;
		}
	}
	hce_nfcnl_close(nl);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [-n ITERATIONS] [-w WARMUP] [-s SIZE[,SIZE...]] [-p]\n"
		"  -n  timed round trips per size (default 1000)\n"
		"  -w  untimed warm-up round trips per size (default 100)\n"
		"  -s  APDU sizes in bytes, 7..%d (default 16,256,4096)\n"
		"  -p  plain userspace ping-pong only (no kernel path)\n",
		prog, MAX_APDU);
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES] = { 16, 256, 4096 };
	struct figures kern[MAX_SIZES], plain[MAX_SIZES];
	int nsizes = 3, iters = 1000, warmup = 100, plain_only = 0;
	uint32_t card = 0, reader = 0;
	int opt, s, err;
	char *p, *end;

	while ((opt = getopt(argc, argv, "n:w:s:ph")) != -1) {
		switch (opt) {
		case 'n':
			iters = (int)strtol(optarg, &end, 10);
			if (*end || iters < 1 || iters > 10000000)
				goto bad;
			break;
		case 'w':
			warmup = (int)strtol(optarg, &end, 10);
			if (*end || warmup < 0 || warmup > 10000000)
				goto bad;
			break;
		case 's':
			nsizes = 0;
			for (p = optarg; *p; p = end + (*end == ',')) {
				long v = strtol(p, &end, 10);

				if (end == p || (*end && *end != ',') || v < 7 ||
				    v > MAX_APDU || nsizes == MAX_SIZES)
					goto bad;
				sizes[nsizes++] = (size_t)v;
			}
			if (!nsizes)
				goto bad;
			break;
		case 'p':
			plain_only = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	signal(SIGPIPE, SIG_IGN);

	err = plain_run(sizes, nsizes, iters, warmup, plain);
	if (err) {
		fprintf(stderr, "%s: plain ping-pong failed: %s\n", prog, strerror(-err));
		return 1;
	}
	if (!plain_only) {
		err = kernel_run(sizes, nsizes, iters, warmup, kern, &card, &reader);
		if (err) {
			fprintf(stderr, "%s: kernel path failed: %s\n", prog, strerror(-err));
			return 1;
		}
	}

	printf("apdu-rtt: %d round trips per size after %d warm-up; microseconds; APDU N bytes each way\n",
	       iters, warmup);
	if (!plain_only)
		printf("apdu-rtt: kernel = AF_NFC raw socket on nfc%u -> nfc_hce_vctrl -> nfc_hce -> owner of nfc%u (genl)\n",
		       reader, card);
	printf("apdu-rtt: plain  = AF_UNIX SOCK_SEQPACKET ping-pong between two processes\n");
	printf("%8s %14s %14s %14s %14s %10s\n", "size", "kernel_median",
	       "kernel_p99", "plain_median", "plain_p99", "ratio");
	for (s = 0; s < nsizes; s++) {
		if (plain_only)
			printf("%8zu %14s %14s %14.1f %14.1f %10s\n", sizes[s], "-", "-",
			       plain[s].median, plain[s].p99, "-");
		else
			printf("%8zu %14.1f %14.1f %14.1f %14.1f %9.1fx\n", sizes[s],
			       kern[s].median, kern[s].p99, plain[s].median,
			       plain[s].p99, kern[s].median / plain[s].median);
	}
	return 0;
bad:
	usage(stderr);
	return 2;
}
