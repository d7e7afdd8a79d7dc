#!/usr/bin/env bash
# Measures the registry a bundle runs, under the bundle's own CPU and memory
# limits, side by side with no limits in the same run. Run by hand, as root,
# never in CI; needs Debian's docker-registry (distribution 2.8.x), curl,
# python3 (with PyYAML, else kubectl converts the YAML), jq, unshare,
# nsenter, setpriv, and cgroup v1 (cpu + memory) or v2.
#
#   bench/registry-throughput.sh [RUNS] [-- RENDER FLAGS...]   (default 3 runs)
#   CASES='unlimited rendered 500m/256Mi none/256Mi' bench/registry-throughput.sh
#   BIG_MB=16 SMALL_LAYERS=10 bench/registry-throughput.sh 1    (a quick try)
#
# One bundle is rendered with the built CLI (the embedded default config,
# or CONFIG=examples/x.yaml, plus any render flags after `--`), and one
# registry "pod" per case is started from it exactly as the e2e suite
# plays the pod (registry-gen-cli/tests/e2e.rs): every env var of the
# Deployment, each Secret's keys written at its volume's mountPath (paths
# re-rooted into a directory) with the volume's defaultMode, the data
# volume a directory on the disk under TMPDIR, the root read-only when the
# container asks, the pod's runAsUser/runAsGroup/fsGroup and capabilities
# through setpriv; all pods in one private network + mount namespace
# (`unshare --net --mount`) that holds only loopback, each on its own pod
# IP (127.0.0.21, .22, ...). Each pod runs in a cgroup of its own that
# applies the case's limits as the kubelet does (cgroup v1: cfs quota with
# a 100 ms period and memory.limit_in_bytes; v2: cpu.max and memory.max).
# The clients (curl; a small python3 client that keeps its connections
# alive, as Docker does) run in the namespace but outside those cgroups.
#
# A case is `unlimited` (a cgroup with no limits), `rendered` (the limits in
# the rendered Deployment), or CPU/MEMORY limits such as `500m/256Mi` or
# `none/256Mi` (no CPU limit). Requests are not applied: on this machine
# cpu.shares would weigh the registry against unrelated processes, not
# against other pods.
#
# Every run, for every case in turn (so drift hits all alike):
#   push1/pull1   one BIG_MB (256) MiB blob: POST + monolithic PUT, then GET
#   push4/pull4   four distinct BIG_MB blobs at once (Docker pushes 5 layers
#                 at once and pulls 3)
#   small c1/c4   SMALL_LAYERS (50) layers of SMALL_KB (4) KiB and their
#                 image: per layer HEAD + POST + PUT, a config blob, the
#                 manifest; then the pull: manifest, config, every layer;
#                 1 and 4 at once, each connection kept alive
#   auth          AUTH_REQUESTS (30) GET /v2/ in a row with the password
#                 (the registry checks it with bcrypt each time), then as
#                 many without (401, no bcrypt), on one connection: the
#                 mean time of each (the difference is bcrypt's cost)
# and, per case: the peak RSS of the registry process (VmHWM, reset before
# each measurement), the cgroup's peak usage (v1 max_usage_in_bytes: RSS
# plus the page cache the writes charge to it) and OOM kills (a killed
# registry is restarted, as the kubelet would, and its measurement counts
# as failed). Medians over the runs; `x` is the time relative to
# `unlimited` (1.00x = as fast).
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
[ $# -gt 0 ] && shift
[ "${1:-}" = -- ] && shift
render_flags=("$@")
big_mb=${BIG_MB:-256}
small_layers=${SMALL_LAYERS:-50}
small_kb=${SMALL_KB:-4}
auth_requests=${AUTH_REQUESTS:-30}
read -r -a cases <<<"${CASES:-unlimited rendered 500m/256Mi 1000m/256Mi none/256Mi none/128Mi}"
bin=${REGISTRY_GEN:-target/release/registry-gen}
if [ ! -x "$bin" ]; then
    cargo build --release --quiet -p registry-gen-cli
    bin=target/release/registry-gen
fi
[ "$(id -u)" = 0 ] || { echo "registry-throughput.sh: needs root (namespaces, cgroups)" >&2; exit 1; }
for tool in docker-registry curl python3 jq unshare nsenter setpriv sha256sum; do
    command -v "$tool" >/dev/null || { echo "registry-throughput.sh: needs $tool" >&2; exit 1; }
done

# cgroups: v1 (cpu and memory hierarchies) or v2 (one).
if [ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us ] && [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
    cgv=1
    # Our own memory cgroup's child, so the pods stay inside whatever
    # accounts for us; the cpu hierarchy likewise.
    cpu_parent=/sys/fs/cgroup/cpu$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ {print $3}' /proc/self/cgroup)
    mem_parent=/sys/fs/cgroup/memory$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    cgv=2
    cpu_parent=/sys/fs/cgroup
    mem_parent=/sys/fs/cgroup
    for c in cpu memory; do
        grep -qw "$c" /sys/fs/cgroup/cgroup.subtree_control || echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control
    done
else
    echo "registry-throughput.sh: no cgroup v1 cpu+memory nor cgroup v2 found" >&2
    exit 1
fi

work=$(mktemp -d)
holder=
declare -a pod_pid=() cg_dirs=() children=()
cleanup() {
    local p d i all=("${pod_pid[@]}" "${children[@]}")
    [ -n "$holder" ] && all+=("$holder")
    for p in "${all[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${all[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    for d in "${cg_dirs[@]}"; do
        for ((i = 0; i < 50; i++)); do
            [ -d "$d" ] || break
            rmdir "$d" 2>/dev/null && break
            sleep 0.1
        done
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Kubernetes quantities: CPU in millicores, memory in bytes; -1 for `none`.
milli() {
    case $1 in
        none | '') echo -1 ;;
        *m) echo "${1%m}" ;;
        *) awk -v q="$1" 'BEGIN {printf "%d\n", q * 1000}' ;;
    esac
}
bytes() {
    case $1 in
        none | '') echo -1 ;;
        *) awk -v q="$1" 'BEGIN {
               n = q + 0; s = substr(q, length(n "") + 1)
               split("Ki Mi Gi Ti", b); split("k M G T", d)
               f = 1
               for (i = 1; i <= 4; i++) { if (s == b[i]) f = 1024 ^ i; if (s == d[i]) f = 1000 ^ i }
               printf "%d\n", n * f }' ;;
    esac
}

