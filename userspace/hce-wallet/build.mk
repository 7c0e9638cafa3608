# hce-wallet and lib/wallet: the issuer client (libcurl with OpenSSL, jansson), only for the
# wallet's objects, program, tests and fuzzers (included by userspace/Makefile).
WALLET_PKGS := jansson libcurl
WALLET_CFLAGS := $(shell pkg-config --cflags $(WALLET_PKGS))
WALLET_LIBS := $(shell pkg-config --libs $(WALLET_PKGS))

$(OUT)/obj/lib/wallet/%.o $(OUT)/obj/hce-wallet/%.o: CPPFLAGS += $(WALLET_CFLAGS)
$(OUT)/obj/tests/wallet_%.o $(OUT)/obj/fuzz/wallet_%.o: CPPFLAGS += $(WALLET_CFLAGS)
$(OUT)/bin/hce-wallet $(OUT)/tests/wallet_% $(OUT)/fuzz/wallet_%: LDLIBS += $(WALLET_LIBS)
$(OUT)/obj/lib/terminal/upload.o: CPPFLAGS += $(WALLET_CFLAGS)
