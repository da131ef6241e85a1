#!/bin/sh
# Gatehouse container entrypoint (POSIX sh; runs under busybox ash in nginx:stable-alpine, and
# under dash or bash on a workstation).
#
#  1. Validates the runtime configuration in the environment and writes it, JSON-escaped, to
#     $WEB_ROOT/config.json (the file the app fetches at start-up). Empty variables count as unset.
#  2. Computes the Content-Security-Policy: the sha256 of every inline <script> and <style> in
#     index.html (trunk's module loader, the inlined stylesheet) and the IdP and API origins from
#     the same variables.
#  3. Renders the nginx configuration from the templates in deploy/nginx/ into $NGINX_CONF_DIR.
#  4. Execs nginx in the foreground, unless --config-only or ENTRYPOINT_ONLY_CONFIG=1 is given;
#     any other arguments are executed instead of nginx after the configuration is written.
#
# Every error stops the start with "entrypoint: <VARIABLE>: <what is wrong>" on stderr.
# Only sh, awk, sed-free text tools from busybox (mkdir, cp, mv, rm, sha256sum, cut, id) are used:
# no jq, python or openssl. See deploy/README.md for the variables.

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

here=$(cd "$(dirname "$0")" && pwd)
TEMPLATE_DIR=${GATEHOUSE_TEMPLATE_DIR:-$here/nginx}
WEB_ROOT=${WEB_ROOT:-/usr/share/nginx/html}
NGINX_CONF_DIR=${NGINX_CONF_DIR:-/etc/nginx/gatehouse}
NGINX_RUN_DIR=${NGINX_RUN_DIR:-/tmp/gatehouse-nginx}
NGINX_MIME_TYPES=${NGINX_MIME_TYPES:-/etc/nginx/mime.types}
NGINX_MODULES_DIR=${NGINX_MODULES_DIR:-/usr/lib/nginx/modules}
NGINX_ACCESS_LOG=${NGINX_ACCESS_LOG:-/dev/stdout}
NGINX_WORKER_PROCESSES=${NGINX_WORKER_PROCESSES:-auto}
NGINX_ERROR_LOG_LEVEL=${NGINX_ERROR_LOG_LEVEL:-warn}
NGINX_BIN=${NGINX_BIN:-nginx}
PORT=${PORT:-8080}
LISTEN_ADDRESS=${LISTEN_ADDRESS:-}
BROTLI=${BROTLI:-auto}
HSTS=${HSTS:-auto}
CSP_CONNECT_SRC=${CSP_CONNECT_SRC:-}

# Byte semantics for awk (length, substr), whatever the container's locale.
LC_ALL=C
export LC_ALL

# ---------------------------------------------------------------------------------------------
# Checks of the deployment variables that end up inside nginx's configuration: they are written
# there verbatim, so only characters that cannot start a variable, end a directive or a string
# are accepted.

safe_path() { # VAR VALUE
    case "$2" in
        /*) ;;
        *) die "$1: must be an absolute path (got \"$2\")" ;;
    esac
    case "$2" in
        *[!A-Za-z0-9._/@+=,:~-]*) die "$1: only letters, digits and ._/@+=,:~- are allowed in the path (got \"$2\")" ;;
    esac
    case "$2" in
        */./* | */../* | */. | */..) die "$1: no . or .. segments in the path (got \"$2\")" ;;
    esac
}

