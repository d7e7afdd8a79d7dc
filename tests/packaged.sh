#!/usr/bin/env bash
# The crates as crates.io would ship them (issue 23, "Installable"):
#
# 1. `cargo publish --workspace --dry-run` packages both crates and builds
#    each from its .crate, the CLI against the packaged library through
#    cargo's local registry overlay (the library is not on crates.io yet).
# 2. The two .crate files are unpacked into a directory outside the
#    workspace (no workspace .cargo/config.toml can reach it) and the CLI is
#    built from them as one static Linux binary (`--release`, cargo's
#    default profile: a workspace's profiles are not packaged, so this is
#    what `cargo install` builds; `-C target-feature=+crt-static`, and
#    getrandom's `linux_getrandom` backend),
#    registry-gen taken from its .crate by a [patch] as if it came from
#    crates.io.
# 3. That binary renders inside an empty root (`unshare --root`: nothing
#    but the binary; no libc, no /etc, no /dev, no /proc), as a tar stream
#    to stdout and as a bundle directory inside the root.
# 4. Its render time is the workspace release build's within noise:
#    medians of RUNS alternating runs; fails if the packaged build is more
#    than 1.5x + 2 ms slower (aws-lc's jitter collection, which a packaged
#    build cannot switch off, cost 30 ms a run: docs/performance.md).
#
# Usage: tests/packaged.sh (as root, for unshare; test.sh runs it). The
# static build is cached in target/packaged (a full release build the
# first time: about 4 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
ws=$PWD
runs=${RUNS:-40}
target=x86_64-unknown-linux-gnu

# k8s-openapi needs one API version; the library leaves it to the binary,
# so building the library's package alone names it (k8s-openapi's rule).
# `--no-verify`: the build below is the verification (both packages,
# unpacked outside the workspace, the CLI against the packaged library),
# and a second one here would cost a full build of every dependency.
K8S_OPENAPI_ENABLED_VERSION=1.33 cargo publish --workspace --dry-run --no-verify --allow-dirty --locked --quiet
# The same .crate files, left in target/package/ (already verified above).
cargo package --workspace --no-verify --allow-dirty --locked --quiet
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

work=$(mktemp -d /tmp/registry-gen-packaged.XXXXXX)
trap 'rm -rf "$work"' EXIT
for crate in registry-gen registry-gen-cli; do
    tar -xzf "target/package/$crate-$version.crate" -C "$work"
done
d=$work
while [ "$d" != / ]; do
    [ ! -e "$d/.cargo/config.toml" ] && [ ! -e "$d/.cargo/config" ] || {
        echo "packaged.sh: $d/.cargo/config* would reach the packaged build" >&2
        exit 1
    }
    d=$(dirname "$d")
done

echo "packaged.sh: building the CLI from its .crate in $work (static, release)"
(
    cd "$work/registry-gen-cli-$version"
    # getrandom 0.3/0.4 find glibc's getrandom() through dlsym, which a
    # static binary cannot do, and fall back to /dev/urandom, absent from
    # an empty root (or a scratch container): name the backend instead.
    RUSTFLAGS="-C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\"" \
        CARGO_TARGET_DIR="$ws/target/packaged" \
        cargo build --release --quiet --target "$target" \
        --config "patch.crates-io.registry-gen.path='$work/registry-gen-$version'"
)
packaged=$ws/target/packaged/$target/release/registry-gen
if ldd "$packaged" >/dev/null 2>&1 && ! ldd "$packaged" 2>&1 | grep -q 'statically linked'; then
    ldd "$packaged"
    echo "packaged.sh: $packaged is dynamically linked" >&2
    exit 1
fi

# An empty root holding nothing but the binary.
root=$work/root
mkdir -p "$root"
cp "$packaged" "$root/registry-gen"
unshare --root="$root" /registry-gen -q render --format tar >"$work/bundle.tar"
tar -tf "$work/bundle.tar" >"$work/tar.list"
grep -qx 'manifests/deployment.yaml' "$work/tar.list" || {
    echo "packaged.sh: the tar stream rendered in the empty root has no manifests/deployment.yaml" >&2
    exit 1
}
unshare --root="$root" /registry-gen -q render --out /bundle
[ -s "$root/bundle/certs/ca.crt" ] && [ -x "$root/bundle/scripts/start.sh" ] || {
    echo "packaged.sh: render --out in the empty root wrote no bundle" >&2
    exit 1
}
echo "packaged.sh: the static binary rendered in an empty root ($(wc -l <"$work/tar.list") tar entries, $(find "$root/bundle" -type f | wc -l) files)"

# Render time against the workspace build, with the same flags and target
# directory, so that only the two crates of this workspace are compiled
# again (the dependencies are the packaged build's). The packaged binary
# is timed from its copy in the empty root: the workspace build writes the
# same path.
packaged=$root/registry-gen
RUSTFLAGS="-C target-feature=+crt-static --cfg getrandom_backend=\"linux_getrandom\"" \
    CARGO_TARGET_DIR="$ws/target/packaged" \
    cargo build --release --locked --quiet -p registry-gen-cli --target "$target"
workspace=$ws/target/packaged/$target/release/registry-gen
config=$ws/examples/minikube-nfs.yaml
time_one() {
    local start end
    start=$(date +%s%N)
    "$1" -q render --config "$config" --format tar >/dev/null
    end=$(date +%s%N)
    echo $(((end - start) / 1000))
}
: >"$work/t.workspace"
: >"$work/t.packaged"
for _ in $(seq "$runs"); do
    time_one "$workspace" >>"$work/t.workspace"
    time_one "$packaged" >>"$work/t.packaged"
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
w=$(median "$work/t.workspace")
p=$(median "$work/t.packaged")
echo "packaged.sh: render --format tar of minikube-nfs, median of $runs: workspace build $((w / 1000)).$((w % 1000 / 100)) ms, packaged static build $((p / 1000)).$((p % 1000 / 100)) ms"
if [ "$p" -gt $((w * 3 / 2 + 2000)) ]; then
    echo "packaged.sh: the packaged build is slower than the workspace build beyond noise" >&2
    exit 1
fi
