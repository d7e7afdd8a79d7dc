#!/usr/bin/env bash
# Times registry-gen against the ways people do this by hand, alternating
# the contenders run by run so that drift (thermal, cache, noisy
# neighbours) hits all alike, and prints the median wall time of each and
# its ratio to registry-gen. Run by hand, never in CI; needs openssl,
# kubectl, htpasswd (apache2-utils), GNU time, and mkcert if installed.
#
#   bench/compare.sh [RUNS]          (default 30)
#   REGISTRY_GEN=path/to/registry-gen bench/compare.sh
#
# Contenders, all producing files into a fresh directory, for
# examples/nodeport-htpasswd.yaml (one user, NodePort, DNS name + IP):
#   registry-gen       `registry-gen render --out DIR` (the whole bundle,
#                      ~45 files), once with ECDSA P-256 and once RSA 2048
#   openssl+kubectl    the write-up's pipeline producing the equivalent
#                      files: CA key+cert, server key, CSR, cert (openssl,
#                      with registry-gen's own openssl.cnf), htpasswd -B,
#                      an HTTP secret, the TLS/htpasswd/HTTP/pull Secrets
#                      via `kubectl create secret --dry-run=client -o yaml`,
#                      certs.d trust dirs, and the static manifests copied
#   openssl (rsa)      the same pipeline with RSA 2048 keys
#   mkcert -ecdsa      certificates only, with a fresh CAROOT each run
#                      (mkcert's CA is RSA 3072 whatever the leaf)
# bcrypt runs at the same cost (registry-gen's default, 5) in both.
#
# Then registry-gen again, RUNS times, beside other processes' unwritten
# data: `dd` writes DIRTY_MB (default 2048; 0 skips) MiB of zeros to the
# same filesystem without syncing, and the renders run while it is still
# dirty (/proc/meminfo's Dirty: before and after is printed, and the file is
# rewritten before a run that finds less than half of it dirty; the kernel
# keeps it unwritten for vm.dirty_expire_centisecs, 30 s by default, when
# it stays below vm.dirty_background_*). Skipped when MemAvailable is not
# twice that. The file is removed right after (unwritten pages are dropped,
# not flushed). A durable write that flushes the whole filesystem (syncfs,
# sync) pays for all of it; one that fsyncs its own files should not.
#
#   DIRTY_MB=4096 bench/compare.sh 20
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-30}
bin=${REGISTRY_GEN:-target/release/registry-gen}
if [ ! -x "$bin" ]; then
    cargo build --release --quiet -p registry-gen-cli
    bin=target/release/registry-gen
fi
for tool in openssl kubectl htpasswd /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "compare.sh: needs $tool" >&2; exit 1; }
done
have_mkcert=$(command -v mkcert >/dev/null && echo 1 || echo 0)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
config=examples/nodeport-htpasswd.yaml
rsa_config=$work/nodeport-rsa.yaml
{ cat "$config"; printf 'tls:\n  key_algorithm: rsa-2048\n'; } >"$rsa_config"

# The pipeline's inputs that a person writes once by hand: openssl.cnf and
# the Deployment/Service manifests (taken from one registry-gen render).
"$bin" --quiet render --config "$config" --out "$work/template" </dev/null
template=$work/template
endpoints=(10.131.82.54:30443 yuan.com:30443 docker-registry.default.svc:8443)

