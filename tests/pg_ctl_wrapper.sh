#!/usr/bin/env bash
# pg_ctl wrapper for the test suite (used by pytest-postgresql as its "executable").
#
# pg_ctl refuses to run as root. When run as root this script hands the data
# dir's parent (pytest's temporary folder) to the `postgres` user, makes the
# folders above it searchable, and runs the real pg_ctl as `postgres`.
# As a normal user it simply execs the real pg_ctl.
set -euo pipefail

find_pg_ctl() {
    local bindir candidate
    if bindir="$(pg_config --bindir 2>/dev/null)" && [[ -x "$bindir/pg_ctl" ]]; then
        echo "$bindir/pg_ctl"
        return 0
    fi
    # Newest version first (sort -V on the version directory).
    for candidate in $(printf '%s\n' /usr/lib/postgresql/*/bin/pg_ctl | sort -rV); do
        if [[ -x "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    echo "pg_ctl_wrapper: no pg_ctl found (pg_config --bindir, /usr/lib/postgresql/*/bin);" \
        "install the PostgreSQL server, e.g. apt-get install -y postgresql" >&2
    return 1
}

PG_CTL="$(find_pg_ctl)"

if [[ "$(id -u)" != "0" ]]; then
    exec "$PG_CTL" "$@"
fi

# Root: find the data directory from -D DIR / -DDIR / --pgdata DIR / --pgdata=DIR.
datadir=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
        -D | --pgdata) datadir="${args[i + 1]:-}" ;;
        -D?*) datadir="${args[i]#-D}" ;;
        --pgdata=*) datadir="${args[i]#--pgdata=}" ;;
    esac
done

workdir="/"
if [[ -n "$datadir" ]]; then
    parent="$(dirname "$(realpath -m "$datadir")")"
    mkdir -p "$parent"
    # Only once per folder: later calls (status, stop) find it already owned by postgres.
    if [[ "$(stat -c %U "$parent")" != "postgres" ]]; then
        chown -R postgres: "$parent"
    fi
    # Give "others" the search bit on every ancestor so postgres can reach the folder.
    dir="$(dirname "$parent")"
    while [[ "$dir" != "/" ]]; do
        chmod o+x "$dir"
        dir="$(dirname "$dir")"
    done
    workdir="$parent"
fi

# Run from a folder postgres can enter (the caller's cwd may be closed to it).
cd "$workdir"
exec runuser -u postgres -- "$PG_CTL" "$@"
