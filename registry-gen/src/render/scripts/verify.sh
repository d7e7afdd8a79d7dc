usage() {
    cat <<USAGE
Usage: verify.sh [--password-stdin] [ENDPOINT...]
       verify.sh --mirror UPSTREAM IMAGE

From a client: checks that the TLS handshake to each endpoint (default: every
node address) verifies against certs/ca.crt alone (openssl s_client), that
/v2/ answers 401 without credentials and 200 with the first user's (when auth
is on), and, when skopeo is installed, pushes a tiny image it builds itself
(no other registry is contacted) as $TEST_IMAGE, pulls it back and compares
digests. Exits non-zero on the first failure.

The password of $USER_NAME is read from auth/$USER_NAME.password when
registry-gen generated it, or from the first line of standard input with
--password-stdin; without either, login and push are skipped.

--mirror UPSTREAM IMAGE pulls UPSTREAM/IMAGE (e.g. docker.io library/busybox:1.36)
through this bundle's mirror of UPSTREAM with skopeo, and prints the digest
and the mirror that served it. Mirrors: ${MIRRORS[*]:-none}.
USAGE
}

ca="$bundle/certs/ca.crt"
password_file="$bundle/auth/$USER_NAME.password"
password=""
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --password-stdin) IFS= read -r password || [ -n "$password" ] || die "no password on standard input"; shift ;;
        --mirror)
            [ $# -eq 3 ] || die "--mirror takes UPSTREAM and IMAGE (see --help)"
            upstream=$2 image=$3 mirror=""
            for m in ${MIRRORS[@]+"${MIRRORS[@]}"}; do
                [ "${m%%=*}" = "$upstream" ] && mirror=${m#*=}
            done
            [ -n "$mirror" ] || die "no mirror of $upstream in this bundle (mirrors: ${MIRRORS[*]:-none})"
            command -v skopeo >/dev/null || die "--mirror needs skopeo"
            # Docker Hub's official images live under library/.
            if [ "$upstream" = docker.io ] && [[ $image != */* ]]; then image=library/$image; fi
            digest=$(skopeo inspect --no-tags --cert-dir "$bundle/trust/docker/certs.d/$mirror" \
                --format '{{.Digest}}' "docker://$mirror/$image") ||
                die "FAIL: the mirror $mirror did not serve $upstream/$image"
            echo "ok: $upstream/$image is $digest, served by the mirror $mirror (TLS verified against certs/ca.crt)"
            exit 0
            ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) break ;;
    esac
done
if [ -z "$password" ] && [ -r "$password_file" ]; then
    password=$(head -n 1 "$password_file")
fi
[ $# -gt 0 ] || set -- "${ENDPOINTS[@]}"
# curl's config file syntax: backslash and double quote escaped.
curl_password=${password//\\/\\\\}
curl_password=${curl_password//\"/\\\"}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# sha256 of a file, in hex (openssl: on Linux and macOS alike).
sha256() {
    openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1
}

# Add a file to the OCI layout's blobs; prints its `"digest","size"` JSON.
blob() {
    local digest
    digest=$(sha256 "$1")
    cp "$1" "$work/image/blobs/sha256/$digest"
    printf '"digest":"sha256:%s","size":%s' "$digest" "$(wc -c <"$1" | tr -d ' ')"
}

# A tiny image built here, so that the check needs no other registry: one
# gzipped layer holding one text file, as an OCI layout in $work/image.
make_test_image() {
    mkdir -p "$work/image/blobs/sha256" "$work/layer"
    printf '{"imageLayoutVersion":"1.0.0"}\n' >"$work/image/oci-layout"
    echo "pushed by registry-gen's verify.sh" >"$work/layer/registry-gen-verify.txt"
    tar -C "$work/layer" -cf - registry-gen-verify.txt | gzip -n >"$work/layer.tar.gz"
    local layer diff_id config manifest
    layer=$(blob "$work/layer.tar.gz")
    gzip -dc "$work/layer.tar.gz" >"$work/layer.tar"
    diff_id=$(sha256 "$work/layer.tar")
    printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "$diff_id" >"$work/config.json"
    config=$(blob "$work/config.json")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json",%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",%s}]}' \
        "$config" "$layer" >"$work/manifest.json"
    manifest=$(blob "$work/manifest.json")
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}\n' \
        "$manifest" >"$work/image/index.json"
}
if command -v skopeo >/dev/null; then make_test_image; fi

for endpoint in "$@"; do
    # host[:port], the host an IPv6 address in brackets; no port means 443.
    case $endpoint in
        \[*\]) host=$endpoint port=443 ;;
        \[*\]:*) host=${endpoint%:*} port=${endpoint##*:} ;;
        *:*) host=${endpoint%:*} port=${endpoint##*:} ;;
        *) host=$endpoint port=443 ;;
    esac
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
        if [ -n "$password" ]; then
            # The password reaches curl on stdin, never on its command line.
            code=$(printf 'user = "%s:%s"\n' "$USER_NAME" "$curl_password" |
                curl --silent --show-error --output /dev/null --write-out '%{http_code}' --cacert "$ca" --config - "$url")
            [ "$code" = "200" ] || die "FAIL: $url answered $code with $USER_NAME's credentials, expected 200"
            echo "ok: $USER_NAME can log in"
        else
            echo "skip: login and push need $USER_NAME's password (--password-stdin)"
            continue
        fi
    else
        [ "$code" = "200" ] || die "FAIL: $url answered $code, expected 200"
        echo "ok: $url answers"
    fi

    if command -v skopeo >/dev/null; then
        auth_args=()
        if [ "$AUTH" = "htpasswd" ]; then
            auth_args=(--authfile "$work/auth.json")
            printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$endpoint" \
                "$(printf '%s:%s' "$USER_NAME" "$password" | base64 | tr -d '\n')" >"$work/auth.json"
        fi
        certs="$bundle/trust/docker/certs.d/$endpoint"
        ref="docker://$endpoint/$TEST_IMAGE"
        rm -f "$work/digest"
        if ! skopeo copy --quiet ${auth_args[@]+"${auth_args[@]}"} --dest-cert-dir "$certs" --digestfile "$work/digest" \
            "oci:$work/image:latest" "$ref" >/dev/null 2>"$work/error"; then
            if [[ $endpoint == \[* ]] && grep -q 'invalid reference format' "$work/error"; then
                # Older skopeo and Docker releases cannot parse IPv6 image
                # references; containerd (the kubelet's runtime) can.
                echo "skip: this skopeo does not accept IPv6 addresses in image references ($endpoint); containerd does"
                continue
            fi
            cat "$work/error" >&2
            die "FAIL: skopeo could not push $ref"
        fi
        pushed=$(cat "$work/digest")
        rm -rf "$work/pulled"
        skopeo copy --quiet ${auth_args[@]+"${auth_args[@]}"} --src-cert-dir "$certs" \
            "$ref" "oci:$work/pulled:latest" >/dev/null ||
            die "FAIL: skopeo could not pull $ref"
        served=$(skopeo inspect ${auth_args[@]+"${auth_args[@]}"} --cert-dir "$certs" --format '{{.Digest}}' "$ref")
        [ "$served" = "$pushed" ] || die "FAIL: $ref is $served after pushing $pushed"
        echo "ok: pushed and pulled $endpoint/$TEST_IMAGE ($pushed) with skopeo"
    fi
done
