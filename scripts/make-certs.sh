#!/usr/bin/env bash
# make-certs.sh OUT_DIR [SERVER_NAME...]: a throw-away certificate authority
# and the files recsys-server and `recsys` need for TLS, mutual TLS and the
# admin token (docs/security.md). For demos, tests and compose; a real
# deployment uses certificates from its own CA (e.g. cert-manager).
#
# Writes into OUT_DIR (created; files readable by the owner only, except the
# certificates):
#   ca.pem                the CA certificate (give it to clients: --tls-ca,
#                         and to the server for mutual TLS: --tls-client-ca)
#   server.pem server.key the server's certificate and key (--tls-cert,
#                         --tls-key), valid for localhost, 127.0.0.1, ::1 and
#                         every SERVER_NAME given (e.g. recsys-server)
#   client.pem client.key a client certificate with CN=recsys-admin, for
#                         mutual TLS (--tls-cert/--tls-key of `recsys`;
#                         --admin-client-names recsys-admin on the server)
#   admin-token           a random admin token (--admin-token-file)
# The CA key is deleted at the end: nothing else can be signed with it.
# Needs the openssl command. Certificates are valid for 30 days.
set -euo pipefail

if [[ $# -lt 1 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
out=$1
shift
command -v openssl >/dev/null || { echo "make-certs.sh: openssl is not installed" >&2; exit 1; }
mkdir -p "$out"
umask 077
cd "$out"

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for name in "$@"; do
  if [[ "$name" =~ ^[0-9.]+$ ]]; then san+=",IP:$name"; else san+=",DNS:$name"; fi
done

openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=recsys test CA" \
  -keyout ca.key -out ca.pem \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

sign() {  # sign NAME CN EXTENSIONS
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -days 30 -out "$1.pem" -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
sign server "${1:-localhost}" "subjectAltName=$san
extendedKeyUsage=serverAuth
basicConstraints=CA:FALSE"
sign client recsys-admin "subjectAltName=DNS:recsys-admin
extendedKeyUsage=clientAuth
basicConstraints=CA:FALSE"
rm -f ca.key ca.srl
openssl rand -hex 32 > admin-token
chmod 644 ca.pem server.pem client.pem
echo "make-certs.sh: wrote ca.pem server.pem server.key client.pem client.key admin-token to $out"