# One run of the write-up's way into $1, keys of algorithm $2.
pipeline() {
    local d=$1 genkey
    case $2 in
        ec) genkey=(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
        rsa) genkey=(openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048) ;;
    esac
    mkdir -p "$d/certs" "$d/auth" "$d/manifests"
    cp "$template/certs/openssl.cnf" "$d/certs/"
    cd "$d"
    "${genkey[@]}" -out certs/ca.key 2>/dev/null
    openssl req -x509 -new -config certs/openssl.cnf -extensions v3_ca \
        -subj '/O=registry-gen/CN=registry-gen CA for docker-registry.default' \
        -key certs/ca.key -days 3650 -out certs/ca.crt
    "${genkey[@]}" -out certs/server.key 2>/dev/null
    openssl req -new -config certs/openssl.cnf -key certs/server.key -out certs/server.csr
    openssl x509 -req -in certs/server.csr -CA certs/ca.crt -CAkey certs/ca.key \
        -CAcreateserial -days 825 -extfile certs/openssl.cnf -extensions v3_req \
        -out certs/server.crt 2>/dev/null
    openssl rand -base64 24 | tr -d '\n' >auth/Yuan.password
    htpasswd -iBC 5 -n Yuan <auth/Yuan.password >auth/htpasswd 2>/dev/null
    openssl rand -base64 32 >auth/http-secret
    kubectl create secret tls docker-registry-tls --cert=certs/server.crt \
        --key=certs/server.key -n default --dry-run=client -o yaml >manifests/secret-tls.yaml
    kubectl create secret generic docker-registry-htpasswd --from-file=htpasswd=auth/htpasswd \
        -n default --dry-run=client -o yaml >manifests/secret-htpasswd.yaml
    kubectl create secret generic docker-registry-http --from-file=http-secret=auth/http-secret \
        -n default --dry-run=client -o yaml >manifests/secret-http.yaml
    kubectl create secret docker-registry docker-registry-pull --docker-server=yuan.com:30443 \
        --docker-username=Yuan --docker-password="$(cat auth/Yuan.password)" \
        -n default --dry-run=client -o yaml >manifests/secret-pull.yaml
    cp "$template"/manifests/{deployment,service,kustomization}.yaml manifests/
    for e in "${endpoints[@]}"; do
        mkdir -p "trust/docker/certs.d/$e"
        cp certs/ca.crt "trust/docker/certs.d/$e/ca.crt"
    done
    chmod 600 certs/*.key auth/* manifests/secret-*.yaml
}

mkcert_run() {
    local d=$1
    mkdir -p "$d/caroot"
    CAROOT=$d/caroot mkcert -ecdsa -cert-file "$d/server.crt" -key-file "$d/server.key" \
        yuan.com 10.131.82.54 docker-registry.default.svc >/dev/null 2>&1
}

names=(registry-gen registry-gen-rsa openssl+kubectl openssl+kubectl-rsa)
[ "$have_mkcert" = 1 ] && names+=(mkcert-ecdsa)

# Run contender $1 once into a fresh directory; print its wall time in µs
# ($EPOCHREALTIME: no clock process forked around the measurement).
# Untimed, before it: `sync`, so that every contender starts on a clean
# filesystem. Without it a durable writer's fsyncs also commit the journal
# transaction holding the previous contenders' unsynced files and the
# `rm -rf` of the last output, and it pays for them. `one X nosync` skips
# it (the dirty-data case, where a sync would flush the dirty file).
one() {
    local d=$work/run t0 t1
    rm -rf "$d"
    mkdir -p "$d"
    [ "${2:-}" = nosync ] || sync
    t0=${EPOCHREALTIME/./}
    case $1 in
        registry-gen) "$bin" --quiet render --config "$config" --out "$d/out" </dev/null ;;
        registry-gen-rsa) "$bin" --quiet render --config "$rsa_config" --out "$d/out" </dev/null ;;
        openssl+kubectl) (pipeline "$d/out" ec) ;;
        openssl+kubectl-rsa) (pipeline "$d/out" rsa) ;;
        mkcert-ecdsa) mkcert_run "$d" ;;
    esac
    t1=${EPOCHREALTIME/./}
    echo $((t1 - t0))
}

declare -A times
for n in "${names[@]}"; do one "$n" >/dev/null; done # warm-up
for ((i = 0; i < runs; i++)); do
    for n in "${names[@]}"; do
        times[$n]+="$(one "$n") "
    done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
base=$(echo "${times[registry-gen]}" | median)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "runs: $runs each, alternating; wall time per run, median"
printf '%-22s %12s %10s %10s\n' contender median_ms vs_ecdsa files
for n in "${names[@]}"; do
    m=$(echo "${times[$n]}" | median)
    one "$n" >/dev/null
    files=$(find "$work/run" -type f -not -path '*/caroot/*' -not -path '*/template/*' | wc -l)
    printf '%-22s %12.2f %9.1fx %10s\n' "$n" "$(echo "$m / 1000" | bc -l)" "$(echo "$m / $base" | bc -l)" "$files"
done

dirty_mb=${DIRTY_MB:-2048}
avail_mb=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)
dirty_kb() { awk '/^Dirty:/ {print $2}' /proc/meminfo; }
echo
if [ "$dirty_mb" -gt 0 ] && [ "$avail_mb" -ge $((2 * dirty_mb)) ]; then
    dd if=/dev/zero of="$work/dirty" bs=1M count="$dirty_mb" status=none
    before_kb=$(dirty_kb)
    dirty_times='' refills=0
    for ((i = 0; i < runs; i++)); do
        # Dirty again what a previous render flushed (a syncfs would).
        if [ "$(dirty_kb)" -lt $((dirty_mb * 512)) ]; then
            dd if=/dev/zero of="$work/dirty" bs=1M count="$dirty_mb" conv=notrunc status=none
            refills=$((refills + 1))
        fi
        dirty_times+="$(one registry-gen nosync) "
    done
    after_kb=$(dirty_kb)
    rm -f "$work/dirty"
    m=$(echo "$dirty_times" | median)
    echo "beside $dirty_mb MiB of another process's unwritten data on the same filesystem"
    echo "(Dirty: $((before_kb / 1024)) MiB before the renders, $((after_kb / 1024)) MiB after;"
    echo " rewritten $refills times when a render had flushed it):"
    printf '%-22s %12.2f %9.1fx (vs the run above)\n' "registry-gen (dirty)" \
        "$(echo "$m / 1000" | bc -l)" "$(echo "$m / $base" | bc -l)"
else
    echo "dirty-data case skipped (DIRTY_MB=$dirty_mb, MemAvailable ${avail_mb} MiB)"
fi

echo
echo "peak memory (GNU time, max RSS of one run):"
for n in registry-gen registry-gen-rsa; do
    cfg=$config
    [ "$n" = registry-gen-rsa ] && cfg=$rsa_config
    rm -rf "$work/run"
    kb=$(/usr/bin/time -f '%M' "$bin" --quiet render --config "$cfg" --out "$work/run" </dev/null 2>&1 >/dev/null | tail -1)
    printf '%-22s %8s KiB\n' "$n" "$kb"
done
rm -rf "$work/run"
kb=$(/usr/bin/time -f '%M' kubectl create secret generic x --from-literal=a=b --dry-run=client -o yaml 2>&1 >/dev/null | tail -1)
printf '%-22s %8s KiB (each of its 4 calls)\n' "kubectl create secret" "$kb"