safe_path WEB_ROOT "$WEB_ROOT"
safe_path NGINX_CONF_DIR "$NGINX_CONF_DIR"
safe_path NGINX_RUN_DIR "$NGINX_RUN_DIR"
safe_path NGINX_MIME_TYPES "$NGINX_MIME_TYPES"
safe_path NGINX_MODULES_DIR "$NGINX_MODULES_DIR"
safe_path GATEHOUSE_TEMPLATE_DIR "$TEMPLATE_DIR"
[ "$NGINX_ACCESS_LOG" = off ] || safe_path NGINX_ACCESS_LOG "$NGINX_ACCESS_LOG"
# nginx serves everything under WEB_ROOT: a log there would be public.
case "$NGINX_ACCESS_LOG" in
    "${WEB_ROOT%/}"/*) die "NGINX_ACCESS_LOG: $NGINX_ACCESS_LOG is inside WEB_ROOT, which nginx serves: the log would be public; write it elsewhere or to /dev/stdout" ;;
esac

case "$PORT" in
    '' | *[!0-9]* | 0*) die "PORT: must be a port number from 1 to 65535 (got \"$PORT\")" ;;
esac
[ "${#PORT}" -le 5 ] && [ "$PORT" -le 65535 ] || die "PORT: must be a port number from 1 to 65535 (got \"$PORT\")"

# An IPv4 address (four numbers up to 255), an IPv6 address in brackets, or a host name (labels
# of letters, digits and inner hyphens).
listen_address_ok() { # ADDRESS
    case "$1" in
        '') return 0 ;;
        \[*\])
            inner=${1#[}
            inner=${inner%]}
            case "$inner" in '' | *[!0-9A-Fa-f:.]* | *:*:*:*:*:*:*:*:*) return 1 ;; *:*) return 0 ;; *) return 1 ;; esac ;;
        *[!0-9.]*)
            printf '%s\n' "$1" | awk -F. '{ for (i = 1; i <= NF; i++) if ($i !~ /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/) exit 1 }' ;;
        *)
            printf '%s\n' "$1" | awk -F. 'NF != 4 { exit 1 } { for (i = 1; i <= 4; i++) if ($i !~ /^[0-9][0-9]?[0-9]?$/ || $i + 0 > 255) exit 1 }' ;;
    esac
}
listen_address_ok "$LISTEN_ADDRESS" || die "LISTEN_ADDRESS: must be an IPv4 address, [IPv6] address or host name (got \"$LISTEN_ADDRESS\")"
case "$NGINX_WORKER_PROCESSES" in
    auto) ;;
    '' | *[!0-9]* | 0*) die "NGINX_WORKER_PROCESSES: must be auto or a positive number (got \"$NGINX_WORKER_PROCESSES\")" ;;
esac
case "$NGINX_ERROR_LOG_LEVEL" in
    debug | info | notice | warn | error | crit | alert | emerg) ;;
    *) die "NGINX_ERROR_LOG_LEVEL: must be one of debug, info, notice, warn, error, crit, alert, emerg (got \"$NGINX_ERROR_LOG_LEVEL\")" ;;
esac
BROTLI=$(printf '%s' "$BROTLI" | tr 'A-Z' 'a-z')
case "$BROTLI" in
    auto | on | off) ;;
    *) die "BROTLI: must be auto, on or off (got \"$BROTLI\")" ;;
esac
HSTS=$(printf '%s' "$HSTS" | tr 'A-Z' 'a-z')
case "$HSTS" in
    auto | always | off) ;;
    *) die "HSTS: must be auto, always or off (got \"$HSTS\")" ;;
esac

[ -f "$WEB_ROOT/index.html" ] || die "WEB_ROOT: $WEB_ROOT/index.html not found (is the app's dist/ there?)"
[ -f "$NGINX_MIME_TYPES" ] || die "NGINX_MIME_TYPES: $NGINX_MIME_TYPES not found"
for template in nginx.conf gatehouse.conf security-headers.conf brotli.conf; do
    [ -f "$TEMPLATE_DIR/$template.template" ] ||
        die "GATEHOUSE_TEMPLATE_DIR: $TEMPLATE_DIR/$template.template not found"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-entrypoint.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---------------------------------------------------------------------------------------------
# 1. config.json. The awk program reads the variables from ENVIRON (so no shell quoting is
# involved), validates them, writes the JSON file and prints the origins the CSP needs as
# "idp <origin>" / "api <origin>" lines.

awk -v out="$work/config.json" '
function fail(var, msg) {
    printf "entrypoint: %s: %s\n", var, msg > "/dev/stderr"
    failed = 1
    exit 1
}
function trim(s) {
    sub(/^[ \t\r\n\f\v]+/, "", s)
    sub(/[ \t\r\n\f\v]+$/, "", s)
    return s
}
# The variable, trimmed; "" when unset, empty or blank (the app treats those as unset too).
function get(name) {
    return (name in ENVIRON) ? trim(ENVIRON[name]) : ""
}
function has_control_or_space(s,   i, n, c) {
    n = length(s)
    for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        if (c == " " || (c in ctl)) return 1
    }
    return 0
}
# A printable rendering of a value for error messages.
function show(s) {
    return (length(s) > 200 ? substr(jstr(s), 1, 200) "...\"" : jstr(s))
}
# JSON string literal: quote, backslash and every control character escaped; other bytes
# (including UTF-8 sequences) are copied as they are.
function jstr(s,   out, i, n, c) {
    out = ""
    n = length(s)
    for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        if (c == "\\") out = out "\\\\"
        else if (c == "\"") out = out "\\\""
        else if (c in ctl) out = out ctl[c]
        else out = out c
    }
    return "\"" out "\""
}
# "https://host:port" from an absolute http(s) URL (lower-cased scheme and host; user info
# dropped), or "" when the URL is not one.
function origin(url,   scheme, rest, authority, cut) {
    if (tolower(substr(url, 1, 8)) == "https://") { scheme = "https"; rest = substr(url, 9) }
    else if (tolower(substr(url, 1, 7)) == "http://") { scheme = "http"; rest = substr(url, 8) }
    else return ""
    authority = rest
    if (match(authority, /[\/?#]/)) authority = substr(authority, 1, RSTART - 1)
    cut = index(authority, "@")
    while (cut > 0) { authority = substr(authority, cut + 1); cut = index(authority, "@") }
    if (authority !~ /^([A-Za-z0-9][A-Za-z0-9.-]*|\[[0-9A-Fa-f:.]+\])(:[0-9]+)?$/) return ""
    return scheme "://" tolower(authority)
}
function add(key, value) {
    body = body (body == "" ? "" : ",\n") "  " jstr(key) ": " value
}
function add_text(key,   v) {
    v = get(key)
    if (v != "") add(key, jstr(v))
}

# --- a JSON syntax check for VIEWS and RESOURCES (recursive descent over S from position P) -
function jv_ws() {
    while (P <= N && index(" \t\n\r", substr(S, P, 1)) > 0) P++
}
function jv_value(   c) {
    jv_ws()
    if (P > N) return 0
    if (++DEPTH > 64) return 0
    c = substr(S, P, 1)
    if (c == "{") c = jv_object()
    else if (c == "[") c = jv_array()
    else if (c == "\"") c = jv_string()
    else if (substr(S, P, 4) == "true" || substr(S, P, 4) == "null") { P += 4; c = 1 }
    else if (substr(S, P, 5) == "false") { P += 5; c = 1 }
    else c = jv_number()
    DEPTH--
    return c
}
function jv_object(   c) {
    P++
    jv_ws()
    if (substr(S, P, 1) == "}") { P++; return 1 }
    for (;;) {
        jv_ws()
        if (substr(S, P, 1) != "\"" || !jv_string()) return 0
        jv_ws()
        if (substr(S, P, 1) != ":") return 0
        P++
        if (!jv_value()) return 0
        jv_ws()
        c = substr(S, P, 1)
        P++
        if (c == "}") return 1
        if (c != ",") return 0
    }
}
function jv_array(   c) {
    P++
    jv_ws()
    if (substr(S, P, 1) == "]") { P++; return 1 }
    for (;;) {
        if (!jv_value()) return 0
        jv_ws()
        c = substr(S, P, 1)
        P++
        if (c == "]") return 1
        if (c != ",") return 0
    }
}
function jv_string(   c) {
    P++
    while (P <= N) {
        c = substr(S, P, 1)
        if (c == "\"") { P++; return 1 }
        if (c in ctl) return 0
        if (c == "\\") {
            c = substr(S, P + 1, 1)
            if (c == "u") {
                if (substr(S, P + 2, 4) !~ /^[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]$/) return 0
                P += 6
            } else if (c != "" && index("\"\\/bfnrt", c) > 0) P += 2
            else return 0
        } else P++
    }
    return 0
}
function jv_number(   rest) {
    rest = substr(S, P)
    if (!match(rest, /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/)) return 0
    P += RLENGTH
    return 1
}
# Stops with an error naming `var` unless `value` is one JSON array (the app checks its entries).
function json_array(var, value, example,   ok) {
    S = value; N = length(S); P = 1; DEPTH = 0
    jv_ws()
    ok = substr(S, P, 1) == "[" && jv_value()
    jv_ws()
    if (!ok || P <= N) fail(var, "must be a JSON array such as " example ", got " show(value))
}

BEGIN {
    for (i = 1; i < 32; i++) ctl[sprintf("%c", i)] = sprintf("\\u%04x", i)
    ctl["\n"] = "\\n"; ctl["\r"] = "\\r"; ctl["\t"] = "\\t"; ctl["\b"] = "\\b"; ctl["\f"] = "\\f"
    ctl[sprintf("%c", 127)] = "\\u007f"

    enabled_text = get("OAUTH_ENABLED")
    flag = tolower(enabled_text)
    if (flag == "" || flag == "true" || flag == "on" || flag == "1" || flag == "yes") enabled = 1
    else if (flag == "false" || flag == "off" || flag == "0" || flag == "no") enabled = 0
    else fail("OAUTH_ENABLED", "must be true or false (also on/off, 1/0, yes/no), got " show(enabled_text))

    metadata = get("OAUTH_METADATA_URL")
    if (metadata != "" && (origin(metadata) == "" || has_control_or_space(metadata)))
        fail("OAUTH_METADATA_URL", "must be an absolute http:// or https:// URL, got " show(metadata))

    api = get("API_BASE_URL")
    if (api != "") {
        if (substr(api, 1, 1) == "/") {
            if (substr(api, 1, 2) == "//" || has_control_or_space(api))
                fail("API_BASE_URL", "must be an absolute http(s) URL or a path starting with a single /, got " show(api))
        } else if (origin(api) == "" || has_control_or_space(api))
            fail("API_BASE_URL", "must be an absolute http(s) URL or a path starting with /, got " show(api))
    }

    mode = get("OAUTH_RESPONSE_MODE")
    if (mode != "" && mode != "fragment" && mode != "query")
        fail("OAUTH_RESPONSE_MODE", "must be fragment or query, got " show(mode))

    roles_token = get("OAUTH_ROLES_TOKEN")
    if (roles_token != "" && roles_token != "access_token" && roles_token != "id_token")
        fail("OAUTH_ROLES_TOKEN", "must be access_token or id_token, got " show(roles_token))

    redirect = get("OAUTH_REDIRECT_PATH")
    if (redirect != "" && (substr(redirect, 1, 1) != "/" || substr(redirect, 1, 2) == "//" || redirect ~ /[?#]/))
        fail("OAUTH_REDIRECT_PATH", "must be a path on this site such as /oauth-callback (no query or fragment), got " show(redirect))

    roles_claim = get("OAUTH_ROLES_CLAIM")
    if (roles_claim != "" && (roles_claim ~ /^\./ || roles_claim ~ /\.$/ || index(roles_claim, "..") > 0))
        fail("OAUTH_ROLES_CLAIM", "must be a claim name or a dotted path such as realm_access.roles, got " show(roles_claim))

    if (enabled) {
        if (metadata == "") fail("OAUTH_METADATA_URL", "is required while OAUTH_ENABLED is true (set OAUTH_ENABLED=false to run without sign-in)")
        if (get("OAUTH_UI_APP_ID") == "") fail("OAUTH_UI_APP_ID", "is required while OAUTH_ENABLED is true (set OAUTH_ENABLED=false to run without sign-in)")
        # Entra ID names the scopes of an API after its application id; other providers use plain names.
        if (get("OAUTH_API_APP_ID") == "" && tolower(metadata) ~ /^https:\/\/(login\.microsoftonline\.(com|us)|login\.partner\.microsoftonline\.cn|login\.chinacloudapi\.cn)([:\/?#]|$)/)
            fail("OAUTH_API_APP_ID", "is required with Microsoft Entra ID (the host of OAUTH_METADATA_URL), which names the scopes of an API after its application ID: set it to the Application (client) ID of the API")
    }

    views = get("VIEWS")
    if (views != "") json_array("VIEWS", views, "[\"studies\"]")

    # Other APIs: a JSON array, checked in full by the app; their base URLs join connect-src.
    resources = get("RESOURCES")
    if (resources != "") {
        json_array("RESOURCES", resources, "[{\"id\": \"workspace-alpha\", \"base_url\": \"https://...\", ...}]")
        rest = resources
        while (match(rest, /"base_url"[ \t\r\n]*:[ \t\r\n]*"[^"]*"/)) {
            found = substr(rest, RSTART, RLENGTH)
            rest = substr(rest, RSTART + RLENGTH)
            sub(/^"base_url"[ \t\r\n]*:[ \t\r\n]*"/, "", found)
            sub(/"$/, "", found)
            if (substr(found, 1, 1) == "/" && substr(found, 1, 2) != "//") continue
            if (origin(found) == "") fail("RESOURCES", "base_url must be an absolute http(s) URL or a path starting with /, got " show(found))
            resource_origins = resource_origins " " origin(found)
        }
    }

    graph_text = get("GRAPH_PROFILE")
    flag = tolower(graph_text)
    if (flag == "" || flag == "false" || flag == "off" || flag == "0" || flag == "no") graph = 0
    else if (flag == "true" || flag == "on" || flag == "1" || flag == "yes") graph = 1
    else fail("GRAPH_PROFILE", "must be true or false (also on/off, 1/0, yes/no), got " show(graph_text))
    graph_base = get("GRAPH_BASE_URL")
    if (graph_base != "" && (origin(graph_base) == "" || has_control_or_space(graph_base)))
        fail("GRAPH_BASE_URL", "must be an absolute http:// or https:// URL, got " show(graph_base))
    if (graph_base == "") graph_base = "https://graph.microsoft.com/v1.0"

    body = ""
    add_text("OAUTH_ENABLED")
    add_text("OAUTH_METADATA_URL")
    add_text("OAUTH_UI_APP_ID")
    add_text("OAUTH_API_APP_ID")
    add_text("OAUTH_API_APP_ID_URI")
    add_text("OAUTH_SCOPES")
    add_text("OAUTH_REDIRECT_PATH")
    add_text("OAUTH_RESPONSE_MODE")
    add_text("OAUTH_ROLES_CLAIM")
    add_text("OAUTH_ROLES_TOKEN")
    add_text("OAUTH_PROMPT")
    add_text("OAUTH_DOMAIN_HINT")
    add_text("OAUTH_RESOURCE")
    add_text("OAUTH_CLIENT_CAPABILITIES")
    add_text("OAUTH_REFRESH_LIFETIME_HOURS")
    add_text("SESSION_NOTICE_MINUTES")
    add_text("API_BASE_URL")
    add_text("API_NAME")
    if (views != "") add("VIEWS", views)
    if (resources != "") add("RESOURCES", resources)
    add_text("GRAPH_PROFILE")
    add_text("GRAPH_BASE_URL")
    printf "{%s%s%s}\n", (body == "" ? "" : "\n"), body, (body == "" ? "" : "\n") > out
    close(out)

    if (enabled && metadata != "") print "idp " origin(metadata)
    if (api != "" && substr(api, 1, 1) != "/") print "api " origin(api)
    n = split(resource_origins, list, " ")
    for (i = 1; i <= n; i++) print "resource " list[i]
    if (enabled && graph) print "graph " origin(graph_base)
}
' >"$work/origins" || exit 1

idp_origin=
api_origin=
other_origins=
graph_origin=
while read -r kind value; do
    case "$kind" in
        idp) idp_origin=$value ;;
        api) api_origin=$value ;;
        resource) other_origins="$other_origins $value" ;;
        graph) graph_origin=$value ;;
    esac
done <"$work/origins"

# ---------------------------------------------------------------------------------------------
# 2. The Content-Security-Policy.
#
# Inline scripts and styles: every <script> without a src attribute in index.html (trunk emits
# one, the module loader) and every <style> (the stylesheet, inlined by trunk so the first
# render costs no request). The hashed text is exactly what the browser hashes: the characters
# between the start tag's ">" and the end tag, with line breaks normalised as the HTML parser
# does (CR LF and lone CR become LF), as UTF-8 bytes.

extract_inline() { # $1: element name (script or style)
    awk -v dir="$work" -v name="$1" '
    {
        sub(/\r$/, "")
        gsub(/\r/, "\n")
        doc = doc $0 "\n"
    }
    END {
        low = tolower(doc)
        open_tag = "<" name
        close_tag = "</" name
        n = length(open_tag)
        pos = 1
        count = 0
        for (;;) {
            i = index(substr(low, pos), open_tag)
            if (i == 0) break
            start = pos + i - 1
            rest = substr(low, start + n)
            if (substr(rest, 1, 1) !~ /[ \t\n\f\/>]/) { pos = start + n; continue }
            gt = index(rest, ">")
            if (gt == 0) break
            tag = substr(rest, 1, gt - 1)
            body_start = start + n + gt
            close_at = index(substr(low, body_start), close_tag)
            if (close_at == 0) break
            if (tag !~ /(^|[ \t\n\f\/])src[ \t\n\f]*=/) {
                count++
                file = dir "/inline-" name "." count
                printf "%s", substr(doc, body_start, close_at - 1) > file
                close(file)
            }
            pos = body_start + close_at - 1 + length(close_tag)
        }
    }
    ' "$WEB_ROOT/index.html"
}
extract_inline script
extract_inline style

# sha256 (hex, from sha256sum) to base64, in awk.
hex_to_base64() {
    awk '
    function nibble(c) { return index("0123456789abcdef", tolower(c)) - 1 }
    {
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        n = int(length($1) / 2)
        for (i = 0; i < n; i++) b[i] = nibble(substr($1, 2 * i + 1, 1)) * 16 + nibble(substr($1, 2 * i + 2, 1))
        out = ""
        for (i = 0; i < n; i += 3) {
            v = b[i] * 65536 + (i + 1 < n ? b[i + 1] : 0) * 256 + (i + 2 < n ? b[i + 2] : 0)
            out = out substr(alphabet, int(v / 262144) % 64 + 1, 1) substr(alphabet, int(v / 4096) % 64 + 1, 1)
            out = out (i + 1 < n ? substr(alphabet, int(v / 64) % 64 + 1, 1) : "=")
            out = out (i + 2 < n ? substr(alphabet, v % 64 + 1, 1) : "=")
        }
        print out
    }'
}

# The CSP sources for the inline elements $1 (script or style): 'sha256-…' each, once.
inline_hashes() {
    hashes=
    for file in "$work"/inline-"$1".*; do
        [ -f "$file" ] || continue
        hex=$(sha256sum "$file" | cut -d ' ' -f 1)
        hash="'sha256-$(printf '%s\n' "$hex" | hex_to_base64)'"
        case " $hashes " in
            *" $hash "*) ;;
            *) hashes="$hashes $hash" ;;
        esac
    done
    printf '%s' "$hashes"
}
script_hashes=$(inline_hashes script)
style_hashes=$(inline_hashes style)

# connect-src: this origin, the IdP (discovery, JWKS, token endpoints: Entra serves them all
# from the metadata URL's host), the API, the other APIs (RESOURCES), Microsoft Graph
# (GRAPH_PROFILE) and any extra sources from CSP_CONNECT_SRC.
connect_src="'self'"
add_connect() {
    case " $connect_src " in
        *" $1 "*) ;;
        *) connect_src="$connect_src $1" ;;
    esac
}
[ -z "$idp_origin" ] || add_connect "$idp_origin"
[ -z "$api_origin" ] || add_connect "$api_origin"
for source in $other_origins $graph_origin; do
    add_connect "$source"
done
# The profile shows the Graph photo as a blob: URL.
img_src="'self' data:"
[ -z "$graph_origin" ] || img_src="$img_src blob:"
for source in $CSP_CONNECT_SRC; do
    case "$source" in
        "'self'" | "'none'") ;;
        *[!A-Za-z0-9.:/*_~%+-]* | '' | *://) die "CSP_CONNECT_SRC: \"$source\" is not a CSP source such as https://login.microsoftonline.com" ;;
        *://\* | *://\*:* | *://\*/*) die "CSP_CONNECT_SRC: \"$source\" allows every host; name the hosts the app must reach" ;;
        *://\*.*)
            suffix=${source#*://\*.}
            case "${suffix%%[:/]*}" in
                *.*) ;;
                *) die "CSP_CONNECT_SRC: \"$source\" allows every host under .${suffix%%[:/]*}; name the hosts the app must reach" ;;
            esac ;;
    esac
    case "$source" in
        "'self'" | "'none'" | http://* | https://* | wss://* | ws://*) ;;
        *) die "CSP_CONNECT_SRC: \"$source\" is not a CSP source such as https://login.microsoftonline.com" ;;
    esac
    add_connect "$source"
