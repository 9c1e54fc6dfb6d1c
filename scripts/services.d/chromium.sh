# shellcheck shell=bash
# Chromium for scripts/services (`scripts/services chromium`): Debian's `chromium` package, the headless browser
# the HTML catalogue test (packages/cli/src/contracts-docs.int.test.ts) drives through playwright-core. A tool,
# not a server: installed if /usr/bin/chromium is missing (as root, with the other missing packages), nothing
# started or stopped. No browser is downloaded from anywhere else.
#   SLUICE_CHROMIUM=/usr/bin/chromium (the binary to check and export)
#   exports SLUICE_TEST_CHROMIUM=/usr/bin/chromium

CHROMIUM_BIN=${SLUICE_CHROMIUM:-/usr/bin/chromium}

# No port: chromium_up and chromium_where say whether it is there and what to call it.
chromium_port() { echo 0; }
chromium_where() { echo "$CHROMIUM_BIN"; }

# Installed and runnable (the package's wrapper script prints its version without a display).
chromium_up() { [[ -x $CHROMIUM_BIN ]] && timeout 30 "$CHROMIUM_BIN" --headless --version >/dev/null 2>&1; }

chromium_need() { need chromium test -x "$CHROMIUM_BIN"; }

chromium_start() { :; }

chromium_verify() {
  chromium_up || die "chromium: $CHROMIUM_BIN is missing or does not run (\`$CHROMIUM_BIN --headless --version\` failed); install Debian's chromium package"
}

chromium_stop() { log "chromium: nothing to stop (a browser, not a server)"; }

chromium_export() { echo "export SLUICE_TEST_CHROMIUM=$CHROMIUM_BIN"; }
