# KEP-1755's ConfigMap ($HOSTING_NAMESPACE/$HOSTING_NAME) is one per
# cluster, shared by every bundle: its annotation $OWNER_KEY says whose it
# is. Print the owner of the copy there: nothing when there is none, this
# bundle's $OWNER for its own (also an unmarked copy that names this
# bundle's Service: an earlier render wrote it), else the owner it names,
# or "-" for an unmarked copy of another registry.
hosting_owner() {
    local found owner data
    found=$(k get configmap "$HOSTING_NAME" --namespace "$HOSTING_NAMESPACE" --ignore-not-found \
        -o "jsonpath={.metadata.name}{\"|\"}{.metadata.annotations.$OWNER_KEY}{\"|\"}{.data.localRegistryHosting\\.v1}")
    [ -n "$found" ] || return 0
    found=${found#*|}
    owner=${found%%|*}
    data=${found#*|}
    if [ -z "$owner" ]; then
        if [[ $'\n'$data$'\n' == *$'\n'"hostFromClusterNetwork: $SERVICE"$'\n'* ]]; then
            owner=$OWNER
        else
            owner=-
        fi
    fi
    echo "$owner"
}

# The owner $1 (from hosting_owner) in words.
owner_words() {
    if [ "$1" = - ]; then
        echo "not marked $OWNER_KEY and names another registry (written by hand, by another tool or by an older registry-gen)"
    else
        echo "owned by $1 ($OWNER_KEY)"
    fi
}
