set -eu
bundle=$(cd "$(dirname "$0")/.." && pwd)

# Everything the registry needs, Secrets included; re-running is safe.
kubectl apply -k "$bundle/manifests"
kubectl --namespace "$NAMESPACE" rollout status "deployment/$DEPLOYMENT" --timeout=300s

echo "registry is up: https://$ENDPOINT/v2/"
echo "check it with: $bundle/scripts/verify.sh"
