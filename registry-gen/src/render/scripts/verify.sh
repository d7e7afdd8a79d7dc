usage() {
    cat <<USAGE
Usage: verify.sh [ENDPOINT...]

From a client: checks that the TLS handshake to each endpoint (default: every
node address) verifies against certs/ca.crt alone (openssl s_client), that
/v2/ answers 401 without credentials and 200 with the first user's (when auth
is on and auth/USER.password is here), and, when skopeo is installed, copies
a tiny image in and out. Exits non-zero on the first failure.
USAGE
}

case ${1:-} in
    -h | --help) usage; exit 0 ;;
esac
[ $# -gt 0 ] || set -- "${ENDPOINTS[@]}"
ca="$bundle/certs/ca.crt"
password_file="$bundle/auth/$USER_NAME.password"

for endpoint in "$@"; do
    host=${endpoint%:*}
    port=${endpoint##*:}
    [ "$host" != "$endpoint" ] || port=443
    name=${host#[}
    name=${name%]}
    if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then check=(-verify_ip "$name"); else check=(-verify_hostname "$name"); fi
    openssl s_client -connect "$host:$port" -servername "$name" -CAfile "$ca" -verify_return_error \
        "${check[@]}" </dev/null >/dev/null 2>&1 ||
        die "FAIL: the TLS handshake with $endpoint does not verify against certs/ca.crt"
    echo "ok: $endpoint presents a certificate for $name signed by certs/ca.crt"

    url="https://$endpoint/v2/"
    code=$(curl --silent --show-error --output /dev/null --write-out '%{http_code}' --cacert "$ca" "$url")
    if [ "$AUTH" = "htpasswd" ]; then
        [ "$code" = "401" ] || die "FAIL: $url answered $code without credentials, expected 401"
        echo "ok: $url asks for credentials"
        if [ -r "$password_file" ]; then
            # The password reaches curl on stdin, never on its command line.
            code=$(printf 'user = "%s:%s"\n' "$USER_NAME" "$(head -n 1 "$password_file")" |
                curl --silent --show-error --output /dev/null --write-out '%{http_code}' --cacert "$ca" --config - "$url")
            [ "$code" = "200" ] || die "FAIL: $url answered $code with $USER_NAME's credentials, expected 200"
            echo "ok: $USER_NAME can log in"
        fi
    else
        [ "$code" = "200" ] || die "FAIL: $url answered $code, expected 200"
        echo "ok: $url answers"
    fi

    if command -v skopeo >/dev/null; then
        auth_args=()
        if [ "$AUTH" = "htpasswd" ] && [ -r "$password_file" ]; then
            authfile=$(mktemp)
            trap 'rm -f "$authfile"' EXIT
            printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$endpoint" \
                "$(printf '%s:%s' "$USER_NAME" "$(head -n 1 "$password_file")" | base64 | tr -d '\n')" >"$authfile"
            auth_args=(--authfile "$authfile")
        fi
        certs="$bundle/trust/docker/certs.d/$endpoint"
        skopeo copy "${auth_args[@]}" --dest-cert-dir "$certs" \
            "docker://docker.io/library/$TEST_IMAGE" "docker://$endpoint/$TEST_IMAGE" >/dev/null
        skopeo inspect "${auth_args[@]}" --cert-dir "$certs" "docker://$endpoint/$TEST_IMAGE" >/dev/null
        echo "ok: pushed and pulled $endpoint/$TEST_IMAGE with skopeo"
    fi
done
