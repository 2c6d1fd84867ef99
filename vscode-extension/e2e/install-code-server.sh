#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3, the newest that runs on Node 20) into e2e/.cache/code-server,
# the offline recipe of the team's guide (vscode-e2e.md). Idempotent: does nothing when the marker of a complete
# install is there. Needs the Debian packages of .ci/run (chromium is for the test, the rest for native modules).
set -euo pipefail
VERSION=4.100.3
HERE="$(cd "$(dirname "$0")" && pwd)"
PREFIX="${CODE_SERVER_PREFIX:-$HERE/.cache/code-server}"
MARKER="$PREFIX/.installed-$VERSION"
BIN="$PREFIX/node_modules/code-server/out/node/entry.js"

installed() { [ -f "$MARKER" ] && [ -f "$BIN" ]; }
if installed; then
  echo "code-server $VERSION already installed in $PREFIX"
  exit 0
fi
# One install at a time (two test sessions may share the cache); the second finds it done.
mkdir -p "$(dirname "$PREFIX")"
exec 9>"$PREFIX.lock"
flock 9
if installed; then
  echo "code-server $VERSION already installed in $PREFIX"
  exit 0
fi

missing=()
for tool in node npm rg pkg-config make g++ python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
for header in /usr/include/krb5.h /usr/include/X11/Xlib.h /usr/include/X11/extensions/XKBfile.h \
              /usr/include/libsecret-1/libsecret/secret.h; do
  [ -f "$header" ] || missing+=("$header")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-code-server.sh: missing ${missing[*]}; install the Debian packages:" >&2
  echo "  apt-get install -y chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config ripgrep g++ make" >&2
  exit 2
fi

rm -rf "$PREFIX"
mkdir -p "$PREFIX"
cd "$PREFIX"
echo '{"name": "code-server-e2e", "private": true}' > package.json
export npm_config_audit=false npm_config_fund=false npm_config_loglevel=error npm_config_update_notifier=false

# Its postinstall would fail as root and download ripgrep: do its steps by hand.
npm install --ignore-scripts "code-server@$VERSION"
npm rebuild argon2                                   # from source, against the local Node headers
cd node_modules/code-server/lib/vscode
npm install --omit=dev --ignore-scripts
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm_config_yes=true npm rebuild                      # kerberos, spdlog, node-pty, watchdog
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev)

touch "$MARKER"
echo "code-server $VERSION installed in $PREFIX"
