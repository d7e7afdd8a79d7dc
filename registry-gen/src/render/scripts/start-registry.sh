k --namespace "$NAMESPACE" rollout status "deployment/$DEPLOYMENT" --timeout="$timeout"
for mirror in ${MIRROR_DEPLOYMENTS[@]+"${MIRROR_DEPLOYMENTS[@]}"}; do
    k --namespace "$NAMESPACE" rollout status "deployment/$mirror" --timeout="$timeout"
done

if [ -n "$htpasswd_changed" ]; then
    echo "passwords changed: the running registry takes them without a restart once the kubelet has updated its mounted htpasswd file, within about a minute; until then the old ones still work"
fi

echo "registry $DEPLOYMENT is up in namespace $NAMESPACE; clients reach it as:"
for endpoint in "${ENDPOINTS[@]}"; do
    echo "  $endpoint"
done
echo "next: trust the CA on clients and nodes (scripts/trust-node.sh, as root there), then scripts/verify.sh"
