#!/usr/bin/env bash
# scripts/run.sh <command...>: runs the command on the project's Node (scripts/node.sh), for the
# package.json scripts, which npm may have started from an older machine node.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/node.sh"
exec "$@"
