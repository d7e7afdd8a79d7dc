usage() {
    cat <<USAGE
Usage: trust-node.sh [--docker] [--containerd] [--crio] [--k3s] [--restart] [--take-over] [--root DIR]

Run as root on a node or client. Installs this bundle's trust files for the
runtimes named (default: each one found on this machine):
  --docker      $DOCKER_DIR/<endpoint>/ca.crt, and a Docker Hub mirror merged
                into $DOCKER_DAEMON_JSON's registry-mirrors (other keys kept)
  --containerd  $CONTAINERD_DIR/<endpoint>/{hosts.toml,ca.crt}, then checks that
                containerd's config_path points there and prints the line to
                add if not (config.toml is never edited)
  --crio        $CONTAINERS_DIR/<endpoint>/ca.crt and $CONTAINERS_CONF_DIR/
  --k3s         $K3S_REGISTRIES and $K3S_CA
--restart restarts the services that read their files only at start (CRI-O,
k3s or k3s-agent) and reloads Docker after a daemon.json change (systemctl);
without it, the command to run is printed. containerd, Docker and podman read them on each pull.
--root DIR installs under DIR (for a test or an image build). Safe to run
again.
Files other bundles may write too (a port-less alias's or an upstream's
$CONTAINERD_DIR/<host>/, the CRI-O drop-ins, $K3S_REGISTRIES) name their
owner ($OWNER_KEY): another owner's copy, or an unmarked one that is not
this bundle's, is left as it is (the rest is installed, the exit status
is 1) unless --take-over.
USAGE
}