yaml_json() {
    if python3 -c 'import yaml' 2>/dev/null; then
        python3 -c 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)' <"$1"
    else
        kubectl create --dry-run=client --validate=false -o json -f "$1"
    fi
}

# --- the bundle ---------------------------------------------------------
config_args=()
[ -n "${CONFIG:-}" ] && config_args=(--config "$CONFIG")
"$bin" --quiet render "${config_args[@]}" "${render_flags[@]}" --out "$work/bundle" </dev/null
bundle=$work/bundle
yaml_json "$bundle/manifests/deployment.yaml" >"$work/deployment.json"
for f in "$bundle"/manifests/secret-*.yaml; do yaml_json "$f"; echo; done | jq -s 'map({(.metadata.name): .data}) | add' >"$work/secrets.json"
jqd() { jq -r "$@" "$work/deployment.json"; }
ctr='.spec.template.spec.containers[0]'
port=$(jqd "$ctr.env[] | select(.name == \"REGISTRY_HTTP_ADDR\") | .value")
port=${port#:}
rendered_limits="$(jqd "$ctr.resources.limits.cpu // \"none\"")/$(jqd "$ctr.resources.limits.memory // \"none\"")"
# The name clients use: the certificate's first SAN (curl --connect-to and
# python's server_hostname send it to the pod's IP, so TLS is verified).
host=$(openssl x509 -noout -ext subjectAltName -in "$bundle/certs/server.crt" |
    tr ',' '\n' | sed -n 's/^ *\(DNS\|IP Address\)://p' | head -1)
ca=$bundle/certs/ca.crt
login=
if [ -f "$bundle/auth/htpasswd" ]; then
    user=$(head -1 "$bundle/auth/htpasswd" | cut -d: -f1)
    login=$work/login
    (umask 077 && printf '%s:%s' "$user" "$(head -1 "$bundle/auth/$user.password")" >"$login" &&
        printf 'user = "%s"\n' "$(sed 's/[\\"]/\\&/g' "$login")" >"$work/curl-auth")
fi
chmod 755 "$work" # the pod's user must reach its files

# --- the namespace: loopback only, private mounts -----------------------
unshare --net --mount --propagation private sleep 86400 &
holder=$!
for ((i = 0; i < 100; i++)); do
    [ "$(readlink "/proc/$holder/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
    sleep 0.05
done
[ "$(readlink "/proc/$holder/ns/net")" != "$(readlink /proc/self/ns/net)" ] || { echo "unshare failed" >&2; exit 1; }
ns() { nsenter --target "$holder" --net --mount -- "$@"; }
ns ip link set lo up

# --- one pod per case ---------------------------------------------------
# The registry's config file inside the image (everything that matters is
# overridden by REGISTRY_* env), as in the e2e suite.
image_config='version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
'
run_as=$(jqd '.spec.template.spec.securityContext.runAsUser // empty')
run_group=$(jqd '.spec.template.spec.securityContext.runAsGroup // empty')
fs_group=$(jqd '.spec.template.spec.securityContext.fsGroup // empty')

# Lay out pod $1's filesystem under $work/pod$1 (Secrets at their
# mountPaths, the data volume a directory under $work/data$1).
make_pod() {
    local i=$1 root=$work/pod$1 m name at secret mode key f data
    mkdir -p "$root/etc/docker/registry"
    printf '%s' "$image_config" >"$root/etc/docker/registry/config.yml"
    while IFS=$'\t' read -r name at; do
        secret=$(jq -r --arg n "$name" '.spec.template.spec.volumes[] | select(.name == $n) | .secret.secretName // empty' "$work/deployment.json")
        mkdir -p "$root$(dirname "$at")"
        if [ -n "$secret" ]; then
            mode=$(jq -r --arg n "$name" '.spec.template.spec.volumes[] | select(.name == $n) | .secret.defaultMode // 420' "$work/deployment.json")
            mkdir "$root$at"
            for key in $(jq -r --arg s "$secret" '.[$s] | keys[]' "$work/secrets.json"); do
                f=$root$at/$key
                jq -r --arg s "$secret" --arg k "$key" '.[$s][$k]' "$work/secrets.json" | base64 -d >"$f"
                if [ -n "$fs_group" ]; then
                    chown "0:$fs_group" "$f"
                    chmod "$(printf '%o' $((mode | 0440)))" "$f"
                else
                    chmod "$(printf '%o' "$mode")" "$f"
                fi
            done
        else
            # The data: given to fsGroup, setgid, as the kubelet does for an
            # emptyDir or a provisioned claim.
            data=$work/data$i
            mkdir -m 755 "$data"
            if [ -n "$fs_group" ]; then
                chown "0:$fs_group" "$data"
                chmod 2775 "$data"
            fi
            ln -s "$data" "$root$at"
        fi
    done < <(jqd "$ctr.volumeMounts[] | [.name, .mountPath] | @tsv")
    if [ "$(jqd "$ctr.securityContext.readOnlyRootFilesystem // false")" = true ]; then
        ns mount --bind "$root" "$root"
        ns mount -o remount,bind,ro "$root" "$root"
    fi
}

# The pod's env, NAME=VALUE lines, paths re-rooted, the address on its IP.
pod_env() {
    local i=$1 name value kind
    while IFS=$'\t' read -r name kind value; do
        if [ "$kind" = secret ]; then
            value=$(jq -r --arg r "$value" '($r | split("/")) as [$s, $k] | .[$s][$k]' "$work/secrets.json" | base64 -d)
        fi
        [[ $value == /* ]] && value=$work/pod$i$value
        [ "$name" = REGISTRY_HTTP_ADDR ] && value=${ip[$i]}$value
        printf '%s=%s\n' "$name" "$value"
    done < <(jqd "$ctr.env[] | if .value then [.name, \"value\", .value]
        else [.name, \"secret\", (.valueFrom.secretKeyRef.name + \"/\" + .valueFrom.secretKeyRef.key)] end | @tsv")
}

# setpriv's arguments: the rendered user and capabilities, no new privileges.
priv=(--no-new-privs --inh-caps=-all)
bounding=-all
for c in $(jqd "$ctr.securityContext.capabilities.add // [] | .[]"); do
    bounding+=",+${c,,}"
done
priv+=("--bounding-set=$bounding")
if [ -n "$run_as" ]; then
    g=${run_group:-$run_as}
    priv+=("--reuid=$run_as" "--regid=$g" "--groups=$g${fs_group:+,$fs_group}")
fi

# A cgroup for pod $1 with CPU limit $2 (millicores, -1 none) and memory
# limit $3 (bytes, -1 none).
make_cgroup() {
    local i=$1 cpu=$2 mem=$3 name=registry-bench.$$.$1
    if [ "$cgv" = 1 ]; then
        cg_cpu[i]=$cpu_parent/$name
        cg_mem[i]=$mem_parent/$name
        mkdir "${cg_cpu[i]}" && cg_dirs+=("${cg_cpu[i]}")
        mkdir "${cg_mem[i]}" && cg_dirs+=("${cg_mem[i]}")
        echo 100000 >"${cg_cpu[i]}/cpu.cfs_period_us"
        if [ "$cpu" -gt 0 ]; then echo $((cpu * 100)) >"${cg_cpu[i]}/cpu.cfs_quota_us"; fi
        if [ "$mem" -gt 0 ]; then echo "$mem" >"${cg_mem[i]}/memory.limit_in_bytes"; fi
    else
        cg_cpu[i]=$cpu_parent/$name
        cg_mem[i]=${cg_cpu[i]}
        mkdir "${cg_cpu[i]}" && cg_dirs+=("${cg_cpu[i]}")
        if [ "$cpu" -gt 0 ]; then echo "$((cpu * 100)) 100000" >"${cg_cpu[i]}/cpu.max"; fi
        if [ "$mem" -gt 0 ]; then echo "$mem" >"${cg_mem[i]}/memory.max"; fi
    fi
}
oom_kills() {
    if [ "$cgv" = 1 ]; then
        awk '/^oom_kill / {print $2; f = 1} END {if (!f) print 0}' "${cg_mem[$1]}/memory.oom_control"
    else
        awk '/^oom_kill / {print $2; f = 1} END {if (!f) print 0}' "${cg_mem[$1]}/memory.events"
    fi
}
reset_peaks() {
    [ "$cgv" = 1 ] && echo 0 >"${cg_mem[$1]}/memory.max_usage_in_bytes"
    echo 5 >"/proc/${pod_pid[$1]}/clear_refs" 2>/dev/null || true
}
# Peak RSS (KiB) of the registry and the cgroup's peak (bytes; on v2 since
# the cgroup was made).
peak_rss() { awk '/^VmHWM:/ {print $2}' "/proc/${pod_pid[$1]}/status" 2>/dev/null || echo 0; }
peak_cgroup() {
    if [ "$cgv" = 1 ]; then cat "${cg_mem[$1]}/memory.max_usage_in_bytes"; else cat "${cg_mem[$1]}/memory.peak" 2>/dev/null || echo 0; fi
}

# Start pod $1's registry in its cgroup, in the namespace, and wait until
# it answers (the readiness probe: GET / over HTTPS).
start_pod() {
    local i=$1 env_lines
    mapfile -t env_lines < <(pod_env "$i")
    (
        echo "$BASHPID" >"${cg_cpu[i]}/cgroup.procs"
        [ "${cg_mem[i]}" = "${cg_cpu[i]}" ] || echo "$BASHPID" >"${cg_mem[i]}/cgroup.procs"
        exec env -i "${env_lines[@]}" nsenter --target "$holder" --net --mount -- \
            setpriv "${priv[@]}" -- docker-registry serve "$work/pod$i/etc/docker/registry/config.yml"
    ) >>"$work/pod$i.log" 2>&1 &
    pod_pid[i]=$!
    for ((t = 0; t < 300; t++)); do
        if [ "$(curl_to "$i" -o /dev/null -w '%{http_code}' "https://$host:$port/" 2>/dev/null)" = 200 ]; then
            record "$i" idle_rss_kib "$(awk '/^VmRSS:/ {print $2}' "/proc/${pod_pid[i]}/status")"
            return 0
        fi
        kill -0 "${pod_pid[i]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "registry-throughput.sh: pod ${cases[i]} did not become ready:" >&2
    tail -20 "$work/pod$i.log" >&2
    exit 1
}

# curl to pod $1 in the namespace, TLS verified with the bundle's CA.
curl_to() {
    local i=$1
    shift
    local a=()
    [ -n "$login" ] && a=(-K "$work/curl-auth")
    ns curl -sS --fail --max-time 600 --cacert "$ca" --connect-to "$host:$port:${ip[$i]}:$port" "${a[@]}" "$@"
}
url="https://$host:$port"

# Push blob $2 (digest $3) into repository $4 of pod $1: POST, then one PUT.
push_blob() {
    local loc
    loc=$(curl_to "$1" -X POST -D - -o /dev/null "$url/v2/$4/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: *//p')
    [[ $loc == http* ]] || loc=$url$loc
    if [[ $loc == *\?* ]]; then loc+="&"; else loc+="?"; fi
    curl_to "$1" -H 'Expect:' -H 'Content-Type: application/octet-stream' -T "$2" -o /dev/null "${loc}digest=$3"
}
pull_blob() { curl_to "$1" -o /dev/null "$url/v2/$3/blobs/$2"; }

# The keep-alive client for the per-request path (stdlib only).
cat >"$work/client.py" <<'EOF'
import base64, hashlib, http.client, json, os, socket, ssl, sys, threading, time, urllib.parse
from concurrent.futures import ThreadPoolExecutor

IP, PORT, HOST, CA, LOGIN = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
CTX = ssl.create_default_context(cafile=CA)
AUTH = {}
if LOGIN:
    with open(LOGIN, "rb") as f:
        AUTH = {"Authorization": "Basic " + base64.b64encode(f.read()).decode()}

class Conn(http.client.HTTPSConnection):
    def connect(self):  # to the pod's IP, TLS verified for HOST; no Nagle
        s = socket.create_connection((IP, PORT), 30)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = CTX.wrap_socket(s, server_hostname=HOST)

local = threading.local()
count = [0]
lock = threading.Lock()

def req(method, path, body=None, headers=None, auth=True, want=(200,)):
    c = getattr(local, "c", None)
    if c is None:
        c = local.c = Conn(HOST, PORT, timeout=60)
    h = dict(AUTH if auth else {})
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    with lock:
        count[0] += 1
    if r.status not in want:
        sys.exit(f"{method} {path}: {r.status} {data[:200]!r}")
    return r, data

def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

def push_blob(repo, b):
    d = digest(b)
    req("HEAD", f"/v2/{repo}/blobs/{d}", want=(404,))
    r, _ = req("POST", f"/v2/{repo}/blobs/uploads/", want=(202,))
    u = urllib.parse.urlsplit(r.getheader("Location"))
    q = (u.query + "&" if u.query else "") + "digest=" + urllib.parse.quote(d)
    req("PUT", f"{u.path}?{q}", body=b, headers={"Content-Type": "application/octet-stream"}, want=(201,))
    return {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(b), "digest": d}

def pull_blob(repo, layer):
    _, b = req("GET", f"/v2/{repo}/blobs/{layer['digest']}")
    assert digest(b) == layer["digest"]

def small(n, kb, conc, repo):
    layers = [os.urandom(kb * 1024) for _ in range(n)]
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
        "diff_ids": [digest(b) for b in layers]}}).encode()
    mt = "application/vnd.docker.distribution.manifest.v2+json"
    t0 = time.monotonic()
    req("GET", "/v2/")
    with ThreadPoolExecutor(conc) as ex:
        descs = list(ex.map(lambda b: push_blob(repo, b), layers))
    cfg = push_blob(repo, config)
    cfg["mediaType"] = "application/vnd.docker.container.image.v1+json"
    manifest = json.dumps({"schemaVersion": 2, "mediaType": mt, "config": cfg, "layers": descs}).encode()
    req("PUT", f"/v2/{repo}/manifests/latest", body=manifest, headers={"Content-Type": mt}, want=(201,))
    t1 = time.monotonic()
    pushed = count[0]
    local.c = None  # the pull opens its connections afresh, as a new client
    _, m = req("GET", f"/v2/{repo}/manifests/latest", headers={"Accept": mt})
    m = json.loads(m)
    pull_blob(repo, m["config"])
    with ThreadPoolExecutor(conc) as ex:
        list(ex.map(lambda l: pull_blob(repo, l), m["layers"]))
    t2 = time.monotonic()
    print(f"{t1 - t0:.4f} {t2 - t1:.4f} {pushed} {count[0] - pushed}")

def auth(n):
    # n in a row each way, the mean: under a CPU quota the cost of a request
    # shows as throttling of some of them, which a median would hide.
    req("GET", "/v2/")
    t0 = time.monotonic()
    for _ in range(n):
        req("GET", "/v2/")
    t1 = time.monotonic()
    for _ in range(n):
        req("GET", "/v2/", auth=False, want=(401,))
    t2 = time.monotonic()
    print(f"{(t1 - t0) * 1000 / n:.2f} {(t2 - t1) * 1000 / n:.2f}")

if sys.argv[6] == "small":
    small(int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9]), sys.argv[10])
