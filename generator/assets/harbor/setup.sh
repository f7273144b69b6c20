#!/bin/sh
# harbor-setup (CronJob, namespace harbor): keeps Harbor as the repository describes it, through
# Harbor's REST API (v2.0) as admin:
#   - the site's projects (projects: "<name> <public>" per line), created or set public/private;
#   - the proxy-cache registries and their public projects the nodes pull through
#     (proxies: "<project> <registry type> <url>");
#   - one robot account per environment (robots: "<robot> <namespace> <secret>", the body in
#     robot.<robot>.json), whose secret is the password of that environment's pull Secret: read
#     from the Kubernetes API (a Role lets this ServiceAccount get that one Secret), given to Harbor
#     only when Harbor does not take it already.
# Every run converges; nothing it reads is printed. Exit 1 when anything could not be done.
set -eu

conf=${HARBOR_SETUP_DIR:?}
api="${HARBOR_URL:?}/api/v2.0"
sa=${SERVICE_ACCOUNT_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
failed=0

fail() {
  echo "harbor-setup: $*" >&2
  failed=1
}

# A curl config line with a quoted value (curl reads \ and " escaped inside quotes).
curlrc_line() {
  printf '%s = "%s"\n' "$1" "$(printf '%s' "$2" | sed 's/[\\"]/\\&/g')"
}

{
  curlrc_line user "admin:${HARBOR_ADMIN_PASSWORD:?}"
  # Project paths take names, even all-digit ones.
  curlrc_line header "X-Is-Resource-Name: true"
} >"$work/admin.curlrc"

# harbor METHOD PATH [BODY-FILE] [CURLRC]: the HTTP status in $code, the body in $work/out and
# the headers in $work/headers.
harbor() {
  set -- "$1" "$2" "${3:-}" "${4:-$work/admin.curlrc}"
  if [ "$1" = HEAD ]; then
    code=$(curl -sS --head -o /dev/null -D "$work/headers" -w '%{http_code}' -K "$4" "$api$2") || code=000
    : >"$work/out"
    return 0
  fi
  if [ -n "$3" ]; then
    code=$(curl -sS -X "$1" -o "$work/out" -D "$work/headers" -w '%{http_code}' -K "$4" -H 'Content-Type: application/json' --data-binary "@$3" "$api$2") || code=000
  else
    code=$(curl -sS -X "$1" -o "$work/out" -D "$work/headers" -w '%{http_code}' -K "$4" "$api$2") || code=000
  fi
}

# The id of the first object in $work/out (Harbor lists objects with their "id"), or nothing.
first_id() {
  grep -o '[{,]"id":[0-9]*' "$work/out" | head -n 1 | sed 's/.*://' || true
}

# The id at the end of the Location header of a 201 Created.
created_id() {
  tr -d '\r' <"$work/headers" | sed -n 's|^[Ll]ocation: .*/\([0-9][0-9]*\)$|\1|p' | head -n 1
}

# Message of a failed request: the status and Harbor's error text.
why() {
  printf 'HTTP %s %s' "$code" "$(head -c 300 "$work/out" | tr -d '\n')"
}

# One key of a Secret from the Kubernetes API, decoded; nothing when the Secret or key is missing.
secret_key() {
  host=${KUBERNETES_SERVICE_HOST:?}
  case $host in *:*) host="[$host]" ;; esac
  curlrc_line header "Authorization: Bearer $(cat "$sa/token")" >"$work/k8s.curlrc"
  status=$(curl -sS -o "$work/secret" -w '%{http_code}' -K "$work/k8s.curlrc" --cacert "$sa/ca.crt" \
    "https://$host:${KUBERNETES_SERVICE_PORT:?}/api/v1/namespaces/$1/secrets/$2") || status=000
  if [ "$status" != 200 ]; then
    rm -f "$work/secret"
    return 1
  fi
  sed -n "s/.*\"$3\":\"\\([A-Za-z0-9+/=]*\\)\".*/\\1/p" "$work/secret" | base64 -d
  rm -f "$work/secret"
}

