# Sourced by .ci/run: makes PostgreSQL and Chromium available to the tests.
# Each step is idempotent and says what it did.

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# PostgreSQL: start the local server (installing it if missing), create a
# database for the tests, and point SFSYNC_POSTGRES_DSN at it.
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "installing postgresql"
  apt_install postgresql
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "starting postgresql"
  cluster_version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$cluster_version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_auth=postgres
  if ! psql -h 127.0.0.1 -U postgres -tAc 'select 1' >/dev/null 2>&1; then
    # A fresh Debian install asks for a password over TCP: give postgres one.
    su postgres -c "psql -qc \"alter user postgres password 'sfsync-ci'\"" >/dev/null
    export PGPASSWORD=sfsync-ci
    pg_auth=postgres:sfsync-ci
  fi
  if ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='sfsync_test'" 2>/dev/null | grep -q 1; then
    su postgres -c "createdb sfsync_test" 2>/dev/null || psql -h 127.0.0.1 -U postgres -c "create database sfsync_test" || true
  fi
  export SFSYNC_POSTGRES_DSN=${SFSYNC_POSTGRES_DSN:-postgres://$pg_auth@127.0.0.1:5432/sfsync_test?sslmode=disable}
  echo "postgresql ready: $SFSYNC_POSTGRES_DSN"
else
  echo "postgresql did not start; its tests will skip"
fi

# Chromium for the browser test of the reference server.
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium"
  apt_install chromium chromium-driver || echo "chromium could not be installed; the browser test will skip"
fi