done

# form-action: the app itself and the IdP (sign-in/out are top-level navigations; a form that
# posts to the IdP, e.g. a future form_post logout, stays allowed).
form_action="'self'"
[ -z "$idp_origin" ] || form_action="$form_action $idp_origin"

csp="default-src 'none'; script-src 'self'$script_hashes 'wasm-unsafe-eval'; style-src 'self'$style_hashes; img-src $img_src; font-src 'self'; connect-src $connect_src; manifest-src 'self'; form-action $form_action; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

# ---------------------------------------------------------------------------------------------
# 3. nginx configuration.

case "$HSTS" in
    auto) hsts_default= ; hsts_tls="max-age=63072000; includeSubDomains" ;;
    always) hsts_default="max-age=63072000; includeSubDomains" ; hsts_tls=$hsts_default ;;
    off) hsts_default= ; hsts_tls= ;;
esac

brotli_module=$NGINX_MODULES_DIR/ngx_http_brotli_filter_module.so
brotli_enabled=false
case "$BROTLI" in
    on)
        [ -f "$brotli_module" ] || die "BROTLI: on, but $brotli_module is not installed (Debian: libnginx-mod-http-brotli-filter)"
        brotli_enabled=true
        ;;
    auto) [ ! -f "$brotli_module" ] || brotli_enabled=true ;;