harbor GET /health
if [ "$code" != 200 ] || grep -q unhealthy "$work/out"; then
  echo "harbor-setup: Harbor is not healthy yet ($(why)); the next run tries again" >&2
  exit 1
fi

# ensure_project NAME PUBLIC [REGISTRY-ID]
ensure_project() {
  harbor HEAD "/projects?project_name=$1"
  if [ "$code" = 200 ]; then
    printf '{"metadata":{"public":"%s"}}' "$2" >"$work/body"
    harbor PUT "/projects/$1" "$work/body"
    [ "$code" = 200 ] || fail "project $1: could not set public=$2: $(why)"
  elif [ "$code" = 404 ]; then
    if [ -n "${3:-}" ]; then
      printf '{"project_name":"%s","registry_id":%s,"metadata":{"public":"%s"}}' "$1" "$3" "$2" >"$work/body"
    else
      printf '{"project_name":"%s","metadata":{"public":"%s"}}' "$1" "$2" >"$work/body"
    fi
    harbor POST /projects "$work/body"
    if [ "$code" = 201 ]; then echo "harbor-setup: created project $1"; else fail "project $1: not created: $(why)"; fi
  else
    fail "project $1: $(why)"
  fi
}

while read -r name public; do
  [ -n "$name" ] || continue
  ensure_project "$name" "$public"
done <"$conf/projects"

while read -r project type url; do
  [ -n "$project" ] || continue
  harbor GET "/registries?q=name%3D$project"
  id=$(first_id)
  if [ -z "$id" ]; then
    printf '{"name":"%s","type":"%s","url":"%s","insecure":false,"description":"siteforge: proxy cache of %s"}' "$project" "$type" "$url" "$url" >"$work/body"
    harbor POST /registries "$work/body"
    id=$(created_id)
    if [ "$code" != 201 ] || [ -z "$id" ]; then
      fail "registry $project ($url): not created: $(why)"
      continue
    fi
    echo "harbor-setup: created registry endpoint $project ($url)"
  fi
  ensure_project "$project" true "$id"
done <"$conf/proxies"

while read -r robot namespace secret; do
  [ -n "$robot" ] || continue
  if ! password=$(secret_key "$namespace" "$secret" password) || [ -z "$password" ]; then
    fail "robot $robot: Secret $namespace/$secret (key password) is not readable yet"
    continue
  fi
  harbor GET "/robots?q=name%3D$robot"
  id=$(first_id)
  body="$conf/robot.$robot.json"
  fresh=false
  if [ -z "$id" ]; then
    harbor POST /robots "$body"
    id=$(created_id)
    if [ "$code" != 201 ] || [ -z "$id" ]; then
      fail "robot $robot: not created: $(why)"
      continue
    fi
    fresh=true
    echo "harbor-setup: created robot account $robot"
  else
    harbor PUT "/robots/$id" "$body"
    [ "$code" = 200 ] || fail "robot $robot: permissions not updated: $(why)"
  fi
  # Does Harbor take the Secret's password already? (A changed password is given to it.)
  curlrc_line user "${ROBOT_PREFIX:-robot\$}$robot:$password" >"$work/robot.curlrc"
  harbor GET "/projects?page_size=1" "" "$work/robot.curlrc"
  if [ "$fresh" = true ] || [ "$code" = 401 ]; then
    printf '{"secret":"%s"}' "$(printf '%s' "$password" | sed 's/[\\"]/\\&/g')" >"$work/body"
    harbor PATCH "/robots/$id" "$work/body"
    rm -f "$work/body"
    if [ "$code" = 200 ]; then echo "harbor-setup: robot account $robot takes the password of $namespace/$secret"; else fail "robot $robot: secret not set: $(why)"; fi
  elif [ "$code" != 200 ]; then
    fail "robot $robot: sign-in check: $(why)"
  fi
  rm -f "$work/robot.curlrc"
done <"$conf/robots"

exit "$failed"
