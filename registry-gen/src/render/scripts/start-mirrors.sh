for mirror in "${MIRROR_DEPLOYMENTS[@]}"; do
    k --namespace "$NAMESPACE" rollout status "deployment/$mirror" --timeout="$timeout"
done
# Always empty here: a mirror-only bundle has no htpasswd Secret.
[ -z "$htpasswd_changed" ] || die "a mirror-only bundle has no htpasswd"

echo "mirrors ${MIRROR_DEPLOYMENTS[*]} are up in namespace $NAMESPACE (a mirror-only bundle: no private registry); nodes pull through them by:"
for endpoint in "${ENDPOINTS[@]}"; do
    echo "  $endpoint"
done
echo "next: on each node, as root, scripts/trust-node.sh (it routes the upstreams' pulls through the mirrors), then scripts/verify.sh --mirror UPSTREAM IMAGE"
