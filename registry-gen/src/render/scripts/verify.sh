set -eu
bundle=$(cd "$(dirname "$0")/.." && pwd)
endpoint=${1:-$ENDPOINT}
url="https://$endpoint/v2/"

# TLS must verify against the bundle's CA alone: no -k anywhere.
code=$(curl --silent --show-error --output /dev/null --write-out '%{http_code}' \
    --cacert "$bundle/certs/ca.crt" "$url")
if [ "$AUTH" = "htpasswd" ]; then
    [ "$code" = "401" ] || { echo "FAIL: $url answered $code without credentials, expected 401" >&2; exit 1; }
    echo "ok: $url verifies against certs/ca.crt and asks for credentials"
    password_file="$bundle/auth/$USER_NAME.password"
    if [ -r "$password_file" ]; then
        # The password goes to curl on stdin, never on its command line.
        code=$(printf 'user = "%s:%s"\n' "$USER_NAME" "$(head -n 1 "$password_file")" |
            curl --silent --show-error --output /dev/null --write-out '%{http_code}' \
                --cacert "$bundle/certs/ca.crt" --config - "$url")
        [ "$code" = "200" ] || { echo "FAIL: $url answered $code with $USER_NAME's credentials, expected 200" >&2; exit 1; }
        echo "ok: $USER_NAME can log in"
    fi
else
    [ "$code" = "200" ] || { echo "FAIL: $url answered $code, expected 200" >&2; exit 1; }
    echo "ok: $url verifies against certs/ca.crt"
fi
