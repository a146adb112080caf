#!/usr/bin/env bash
# npm start: install what is missing, bring up the stack (Kafka, schema registry, PostgreSQL,
# stripe-mock) and run ingest, mapper, scheduler, dispatcher and the admin API in the foreground.
# Ctrl-C stops the services; `npm run stack -- down` stops the stack.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/node.sh   # Node 24 LTS: the machine's, or one installed into .stack/node
sas_ensure_node_modules

bash scripts/stack.sh up
eval "$(bash scripts/stack.sh env)"
export KAFKA_BROKERS SCHEMA_REGISTRY_URL DATABASE_URL STRIPE_API_BASE

mkdir -p .stack/logs
if [ -z "${SECRETS_KEY:-}" ]; then
  # Development only: a key kept in the git-ignored cache. Production sets SECRETS_KEY itself.
  [ -f .stack/dev-secrets-key ] || node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64"))' > .stack/dev-secrets-key
  SECRETS_KEY="$(cat .stack/dev-secrets-key)"
  echo "SECRETS_KEY not set: using the development key in .stack/dev-secrets-key"
fi
export SECRETS_KEY
if [ -z "${ADMIN_TOKEN:-}" ]; then
  # Development only, like the key above: the admin API's bearer token for `sas`.
  [ -f .stack/dev-admin-token ] || node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("base64url"))' > .stack/dev-admin-token
  ADMIN_TOKEN="$(cat .stack/dev-admin-token)"
fi
export ADMIN_TOKEN

dev="$(node --import tsx scripts/devIntegration.ts)"
integration="$(node -e 'console.log(JSON.parse(process.argv[1]).integrationId)' "$dev")"
secret="$(node -e 'console.log(JSON.parse(process.argv[1]).webhookSecret ?? "")' "$dev")"

node scripts/build.mjs   # the services run as plain JavaScript bundles (dist/)

pids=()
stop() {
  trap - INT TERM EXIT
  echo "stopping services..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait || true
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

for svc in ingest mapper scheduler dispatcher admin; do
  node --enable-source-maps "dist/$svc/main.js" > ".stack/logs/$svc.log" 2>&1 &
  pids+=("$!")
done

port="${INGEST_PORT:-3000}"
for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:$port/healthz" > /dev/null && break
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || { echo "a service exited; see .stack/logs/"; tail -n 20 .stack/logs/*.log; exit 1; }; done
  sleep 1
done

cat <<MSG

Pipeline running. Service logs: .stack/logs/{ingest,mapper,scheduler,dispatcher,admin}.log
Webhook URL for Stripe:  ${PUBLIC_BASE_URL:-http://127.0.0.1:$port}/webhooks/stripe/$integration
Forward test events:     stripe listen --forward-to http://127.0.0.1:$port/webhooks/stripe/$integration
                         (then restart with STRIPE_WEBHOOK_SECRET=<whsec_ it prints> to trust it)
Admin API:               http://127.0.0.1:${ADMIN_PORT:-3004}/openapi.json
The sas CLI:             export SAS_ADMIN_TOKEN="\$(cat .stack/dev-admin-token)"; npx sas --help   (or your own ADMIN_TOKEN)
MSG
[ -n "$secret" ] && echo "Signing secret of the new '$integration' integration: $secret"
echo "Ctrl-C to stop."
wait -n "${pids[@]}" || true
echo "a service exited; see .stack/logs/ (stopping the others)"
exit 1
