usage() {
    cat <<USAGE
Usage: delete.sh [--context NAME] [--kubeconfig FILE] [--purge-data]

Deletes what start.sh created, in reverse order, skipping what is already
gone, and first the bundle's helper objects if they exist (the pull-test
Pod, the garbage-collection Job).
USAGE
    echo "$ON_DELETE" | fold -s -w 76 | sed 's/ *$//'
    echo "KUBECTL names the kubectl binary (default: kubectl)."
}

purge=false
while [ $# -gt 0 ]; do
    case $1 in
        --context | --kubeconfig) [ $# -ge 2 ] || die "$1 needs a value"; kubectl_args+=("$1=$2"); shift 2 ;;
        --purge-data) purge=true; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

for helper in "${HELPER_MANIFESTS[@]}"; do
    k delete --ignore-not-found -f "$bundle/$helper"
done

kept=()
for ((i = ${#MANIFESTS[@]} - 1; i >= 0; i--)); do
    manifest=${MANIFESTS[i]}
    keep=false
    for data in ${DATA_MANIFESTS[@]+"${DATA_MANIFESTS[@]}"}; do
        if [ "$manifest" = "$data" ]; then keep=true; fi
    done
    if [ "$keep" = true ] && [ "$purge" = false ]; then
        kept+=("$manifest")
        continue
    fi
    k delete --ignore-not-found -f "$bundle/$manifest"
done

if [ ${#kept[@]} -gt 0 ]; then
    echo "kept, with the registry's data: ${kept[*]} (run with --purge-data to delete them)"
fi
echo "$ON_DELETE" | fold -s -w 76 | sed 's/ *$//'
