# fuzz.mk -- builds the libFuzzer targets with clang (GNU make).
#
# Run by `make fuzz` / `make fuzz-build` from the top build directory,
# which passes CLANG, top_srcdir, DEFS, the dependencies' flags, the core
# library's sources (CORE_SOURCES) and FUZZ_TARGETS.  Kept apart from
# automake so that the normal build never sees clang or its flags: the
# core sources are compiled again here, instrumented, into tests/fuzz/obj/,
# and each target tests/fuzz/fuzz-NAME.c is linked with them into
# tests/fuzz/bin/fuzz-NAME.

O := tests/fuzz/obj
B := tests/fuzz/bin
S := $(top_srcdir)

SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
# gcc's -Werror build is the warnings gate; clang's extra opinions on the
# core sources (-Wformat-nonliteral on v*printf wrappers) are not errors.
FUZZ_CFLAGS := -std=c11 -g -O1 -fno-omit-frame-pointer $(SAN) \
	$(filter-out -Werror,$(WARN_CFLAGS)) -Wno-format-nonliteral $(DEFS) -I$(S) -I$(S)/sdk -I$(S)/core -Icore \
	-DSYSCONFDIR='"/etc"' -DPKGLIBDIR='"/nonexistent"' \
	-DLOCALSTATEDIR='"/var"' -DBINDIR='"/usr/bin"' $(DEP_CFLAGS)

CORE_C := $(filter %.c,$(CORE_SOURCES))
CORE_O := $(patsubst %.c,$(O)/%.o,$(CORE_C))
HEADERS := $(wildcard $(S)/core/*.h $(S)/sdk/meshd/*.h $(S)/tests/fuzz/*.h)
BINS := $(patsubst %,$(B)/fuzz-%,$(FUZZ_TARGETS))

all: $(BINS)

$(O)/%.o: $(S)/%.c $(HEADERS)
	@mkdir -p $(@D)
	@echo "  CLANG    $@"
	@$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(O)/libmeshcore-fuzz.a: $(CORE_O)
	@rm -f $@
	@echo "  AR       $@"
	@ar rcs $@ $(CORE_O)

$(O)/tests/fuzz/%.o: $(S)/tests/fuzz/%.c $(HEADERS)
	@mkdir -p $(@D)
	@echo "  CLANG    $@"
	@$(CLANG) $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer-no-link -c -o $@ $<

$(B)/fuzz-%: $(O)/tests/fuzz/fuzz-%.o $(O)/libmeshcore-fuzz.a
	@mkdir -p $(@D)
	@echo "  CLANGLD  $@"
	@$(CLANG) $(SAN) -fsanitize=fuzzer -o $@ $^ $(DEP_LIBS)

.PHONY: all
.SECONDARY:
