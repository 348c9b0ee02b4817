# Convenience targets; scripts/test.sh is the source of truth for tests.
.PHONY: test audit build run bench fuzz

test:
	./scripts/test.sh

# The checks and scans of the tests, online: gofmt, go vet, staticcheck,
# govulncheck with the public vulnerability database, gosec and gitleaks
# (pinned versions in scripts/test.sh). No tests.
audit:
	./scripts/test.sh --audit

build:
	CGO_ENABLED=0 go build -o bindery ./cmd/bindery

run:
	go run ./cmd/bindery serve

bench:
	./bench/http.sh

# Run each fuzz target for a while (FUZZTIME=30s by default).
FUZZTIME ?= 30s
fuzz:
	go test ./internal/config -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	go test ./internal/config -run '^$$' -fuzz '^FuzzParseDotEnv$$' -fuzztime $(FUZZTIME)
	go test ./internal/clientaddr -run '^$$' -fuzz '^FuzzAddr$$' -fuzztime $(FUZZTIME)
	go test ./internal/logging -run '^$$' -fuzz '^FuzzRedactorString$$' -fuzztime $(FUZZTIME)
	go test ./internal/bookfs -run '^$$' -fuzz '^FuzzCleanPath$$' -fuzztime $(FUZZTIME)
	go test ./internal/render/markdown -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(FUZZTIME)
	go test ./internal/realtime -run '^$$' -fuzz '^FuzzParseClientFrame$$' -fuzztime $(FUZZTIME)
	go test ./internal/ideogram -run '^$$' -fuzz '^FuzzParseGenerateResponse$$' -fuzztime $(FUZZTIME)
	go test ./internal/secretbox -run '^$$' -fuzz '^FuzzDecrypt$$' -fuzztime $(FUZZTIME)
	go test ./internal/secretbox -run '^$$' -fuzz '^FuzzDecryptAuthentic$$' -fuzztime $(FUZZTIME)
	go test ./internal/totp -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME)
	go test ./internal/totp -run '^$$' -fuzz '^FuzzRecoveryCode$$' -fuzztime $(FUZZTIME)
