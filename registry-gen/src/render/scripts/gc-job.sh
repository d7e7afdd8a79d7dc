# "$@" is the collection: registry garbage-collect, the image's config file
# and gc.sh's flags. Then the registry's blob descriptors are deleted from
# the shared Redis cache (only counted with --dry-run), also after a failed
# collection, which may have deleted blobs before it failed. The registry
# image (Alpine) has no redis-cli: this speaks RESP to Redis over busybox
# nc, and fails the Job on any error reply.

dry=0
for arg in "$@"; do
    if [ "$arg" = --dry-run ]; then
        dry=1
    fi
done

"$@"
status=$?

# One RESP command: an array of bulk strings, each length in bytes (wc -c:
# the shell's ${#var} counts characters).
resp() {
    printf '*%d\r\n' "$#"
    for arg in "$@"; do
        printf '$%d\r\n%s\r\n' "$(printf %s "$arg" | wc -c)" "$arg"
    done
}

# Runs inside Redis, atomically: finds the keys of the registry's layout
# (the 2.8 and 3.x registries' redis.go) with SCAN, deletes them unless
# ARGV[1] is 1, returns how many there were. Other keys are never touched.
FLUSH_LUA='
if redis.replicate_commands then redis.replicate_commands() end
local digest = "[%w%+%._%-]+:[%w=_%-]+"
local layout = {
    "^blobs::" .. digest .. "$",
    "^repository::[^:]+::blobs$",
    "^repository::[^:]+::blobs::" .. digest .. "$",
}
local seen, n = {}, 0
for _, glob in ipairs({ "blobs::*", "repository::*" }) do
    local cursor = "0"
    repeat
        local page = redis.call("SCAN", cursor, "MATCH", glob, "COUNT", 1000)
        cursor = page[1]
        for _, key in ipairs(page[2]) do
            for _, pattern in ipairs(layout) do
                if not seen[key] and string.match(key, pattern) then
                    seen[key] = true
                    n = n + 1
                    if ARGV[1] ~= "1" then redis.call("DEL", key) end
                end
            end
        end
    until cursor == "0"
end
return n
'

password=
if [ -n "$PASSWORD_ENV" ]; then
    eval "password=\${$PASSWORD_ENV-}"
fi
# (printf is the shell's own: the password is in no process's arguments.)
reply=$(
    {
        if [ -n "$PASSWORD_ENV" ]; then
            resp AUTH "$password"
        fi
        resp SELECT "$REDIS_DB"
        resp EVAL "$FLUSH_LUA" 0 "$dry"
        resp QUIT
    } | nc -w 30 "$REDIS_HOST" "$REDIS_PORT" 2>&1 | tr -d '\r'
)
count=$(printf '%s\n' "$reply" | sed -n 's/^:\([0-9][0-9]*\)$/\1/p')
errors=$(printf '%s\n' "$reply" | grep -v -e '^+OK$' -e '^:[0-9][0-9]*$' -e '^$')
if [ -n "$errors" ] || [ -z "$count" ]; then
    echo "registry-gen: could not flush the blob descriptor cache in Redis $REDIS_ADDRESS db $REDIS_DB: ${errors:-no answer}" >&2
    [ "$status" -ne 0 ] || status=1
elif [ "$dry" = 1 ]; then
    echo "registry-gen: dry run: would flush $count blob descriptor keys from Redis $REDIS_ADDRESS db $REDIS_DB ($KEYS); nothing was flushed"
else
    echo "$FLUSHED$count blob descriptor keys from Redis $REDIS_ADDRESS db $REDIS_DB ($KEYS)"
fi
exit "$status"