root=""
restart=false
take_over=false
refused=""
failed=""
wanted=()
while [ $# -gt 0 ]; do
    case $1 in
        --docker | --containerd | --crio | --k3s) wanted+=("${1#--}"); shift ;;
        --restart) restart=true; shift ;;
        --take-over) take_over=true; shift ;;
        --root) [ $# -ge 2 ] || die "$1 needs a value"; root=${2%/}; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
if [ ${#wanted[@]} -eq 0 ]; then
    if command -v dockerd >/dev/null; then wanted+=(docker); fi
    if command -v containerd >/dev/null; then wanted+=(containerd); fi
    if command -v crio >/dev/null || command -v podman >/dev/null; then wanted+=(crio); fi
    if command -v k3s >/dev/null; then wanted+=(k3s); fi
    [ ${#wanted[@]} -gt 0 ] || die "found none of dockerd, containerd, crio, podman, k3s: name one (--docker, --containerd, --crio, --k3s)"
fi

# Merge the registry-mirrors of the JSON file $1 into Docker's daemon.json $2:
# a missing file is created; in an existing one every other key and every
# other mirror is kept (python3, else jq; without either, nothing is
# changed and the entry to add is printed).
docker_reload=false
merge_daemon_json() {
    local ours=$1 target=$2 merged
    if [ ! -e "$target" ]; then
        install -D -m 0644 "$ours" "$target"
        echo "docker: wrote $target with registry-mirrors"
        docker_reload=true
        return
    fi
    merged="$target.registry-gen-new"
    # A daemon.json that is not a JSON object is left as it is, with one
    # line naming it and the error: the other runtimes are still installed.
    if command -v python3 >/dev/null; then
        if ! why=$(python3 - "$ours" "$target" 2>&1 >"$merged" <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))["registry-mirrors"]
try:
    with open(sys.argv[2]) as f:
        conf = json.load(f)
except (OSError, ValueError) as e:
    sys.exit(str(e))
if not isinstance(conf, dict) or not isinstance(conf.get("registry-mirrors", []), list):
    sys.exit("not a JSON object with a registry-mirrors list")
conf["registry-mirrors"] = ours + [m for m in conf.get("registry-mirrors", []) if m not in ours]
print(json.dumps(conf, indent=2))
PY
        ); then
            rm -f "$merged"
            failed+="docker: $target is left as it is, registry-mirrors not merged: ${why//$'\n'/ }"$'\n'
            return
        fi
    elif command -v jq >/dev/null; then
        if ! why=$(jq --slurpfile ours "$ours" \
            '.["registry-mirrors"] = ($ours[0]["registry-mirrors"] + ((.["registry-mirrors"] // []) - $ours[0]["registry-mirrors"]))' \
            "$target" 2>&1 >"$merged"); then
            rm -f "$merged"
            failed+="docker: $target is left as it is, registry-mirrors not merged: ${why//$'\n'/ }"$'\n'
            return
        fi
    else
        rm -f "$merged"
        echo "docker: neither python3 nor jq is here to merge $target; add to it by hand:"
        cat "$ours"
        return
    fi
    if cmp -s "$merged" "$target"; then
        rm -f "$merged"
        echo "docker: $target already has the registry-mirrors"
    else
        chmod "$(stat -c %a "$target")" "$merged"
        mv -f "$merged" "$target"
        echo "docker: merged registry-mirrors into $target (other settings kept)"
        docker_reload=true
    fi
}

# The first [[registry]] prefix of this bundle's drop-in $1 that another
# owner's drop-in in the directory $2 routes too, in words; false if none.
prefix_taken() {
    local line theirs owner
    while IFS= read -r line; do
        for theirs in "$2"/*.conf; do
            if [ ! -f "$theirs" ] || [ "${theirs##*/}" = "${1##*/}" ]; then continue; fi
            owner=$(owner_of "$theirs")
            if [ "$owner" = "$(owner_of "$1")" ]; then continue; fi
            if grep -qxF "$line" "$theirs"; then
                if [ -n "$owner" ]; then owner="owned by $owner"; else owner="not marked $OWNER_KEY"; fi
                echo "its $line is routed by $theirs too ($owner), and the file read last wins"
                return 0
            fi
        done
    done < <(grep '^prefix = ' "$1")
    return 1
}

services=()
for runtime in "${wanted[@]}"; do
    changed=false
    case $runtime in
        docker)
            install_tree "$bundle/trust/docker/certs.d" "$root$DOCKER_DIR"
            echo "docker: installed the CA in $root$DOCKER_DIR for ${ENDPOINTS[*]}"
            if [ -f "$bundle/trust/docker/daemon.json" ]; then
                merge_daemon_json "$bundle/trust/docker/daemon.json" "$root$DOCKER_DAEMON_JSON"
            fi
            ;;
        containerd)
            install_tree "$bundle/trust/containerd/certs.d" "$root$CONTAINERD_DIR"
            echo "containerd: installed hosts.toml and ca.crt in $root$CONTAINERD_DIR"
            # containerd's effective config (defaults included: 2.x reads
            # /etc/containerd/certs.d by default), else config.toml itself.
            config="$root/etc/containerd/config.toml"
            effective=""
            if [ -z "$root" ] && command -v containerd >/dev/null; then
                effective=$(containerd config dump 2>/dev/null) || effective=""
            fi
            [ -n "$effective" ] || effective=$(cat "$config" 2>/dev/null) || effective=""
            if printf '%s\n' "$effective" | grep -Eq "^[[:space:]]*config_path[[:space:]]*=[[:space:]]*\"([^\"]*:)?$CONTAINERD_DIR/?(:[^\"]*)?\""; then
                echo "containerd: its config_path includes $CONTAINERD_DIR"
                # containerd reads hosts.toml on each pull: no restart needed.
            else
                echo "containerd: $config does not set config_path = \"$CONTAINERD_DIR\"; add, for containerd 1.x:"
                echo "  [plugins.\"io.containerd.grpc.v1.cri\".registry]"
                echo "    config_path = \"$CONTAINERD_DIR\""
                echo "or for containerd 2.x:"
                echo "  [plugins.\"io.containerd.cri.v1.images\".registry]"
                echo "    config_path = \"$CONTAINERD_DIR\""
                echo "then restart containerd (see $bundle/trust/containerd/README.md)"
            fi
            ;;
        crio)
            install_tree "$bundle/trust/containers/certs.d" "$root$CONTAINERS_DIR"
            # A drop-in that routes a prefix another bundle's drop-in routes
            # too is not installed: containers/image lets the file it reads
            # last win, silently.
            conf_stage=$(mktemp -d)
            if [ -d "$bundle/trust/containers/registries.conf.d" ]; then
                cp -Rp "$bundle/trust/containers/registries.conf.d/." "$conf_stage/"
            fi
            for ours in "$conf_stage"/*.conf; do
                [ -e "$ours" ] || continue
                if taken=$(prefix_taken "$ours" "$root$CONTAINERS_CONF_DIR"); then
                    if [ "$take_over" = true ]; then
                        echo "crio/podman: taking over ${ours##*/}: $taken (--take-over)" >&2
                    else
                        refused+="$root$CONTAINERS_CONF_DIR/${ours##*/}: not installed, $taken"$'\n'
                        rm -f "$ours"
                    fi
                fi
            done
            install_tree "$conf_stage" "$root$CONTAINERS_CONF_DIR"
            rm -rf "$conf_stage"
            echo "crio/podman: installed the CA in $root$CONTAINERS_DIR"
            # podman reads these on every run; CRI-O at start.
            if command -v crio >/dev/null && [ "$changed" = true ]; then services+=(crio); fi
            ;;
        k3s)
            target="$root$K3S_REGISTRIES"
            if ! why=$(claim "$bundle/trust/k3s/registries.yaml" "$target"); then
                refused+="$target: $why"$'\n'
                continue
            fi
            if [ -e "$target" ] && ! cmp -s "$bundle/trust/k3s/registries.yaml" "$target"; then
                # Another registry's settings may be in it: keep them aside.
                backup="$target.$(date -u +%Y%m%dT%H%M%SZ).bak"
                cp -p "$target" "$backup"
                echo "k3s: kept the earlier $target as $backup; merge other registries' entries back by hand"
            fi
            cmp -s "$bundle/trust/k3s/registries.yaml" "$target" || changed=true
            cmp -s "$bundle/trust/ca.crt" "$root$K3S_CA" || changed=true
            install -D -m 0600 "$bundle/trust/k3s/registries.yaml" "$target"
            install -D -m 0644 "$bundle/trust/ca.crt" "$root$K3S_CA"
            echo "k3s: installed $root$K3S_REGISTRIES and $root$K3S_CA"
            # A server runs k3s, an agent k3s-agent; both read the file at start.
            if [ "$changed" = true ]; then
                if systemctl is-active --quiet k3s-agent 2>/dev/null; then services+=(k3s-agent); else services+=(k3s); fi
            fi
            ;;
    esac
done

if [ "$docker_reload" = true ]; then
    # Docker re-reads registry-mirrors on SIGHUP (systemctl reload): no restart.
    if [ "$restart" = true ]; then
        systemctl reload docker
        echo "reloaded docker"
    else
        echo "to apply: systemctl reload docker"
    fi
fi
for service in ${services[@]+"${services[@]}"}; do
    if [ "$restart" = true ]; then
        systemctl restart "$service"
        echo "restarted $service"
    else
        echo "to apply: systemctl restart $service"
    fi
done
status=0
if [ -n "$refused" ]; then
    printf '%s' "$refused" | while IFS= read -r line; do
        echo "$(basename "$0"): left as it is: $line; --take-over replaces it" >&2
    done
    status=1
fi
if [ -n "$failed" ]; then
    printf '%s' "$failed" | while IFS= read -r line; do
        echo "$(basename "$0"): $line" >&2
    done
    status=1
fi
[ "$status" -eq 0 ] || exit "$status"