else:
    auth(int(sys.argv[7]))
EOF
client() { ns python3 "$work/client.py" "${ip[$1]}" "$port" "$host" "$ca" "$login" "${@:2}"; }

results=$work/results
: >"$results"
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$results"; }
declare -a ip=() cg_cpu=() cg_mem=()
for i in "${!cases[@]}"; do
    c=${cases[i]}
    case $c in
        unlimited) lim=none/none ;;
        rendered) lim=$rendered_limits ;;
        */*) lim=$c ;;
        *) echo "registry-throughput.sh: case $c is not unlimited, rendered nor CPU/MEMORY" >&2; exit 1 ;;
    esac
    ip[i]=127.0.0.$((21 + i))
    make_cgroup "$i" "$(milli "${lim%/*}")" "$(bytes "${lim#*/}")"
    make_pod "$i"
    start_pod "$i"
    echo "pod $i: ${cases[i]} (limits $lim) on ${ip[i]}:$port, pid ${pod_pid[i]}" >&2
done

# --- the layers ---------------------------------------------------------
mkdir "$work/layers"
declare -a big=() big_digest=()
for k in 0 1 2 3; do
    big[k]=$work/layers/big$k
    head -c "${big_mb}M" /dev/urandom >"${big[k]}"
    big_digest[k]=sha256:$(sha256sum "${big[k]}" | cut -d' ' -f1)
