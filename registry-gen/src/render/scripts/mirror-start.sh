# "$@" is the registry: `registry serve` and the image's own config file.
#
# In proxy mode the registry asks the upstream for /v2/ while it starts and
# panics when no answer comes (no route, no name, no TLS session:
# distribution#4038), so a mirror restarted while its upstream is
# unreachable would crash-loop and serve nothing. Instead:
#
# - the upstream answers (any HTTP status, 401 included): the registry
#   replaces this shell in proxy mode, as without this script;
# - it does not: the registry runs on the same storage without the proxy
#   and read-only (it serves what it cached, refuses pushes), and this
#   shell asks the upstream again every RETRY_SECONDS; once it answers,
#   the cache-only registry is stopped (SIGTERM) and the registry replaces
#   this shell in proxy mode, in the same container: no restart, no
#   kubelet back-off.
#
# POSIX sh with busybox applets (wget, timeout, sleep), as the registry's
# Alpine image has them. The certificate is not checked here: the registry
# checks it (with SSL_CERT_FILE when the mirror has an upstream CA).

answers() {
    timeout "$PROBE_TIMEOUT_SECONDS" wget -S -O /dev/null --no-check-certificate "$PROBE_URL" 2>&1 |
        grep -q 'HTTP/[0-9.]* [0-9][0-9][0-9]'
}

if answers; then
    echo "registry-gen: $PROBE_URL answers: starting the mirror in proxy mode"
    exec "$@"
fi

echo "registry-gen: $PROBE_URL does not answer: serving the cache read-only (no proxy, pushes refused); asking again every ${RETRY_SECONDS}s" >&2
(
    for var in $PROXY_VARS; do
        unset "$var"
    done
    export "$READONLY_ENV=$READONLY_VALUE"
    exec "$@"
) &
cache=$!
sleeper=

# The kubelet stops the container with SIGTERM to this shell: pass it on.
trap 'kill -TERM "$cache" ${sleeper:+"$sleeper"} 2>/dev/null; wait "$cache"; exit $?' TERM INT

while :; do
    sleep "$RETRY_SECONDS" &
    sleeper=$!
    # (wait, unlike a foreground sleep, lets the trap run at once.)
    wait "$sleeper"
    sleeper=
    if ! kill -0 "$cache" 2>/dev/null; then
        wait "$cache"
        status=$?
        echo "registry-gen: the cache-only registry exited (status $status)" >&2
        [ "$status" -ne 0 ] || status=1
        exit "$status"
    fi
    if answers; then
        echo "registry-gen: $PROBE_URL answers: stopping the cache-only registry, starting the mirror in proxy mode"
        kill -TERM "$cache"
        wait "$cache"
        exec "$@"
    fi
done
