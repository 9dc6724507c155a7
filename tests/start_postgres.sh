#!/bin/sh
# Start the machine's Debian PostgreSQL for the tests and print its address (one line) on stdout.
# Idempotent and quick when it already runs. As root: installs PostgreSQL with apt-get when missing,
# creates the cluster, starts it, and creates the role and database `paperradar_test`.
# Not root: uses $PAPERRADAR_TEST_PG if set, else the running cluster (the role must exist).
set -eu
# Only the address goes to stdout (the Makefile reads it): every tool's chatter, such as
# pg_ctlcluster's "Removed stale pid file.", goes to stderr.
exec 3>&1 1>&2
ROLE=paperradar_test
PASSWORD=paperradar_test
say() { echo "start_postgres: $*" >&2; }

if [ -n "${PAPERRADAR_TEST_PG:-}" ]; then echo "$PAPERRADAR_TEST_PG" >&3; exit 0; fi

if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing postgresql with apt-get ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq postgresql >/dev/null
  else
    say "PostgreSQL is missing. Install it as root: apt-get install postgresql"; exit 1
  fi
fi

# the first cluster (Debian: pg_lsclusters), created when there is none
line=$(pg_lsclusters -h 2>/dev/null | head -n 1 || true)
if [ -z "$line" ]; then
  [ "$(id -u)" = 0 ] || { say "no PostgreSQL cluster; create one as root: pg_createcluster --start VERSION main"; exit 1; }
  version=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
  pg_createcluster "$version" main >/dev/null 3>&-
  line=$(pg_lsclusters -h | head -n 1)
fi
set -- $line
version=$1 cluster=$2 port=$3 status=$4
if [ "$status" != online ]; then
  [ "$(id -u)" = 0 ] || { say "PostgreSQL $version/$cluster is down; start it as root: pg_ctlcluster $version $cluster start"; exit 1; }
  pg_ctlcluster "$version" "$cluster" start 3>&-
fi

if [ "$(id -u)" = 0 ]; then
  psql_su() { su postgres -c "psql -p $port -Atq -v ON_ERROR_STOP=1 -c \"$1\"" ; }
  i=0; until su postgres -c "pg_isready -q -p $port"; do i=$((i+1)); [ $i -lt 50 ] || { say "PostgreSQL did not start"; exit 1; }; sleep 0.2; done
  if [ "$(psql_su "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
    psql_su "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'" >/dev/null
  fi
  if [ "$(psql_su "SELECT 1 FROM pg_database WHERE datname = '$ROLE'")" != 1 ]; then
    psql_su "CREATE DATABASE $ROLE OWNER $ROLE" >/dev/null
  fi
fi
echo "postgresql://$ROLE:$PASSWORD@127.0.0.1:$port/$ROLE" >&3