done

# --- measure ------------------------------------------------------------
now() { echo "${EPOCHREALTIME/./}"; }
declare -a oom_seen=()
# After a measurement on pod $1 named $2 that started at $3 (µs) and
# succeeded ($4 = 0) or not: record its time, peaks, any OOM kill; restart
# a dead registry.
finish() {
    local i=$1 m=$2 t0=$3 failed=$4 t1 kills
    t1=$(now)
    kills=$(oom_kills "$i")
    if [ "$kills" != "${oom_seen[i]:-0}" ]; then
        record "$i" oom $((kills - ${oom_seen[i]:-0}))
        oom_seen[i]=$kills
    fi
    if kill -0 "${pod_pid[i]}" 2>/dev/null; then
        record "$i" rss_kib "$(peak_rss "$i")"
    else
        wait "${pod_pid[i]}" 2>/dev/null || true
        echo "pod ${cases[i]}: the registry died during $m; restarting it" >&2
        start_pod "$i"
        failed=1
    fi
    record "$i" cgroup_bytes "$(peak_cgroup "$i")"
    if [ "$failed" = 0 ]; then
        record "$i" "$m" $((t1 - t0))
    else
        record "$i" "$m" FAIL
    fi
}

for ((r = 1; r <= runs; r++)); do
    for i in "${!cases[@]}"; do
        echo "$(date -u +%T) run $r/$runs: ${cases[i]} (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
        reset_peaks "$i"
        t0=$(now) failed=0
        push_blob "$i" "${big[0]}" "${big_digest[0]}" "big1-$r" || failed=1
        finish "$i" push1 "$t0" "$failed"
        reset_peaks "$i"
        t0=$(now) failed=0
        pull_blob "$i" "${big_digest[0]}" "big1-$r" || failed=1
        finish "$i" pull1 "$t0" "$failed"

        reset_peaks "$i"
        t0=$(now) failed=0 children=()
        for k in 0 1 2 3; do
            push_blob "$i" "${big[k]}" "${big_digest[k]}" "big4-$r-$k" &
            children+=("$!")
        done
        for p in "${children[@]}"; do wait "$p" || failed=1; done
        children=()
        finish "$i" push4 "$t0" "$failed"
        reset_peaks "$i"
        t0=$(now) failed=0
        for k in 0 1 2 3; do
            pull_blob "$i" "${big_digest[k]}" "big4-$r-$k" &
            children+=("$!")
        done
        for p in "${children[@]}"; do wait "$p" || failed=1; done
        children=()
        finish "$i" pull4 "$t0" "$failed"

        for conc in 1 4; do
            reset_peaks "$i"
            t0=$(now) failed=0
            if out=$(client "$i" small "$small_layers" "$small_kb" "$conc" "small$conc-$r"); then
                read -r push_s pull_s push_n pull_n <<<"$out"
                record "$i" "small_push_c$conc" "$(awk -v s="$push_s" 'BEGIN {printf "%d", s * 1e6}')"
                record "$i" "small_pull_c$conc" "$(awk -v s="$pull_s" 'BEGIN {printf "%d", s * 1e6}')"
                record all small_requests "$push_n $pull_n"
            else
                failed=1
            fi
            finish "$i" "small_c$conc" "$t0" "$failed"
        done

        if [ -n "$login" ] && out=$(client "$i" auth "$auth_requests"); then
            read -r with_ms without_ms <<<"$out"
            record "$i" auth_with_us "$(awk -v s="$with_ms" 'BEGIN {printf "%d", s * 1000}')"
            record "$i" auth_without_us "$(awk -v s="$without_ms" 'BEGIN {printf "%d", s * 1000}')"
        fi
    done
