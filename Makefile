# alloter - GNU make.  `make` builds, `make run` runs the example pipeline,
# `make test` runs every test, `make check` runs them again under sanitizers.

PREFIX ?= /usr/local
DESTDIR ?=
O ?= build
CC ?= cc
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
ifneq ($(filter 1 true,$(DEVELOPER) $(CI)),)
WARN += -Werror
endif
YAML_CFLAGS := $(shell pkg-config --cflags yaml-0.1 2>/dev/null)
YAML_LIBS := $(or $(shell pkg-config --libs yaml-0.1 2>/dev/null),-lyaml)
# The public header is alone in include/; lib/'s internal headers are
# reachable from lib/ only, so cmd/, the tests and the examples can use
# nothing but the public API.
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE $(WARN) -MMD -MP -Iinclude $(YAML_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(SAN)
ALL_LDFLAGS = $(LDFLAGS) $(SAN)
LIBS = $(YAML_LIBS) -lpthread

LIB_SRC := $(wildcard lib/*/*.c)
CMD_SRC := $(wildcard cmd/*.c)
UNIT_SRC := $(wildcard tests/unit/t_*.c)
EX_SRC := $(wildcard examples/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
CMD_OBJ := $(CMD_SRC:%.c=$(O)/%.o) $(O)/cmd/timeline_page.o
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
EX_BIN := $(EX_SRC:examples/%.c=$(O)/examples/%)

BIN := $(O)/alloter
LIB := $(O)/liballoter.a
# The shared library: liballoter.so.VERSION, with the soname
# liballoter.so.0 and the link-time name liballoter.so as symlinks.
VERSION := $(shell sed -n 's/^\#define ALLOTER_VERSION "\(.*\)"/\1/p' include/alloter.h)
SONAME := liballoter.so.0
SOLIB := $(O)/liballoter.so.$(VERSION)
LIBBENCH := $(O)/bench/libbench

# Shell completions, generated from the options table of `alloter --help`.
COMPLETIONS := $(O)/completions/alloter.bash $(O)/completions/alloter.zsh \
  $(O)/completions/alloter.fish
BASH_COMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSH_COMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISH_COMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

.PHONY: all run test unit check valgrind fuzz mutants install uninstall clean deps-build deps-test bench deb
all: $(BIN) $(LIB) $(SOLIB) $(UNIT_BIN) $(EX_BIN) $(LIBBENCH) $(COMPLETIONS)

# Quiet by default, as git and the kernel build: "CC lib/exec/exec.o";
# `make V=1` shows the whole commands.
ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-6s %s\n'
endif

# Objects the unit tests and examples link are kept, so a second `make`
# rebuilds nothing.
.SECONDARY:

# Library objects serve both libraries: position-independent, and hidden
# unless the public header exports them.
$(O)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(quiet) CC $(@:$(O)/%=%)
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -Ilib -c -o $@ $<

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(quiet) CC $(@:$(O)/%=%)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The --timeline page, cmd/timeline.html, as the C string timeline_page.
$(O)/cmd/timeline_page.c: cmd/timeline.html
	@mkdir -p $(@D)
	$(quiet) GEN $(@:$(O)/%=%)
	$(Q){ echo 'extern const char timeline_page[];'; \
	  echo 'const char timeline_page[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } >$@.tmp && mv $@.tmp $@

$(O)/cmd/timeline_page.o: $(O)/cmd/timeline_page.c
	$(quiet) CC $(@:$(O)/%=%)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(quiet) AR $(@:$(O)/%=%)
	$(Q)$(AR) rcs $@ $^

$(SOLIB): $(LIB_OBJ) lib/alloter.map
	$(quiet) LINK $(@:$(O)/%=%)
	$(Q)$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,$(SONAME) \
	  -Wl,--version-script=lib/alloter.map -Wl,--no-undefined \
	  -o $@ $(LIB_OBJ) $(LIBS)
	$(Q)ln -sf $(@F) $(O)/$(SONAME)
	$(Q)ln -sf $(SONAME) $(O)/liballoter.so

$(BIN): $(CMD_OBJ) $(LIB)
	$(quiet) LINK $(@:$(O)/%=%)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJ) $(LIB) $(LIBS)

$(O)/completions/alloter.%: $(BIN) completions/gen
	@mkdir -p $(@D)
	$(quiet) GEN $(@:$(O)/%=%)
	$(Q)completions/gen $* $(BIN) >$@.tmp && mv $@.tmp $@

$(O)/tests/%: $(O)/tests/unit/%.o $(LIB)
	$(quiet) LINK $(@:$(O)/%=%)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o,$^) $(LIB) $(LIBS)

# The unit tests of the command's own modules link those modules, and see
# their headers.
CMD_UNITS := $(O)/tests/t_template $(O)/tests/t_argsource
$(CMD_UNITS:$(O)/tests/%=$(O)/tests/unit/%.o): ALL_CFLAGS += -Icmd
$(O)/tests/t_template: $(O)/cmd/template.o
$(O)/tests/t_argsource: $(O)/cmd/argsource.o $(O)/cmd/linereader.o

$(LIBBENCH): $(O)/bench/libbench.o $(LIB)
	$(quiet) LINK $(@:$(O)/%=%)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

$(O)/examples/%: $(O)/examples/%.o $(LIB)
	$(quiet) LINK $(@:$(O)/%=%)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# The build needs a compiler, pkg-config and libyaml; the tests need bats and
# a few utilities.  .ci/deps installs what is missing when it may, else it
# prints the one command to run and fails.
deps-build:
	@.ci/deps build
deps-test:
	@.ci/deps test

run: deps-build
	@$(MAKE) --no-print-directory all
	$(BIN) -f tasks.example.yaml

test: deps-test
	@$(MAKE) --no-print-directory all
	@ALLOTER=$(abspath $(BIN)) O=$(abspath $(O)) tests/run

unit: all
	@ALLOTER=$(abspath $(BIN)) O=$(abspath $(O)) tests/run unit

# Sanitizer builds live in their own folders so they never mix with the
# normal objects.  ASan+UBSan cover everything; TSan covers the library.
# ASan turns core dumps off by default; the tests check crash reports.
check: deps-test
	@ASAN_OPTIONS=disable_coredump=0 $(MAKE) --no-print-directory O=build-asan \
	  SAN='-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer' test
	@$(MAKE) --no-print-directory O=build-tsan SAN='-fsanitize=thread' all
	@ALLOTER=$(abspath build-tsan/alloter) O=$(abspath build-tsan) tests/run unit

# The CLI under valgrind, on a representative set of runs.
valgrind: all
	@command -v valgrind >/dev/null || .ci/deps valgrind
	@tests/valgrind.sh $(abspath $(BIN))

# The task-file loader under libFuzzer (clang), for FUZZ_SECONDS.
FUZZ_SECONDS ?= 120
fuzz:
	@.ci/deps fuzz
	@fuzz/run $(FUZZ_SECONDS)

# Deliberate breakages (tests/mutants/list) that the tests must catch.
mutants: all
	@tests/mutants/run

bench: all
	@bench/run

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/share/alloter $(DESTDIR)$(BASH_COMPDIR) \
	  $(DESTDIR)$(ZSH_COMPDIR) $(DESTDIR)$(FISH_COMPDIR)
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/alloter
	install -m 644 $(O)/completions/alloter.bash $(DESTDIR)$(BASH_COMPDIR)/alloter
	install -m 644 $(O)/completions/alloter.zsh $(DESTDIR)$(ZSH_COMPDIR)/_alloter
	install -m 644 $(O)/completions/alloter.fish $(DESTDIR)$(FISH_COMPDIR)/alloter.fish
	install -m 644 man/alloter.1 $(DESTDIR)$(PREFIX)/share/man/man1/alloter.1
	install -m 644 docs/report.schema.json $(DESTDIR)$(PREFIX)/share/alloter/report.schema.json
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/liballoter.a
	install -m 644 $(SOLIB) $(DESTDIR)$(PREFIX)/lib/$(notdir $(SOLIB))
	ln -sf $(notdir $(SOLIB)) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/liballoter.so
	install -m 644 include/alloter.h $(DESTDIR)$(PREFIX)/include/alloter.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	  lib/alloter.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/alloter.pc

# The Debian packages (debian/), built from a copy of the tree's files in
# $(O)/deb, so that dh's `make clean` leaves this build alone and the
# packages land in $(O)/deb, not in the parent folder; then lintian, which
# must find nothing to warn about.
DEB_DIR := $(O)/deb
deb:
	@.ci/deps deb
	@rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	@git ls-files -z --cached --others --exclude-standard | \
	  tar -c --null -T - --ignore-failed-read 2>/dev/null | tar -x -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning --info --display-info $(DEB_DIR)/*.changes
	@ls $(DEB_DIR)/*.deb

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/alloter $(DESTDIR)$(PREFIX)/share/man/man1/alloter.1 \
	  $(DESTDIR)$(PREFIX)/lib/liballoter.a $(DESTDIR)$(PREFIX)/include/alloter.h \
	  $(DESTDIR)$(PREFIX)/lib/$(notdir $(SOLIB)) $(DESTDIR)$(PREFIX)/lib/$(SONAME) \
	  $(DESTDIR)$(PREFIX)/lib/liballoter.so \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/alloter.pc \
	  $(DESTDIR)$(PREFIX)/share/alloter/report.schema.json \
	  $(DESTDIR)$(BASH_COMPDIR)/alloter $(DESTDIR)$(ZSH_COMPDIR)/_alloter \
	  $(DESTDIR)$(FISH_COMPDIR)/alloter.fish

clean:
	rm -rf $(O) build build-asan build-tsan build-mutants

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(UNIT_BIN:$(O)/tests/%=$(O)/tests/unit/%.d) $(EX_BIN:%=%.d) $(LIBBENCH).d
