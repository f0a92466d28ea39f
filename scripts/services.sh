#!/usr/bin/env bash
# Throwaway PostgreSQL, Redis and S3 API (moto) servers on 127.0.0.1 for the tests.
# Source it, then `services_start` (exports TZZR_TEST_*) and `services_stop`.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

services_start() {
  SERVICES_DIR=$(mktemp -d /tmp/tzzr-services.XXXXXX)
  export SERVICES_DIR
  local pgbin pg_port redis_port s3_port as_pg=()
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  pg_port=$(free_port)
  mkdir -p "$SERVICES_DIR/pg"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$SERVICES_DIR/pg"
    chmod 755 "$SERVICES_DIR"
    as_pg=(runuser -u postgres --)
  fi
  "${as_pg[@]}" "$pgbin/initdb" -D "$SERVICES_DIR/pg/data" -A trust -U postgres --no-sync \
    >"$SERVICES_DIR/pg-init.log" 2>&1 || { cat "$SERVICES_DIR/pg-init.log" >&2; return 1; }
  "${as_pg[@]}" "$pgbin/pg_ctl" -D "$SERVICES_DIR/pg/data" -l "$SERVICES_DIR/pg/log" -w \
    -o "-p $pg_port -k $SERVICES_DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    start >/dev/null || { cat "$SERVICES_DIR/pg/log" >&2; return 1; }
  export TZZR_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$pg_port/postgres"
  SERVICES_PGBIN=$pgbin

  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$SERVICES_DIR/redis.pid" --dir "$SERVICES_DIR" \
    --logfile "$SERVICES_DIR/redis.log"
  export TZZR_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"

  s3_port=$(free_port)
  .venv/bin/moto_server -H 127.0.0.1 -p "$s3_port" >"$SERVICES_DIR/moto.log" 2>&1 &
  echo $! >"$SERVICES_DIR/moto.pid"
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$s3_port/" >/dev/null 2>&1 && break
    sleep 0.1
  done
  export TZZR_TEST_S3_ENDPOINT="http://127.0.0.1:$s3_port"
  echo "services: postgresql :$pg_port, redis :$redis_port, s3 (moto) :$s3_port" >&2
}

services_stop() {
  [ -n "${SERVICES_DIR:-}" ] || return 0
  [ -f "$SERVICES_DIR/moto.pid" ] && kill "$(cat "$SERVICES_DIR/moto.pid")" 2>/dev/null
  [ -f "$SERVICES_DIR/redis.pid" ] && kill "$(cat "$SERVICES_DIR/redis.pid")" 2>/dev/null
  if [ -d "$SERVICES_DIR/pg/data" ]; then
    if [ "$(id -u)" -eq 0 ]; then
      runuser -u postgres -- "$SERVICES_PGBIN/pg_ctl" -D "$SERVICES_DIR/pg/data" -m immediate stop >/dev/null 2>&1
    else
      "$SERVICES_PGBIN/pg_ctl" -D "$SERVICES_DIR/pg/data" -m immediate stop >/dev/null 2>&1
    fi
  fi
  rm -rf "$SERVICES_DIR"
}
