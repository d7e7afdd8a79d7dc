# A mirror-only bundle: no private registry to check, only its mirrors.
case ${1:-} in
    --mirror | -h | --help) ;;
    *) die "this is a mirror-only bundle (no private registry): check a mirror with --mirror UPSTREAM IMAGE (mirrors: ${MIRRORS[*]})" ;;
esac