esac

if [ -n "$LISTEN_ADDRESS" ]; then listen="$LISTEN_ADDRESS:$PORT"; else listen=$PORT; fi
if [ "$NGINX_ACCESS_LOG" = off ]; then access_log=off; else access_log="$NGINX_ACCESS_LOG"; fi

# Workers drop root privileges when the master runs as root (the container default): to
# NGINX_USER, else "nginx" (the nginx images), else "nobody"; with that user's primary group.
user_directive=
if [ "$(id -u)" = 0 ]; then
    worker_user=${NGINX_USER:-}
    if [ -z "$worker_user" ]; then
        if grep -q '^nginx:' /etc/passwd 2>/dev/null; then worker_user=nginx; else worker_user=nobody; fi
    fi
    case "$worker_user" in *[!A-Za-z0-9_.-]*) die "NGINX_USER: not a user name (got \"$worker_user\")" ;; esac
    worker_uid=$(awk -F: -v u="$worker_user" '$1 == u { print $3; exit }' /etc/passwd 2>/dev/null || true)
    [ "$worker_uid" != 0 ] || die "NGINX_USER: \"$worker_user\" is root: the workers, which read every request, would run with all privileges; name an unprivileged user"
    worker_gid=$(awk -F: -v u="$worker_user" '$1 == u { print $4; exit }' /etc/passwd 2>/dev/null || true)
    [ -n "$worker_gid" ] || die "NGINX_USER: no user \"$worker_user\" in /etc/passwd"
    worker_group=$(awk -F: -v g="$worker_gid" '$3 == g { print $1; exit }' /etc/group 2>/dev/null || true)
    case "$worker_group" in
        '' | *[!A-Za-z0-9_.-]*) user_directive="user $worker_user;" ;;
        *) user_directive="user $worker_user $worker_group;" ;;
    esac