done

# --- report -------------------------------------------------------------
# Median of metric $2 of pod $1 (µs, or whatever was recorded); FAIL runs
# are left out and counted.
median() {
    awk -F'\t' -v i="$1" -v m="$2" '$1 == i && $2 == m && $3 != "FAIL" {print $3}' "$results" |
        sort -n | awk '{a[NR] = $1} END {if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'
}
fails() { awk -F'\t' -v i="$1" -v m="$2" '$1 == i && $2 == m && $3 == "FAIL"' "$results" | wc -l; }
maxof() { awk -F'\t' -v i="$1" -v m="$2" '$1 == i && $2 == m && $3 > x {x = $3} END {print x + 0}' "$results"; }
sumof() { awk -F'\t' -v i="$1" -v m="$2" '$1 == i && $2 == m {x += $3} END {print x + 0}' "$results"; }
base=0
for i in "${!cases[@]}"; do [ "${cases[i]}" = unlimited ] && base=$i; done
# A cell: MiB/s (for $3 MiB) or seconds, and the time relative to the base.
cell() {
    local i=$1 m=$2 mib=$3 t b f
    t=$(median "$i" "$m")
    b=$(median "$base" "$m")
    f=$(fails "$i" "$m")
    if [ -z "$t" ]; then echo "failed ($f/$runs)"; return; fi
    if [ "$mib" -gt 0 ]; then
        awk -v t="$t" -v b="$b" -v s="$mib" -v f="$f" 'BEGIN {printf "%.0f MiB/s (%.2fx)%s", s / (t / 1e6), (b ? t / b : 0), (f ? " " f " failed" : "")}'
    else
        awk -v t="$t" -v b="$b" -v f="$f" 'BEGIN {printf "%.2f s (%.2fx)%s", t / 1e6, (b ? t / b : 0), (f ? " " f " failed" : "")}'
    fi
}
limits_of() {
    case ${cases[$1]} in
        unlimited) echo none/none ;;
        rendered) echo "$rendered_limits" ;;
        *) echo "${cases[$1]}" ;;
    esac
}
read -r push_n pull_n <<<"$(awk -F'\t' '$1 == "all" && $2 == "small_requests" {print $3; exit}' "$results")"
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); cgroup v$cgv"
echo "registry: $(docker-registry --version 2>&1 | head -1); data under ${TMPDIR:-/tmp} ($(df --output=fstype "$work" | tail -1))"
echo "runs: $runs, medians; ${big_mb} MiB blobs; $small_layers layers of $small_kb KiB ($push_n requests to push, $pull_n to pull)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| case (CPU/memory limit) | push 1x${big_mb} MiB | pull 1x | push 4x${big_mb} MiB at once | pull 4x at once |"
echo "|---|---:|---:|---:|---:|"
for i in "${!cases[@]}"; do
    echo "| ${cases[i]} ($(limits_of "$i")) | $(cell "$i" push1 "$big_mb") | $(cell "$i" pull1 "$big_mb") | $(cell "$i" push4 $((4 * big_mb))) | $(cell "$i" pull4 $((4 * big_mb))) |"
