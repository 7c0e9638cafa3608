/* SPDX-License-Identifier: GPL-2.0 */
/* hcectl.h - hcectl's parts. */
#ifndef HCECTL_H
#define HCECTL_H

#include <stddef.h>

#define HCECTL_WALLET_CONF "/etc/hce/wallet.conf"

/*
 * The wallet commands (argv[0]: enrol, token, sync, cap), run locally with lib/wallet.
 * pin: enrol only. Returns the hcectl exit code.
 */
int hcectl_wallet(const char *conf_path, int argc, char **argv, const char *pin,
		  size_t pin_len);

#endif /* HCECTL_H */