fi

# Replaces @NAME@ with the environment variable GH_NAME; an unknown placeholder is an error.
render() { # TEMPLATE OUTPUT
    awk '
    {
        line = $0
        out = ""
        while (match(line, /@[A-Z_]+@/)) {
            name = "GH_" substr(line, RSTART + 1, RLENGTH - 2)
            if (!(name in ENVIRON)) {
                printf "entrypoint: GATEHOUSE_TEMPLATE_DIR: unknown placeholder %s in %s\n", substr(line, RSTART, RLENGTH), FILENAME > "/dev/stderr"
                exit 1
            }
            out = out substr(line, 1, RSTART - 1) ENVIRON[name]
            line = substr(line, RSTART + RLENGTH)
        }
        print out line
    }' "$1" >"$2"
}

GH_CONF_DIR=$NGINX_CONF_DIR
GH_RUN_DIR=$NGINX_RUN_DIR
GH_WEB_ROOT=$WEB_ROOT
GH_MIME_TYPES=$NGINX_MIME_TYPES
GH_ACCESS_LOG=$access_log
GH_WORKER_PROCESSES=$NGINX_WORKER_PROCESSES
GH_ERROR_LOG_LEVEL=$NGINX_ERROR_LOG_LEVEL
GH_USER_DIRECTIVE=$user_directive
GH_LISTEN=$listen
GH_CSP=$csp
GH_HSTS_DEFAULT=$hsts_default
GH_HSTS_TLS=$hsts_tls
GH_BROTLI_MODULE=$brotli_module
export GH_CONF_DIR GH_RUN_DIR GH_WEB_ROOT GH_MIME_TYPES GH_ACCESS_LOG GH_WORKER_PROCESSES \
    GH_ERROR_LOG_LEVEL GH_USER_DIRECTIVE GH_LISTEN GH_CSP GH_HSTS_DEFAULT GH_HSTS_TLS GH_BROTLI_MODULE

