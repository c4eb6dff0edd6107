# Shared by ops/run and ops/test: the stack's environment and a development JWT secret.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export FIELDWORK_DATA=${FIELDWORK_DATA:-$root/.data}

ensure_swift() {
  if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then export PATH=/opt/swift/usr/bin:$PATH; fi
  command -v swift >/dev/null || { echo "swift 6 toolchain not found (expected on PATH or /opt/swift)" >&2; exit 1; }
}

load_stack_env() {
  eval "$("$root/ops/stack" env | sed 's/^/export /')"
  mkdir -p "$FIELDWORK_DATA"
  if [ -z "${JWT_SECRET:-}" ] && [ -z "${JWT_KEY_FILE:-}" ]; then
    [ -s "$FIELDWORK_DATA/jwt-secret" ] || (umask 077; head -c 48 /dev/urandom | base64 -w0 > "$FIELDWORK_DATA/jwt-secret")
    export JWT_KEY_FILE="$FIELDWORK_DATA/jwt-secret"
  fi
  export STORAGE_URL=${STORAGE_URL:-file://$FIELDWORK_DATA/objects}
}

# The demo staff account (development only): its bcrypt hash is made once and kept under .data/.
demo_staff() {
  local bin=$1
  if [ -z "${FIELDWORK_STAFF:-}" ]; then
    [ -s "$FIELDWORK_DATA/staff" ] || echo "staff@demo.fieldwork.test:$(echo fieldwork-staff-demo | "$bin" hash-password --cost 10)" > "$FIELDWORK_DATA/staff"
    export FIELDWORK_STAFF=$(cat "$FIELDWORK_DATA/staff")
  fi
}
