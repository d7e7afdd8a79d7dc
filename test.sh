#!/usr/bin/env bash
# Runs every test of registry-gen on a fresh machine: first installs what the
# tests need (Debian packages as root, a PyPI package, cargo-insta), then
# checks formatting and lints, then runs the whole test suite, snapshots
# included. A missing tool fails the tests; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")"

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

# Real tools the interop, CLI and end-to-end tests drive: openssl, shellcheck, the
# CNCF distribution registry, Apache's htpasswd, curl, kubectl (for
# kustomize), skopeo, containerd and ctr, socat (plays kube-proxy), and
# unshare/ip for a private loopback-only network namespace.
packages=()
command -v openssl >/dev/null || packages+=(openssl)
command -v shellcheck >/dev/null || packages+=(shellcheck)
command -v docker-registry >/dev/null || packages+=(docker-registry)
command -v htpasswd >/dev/null || packages+=(apache2-utils)
command -v curl >/dev/null || packages+=(curl)
command -v kubectl >/dev/null || packages+=(kubernetes-client)
command -v skopeo >/dev/null || packages+=(skopeo)
command -v containerd >/dev/null || packages+=(containerd)
command -v socat >/dev/null || packages+=(socat)
# busybox runs the trust DaemonSet's installer as the registry's Alpine image does.
command -v busybox >/dev/null || packages+=(busybox)
command -v unshare >/dev/null || packages+=(util-linux)
command -v ip >/dev/null || packages+=(iproute2)
# groff checks the man page (`registry-gen man`).
command -v groff >/dev/null || packages+=(groff-base)
# Several replicas (e2e_s3): HAProxy plays the Service, redis-server the
# shared blob-descriptor cache.
command -v haproxy >/dev/null || packages+=(haproxy)
command -v redis-server >/dev/null || packages+=(redis-server)
# The Ingress (e2e_exposure): nginx with the rendered Ingress's settings.
command -v nginx >/dev/null || packages+=(nginx-light)
# Monitoring (monitoring.rs, e2e_monitoring): Prometheus 2.42 with promtool
# scrapes the registry and tests the alerts; the blackbox exporter probes
# its certificate. Debian's packages enable their services but start none
# where no init runs (a container), and the tests use their own listeners.
command -v promtool >/dev/null || packages+=(prometheus)
command -v prometheus-blackbox-exporter >/dev/null || packages+=(prometheus-blackbox-exporter)
# Node runs the Prometheus Operator's CRD validators (below).
command -v npm >/dev/null || packages+=(nodejs npm)
if [ ${#packages[@]} -gt 0 ]; then
    echo "test.sh: installing ${packages[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# The Kubernetes schema validator.
if ! python3 -c 'import kubernetes_validate' 2>/dev/null; then
    echo "test.sh: installing kubernetes-validate"
    python3 -m pip install --quiet --disable-pip-version-check kubernetes-validate==1.37.0 ||
        python3 -m pip install --quiet --disable-pip-version-check --break-system-packages kubernetes-validate==1.37.0
fi

# A JSON Schema validator: every example must pass `registry-gen schema`.
if ! command -v check-jsonschema >/dev/null; then
    echo "test.sh: installing check-jsonschema"
    python3 -m pip install --quiet --disable-pip-version-check check-jsonschema==0.39.0 ||
        python3 -m pip install --quiet --disable-pip-version-check --break-system-packages check-jsonschema==0.39.0
fi

# The CRD schemas custom resources are validated against (Gateway API,
# Prometheus Operator), from the npm registry at the locked versions.
if [ ! -d registry-gen/tests/crd/node_modules ] ||
    ! cmp -s registry-gen/tests/crd/package-lock.json registry-gen/tests/crd/node_modules/.package-lock.json; then
    echo "test.sh: installing the CRD schema packages (npm ci)"
    (cd registry-gen/tests/crd && npm ci --silent --no-audit --no-fund)
fi

# The S3-compatible endpoint of the e2e_s3 tests (moto_server, with boto3).
if ! command -v moto_server >/dev/null || ! python3 -c 'import moto, boto3, flask' 2>/dev/null; then
    echo "test.sh: installing moto[server]"
    python3 -m pip install --quiet --disable-pip-version-check 'moto[server]==5.2.1' ||
        python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'moto[server]==5.2.1'
fi

if ! cargo insta --version >/dev/null 2>&1; then
    echo "test.sh: installing cargo-insta"
    cargo install cargo-insta --locked --quiet
fi

# The library's public API against the 0.1.0 baseline (semver/); a first
# install builds it from source: 59 minutes on 2 busy cores
# (docs/performance.md), once.
if ! cargo semver-checks --version >/dev/null 2>&1; then
    echo "test.sh: installing cargo-semver-checks"
    cargo install cargo-semver-checks --locked --quiet
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "test.sh: installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# Snapshots are the contract: a changed or unreferenced snapshot fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo insta test --workspace --unreferenced=reject --check 2>&1 | tee "$log"
# A short fuzzing run of config parsing + validation + render (no panic on
# any input). This machine has only a stable toolchain: RUSTC_BOOTSTRAP=1
# lets it take the sanitizer flags cargo fuzz passes. Longer runs: see
# docs/testing.md.
corpus=$(mktemp -d)
trap 'rm -f "$log"; rm -rf "$corpus"' EXIT
cp examples/*.yaml registry-gen/src/default.yaml "$corpus/" # seeds
printf 'addresses: {dns_names: [localhost]}\ntls: {ca: {cert_file: ca.crt, key_file: ca.key}}\n' >"$corpus/given-ca.yaml"
if ! RUSTC_BOOTSTRAP=1 cargo fuzz run render "$corpus" -- -max_total_time=15 >"$corpus/fuzz.log" 2>&1; then
    tail -n 60 "$corpus/fuzz.log"
    echo "test.sh: the fuzz target failed (the crashing input is in fuzz/artifacts/render/)"
    exit 1
fi
echo "fuzz: $(tail -n 1 "$corpus/fuzz.log")"
# Embeddable: the API docs as docs.rs builds them ([package.metadata.docs.rs]),
# warnings denied.
RUSTDOCFLAGS="--cfg docsrs -D warnings" cargo doc --no-deps --locked --quiet \
    -p registry-gen --features k8s-openapi/v1_33
# Every public item of the library carries an example that runs (the
# doctests ran with the tests above): list any that has none.
tests/doc_examples.py
# No breaking change to the library's public API since the last release:
# the packaged .crate of that release is the baseline. (k8s-openapi needs
# one API version; the library leaves it to the binary, so name it here.)
baseline=$(mktemp -d)
trap 'rm -f "$log"; rm -rf "$corpus" "$baseline"' EXIT
tar -xzf semver/registry-gen-0.1.0.crate -C "$baseline"
K8S_OPENAPI_ENABLED_VERSION=1.33 cargo semver-checks check-release -p registry-gen \
    --baseline-root "$baseline/registry-gen-0.1.0"
# Installable: both crates package and would publish; the CLI built from
# the .crate files outside the workspace, as one static binary, renders in
# an empty root at the workspace build's speed.
tests/packaged.sh
# One closing line over every test binary.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