mkdir -p "$work/conf"
render "$TEMPLATE_DIR/nginx.conf.template" "$work/conf/nginx.conf"
render "$TEMPLATE_DIR/gatehouse.conf.template" "$work/conf/gatehouse.conf"
render "$TEMPLATE_DIR/security-headers.conf.template" "$work/conf/security-headers.conf"
if [ "$brotli_enabled" = true ]; then
    printf '# Generated by deploy/entrypoint.sh: the brotli filter module is installed.\nload_module %s;\n' "$brotli_module" >"$work/conf/modules.conf"
    render "$TEMPLATE_DIR/brotli.conf.template" "$work/conf/brotli.conf"
else
    printf '# Generated by deploy/entrypoint.sh: no optional modules (brotli: %s).\n' "$BROTLI" >"$work/conf/modules.conf"
    printf '# Generated by deploy/entrypoint.sh: brotli is off (BROTLI=%s, module %s).\n' "$BROTLI" "$brotli_module" >"$work/conf/brotli.conf"
fi

# Everything is valid: install the files.
mkdir -p "$NGINX_CONF_DIR" "$NGINX_RUN_DIR" ||
    die "NGINX_CONF_DIR: cannot create $NGINX_CONF_DIR or $NGINX_RUN_DIR"
for file in nginx.conf gatehouse.conf security-headers.conf modules.conf brotli.conf; do
    cp "$work/conf/$file" "$NGINX_CONF_DIR/$file.new" && mv -f "$NGINX_CONF_DIR/$file.new" "$NGINX_CONF_DIR/$file" ||
        die "NGINX_CONF_DIR: cannot write $NGINX_CONF_DIR/$file"
done
cp "$work/config.json" "$WEB_ROOT/config.json.new" && chmod 644 "$WEB_ROOT/config.json.new" &&
    mv -f "$WEB_ROOT/config.json.new" "$WEB_ROOT/config.json" ||
    die "WEB_ROOT: cannot write $WEB_ROOT/config.json"

printf 'entrypoint: wrote %s/config.json and %s/nginx.conf (listen %s, brotli %s)\n' \
    "$WEB_ROOT" "$NGINX_CONF_DIR" "$listen" "$brotli_enabled"
printf 'entrypoint: Content-Security-Policy: %s\n' "$csp"

# ---------------------------------------------------------------------------------------------
# 4. Start.

if [ "$config_only" = true ]; then
    exit 0
fi
rm -rf "$work"
trap - EXIT
if [ "$#" -gt 0 ]; then
    exec "$@"
fi
exec "$NGINX_BIN" -e stderr -p "$NGINX_RUN_DIR/" -c "$NGINX_CONF_DIR/nginx.conf"
