# Atende — the two set-up commands are `make run` and `make test` (see README.md).
ATENDE := .venv/bin/atende

.PHONY: run test install lint format messages

run:
	scripts/install.sh
	$(ATENDE) migrate --noinput
	$(ATENDE) collectstatic --noinput --verbosity 0
	$(ATENDE) demo-data
	$(ATENDE) serve

test:
	scripts/test.sh

install:
	scripts/install.sh test

lint: install
	.venv/bin/ruff check src bench scripts
	.venv/bin/ruff format --check src bench scripts

format: install
	.venv/bin/ruff format src bench scripts
	.venv/bin/ruff check --fix src bench scripts

# Extracts new strings into the pt-BR catalog and compiles it (needs GNU gettext).
messages: install
	cd src/atende && ../../$(ATENDE) makemessages -l pt_BR --no-location --no-obsolete -i settings_test.py
	cd src/atende && ../../$(ATENDE) compilemessages -l pt_BR
