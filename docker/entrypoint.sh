#!/bin/sh
# The container's entrypoint: bring the schema up to date, then run the role asked for.
#
#   leadflow-entrypoint serve [ARGS]    the web app, API and (unless --no-worker) the worker
#   leadflow-entrypoint worker [ARGS]   a worker process only
#   leadflow-entrypoint COMMAND [ARGS]  any other `leadflow` command (e.g. playbook apply FILE)
#
# Configuration is the environment only (LEADFLOW_DATABASE_URL, LEADFLOW_HOST, LEADFLOW_PORT,
# LEADFLOW_WORKERS, ...). LEADFLOW_MIGRATE=0 skips the migration step, for processes that start
# after one that migrates (two processes migrating one PostgreSQL at once would race).
set -eu

role="${1:-serve}"
if [ "$#" -gt 0 ]; then shift; fi

if [ "${LEADFLOW_MIGRATE:-1}" != "0" ]; then
    leadflow init
fi

case "$role" in
    serve)
        exec leadflow serve --host "${LEADFLOW_HOST:-0.0.0.0}" --port "${LEADFLOW_PORT:-8000}" \
            --workers "${LEADFLOW_WORKERS:-1}" "$@"
        ;;
    worker)
        exec leadflow worker "$@"
        ;;
    migrate)
        exit 0
        ;;
    *)
        exec leadflow "$role" "$@"
        ;;
esac
