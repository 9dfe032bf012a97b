# The targets a newcomer needs. `make run` and `make test` are the two
# commands of the README; .ci/run runs `make ci`.

CARGO ?= cargo
PG_URL ?= postgres://portal_auth:portal_auth@127.0.0.1:5432/portal_auth
BIN = $(CARGO) run --quiet -p portal-auth-server --bin portal-auth --

.PHONY: run run-postgres test lint ci bench pg-up doc

## Zero setup: an embedded SQLite store under ./data, a demo tenant and user
## (credentials printed), then the service on 127.0.0.1:8080.
run:
	$(BIN) demo
	$(BIN) serve

## The same service on the local PostgreSQL, brought up and migrated first.
run-postgres: pg-up
	@runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname = 'portal_auth'" | grep -q 1 \
	  || runuser -u postgres -- createdb -O portal_auth portal_auth
	PORTAL_AUTH__DATABASE__URL=$(PG_URL) $(BIN) demo
	PORTAL_AUTH__DATABASE__URL=$(PG_URL) $(BIN) serve

## Every test: unit, contract (memory, SQLite, PostgreSQL) and end to end
## (SQLite and PostgreSQL). Brings PostgreSQL up first.
test: pg-up
	$(CARGO) test --workspace --all-features

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

doc:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --all-features

ci: lint doc test

bench: pg-up
	$(CARGO) bench -p portal-auth-server --bench login

pg-up:
	@bash scripts/pg-up.sh
