usage() {
    cat <<USAGE
Usage: start.sh [--context NAME] [--kubeconfig FILE] [--timeout DURATION] [--take-over]

Applies the registry's manifests in dependency order (namespace, storage,
Secrets, workload, Service), waits until the Deployment is rolled out, and
prints the addresses clients use. Safe to run again. KUBECTL names the
kubectl binary (default: kubectl).

After a re-render, the registry's pods are replaced only if the TLS Secret
or the HTTP secret changed (the registry reads them only when it starts;
checksum annotations on the pod template roll it). A changed password is
not a restart: the kubelet updates the mounted htpasswd file within about
a minute, and the running registry re-reads it; until then the old
password still works.
USAGE
    [ -z "$HOSTING_MANIFEST" ] || cat <<HOSTING

$HOSTING_NAMESPACE/$HOSTING_NAME (KEP-1755: where tools find the
registry) is one per cluster: start.sh refuses to replace another bundle's
or an unmarked one, and applies nothing, unless --take-over.
HOSTING
}

timeout=300s
take_over=false
while [ $# -gt 0 ]; do
    case $1 in
        --context | --kubeconfig) [ $# -ge 2 ] || die "$1 needs a value"; kubectl_args+=("$1=$2"); shift 2 ;;
        --timeout) [ $# -ge 2 ] || die "$1 needs a value"; timeout=$2; shift 2 ;;
        --take-over) take_over=true; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

if [ -n "$HOSTING_MANIFEST" ]; then
    owner=$(hosting_owner)
    if [ -n "$owner" ] && [ "$owner" != "$OWNER" ]; then
        if [ "$take_over" = false ]; then
            die "configmap $HOSTING_NAMESPACE/$HOSTING_NAME (KEP-1755: one per cluster) is $(owner_words "$owner"); nothing was applied. Run again with --take-over to point it at this registry ($OWNER) instead"
        fi
        echo "taking over configmap $HOSTING_NAMESPACE/$HOSTING_NAME, $(owner_words "$owner"), for $OWNER (--take-over)"
    fi
fi

htpasswd_changed=
for manifest in "${MANIFESTS[@]}"; do
    applied=$(k apply -f "$bundle/$manifest")
    [ -z "$applied" ] || echo "$applied"
    if [ "$manifest" = "$HTPASSWD_MANIFEST" ] && [[ $applied == *" configured" ]]; then
        htpasswd_changed=1
    fi
done
