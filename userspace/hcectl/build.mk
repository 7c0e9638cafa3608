# hcectl: the wallet commands (hcectl/wallet.c) link lib/wallet: libcurl + jansson
# (WALLET_* from hce-wallet/build.mk, included before this file).
$(OUT)/obj/hcectl/%.o: CPPFLAGS += $(WALLET_CFLAGS)
$(OUT)/bin/hcectl: LDLIBS += $(WALLET_LIBS)
