#!/usr/bin/env bash
# Builds the Debian package of Tessera from a built server binary (the console is inside
# it): scripts/package.sh BINARY OUT.deb. The settings file lists every TESSERA_ setting
# of that binary's --help, commented out with its default, so it never falls behind.
set -euo pipefail
bin=$1 out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

version=$("$bin" --version | awk '{print $2}')
install -D -m 0755 "$bin" "$stage/usr/bin/tessera-server"
strip --strip-unneeded "$stage/usr/bin/tessera-server"
install -D -m 0644 "$root/deploy/systemd/tessera.service" "$stage/lib/systemd/system/tessera.service"
install -d "$stage/etc/tessera" "$stage/DEBIAN" "$stage/usr/share/doc/tessera"
install -m 0644 "$root/README.md" "$stage/usr/share/doc/tessera/README.md"
printf 'Tessera\nLicense: %s (see the workspace Cargo.toml)\n' \
  "$(sed -n 's/^license = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -1)" > "$stage/usr/share/doc/tessera/copyright"
"$bin" --help | python3 "$root/scripts/env_file.py" > "$stage/etc/tessera/tessera.env"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$(dpkg --print-architecture)/" \
  "$root/deploy/debian/control" > "$stage/DEBIAN/control"
echo /etc/tessera/tessera.env > "$stage/DEBIAN/conffiles"
install -m 0755 "$root"/deploy/debian/{postinst,prerm,postrm} "$stage/DEBIAN/"
dpkg-deb --root-owner-group -Zgzip --build "$stage" "$out" >/dev/null
echo "built $out (tessera $version)"
