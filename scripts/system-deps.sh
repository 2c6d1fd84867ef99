#!/usr/bin/env bash
# The system packages `make test` needs (Debian names), each checked the way the tests use it: a command on PATH,
# a header or a jar at its path. A Node.js installed outside apt counts: `node` and `npm` are looked up as commands.
#
#   scripts/system-deps.sh           nothing missing: exit 0 at once, apt untouched. Something missing: as root,
#                                    `apt-get update` once and install it; otherwise print the apt-get command, exit 1
#   scripts/system-deps.sh --check   print the missing packages (one a line) and exit 1 if there are any; never installs
#
# `make test` runs it first; `.ci/run` runs it on a bare machine before `make` itself is there.
set -euo pipefail

check_only=false
case "${1:-}" in
  "") ;;
  --check) check_only=true ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

has() { command -v "$1" >/dev/null 2>&1; }

missing_packages() {
  local missing=()
  has make || missing+=(make)
  has git || missing+=(git)
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)   # `make install` creates .venv
  # The VS Code extension's tests and tests/test_vscode_e2e.py: Chromium drives code-server, whose native modules
  # build from source (a compiler, pkg-config and these headers).
  has node || missing+=(nodejs)
  has npm || missing+=(npm)
  has chromium || missing+=(chromium)
  has rg || missing+=(ripgrep)
  has pkg-config || missing+=(pkg-config)
  has g++ || missing+=(g++)
  [ -f /usr/include/krb5.h ] || missing+=(libkrb5-dev)
  [ -f /usr/include/X11/Xlib.h ] || missing+=(libx11-dev)
  [ -f /usr/include/X11/extensions/XKBfile.h ] || missing+=(libxkbfile-dev)
  [ -f /usr/include/libsecret-1/libsecret/secret.h ] || missing+=(libsecret-1-dev)
  # The PyCharm plugin's IDE-free core (tests/test_pycharm_plugin.py): javac and JUnit 4.
  has javac || missing+=(openjdk-17-jdk-headless)
  [ -f /usr/share/java/junit4.jar ] || missing+=(junit4)
  # Real Neovim (0.7) and Emacs (28 with Eglot 1.9) as LSP clients.
  has nvim || missing+=(neovim)
  has emacs || missing+=(emacs-nox)
  compgen -G '/usr/share/emacs/site-lisp/elpa-src/eglot-*/eglot.el' >/dev/null || missing+=(elpa-eglot)
  # Graphviz reads `metaflow-lsp graph --format dot` (tests/test_graph_command.py).
  has dot || missing+=(graphviz)
  echo "${missing[@]}"
}

read -r -a missing <<<"$(missing_packages)"
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if $check_only; then
  printf '%s\n' "${missing[@]}"
  exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
  {
    echo "metaflow-lsp: the tests need these system packages: ${missing[*]}"
    echo "Install them as root, then run make test again:"
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  } >&2
  exit 1
fi

echo "metaflow-lsp: installing the system packages the tests need: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${missing[@]}"

# A package can install without providing what was looked for (e.g. `npm` from apt next to a Node.js that is not).
read -r -a still_missing <<<"$(missing_packages)"
if [ ${#still_missing[@]} -gt 0 ]; then
  echo "metaflow-lsp: still missing after apt-get install: ${still_missing[*]}" >&2
  exit 1
fi
