set -euo pipefail

bundle=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KUBECTL=${KUBECTL:-kubectl}
kubectl_args=()

die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

# kubectl with the --context/--kubeconfig given to this script.
k() {
    "$KUBECTL" ${kubectl_args[@]+"${kubectl_args[@]}"} "$@"
}
