# The two quick-start commands: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast extension-test system-deps bench initialize-answers install vsix pycharm-bundle clean

$(BIN)/metaflow-lsp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/metaflow-lsp

## demo: check the bundled example project, printing what an editor would show
demo: install
	$(BIN)/metaflow-lsp check examples/ || test $$? -eq 1

## system-deps: the Debian packages the tests need; installed with apt-get as root, else the command is printed
system-deps:
	scripts/system-deps.sh

## test: every test, the slow ones (real Metaflow runs, debugger) included, and the VS Code extension's
test: system-deps install extension-test
	$(BIN)/python -m pytest -q

extension-test: system-deps
	cd vscode-extension && npm ci --no-audit --no-fund --loglevel=error && npm test

## test-fast: everything but the real Metaflow runs
test-fast: system-deps install
	$(BIN)/python -m pytest -q -m "not slow"

## vsix: dist/metaflow-lsp-<target>-<version>.vsix for each VS Code target, the server and its dependencies inside
##       (built from the project's wheel; `make vsix VSIX_TARGETS=linux-x64` for one)
VSIX_TARGETS ?= linux-x64 linux-arm64 darwin-x64 darwin-arm64 win32-x64
vsix: install
	cd vscode-extension && npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python scripts/build_vsix.py $(addprefix --target ,$(VSIX_TARGETS))

## pycharm-bundle: build/pycharm-bundle/, the server and its dependencies for every platform, which the PyCharm
##       plugin's Gradle build packs as the zip's server/ folder (scripts/server_bundle.py, the .vsix's own bundle
##       code; `make pycharm-bundle PYCHARM_TARGETS=linux-x64` for one platform)
PYCHARM_TARGETS ?= $(VSIX_TARGETS)
pycharm-bundle: install
	$(BIN)/python scripts/server_bundle.py --out build/pycharm-bundle $(addprefix --target ,$(PYCHARM_TARGETS))

## bench: latency and throughput figures (see README)
bench: install
	$(BIN)/python benchmarks/bench.py --readme README.md

## initialize-answers: regenerate the server's early answers to `initialize` (server/metaflow_lsp/lsp/
##       initialize_answers.json) after a change to its capabilities; tests/test_early_initialize.py says when
initialize-answers: install
	$(BIN)/python scripts/initialize_answers.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
