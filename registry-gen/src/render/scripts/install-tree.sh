# Copy the files under the directory $1 into the directory $2, keeping their
# modes, each replaced at once (a copy beside it, renamed over it); sets
# changed=true when a file was new or different. POSIX sh and the commands
# every busybox has: trust-node.sh (bash) and the trust DaemonSet's
# installer (the registry image's /bin/sh) share it. File names hold no
# newline (they are endpoints).
#
# A file with an owner line ("# $OWNER_KEY: <namespace>/<name>") is
# shared with other bundles: see claim. When it may not replace the copy
# there, neither it nor the files beside it are installed, and
# "<target>: <why>" is added as a line to $refused.
install_tree() {
    [ -d "$1" ] || return 0
    install_files=$(find "$1" -type f)
    install_skip=""
    while IFS= read -r install_file; do
        [ -n "$install_file" ] || continue
        install_target="$2/${install_file#"$1"/}"
        if ! install_why=$(claim "$install_file" "$install_target"); then
            refused="$refused$install_target: $install_why
"
            install_skip="$install_skip$(dirname "$install_target")
"
        fi
    done <<INSTALL_FILES
$install_files
INSTALL_FILES
    while IFS= read -r install_file; do
        [ -n "$install_file" ] || continue
        install_target="$2/${install_file#"$1"/}"
        case "
$install_skip" in
            *"
$(dirname "$install_target")
"*) continue ;;
        esac
        cmp -s "$install_file" "$install_target" || changed=true
        mkdir -p "$(dirname "$install_target")"
        cp "$install_file" "$install_target.registry-gen-new"
        chmod "$(stat -c %a "$install_file")" "$install_target.registry-gen-new"
        mv -f "$install_target.registry-gen-new" "$install_target"
    done <<INSTALL_FILES
$install_files
INSTALL_FILES
}

# The owner the file $1 names on its "# $OWNER_KEY: " line, if any.
owner_of() {
    sed -n "s|^# $OWNER_KEY: ||p" "$1" 2>/dev/null | head -n 1
}

# Whether this bundle's file $1 may replace the file $2: yes when $1 names
# no owner (not shared), $2 is missing or names the same owner, or $2 is
# unmarked but otherwise $1 (an earlier render's copy; a hosts.toml's
# top-level `ca`, added since for a fallback's upstream CA, aside); else
# only with take_over=true (said on stderr). When not, prints why.
claim() {
    claim_ours=$(owner_of "$1")
    if [ -z "$claim_ours" ] || [ ! -e "$2" ]; then return 0; fi
    claim_theirs=$(owner_of "$2")
    if [ "$claim_theirs" = "$claim_ours" ]; then return 0; fi
    if [ -n "$claim_theirs" ]; then
        claim_why="owned by $claim_theirs ($OWNER_KEY)"
    elif [ "$(grep -v -e "^# $OWNER_KEY: " -e '^ca = ' "$1")" = "$(grep -v -e '^ca = ' "$2")" ]; then
        return 0
    else
        claim_why="not marked $OWNER_KEY and not this bundle's (written by hand, by another tool or by an older registry-gen)"
    fi
    if [ "$take_over" = true ]; then
        echo "taking over $2, $claim_why, for $claim_ours (--take-over)" >&2
        return 0
    fi
    echo "$claim_why"
    return 1
}
