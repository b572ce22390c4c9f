# Every target creates .venv when it is missing and installs the project into it:
# on a fresh machine `make demo` and `make test` are all it takes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROTOS := proto/tfplugin6.proto proto/grpc_controller.proto proto/grpc_stdio.proto \
          proto/grpc_broker.proto proto/health.proto
WIRE := provider/plugin/wire

.PHONY: venv install release release-deps demo test lint proto docs bench soak fuzz clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@# Byte-compile now: where PYTHONDONTWRITEBYTECODE is set (containers often do), every
	@# provider start would otherwise compile the sources again.
	$(PY) -m compileall -q provider
	touch $(STAMP)

# init, apply, an empty second plan and destroy of examples/demo against a local emulator.
demo: $(STAMP)
	$(PY) -m terraform_provider_connectly.tools.demo $(CURDIR)

# Everything CI runs: all tests with the bundled Terraform 1.15.5, then the acceptance tests
# again with the `terraform` on PATH when there is one (tests of newer features skip there).
ACCEPTANCE := tests/test_*terraform*.py tests/test_install.py tests/test_docs.py
test: lint $(STAMP) release-deps
	$(PY) -m pytest -q
	@if command -v terraform >/dev/null; then \
	  echo "== acceptance tests again with $$(command -v terraform)"; \
	  CONNECTLY_TEST_TERRAFORM=$$(command -v terraform) $(PY) -m pytest -q -rs $(ACCEPTANCE); \
	fi

lint: $(STAMP)
	$(PY) -m ruff check provider tests
	$(PY) -m ruff format --check provider tests
	$(PY) -m mypy

# The full-size reliability run: 200 webhooks over 100 businesses with injected faults.
soak: $(STAMP)
	CONNECTLY_SOAK_N=200 $(PY) -m pytest -q -s tests/test_reliability_terraform.py

# More random configurations through real Terraform, and more random bytes through the codec.
fuzz: $(STAMP)
	CONNECTLY_FUZZ_EXAMPLES=40 CONNECTLY_FUZZ_BYTES=50000 $(PY) -m pytest -q \
	  tests/test_properties_terraform.py tests/test_codec.py

# Performance figures against Terraform's own floor; writes docs/performance.md.
bench: $(STAMP)
	$(PY) tests/bench/bench.py

# The Debian tools a Linux release and its tests need, installed only when missing.
RELEASE_TOOLS := patchelf:patchelf musl-gcc:musl-tools gpg:gnupg unshare:util-linux readelf:binutils
release-deps:
	@missing=""; for t in $(RELEASE_TOOLS); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; done; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && apt-get install -y --no-install-recommends $$missing; fi

# dist/: this machine's zip, the manifest, SHA256SUMS (+ .sig with GPG_FINGERPRINT set).
release: $(STAMP) release-deps
	$(PY) -m terraform_provider_connectly.tools.release build

# Puts the release build into ~/.terraform.d/plugins, unpacked as Terraform unpacks a zip.
install: $(STAMP)
	@ls dist/terraform-provider-connectly_*.zip >/dev/null 2>&1 || $(MAKE) release
	$(VENV)/bin/terraform-provider-connectly install --from "$$(ls dist/terraform-provider-connectly_*.zip | head -1)"

# Regenerates the Python stubs from proto/ (the generated modules are committed).
proto: $(STAMP)
	rm -rf .proto-out && mkdir -p .proto-out
	$(PY) -m grpc_tools.protoc -Iterraform_provider_connectly/plugin/wire=proto \
	  --python_out=.proto-out --grpc_python_out=.proto-out --pyi_out=.proto-out $(PROTOS)
	cp .proto-out/terraform_provider_connectly/plugin/wire/*.py* $(WIRE)/
	rm -rf .proto-out

# Regenerates docs/ from the schemas and examples/.
docs: $(STAMP)
	$(PY) -m terraform_provider_connectly.tools.docs

clean:
	rm -rf $(VENV) .demo .proto-out .pytest_cache .mypy_cache .ruff_cache dist build
