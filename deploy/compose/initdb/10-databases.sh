#!/bin/sh
# Runs once, when the postgres container initialises an empty data directory:
# Duban's database and Temporal's two, each owned by its own role.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
	-v duban_pw="$DUBAN_DB_PASSWORD" -v temporal_pw="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE duban LOGIN PASSWORD :'duban_pw';
CREATE DATABASE duban OWNER duban;
CREATE ROLE temporal LOGIN PASSWORD :'temporal_pw';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
SQL
