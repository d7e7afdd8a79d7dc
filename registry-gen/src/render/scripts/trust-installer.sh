set -eu

root=${TRUST_ROOT:-$HOST_ROOT}

# Write stdin to the file $1 (unpack's helper).
write() {
    mkdir -p "$(dirname "$1")"
    cat > "$1"
}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
unpack "$stage"
changed=false
take_over=false
refused=""
install_tree "$stage/$CONTAINERD_TREE" "$root$CONTAINERD_DIR"
install_tree "$stage/$DOCKER_TREE" "$root$DOCKER_DIR"
rm -rf "$stage"
if [ "$changed" = true ]; then
    echo "installed the trust files for $NAME in $CONTAINERD_DIR and $DOCKER_DIR"
else
    echo "the trust files for $NAME in $CONTAINERD_DIR and $DOCKER_DIR were installed already"
fi
if [ -n "$refused" ]; then
    printf '%s' "$refused" | while IFS= read -r line; do
        echo "left as it is: $line; scripts/trust-node.sh --take-over on this node replaces it" >&2
    done
    exit 1
fi
[ "${1:-}" = --once ] || while true; do sleep 3600; done
