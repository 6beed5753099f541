#!/usr/bin/env bash
# Serve Digit Lens from N Streamlit processes behind nginx, with sticky sessions.
#
#   bash scripts/serve-many.sh N [--port 8501] [--address 127.0.0.1] [--first-port 8601]
#
# Starts N × `streamlit run serve.py` on 127.0.0.1:first-port.. (never reachable
# from outside), waits until each answers, then nginx on --address:--port in the
# foreground (deploy/nginx.conf.template: WebSocket-aware, a cookie pins each
# browser to one process). Ctrl-C or SIGTERM stops nginx and every process; so
# does any of them exiting. --address 0.0.0.0 to serve a classroom's network.
# Installs Debian's nginx with apt-get if it is missing. One process per core is
# the rule of thumb: a Streamlit process runs its sessions' scripts under one GIL.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 N [--port 8501] [--address 127.0.0.1] [--first-port 8601]" >&2; exit 2; }
[ $# -ge 1 ] || usage
COUNT=$1; shift
[[ $COUNT =~ ^[1-9][0-9]*$ ]] || usage
PORT=8501 ADDRESS=127.0.0.1 FIRST=8601
while [ $# -gt 0 ]; do
  case $1 in
    --port) PORT=$2; shift 2 ;;
    --address) ADDRESS=$2; shift 2 ;;
    --first-port) FIRST=$2; shift 2 ;;
    *) usage ;;
  esac
done

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
if [ ! -x "$NGINX" ]; then
  echo "== installing nginx (Debian package)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx >/dev/null
  NGINX=/usr/sbin/nginx
fi
PYTHON=.venv/bin/python
[ -x "$PYTHON" ] || PYTHON=python3

RUN=$(mktemp -d "${TMPDIR:-/tmp}/digit-lens-serve.XXXXXX")
chmod 755 "$RUN"  # nginx's workers may run as another user
PIDS=()
stop_all() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$RUN"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

# One secret for all: a cookie Streamlit signs in one process is valid in the others.
export STREAMLIT_SERVER_COOKIE_SECRET=${STREAMLIT_SERVER_COOKIE_SECRET:-$("$PYTHON" -c 'import secrets; print(secrets.token_hex(32))')}
SERVERS=""
for ((i = 0; i < COUNT; i++)); do
  port=$((FIRST + i))
  # The rest of the settings come from .streamlit/config.toml, read from here.
  "$PYTHON" -m streamlit run serve.py --server.port "$port" --server.address 127.0.0.1 \
    >"$RUN/streamlit-$port.log" 2>&1 &
  PIDS+=($!)
  SERVERS+="        server 127.0.0.1:$port max_fails=0;"$'\n'
done

# Each process must answer before nginx sends it anybody.
"$PYTHON" - "$FIRST" "$COUNT" <<'EOF'
import sys, time, urllib.request
first, count = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 120
for port in range(first, first + count):
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                sys.exit(f"Digit Lens on port {port} did not start; see its log")
            time.sleep(0.3)
EOF

TEMPLATE=deploy/nginx.conf.template
while IFS= read -r line; do
  if [ "$line" = "@SERVERS@" ]; then printf '%s' "$SERVERS"; continue; fi
  line=${line//@RUN@/$RUN}; line=${line//@PORT@/$PORT}; line=${line//@ADDRESS@/$ADDRESS}
  printf '%s\n' "$line"
done <"$TEMPLATE" >"$RUN/nginx.conf"
"$NGINX" -t -q -p "$RUN" -c "$RUN/nginx.conf"
"$NGINX" -p "$RUN" -c "$RUN/nginx.conf" -g "daemon off;" &
PIDS+=($!)
echo "Digit Lens: http://$ADDRESS:$PORT/ -> $COUNT processes on 127.0.0.1:$FIRST-$((FIRST + COUNT - 1)) (logs in $RUN)"
# Serve until stopped, or until any process ends (then stop the rest).
wait -n "${PIDS[@]}"
echo "Digit Lens: a process ended; stopping" >&2
exit 1
