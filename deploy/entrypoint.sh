#!/bin/sh
# Gatehouse container entrypoint (POSIX sh). What only a shell should do:
#
#  1. the image's paths, as defaults the environment may override;
#  2. the workers' user, when the container runs as root (a non-root container, the default,
#     has one user and needs none);
#  3. gatehouse-config configure: checks every variable with the app's own configuration rules
#     and writes config.json and nginx's configuration into the runtime folder (RUNTIME_DIR),
#     the one place the container writes; a mistake stops the start with a message naming the
#     variable;
#  4. exec nginx in the foreground — or, after --config-only (or ENTRYPOINT_ONLY_CONFIG=1),
#     stop there; any other arguments are executed instead of nginx.
#
# See deploy/README.md for the variables.

set -eu

die() {
    printf 'entrypoint: %s\n' "$*" >&2
    exit 1
}

config_only=false
case "${ENTRYPOINT_ONLY_CONFIG:-}" in
    1 | true | TRUE | True | yes | on) config_only=true ;;
esac
if [ "${1:-}" = "--config-only" ]; then
    config_only=true
    shift
fi

# 1. Paths: the image's layout unless the environment says otherwise.
here=$(cd "$(dirname "$0")" && pwd)
: "${WEB_ROOT:=/usr/share/gatehouse/html}"
: "${RUNTIME_DIR:=/run/gatehouse}"
: "${GATEHOUSE_TEMPLATE_DIR:=$here/nginx}"
: "${GATEHOUSE_CONFIG:=gatehouse-config}"
: "${NGINX_MIME_TYPES:=/etc/nginx/mime.types}"
: "${NGINX_MODULES_DIR:=/usr/lib/nginx/modules}"
: "${NGINX_BIN:=nginx}"
export WEB_ROOT RUNTIME_DIR GATEHOUSE_TEMPLATE_DIR NGINX_MIME_TYPES NGINX_MODULES_DIR

# 2. As root (docker run --user 0), nginx's workers drop privileges: to NGINX_USER, else the
# first of nginx, www-data (Debian's) and nobody that exists; with that user's primary group.
unset NGINX_WORKER_USER NGINX_WORKER_GROUP
if [ "$(id -u)" = 0 ]; then
    worker_user=${NGINX_USER:-}
    for candidate in nginx www-data nobody; do
        [ -z "$worker_user" ] || break
        if id "$candidate" >/dev/null 2>&1; then worker_user=$candidate; fi
    done
    worker_uid=$(id -u "$worker_user" 2>/dev/null) || die "NGINX_USER: no user \"$worker_user\""
    [ "$worker_uid" != 0 ] ||
        die "NGINX_USER: \"$worker_user\" is root: the workers, which read every request, would run with all privileges; name an unprivileged user"
    NGINX_WORKER_USER=$worker_user
    NGINX_WORKER_GROUP=$(id -gn "$worker_user")
    export NGINX_WORKER_USER NGINX_WORKER_GROUP
fi

# 3. The configuration: checked, then written; nothing is written when a variable is wrong.
"$GATEHOUSE_CONFIG" configure || exit 1

# 4. Start.
if [ "$config_only" = true ]; then
    exit 0
fi
if [ "$#" -gt 0 ]; then
    exec "$@"
fi
exec "$NGINX_BIN" -e stderr -p "$RUNTIME_DIR/" -c "$RUNTIME_DIR/nginx.conf"
