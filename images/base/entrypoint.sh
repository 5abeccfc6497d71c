# Entrypoint of every wrapper image (run by the static busybox under /opt/optimus, the only tool
# the base image brings): fetch this node's run input from the Optimus server as a tar, unpack it,
# load in/.env and in/.secret into the environment, then exec the plugin so that its exit code is
# the node's. Nothing here prints a variable's value or the pod token.
#
# Reads (set by the DAG on the pod): OPTIMUS_HOST, OPTIMUS_POD_TOKEN, PROJECT, JOB_NAME,
# INSTANCE_TYPE, INSTANCE_NAME, SCHEDULED_AT, optionally JOB_DIR (default /data).
# Tuning: OPTIMUS_FETCH_ATTEMPTS (default 6), OPTIMUS_FETCH_BACKOFF (first wait in seconds, default 2,
# doubled after each failure up to 60).

# OPTIMUS_WRAPPER_HOME lets the tests run this script outside a container.
OPT="${OPTIMUS_WRAPPER_HOME:-/opt/optimus}"
BB="$OPT/busybox"

fail() {
  echo "optimus-entrypoint: $1" >&2
  exit "${2:-70}"
}

need() {
  [ -n "$2" ] || fail "$1 is not set: the pod must be started with the environment its DAG gives it" 64
}
need OPTIMUS_HOST "${OPTIMUS_HOST:-}"
need OPTIMUS_POD_TOKEN "${OPTIMUS_POD_TOKEN:-}"
need PROJECT "${PROJECT:-}"
need JOB_NAME "${JOB_NAME:-}"
need INSTANCE_TYPE "${INSTANCE_TYPE:-}"
need INSTANCE_NAME "${INSTANCE_NAME:-}"
need SCHEDULED_AT "${SCHEDULED_AT:-}"

# Names go into the URL path and values into a JSON body unescaped: accept only what the server's
# names and RFC3339 times can hold, so nothing needs quoting.
plain() {
  case "$2" in
    *[!A-Za-z0-9._-]*) fail "$1 holds characters no Optimus name has" 64 ;;
  esac
}
plain PROJECT "$PROJECT"
plain JOB_NAME "$JOB_NAME"
plain INSTANCE_NAME "$INSTANCE_NAME"
case "$INSTANCE_TYPE" in
  task | hook | TYPE_TASK | TYPE_HOOK | type_task | type_hook) ;;
  *) fail "INSTANCE_TYPE must be task or hook" 64 ;;
esac
case "$SCHEDULED_AT" in
  *[!0-9TtZz:.+-]*) fail "SCHEDULED_AT must be an RFC3339 time such as 2026-03-01T02:00:00Z" 64 ;;
esac

JOB_DIR="${JOB_DIR:-/data}"
"$BB" mkdir -p "$JOB_DIR" || fail "cannot create JOB_DIR $JOB_DIR"
archive="$JOB_DIR/.optimus-run-input.tar"
log="$JOB_DIR/.optimus-fetch.log"
host="${OPTIMUS_HOST%/}"
url="$host/api/v1beta1/project/$PROJECT/job/$JOB_NAME/run_input"
body="{\"scheduled_at\":\"$SCHEDULED_AT\",\"instance_type\":\"$INSTANCE_TYPE\",\"instance_name\":\"$INSTANCE_NAME\"}"
node="$INSTANCE_TYPE $INSTANCE_NAME of job $JOB_NAME (project $PROJECT) at $SCHEDULED_AT"

attempts="${OPTIMUS_FETCH_ATTEMPTS:-6}"
wait_s="${OPTIMUS_FETCH_BACKOFF:-2}"
case "$attempts$wait_s" in *[!0-9]*) fail "OPTIMUS_FETCH_ATTEMPTS and OPTIMUS_FETCH_BACKOFF must be whole numbers" 64 ;; esac

