// SPDX-License-Identifier: GPL-2.0
/*
 * transport_exec.c - terminal transport to a child process speaking hex lines
 * (`hced --stdio`): one C-APDU in hex per line to its stdin, one R-APDU in hex per line
 * from its stdout. Blank lines and lines starting with '#' from the child are skipped.
 *
 * The child's stdin and stdout are one end of a socketpair, so a write to a child that died
 * is an EPIPE error (MSG_NOSIGNAL), never a SIGPIPE in the terminal.
 */
#include "terminal/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codec/hex.h"

#define EXEC_LINE_MAX (2 * HCE_RAPDU_MAX + 64)

struct exec_priv {
	pid_t pid;
	int fd;
	int timeout_ms;
	size_t have;		/* bytes buffered in line */
	char line[EXEC_LINE_MAX];
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int send_all(struct exec_priv *p, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(p->fd, s, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read one line (without newline, NUL-terminated) into out; skips blank and '#' lines. */
static int read_line(struct hce_term_transport *t, char *out, size_t cap)
{
	struct exec_priv *p = t->priv;
	long long deadline = now_ms() + p->timeout_ms;

	for (;;) {
		char *nl = memchr(p->line, '\n', p->have);

		if (nl) {
			size_t n = (size_t)(nl - p->line);
			int skip;

			if (n && p->line[n - 1] == '\r')
				n--;
			skip = n == 0 || p->line[0] == '#';
			if (!skip && n >= cap) {
				snprintf(t->err, sizeof(t->err), "answer line too long");
				return -EMSGSIZE;
			}
			if (!skip) {
				memcpy(out, p->line, n);
				out[n] = '\0';
			}
			n = (size_t)(nl - p->line) + 1;
			memmove(p->line, p->line + n, p->have - n);
			p->have -= n;
			if (!skip)
				return 0;
			continue;
		}
		if (p->have == sizeof(p->line)) {
			snprintf(t->err, sizeof(t->err), "answer line too long");
			return -EMSGSIZE;
		}
		{
			struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
			long long left = deadline - now_ms();
			ssize_t r;
			int rc;

			if (left <= 0) {
				snprintf(t->err, sizeof(t->err), "no answer within %d ms",
					 p->timeout_ms);
				return -ETIMEDOUT;
			}
			rc = poll(&pfd, 1, (int)left);
			if (rc < 0 && errno == EINTR)
				continue;
			if (rc < 0)
				return -EIO;
			if (rc == 0)
				continue;
			r = read(p->fd, p->line + p->have, sizeof(p->line) - p->have);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				snprintf(t->err, sizeof(t->err), "card process closed its output");
				return -EIO;
			}
			p->have += (size_t)r;
		}
	}
}

static int exec_transmit(struct hce_term_transport *t, const uint8_t *capdu, size_t len,
			 uint8_t *rapdu, size_t cap, size_t *rlen)
{
	struct exec_priv *p = t->priv;
	char *text;
	ssize_t n;
	int rc;

	if (p->fd < 0)
		return -EIO;
	if (len > HCE_CAPDU_MAX)
		return -EMSGSIZE;
	text = malloc(2 * (len > HCE_RAPDU_MAX ? len : HCE_RAPDU_MAX) + 2);
	if (!text)
		return -ENOMEM;
	if (hce_hex_encode(capdu, len, text, 2 * len + 2)) {
		rc = -EINVAL;
		goto out;
	}
	strcat(text, "\n");
	rc = send_all(p, text, 2 * len + 1);
	if (rc) {
		snprintf(t->err, sizeof(t->err), "card process does not read its input");
		goto out;
	}
	rc = read_line(t, text, 2 * HCE_RAPDU_MAX + 2);
	if (rc)
		goto out;
	n = hce_hex_decode(text, rapdu, cap);
	if (n < 2) {
		snprintf(t->err, sizeof(t->err), "card process answered something other than hex");
		rc = -EIO;
		goto out;
	}
	*rlen = (size_t)n;
out:
	free(text);
	return rc;
}

/* Discard what the child wrote and what arrives within ms (a late answer). */
static void drain(struct exec_priv *p, int ms)
{
	long long deadline = now_ms() + ms;
	char junk[4096];

	p->have = 0;
	for (;;) {
		struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
		long long left = deadline - now_ms();

		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return;
		if (read(p->fd, junk, sizeof(junk)) <= 0)
			return;
	}
}

/*
 * End the card session: the line "!reset" (hced --stdio: hce_app_session_end, no answer).
 * An answer to an exchange that timed out may still arrive: what the child writes in the
 * next 100 ms is discarded first, so it is not taken for the answer to the next command.
 */
static int exec_reset(struct hce_term_transport *t)
{
	struct exec_priv *p = t->priv;

	if (p->fd < 0)
		return -EIO;
	drain(p, 100);
	if (send_all(p, "!reset\n", 7)) {
		snprintf(t->err, sizeof(t->err), "card process does not read its input");
		return -EIO;
	}
	return 0;
}

static void exec_close(struct hce_term_transport *t)
{
	struct exec_priv *p = t->priv;
	int i, status;

	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);	/* EOF on the child's stdin: it ends */
	if (p->pid > 0) {
		for (i = 0; i < 200; i++) {
			if (waitpid(p->pid, &status, WNOHANG) != 0)
				goto done;
			usleep(10000);
		}
		kill(p->pid, SIGTERM);
		waitpid(p->pid, &status, 0);
	}
done:
	free(p);
}

static const struct hce_term_transport_ops exec_ops = {
	.name = "exec",
	.transmit = exec_transmit,
	.reset = exec_reset,
	.close = exec_close,
};

int hce_term_transport_exec(struct hce_term_transport *t, const char *cmd, int timeout_ms)
{
	struct exec_priv *p;
	int sv[2];
	pid_t pid;

	memset(t, 0, sizeof(*t));
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		free(p);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(sv[0]);
		close(sv[1]);
		free(p);
		return -e;
	}
	if (pid == 0) {
		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	p->pid = pid;
	p->fd = sv[0];
	p->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
	t->ops = &exec_ops;
	t->priv = p;
	return 0;
}
