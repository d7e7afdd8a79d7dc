# A mirror-only bundle: no private registry to check, only its mirrors.
case ${1:-} in
    --mirror) ;;
    -h | --help)
        cat <<USAGE
Usage: verify.sh --mirror UPSTREAM IMAGE

This is a mirror-only bundle (no private registry). --mirror UPSTREAM IMAGE
pulls UPSTREAM/IMAGE (e.g. docker.io library/busybox:1.36) through this
bundle's mirror of UPSTREAM with skopeo, verifying TLS against certs/ca.crt,
and prints the digest and the mirror that served it. Mirrors: ${MIRRORS[*]}.
USAGE
        exit 0
        ;;
    *) die "this is a mirror-only bundle (no private registry): check a mirror with --mirror UPSTREAM IMAGE (mirrors: ${MIRRORS[*]})" ;;
esac
