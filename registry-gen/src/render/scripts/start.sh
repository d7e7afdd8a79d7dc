usage() {
    cat <<USAGE
Usage: start.sh [--context NAME] [--kubeconfig FILE] [--timeout DURATION]

Applies the registry's manifests in dependency order (namespace, storage,
Secrets, workload, Service), waits until the Deployment is rolled out, and
prints the addresses clients use. Safe to run again. KUBECTL names the
kubectl binary (default: kubectl).
USAGE
}

timeout=300s
while [ $# -gt 0 ]; do
    case $1 in
        --context | --kubeconfig) [ $# -ge 2 ] || die "$1 needs a value"; kubectl_args+=("$1=$2"); shift 2 ;;
        --timeout) [ $# -ge 2 ] || die "$1 needs a value"; timeout=$2; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

for manifest in "${MANIFESTS[@]}"; do
    k apply -f "$bundle/$manifest"
done
k --namespace "$NAMESPACE" rollout status "deployment/$DEPLOYMENT" --timeout="$timeout"

echo "registry $DEPLOYMENT is up in namespace $NAMESPACE; clients reach it as:"
for endpoint in "${ENDPOINTS[@]}"; do
    echo "  $endpoint"
done
echo "next: trust the CA on clients and nodes (scripts/trust-node.sh, as root there), then scripts/verify.sh"
