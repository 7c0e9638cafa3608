/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz.h - shared bits of the libFuzzer targets (fuzz/<name>.c, corpus in corpus/<name>/).
 *
 * A target checks the documented contract of what it drives, not only memory safety: a broken
 * invariant prints what broke and aborts, which libFuzzer reports as a crash with the input
 * saved. ASan and UBSan (VARIANT=fuzz) catch the rest.
 */
#ifndef HCE_FUZZ_H
#define HCE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond)                                                                \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,      \
				__LINE__, #cond);                                       \
			abort();                                                        \
		}                                                                       \
	} while (0)

#endif /* HCE_FUZZ_H */
