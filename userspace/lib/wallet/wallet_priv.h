/* SPDX-License-Identifier: GPL-2.0 */
/* wallet_priv.h - shared between the wallet's parser (parse.c) and client (wallet.c). */
#ifndef HCE_WALLET_PRIV_H
#define HCE_WALLET_PRIV_H

#include <jansson.h>

#include "wallet/wallet.h"

int hce_wallet_token_json(const json_t *o, struct hce_wallet_token *t, char *why, size_t wn);
int hce_wallet_sync_rsp_json(const json_t *o, size_t n_sent, struct hce_wallet_sync_rsp *r,
			     char *why, size_t wn);

#endif /* HCE_WALLET_PRIV_H */
