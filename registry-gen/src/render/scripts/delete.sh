set -eu

# Removes the registry's workload, Service and Secrets. The images stay:
# the PersistentVolumeClaim and PersistentVolume (reclaim policy Retain) are
# deleted only with --delete-data.
kubectl --namespace "$NAMESPACE" delete deployment,service "$DEPLOYMENT" --ignore-not-found
# shellcheck disable=SC2086 # SECRETS is a list of names
kubectl --namespace "$NAMESPACE" delete secret $SECRETS --ignore-not-found

if [ "${1:-}" = "--delete-data" ]; then
    if [ -n "$PVC" ]; then
        kubectl --namespace "$NAMESPACE" delete persistentvolumeclaim "$PVC" --ignore-not-found
    fi
    if [ -n "$PV" ]; then
        kubectl delete persistentvolume "$PV" --ignore-not-found
    fi
elif [ -n "$PVC" ]; then
    echo "kept the data: persistentvolumeclaim/$PVC${PV:+ and persistentvolume/$PV} (run with --delete-data to remove them)"
fi
