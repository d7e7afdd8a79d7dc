#!/usr/bin/env bash
# The durable write's cost, side by side in one run (by hand, never in CI):
# `registry-gen render --out` to the disk and to tmpfs, the same render to
# stdout (`--format tar`, no filesystem), and `mkcert -ecdsa` making a fresh
# CA and a leaf (Debian's mkcert: `apt-get install mkcert`). Contenders
# alternate run by run, each after an untimed `sync`; prints the median wall
# time and the median CPU time (user + system, from GNU time) of each.
#
#   bench/write-path.sh [RUNS]                     (default 30)
#   REGISTRY_GEN=path/to/registry-gen bench/write-path.sh
#   DISK_DIR=/var/tmp SHM_DIR=/dev/shm bench/write-path.sh
#   BASELINE=path/to/older/registry-gen bench/write-path.sh   (adds its
#       render --out to disk and tmpfs to the same alternation)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
bin=${REGISTRY_GEN:-target/release/registry-gen}
config=${CONFIG:-examples/nodeport-htpasswd.yaml}
disk=$(mktemp -d "${DISK_DIR:-/var/tmp}/write-path.XXXXXX")
shm=$(mktemp -d "${SHM_DIR:-/dev/shm}/write-path.XXXXXX")
trap 'rm -rf "$disk" "$shm"' EXIT
for tool in mkcert perf; do
    command -v "$tool" >/dev/null || { echo "write-path.sh: needs $tool" >&2; exit 1; }
done

# One timed run of "$@": appends "wall_ms cpu_ms" to the file $1.
timed() {
    local out=$1; shift
    sync
    perf stat -x, -e task-clock,duration_time -o "$disk/stat" "$@" >/dev/null 2>&1
    awk -F, '$3 == "task-clock" { cpu = $1 } $3 == "duration_time" { wall = $1 / 1e6 }
        END { printf "%.2f %.2f\n", wall, cpu }' "$disk/stat" >>"$out"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

names=(render-out-disk render-out-tmpfs render-stdout-tar mkcert-ecdsa)
baseline=${BASELINE:-}
[ -n "$baseline" ] && names+=(baseline-out-disk baseline-out-tmpfs)
for n in "${names[@]}"; do : >"$disk/$n"; done
for ((i = 0; i < runs; i++)); do
    rm -rf "$disk/o" "$shm/o" "$disk/ca" "$disk/leaf"*
    timed "$disk/render-out-disk" "$bin" -q render --config "$config" --out "$disk/o"
    timed "$disk/render-out-tmpfs" "$bin" -q render --config "$config" --out "$shm/o"
    timed "$disk/render-stdout-tar" "$bin" -q render --config "$config" --format tar
    mkdir -p "$disk/ca"
    CAROOT="$disk/ca" timed "$disk/mkcert-ecdsa" mkcert -ecdsa \
        -cert-file "$disk/leaf.crt" -key-file "$disk/leaf.key" registry.test 10.0.0.1
    if [ -n "$baseline" ]; then
        rm -rf "$disk/o" "$shm/o"
        timed "$disk/baseline-out-disk" "$baseline" -q render --config "$config" --out "$disk/o"
        timed "$disk/baseline-out-tmpfs" "$baseline" -q render --config "$config" --out "$shm/o"
    fi
done
printf '%-20s %12s %12s\n' contender 'wall (ms)' 'cpu (ms)'
for n in "${names[@]}"; do
    printf '%-20s %12s %12s\n' "$n" "$(cut -d' ' -f1 "$disk/$n" | median)" "$(cut -d' ' -f2 "$disk/$n" | median)"
done
echo "runs: $runs; load: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; disk: $(df -T "$disk" | awk 'NR==2 { print $2 }'); bin: $bin"
