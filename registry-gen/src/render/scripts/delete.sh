usage() {
    cat <<USAGE
Usage: delete.sh [--context NAME] [--kubeconfig FILE] [--purge-data] [--take-over]

Deletes what start.sh created, in reverse order, skipping what is already
gone, and first the bundle's helper objects if they exist (the pull-test
Pod, the garbage-collection Job).
USAGE
    [ -z "$HOSTING_MANIFEST" ] || cat <<HOSTING
The ConfigMap $HOSTING_NAMESPACE/$HOSTING_NAME (KEP-1755: one per
cluster) is kept when another bundle owns it (or it is unmarked and names
another registry), unless --take-over.
HOSTING
    [ -z "$NAMESPACE_MANIFEST" ] || cat <<NAMESPACE
With --purge-data, the namespace $NAMESPACE is kept while it holds
workloads, pods or claims that are not this bundle's (another bundle's
registry and data), unless --take-over.
NAMESPACE
    echo "$ON_DELETE" | fold -s -w 76 | sed 's/ *$//'
    echo "KUBECTL names the kubectl binary (default: kubectl)."
}

purge=false
take_over=false
while [ $# -gt 0 ]; do
    case $1 in
        --context | --kubeconfig) [ $# -ge 2 ] || die "$1 needs a value"; kubectl_args+=("$1=$2"); shift 2 ;;
        --purge-data) purge=true; shift ;;
        --take-over) take_over=true; shift ;;
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
    if [ "$manifest" = "$NAMESPACE_MANIFEST" ] && [ "$take_over" = false ]; then
        # Shared with whatever else lives there (another bundle, an app).
        others=$(k get deployments,statefulsets,daemonsets,jobs,pods,persistentvolumeclaims \
            --namespace "$NAMESPACE" -l "$NOT_OURS" -o name)
        if [ -n "$others" ]; then
            echo "kept namespace $NAMESPACE: it holds what is not this bundle's: $(echo "$others" | tr '\n' ' ')(--take-over deletes it anyway, with them)"
            continue
        fi
    fi
    if [ "$manifest" = "$HOSTING_MANIFEST" ] && [ "$take_over" = false ]; then
        owner=$(hosting_owner)
        if [ -n "$owner" ] && [ "$owner" != "$OWNER" ]; then
            echo "kept configmap $HOSTING_NAMESPACE/$HOSTING_NAME: it is $(owner_words "$owner"), not $OWNER's (--take-over deletes it anyway)"
            continue
        fi
    fi
    k delete --ignore-not-found -f "$bundle/$manifest"
done

if [ ${#kept[@]} -gt 0 ]; then
    echo "kept, with the registry's data: ${kept[*]} (run with --purge-data to delete them)"
fi
echo "$ON_DELETE" | fold -s -w 76 | sed 's/ *$//'
