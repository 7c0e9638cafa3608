/* SPDX-License-Identifier: GPL-2.0 */
/* server.h - the HTTPS service of hce-issuer (server.c). */
#ifndef HCE_ISSUER_SERVER_H
#define HCE_ISSUER_SERVER_H

#include "iss.h"

/* Serve until SIGTERM/SIGINT. 0 on a clean stop, -1 on a startup failure. */
int iss_serve(struct iss *s);

#endif /* HCE_ISSUER_SERVER_H */
