#!/usr/bin/env bash
# Builds the Debian package postgresql-$PG_MAJOR-pg-auth-ext from
# `cargo pgrx package`: the library, the control file, the install script
# and the upgrade scripts, for this machine's architecture. Prints the
# package's path (target/debian/…deb). Install with `apt install ./that.deb`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=../../stack/versions.env
. stack/versions.env
pg_config="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' pg_auth_ext/Cargo.toml | head -1)
architecture=$(dpkg --print-architecture)
name="postgresql-$PG_MAJOR-pg-auth-ext"
tree="target/debian/${name}_${version}_${architecture}"

rm -rf "$tree"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
python3 pg_auth_ext/upgrades/generate.py
if ! (cd pg_auth_ext && cargo pgrx package --pg-config "$pg_config" --out-dir "$root/$tree") >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
install -d "$tree/DEBIAN"
cat >"$tree/DEBIAN/control" <<CONTROL
Package: $name
Version: $version
Architecture: $architecture
Maintainer: pg_auth maintainers <root@localhost>
Depends: postgresql-$PG_MAJOR, libc6
Section: database
Priority: optional
Installed-Size: $(du -ks "$tree/usr" | cut -f1)
Description: cookie JWT authentication for PostgREST (PostgreSQL $PG_MAJOR extension)
 pg_auth_ext gives schema auth: users, sessions, refresh-token rotation,
 native JWT signing and bcrypt, and the PostgREST RPCs login, logout and
 refresh_token answering with Set-Cookie. Needs
 shared_preload_libraries = 'pg_auth_ext' and a key file.
CONTROL
dpkg-deb --root-owner-group --build "$tree" "$tree.deb" >/dev/null
echo "$tree.deb"
