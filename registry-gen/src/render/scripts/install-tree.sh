# Copy the files under the directory $1 into the directory $2, keeping their
# modes, each replaced at once (a copy beside it, renamed over it); sets
# changed=true when a file was new or different. POSIX sh and the commands
# every busybox has: trust-node.sh (bash) and the trust DaemonSet's
# installer (the registry image's /bin/sh) share it. File names hold no
# newline (they are endpoints).
install_tree() {
    [ -d "$1" ] || return 0
    install_files=$(find "$1" -type f)
    while IFS= read -r install_file; do
        [ -n "$install_file" ] || continue
        install_target="$2/${install_file#"$1"/}"
        cmp -s "$install_file" "$install_target" || changed=true
        mkdir -p "$(dirname "$install_target")"
        cp "$install_file" "$install_target.registry-gen-new"
        chmod "$(stat -c %a "$install_file")" "$install_target.registry-gen-new"
        mv -f "$install_target.registry-gen-new" "$install_target"
    done <<INSTALL_FILES
$install_files
INSTALL_FILES
}
