usage() {
    cat <<USAGE
Usage: gc.sh [--context NAME] [--kubeconfig FILE] [--timeout SECONDS] [--dry-run] [--delete-untagged]

Frees the disk space of deleted images: runs \`registry garbage-collect\`
in a Job while the registry cannot write (the distribution docs require
that: a push during the collection can lose blobs), then makes it writable
again with fresh pods. The Job: $JOB_MANIFEST. Delete images first
(the registry's API or \`skopeo delete\`): see the bundle's README.

  --dry-run          list what would be deleted, delete nothing (the same
                     steps: the listing is only right on a quiet registry)
  --delete-untagged  also delete manifests no tag points at (what a
                     deleted or overwritten tag leaves behind), and their
                     blobs
  --timeout SECONDS  for each wait: rollout, pods, the Job (default 600)

On any failure or interrupt it makes the registry writable again and exits
non-zero; running it again finishes the job. KUBECTL names the kubectl
binary (default: kubectl).

USAGE
    echo "$STEPS" | fold -s -w 76 | sed 's/ *$//'
}

timeout=600
gc_flags=()
while [ $# -gt 0 ]; do
    case $1 in
        --context | --kubeconfig) [ $# -ge 2 ] || die "$1 needs a value"; kubectl_args+=("$1=$2"); shift 2 ;;
        --timeout) [ $# -ge 2 ] || die "$1 needs a value"; timeout=$2; shift 2 ;;
        --dry-run) gc_flags+=(--dry-run); shift ;;
        --delete-untagged) gc_flags+=(--delete-untagged); shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
case $timeout in
    '' | *[!0-9]*) die "--timeout takes a number of seconds, not $timeout" ;;
esac

# Refuse before touching anything.
[ -z "$REFUSAL" ] || die "$REFUSAL"

kn() {
    k --namespace "$NAMESPACE" "$@"
}

# Poll "$@" every 2 s until it succeeds, for at most $timeout seconds.
wait_until() {
    local what=$1 deadline=$((SECONDS + timeout))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${timeout}s waiting for $what"
        sleep 2
    done
}

# Every pod of the registry runs with the read-only variable set.
all_pods_read_only() {
    local pods
    pods=$(kn get pods --selector "$SELECTOR" -o "jsonpath={range .items[*]}{.metadata.name}={.spec.containers[?(@.name==\"$CONTAINER\")].env[?(@.name==\"$READONLY_ENV\")].value}{\"\\n\"}{end}") || return 1
    ! grep -q '=$' <<<"$pods"
}

# No pod of the registry is left (terminating ones included).
no_pods() {
    local pods
    pods=$(kn get pods --selector "$SELECTOR" -o name) || return 1
    [ -z "$pods" ]
}

# The Job's state: succeeded, failed, or empty while it runs.
job_done() {
    local counts
    counts=$(kn get "job/$JOB" -o 'jsonpath={.status.succeeded}/{.status.failed}') || return 1
    case $counts in
        [1-9]*/*) job_state=succeeded ;;
        */[1-9]*) job_state=failed ;;
        *) return 1 ;;
    esac
}

# Delete the Job and wait until its pod is gone (a collection must never
# run beside a writable registry).
delete_job() {
    kn delete "job/$JOB" --ignore-not-found --cascade=foreground --wait=true --timeout="${timeout}s" >/dev/null
}

quiet=false    # the registry may be read-only or stopped
job_made=false # a Job of this run may exist
job_state=
# With a Redis cache: a Job of this run may have deleted blobs whose
# descriptors Redis still holds (until its log says it flushed them).
cache_stale=false

make_writable() {
    case $QUIESCE in
        read-only) kn set env "deployment/$DEPLOYMENT" --containers="$CONTAINER" "$READONLY_ENV-" >/dev/null ;;
        scale-to-zero) kn scale "deployment/$DEPLOYMENT" --replicas="$REPLICAS" >/dev/null ;;
    esac
    kn rollout status "deployment/$DEPLOYMENT" --timeout="${timeout}s" >/dev/null
}

finish() {
    local status=$?
    trap - EXIT INT TERM
    if [ "$job_made" = true ] && [ "$job_state" != succeeded ]; then
        if ! delete_job; then
            echo "gc.sh: could not confirm that Job $JOB is gone; the registry stays read-only or stopped so that no push races a collection. Delete the Job (kubectl --namespace $NAMESPACE delete job/$JOB), then run gc.sh again." >&2
            exit 1
        fi
    fi
    if [ "$quiet" = true ] && [ "$cache_stale" = true ]; then
        echo "gc.sh: the Job's log does not say that the blob descriptor cache ($CACHE) was flushed, and the collection may have deleted blobs: a stale descriptor makes the registry skip the upload of such a blob when the same image is pushed again, and that image then fails to pull. The registry stays read-only or stopped. Make sure Redis answers (its address, the password in the Secret), then run gc.sh again: it collects again (nothing more to delete) and flushes. Making it writable without the flush risks exactly that: $(restore_hint)" >&2
        exit 1
    fi
    if [ "$quiet" = true ]; then
        if make_writable; then
            echo "the registry $DEPLOYMENT is writable again, on fresh pods"
        else
            echo "gc.sh: could not make the registry writable again; run gc.sh again, or by hand: $(restore_hint)" >&2
            exit 1
        fi
    fi
    [ "$status" -eq 0 ] || echo "gc.sh: failed (exit $status); the registry is writable; running gc.sh again finishes the job" >&2
    exit "$status"
}

restore_hint() {
    case $QUIESCE in
        read-only) echo "kubectl --namespace $NAMESPACE set env deployment/$DEPLOYMENT --containers=$CONTAINER $READONLY_ENV-" ;;
        scale-to-zero) echo "kubectl --namespace $NAMESPACE scale deployment/$DEPLOYMENT --replicas=$REPLICAS" ;;
    esac
}

trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

kn get "deployment/$DEPLOYMENT" -o name >/dev/null ||
    die "no deployment/$DEPLOYMENT in namespace $NAMESPACE: deploy it first (scripts/start.sh)"

# A Job left by an interrupted run goes first (with its pod).
delete_job

quiet=true
case $QUIESCE in
    read-only)
        echo "$BEFORE"
        kn set env "deployment/$DEPLOYMENT" --containers="$CONTAINER" "$READONLY_ENV=$READONLY_VALUE" >/dev/null
        kn rollout status "deployment/$DEPLOYMENT" --timeout="${timeout}s" >/dev/null
        wait_until "every registry pod to run read-only" all_pods_read_only
        ;;
    scale-to-zero)
        echo "$BEFORE"
        kn scale "deployment/$DEPLOYMENT" --replicas=0 >/dev/null
        wait_until "the registry's pods to be gone" no_pods
        ;;
    *) die "unknown QUIESCE $QUIESCE" ;;
esac

dry_run=false
if [ ${#gc_flags[@]} -gt 0 ] && [[ " ${gc_flags[*]} " == *" --dry-run "* ]]; then
    dry_run=true
fi
echo "running registry garbage-collect${gc_flags[*]+ ${gc_flags[*]}} in Job $JOB"
if [ -n "$CACHE" ]; then
    if [ "$dry_run" = true ]; then
        echo "then counting the blob descriptors in the shared cache ($CACHE) it would flush"
    else
        echo "then flushing the blob descriptors from the shared cache ($CACHE)"
    fi
fi
job_made=true
if [ ${#gc_flags[@]} -gt 0 ]; then
    patch='['
    for flag in "${gc_flags[@]}"; do
        patch+="{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/command/-\",\"value\":\"$flag\"},"
    done
    patch="${patch%,}]"
    # A client-side edit of the manifest: no cluster, so no --context.
    "$KUBECTL" patch --local -f "$bundle/$JOB_MANIFEST" --type=json -p "$patch" -o yaml | kn create -f - >/dev/null
else
    kn create -f "$bundle/$JOB_MANIFEST" >/dev/null
fi
if [ -n "$CACHE" ] && [ "$dry_run" = false ]; then
    cache_stale=true
fi
wait_until "Job $JOB to finish" job_done
log=$(kn logs "job/$JOB") || log=
[ -z "$log" ] || printf '%s\n' "$log"
if [ "$cache_stale" = true ] && grep -q "^$FLUSHED" <<<"$log"; then
    cache_stale=false
fi
[ "$job_state" = succeeded ] || die "Job $JOB failed (its log is above)"
if [ "$dry_run" = true ]; then
    echo "dry run: nothing was deleted${CACHE:+ or flushed}"
fi
# finish (on EXIT) makes the registry writable again, with fresh pods.