try=1
while :; do
  "$BB" rm -f "$archive" "$log"
  if "$BB" wget -q -O "$archive" \
    --header "Accept: application/x-tar" \
    --header "Content-Type: application/json" \
    --header "Authorization: Bearer $OPTIMUS_POD_TOKEN" \
    --post-data "$body" "$url" 2>"$log"; then
    break
  fi
  # busybox wget reports an HTTP error as "server returned error: HTTP/1.1 404 Not Found"; the
  # log never holds the request headers, but only the status is shown anyway.
  status=$("$BB" sed -n 's/.*server returned error: HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' "$log" | "$BB" head -n 1)
  "$BB" rm -f "$archive" "$log"
  case "$status" in
    401 | 403) fail "the server at $host refused the pod token (HTTP $status) for the run input of $node: the token is wrong, expired or for another node" 77 ;;
    404) fail "the server at $host does not know the $node (HTTP 404): is the job deployed and the node in its run graph?" 66 ;;
    422) fail "the server at $host cannot render the run input of $node (HTTP 422): \`optimus job run-input $JOB_NAME\` shows why" 65 ;;
    4[0-9][0-9]) fail "the server at $host refused the run input request for $node (HTTP $status)" 76 ;;
  esac
  what="${status:+HTTP $status}"
  what="${what:-no answer}"
  if [ "$try" -ge "$attempts" ]; then
    fail "cannot fetch the run input of $node from $host after $try attempts ($what)" 69
  fi
  echo "optimus-entrypoint: fetching the run input from $host failed ($what); retrying in ${wait_s}s" >&2
  "$BB" sleep "$wait_s"
  try=$((try + 1))
  wait_s=$((wait_s * 2))
  [ "$wait_s" -le 60 ] || wait_s=60
done

"$BB" tar -xf "$archive" -C "$JOB_DIR" || fail "the run input from $host is not a readable tar"
"$BB" rm -f "$archive" "$log"

# Reads a file of KEY='value' lines as the server writes them (run-input.ts envFileText): a value is
# single-quoted, a ' inside written as '\'' and newlines kept inside the quotes. Parsed here rather
# than sourced, so a value is never run as shell code; each variable is exported as it closes.
load_vars() {
  file="$1"
  [ -f "$file" ] || return 0
  n=0
  open=""
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    if [ -z "$open" ]; then
      [ -n "$line" ] || continue
      key="${line%%=*}"
      case "$key" in
        "$line" | "" | [0-9]* | *[!A-Za-z0-9_]*) fail "$file line $n is not a KEY='value' line" 65 ;;
      esac
      rest="${line#*=}"
      case "$rest" in
        \'*) rest="${rest#\'}" ;;
        *) fail "$file line $n: the value of $key is not single-quoted" 65 ;;
      esac
      value=""
      open=1
    else
      rest="$line"
      value="$value
"
    fi
    while [ -n "$open" ]; do
      case "$rest" in
        *\'*)
          value="$value${rest%%\'*}"
          rest="${rest#*\'}"
          case "$rest" in
            "")
              export "$key=$value"
              open=""
              ;;
            \\\'\'*)
              value="$value'"
              rest="${rest#???}"
              ;;
            *) fail "$file line $n: unexpected text after the value of $key" 65 ;;
          esac
          ;;
        *)
          value="$value$rest"
          break
          ;;
      esac
    done
  done <"$file"
  [ -z "$open" ] || fail "$file ends inside the value of $key" 65
}

IN="$JOB_DIR/in"
load_vars "$IN/.env"
load_vars "$IN/.secret"
unset key value rest line open n file
cd "$IN" || fail "cannot enter $IN"

# The plugin needs no token of ours: it only ever opened this node's run input.
unset OPTIMUS_POD_TOKEN

# plugin.sh is written by the wrapper's build context: it execs the plugin's entrypoint.
[ -f "$OPT/plugin.sh" ] || fail "$OPT/plugin.sh is missing: run this image as a wrapper built by \`optimus plugin image\`" 64
. "$OPT/plugin.sh"
fail "the plugin's entrypoint did not start" 70
