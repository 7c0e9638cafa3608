# hce-issuer: extra libraries, only for the issuer's objects, program, tests and fuzzers
# (included by userspace/Makefile; nothing else links these).
# PKCS#11: only the header (p11-kit's pkcs11.h); the module is dlopen()ed at run time.
ISSUER_PKGS := libevent_openssl libevent jansson libpq libcurl libssl
ISSUER_CFLAGS := $(shell pkg-config --cflags $(ISSUER_PKGS) p11-kit-1)
ISSUER_LIBS := $(shell pkg-config --libs $(ISSUER_PKGS)) -ldl

$(OUT)/obj/lib/isdb/%.o $(OUT)/obj/lib/hsm/%.o $(OUT)/obj/lib/issuer/%.o: CPPFLAGS += $(ISSUER_CFLAGS)
$(OUT)/obj/hce-issuer/%.o $(OUT)/obj/tests/issuer_%.o $(OUT)/obj/fuzz/issuer_%.o: CPPFLAGS += $(ISSUER_CFLAGS)
$(OUT)/bin/hce-issuer $(OUT)/tests/issuer_% $(OUT)/fuzz/issuer_%: LDLIBS += $(ISSUER_LIBS)
