/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctl.h - hced's control protocol, shared by hced (server) and hcectl (client).
 * Documentation/hced.md "Control socket" is the reference; in short:
 *
 *   A Unix stream socket (default /run/hced/ctl, mode 0660). The server checks the peer's
 *   credentials (SO_PEERCRED, SO_PEERGROUPS) when it accepts: root, or a member of the
 *   configured group; anyone else gets one line "ERR denied ..." and the connection closes.
 *
 *   Request: one line of at most HCE_CTL_REQ_MAX bytes (newline included), words separated by
 *   single blanks: COMMAND [ARG...]. Printable ASCII only.
 *   Response: zero or more data lines "key value..." (key: lower case [a-z0-9-]), then exactly
 *   one final line: "OK" or "ERR <reason> <text>" (reason: one lower case word, below).
 *   Several requests may follow on one connection, each answered in order.
 */
#ifndef HCE_CTL_H
#define HCE_CTL_H

#include <stddef.h>

#define HCE_CTL_REQ_MAX 256
#define HCE_CTL_LINE_MAX 512	/* longest response line */
#define HCE_CTL_ARGS_MAX 4

/* Reasons of ERR lines and the hcectl exit code each maps to. */
#define HCE_CTL_ERR_DENIED "denied"	/* peer not root or in the group: exit 3 */
#define HCE_CTL_ERR_USAGE "usage"	/* unknown command or bad arguments: exit 1 */
#define HCE_CTL_ERR_LOCKED "locked"	/* keys locked (unlock first) / locked out: exit 4 */
#define HCE_CTL_ERR_PIN "pin"		/* wrong PIN: exit 4 */
#define HCE_CTL_ERR_RETRY "retry"	/* wrong-PIN delay not over: exit 4 */
#define HCE_CTL_ERR_FAILED "failed"	/* the command could not be done: exit 4 */
#define HCE_CTL_ERR_BUSY "busy"		/* too many clients: exit 2 */
#define HCE_CTL_ERR_TOOLONG "toolong"	/* request line too long: exit 1 */

/* hcectl exit codes. */
#define HCE_CTL_EXIT_OK 0
#define HCE_CTL_EXIT_USAGE 1
#define HCE_CTL_EXIT_CONNECT 2
#define HCE_CTL_EXIT_DENIED 3
#define HCE_CTL_EXIT_FAILED 4
#define HCE_CTL_EXIT_PROTOCOL 5

/*
 * Split a request line (NUL-terminated, without newline) in place into at most max words
 * separated by single blanks. Returns the number of words, or -1 for an empty line, a
 * leading, trailing or double blank, a non-printable byte, or more than max words.
 */
int hce_ctl_split(char *line, char **argv, int max);

/* Classify a response line: 0 data line, 1 "OK", 2 "ERR ...", -1 malformed. */
int hce_ctl_classify(const char *line);

/* The hcectl exit code of a final line (OK: 0; ERR: by reason; malformed: 5). */
int hce_ctl_exit_code(const char *final_line);

#endif /* HCE_CTL_H */
