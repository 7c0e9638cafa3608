// SPDX-License-Identifier: GPL-2.0
/*
 * nfcnl_port_test.c - hce_nfcnl_connect() never hands a reopened socket the port id of one
 * closed just before. The NFC core stops a poll from work queued when a generic netlink socket
 * closes, matching the poll's requester by port id only (Documentation/nfc-hce.rst): a new
 * socket that inherits the old port id would have its poll stopped by the old socket's late
 * cleanup. (libnl 3.7 rotates its port generations pseudo-randomly, so a repeat there is
 * rare but possible; older libnl and the kernel's autobind give the pid again at once.)
 * Needs only NETLINK_GENERIC (no nfc module): runs on the host.
 */
#include <stdint.h>
#include <unistd.h>

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "kselftest_harness.h"
#include "nfcnl/nfcnl.h"

#define ROUNDS 1100
#define WINDOW 1022	/* no port may repeat within this many sockets */

static uint32_t open_port(bool fresh, struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk)
		return 0;
	if (fresh ? hce_nfcnl_connect(sk) : genl_connect(sk)) {
		nl_socket_free(sk);
		return 0;
	}
	*out = sk;
	return nl_socket_get_local_port(sk);
}

/* close then reopen, ROUNDS times: no port repeats within WINDOW sockets. */
TEST(connect_close_reopen_never_reuses_port)
{
	static uint32_t seen[ROUNDS];
	int i, j;

	for (i = 0; i < ROUNDS; i++) {
		struct nl_sock *sk;

		seen[i] = open_port(true, &sk);
		ASSERT_NE(0u, seen[i]);
		/* the kernel's view of the port is the one we chose */
		EXPECT_EQ((uint32_t)getpid() & 0x3FFFFFu, seen[i] & 0x3FFFFFu);
		nl_socket_free(sk);
		for (j = i > WINDOW ? i - WINDOW : 0; j < i; j++)
			ASSERT_NE(seen[j], seen[i]);
	}
}

/* A plain libnl socket held open meanwhile does not collide with ours, nor ours with it. */
TEST(connect_coexists_with_libnl_ports)
{
	struct nl_sock *plain, *ours, *plain2;
	uint32_t pp = open_port(false, &plain), po, pp2;

	ASSERT_NE(0u, pp);
	po = open_port(true, &ours);
	ASSERT_NE(0u, po);
	pp2 = open_port(false, &plain2);
	ASSERT_NE(0u, pp2);
	EXPECT_NE(pp, po);
	EXPECT_NE(pp2, po);
	EXPECT_NE(pp, pp2);
	nl_socket_free(plain2);
	nl_socket_free(ours);
	nl_socket_free(plain);
}

/* The library's own open/close/open: the command and event sockets get fresh ports. */
TEST(nfcnl_open_twice_distinct_ports)
{
	struct hce_nfcnl *nl;
	int rc = hce_nfcnl_open(&nl);

	if (rc == -ENOENT)
		SKIP(return, "no nfc generic netlink family on this kernel");
	ASSERT_EQ(0, rc);
	hce_nfcnl_close(nl);
	ASSERT_EQ(0, hce_nfcnl_open(&nl));
	hce_nfcnl_close(nl);
}

TEST_HARNESS_MAIN