done
echo
echo "| case | push $small_layers small layers, 1 at once | pull, 1 at once | push, 4 at once | pull, 4 at once |"
echo "|---|---:|---:|---:|---:|"
for i in "${!cases[@]}"; do
    echo "| ${cases[i]} | $(cell "$i" small_push_c1 0) | $(cell "$i" small_pull_c1 0) | $(cell "$i" small_push_c4 0) | $(cell "$i" small_pull_c4 0) |"
done
echo
echo "| case | RSS idle | peak RSS | cgroup peak (RSS + page cache) | OOM kills | GET /v2/ with password | without (401) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for i in "${!cases[@]}"; do
    aw=$(median "$i" auth_with_us)
    ao=$(median "$i" auth_without_us)
    printf '| %s | %s MiB | %s MiB | %s MiB | %s | %s | %s |\n' "${cases[i]}" \
        "$(awk -v k="$(maxof "$i" idle_rss_kib)" 'BEGIN {printf "%.1f", k / 1024}')" \
        "$(awk -v k="$(maxof "$i" rss_kib)" 'BEGIN {printf "%.1f", k / 1024}')" \
        "$(awk -v b="$(maxof "$i" cgroup_bytes)" 'BEGIN {printf "%.1f", b / 1048576}')" \
        "$(sumof "$i" oom)" \
        "$([ -n "$aw" ] && awk -v u="$aw" 'BEGIN {printf "%.1f ms", u / 1000}' || echo -)" \
        "$([ -n "$ao" ] && awk -v u="$ao" 'BEGIN {printf "%.1f ms", u / 1000}' || echo -)"
done
if [ -n "${KEEP_RESULTS:-}" ]; then cp "$results" "$KEEP_RESULTS"; fi
