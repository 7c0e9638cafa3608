# hce-terminal: its issuer side (lib/terminal/upload.c over lib/wallet/http.c) needs jansson and
# libcurl; the terminal's unit tests link the same library objects.
TERMINAL_ISS_PKGS := jansson libcurl
TERMINAL_ISS_CFLAGS := $(shell pkg-config --cflags $(TERMINAL_ISS_PKGS))
TERMINAL_ISS_LIBS := $(shell pkg-config --libs $(TERMINAL_ISS_PKGS))

$(OUT)/obj/hce-terminal/%.o $(OUT)/obj/tests/terminal_%.o $(OUT)/obj/fuzz/terminal_%.o: CPPFLAGS += $(TERMINAL_ISS_CFLAGS)
$(OUT)/bin/hce-terminal $(OUT)/tests/terminal_% $(OUT)/fuzz/terminal_%: LDLIBS += $(TERMINAL_ISS_LIBS)
