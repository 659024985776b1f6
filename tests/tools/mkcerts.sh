#!/bin/sh
#
# mkcerts.sh - make the throw-away PKI used by the HTTPS fetch tests.
#
# Usage: mkcerts.sh DIR
#
# Creates in DIR (made if missing), with the openssl CLI only, EC P-256 keys:
#
#   ca.pem / ca.key               test root CA ("rlm_mud test CA")
#   cadir/                        hashed CA directory (for CAPATH) holding ca.pem
#   server.pem / server.key       signed by ca, SAN DNS:localhost, IP:127.0.0.1, IP:::1,
#                                 valid from now for 30 days
#   expired.pem / expired.key     signed by ca, same SAN, validity 2020-01-01..2020-02-01
#                                 (entirely in the past)
#   wronghost.pem / wronghost.key signed by ca, SAN DNS:wrong.example only
#   other-ca.pem / other-ca.key   a second, unrelated root CA
#   untrusted.pem / untrusted.key signed by other-ca, same SAN as server.pem
#
# Every *.pem leaf holds the leaf certificate only (no chain).
#
# Idempotent: if all files exist and the certificates that should be valid stay
# valid for another day, nothing is done. Otherwise everything is regenerated.
# Quiet: prints nothing on success; on failure prints the openssl output and
# exits non-zero (exit 2 if the openssl CLI is missing).
#
# Never point DIR into the source tree: these are generated at test time into a
# mktemp directory and must not be committed (they expire).
#
set -eu

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 DIR" >&2
	exit 1
fi
DIR=$1

OPENSSL=${OPENSSL:-openssl}
if ! command -v "$OPENSSL" >/dev/null 2>&1; then
	echo "mkcerts.sh: the openssl command line tool ($OPENSSL) is not installed" >&2
	exit 2
fi

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)

ALL="ca.pem ca.key server.pem server.key expired.pem expired.key wronghost.pem
wronghost.key other-ca.pem other-ca.key untrusted.pem untrusted.key"

# Fast path: everything present and still valid for a day.
uptodate=yes
for f in $ALL; do
	[ -s "$DIR/$f" ] || uptodate=no
done
[ -d "$DIR/cadir" ] || uptodate=no
if [ "$uptodate" = yes ]; then
	for f in ca.pem server.pem wronghost.pem other-ca.pem untrusted.pem; do
		"$OPENSSL" x509 -checkend 86400 -noout -in "$DIR/$f" >/dev/null 2>&1 || uptodate=no
	done
fi
[ "$uptodate" = yes ] && exit 0

WORK=$(mktemp -d "$DIR/.mkcerts.XXXXXX")
LOG=$WORK/log
trap 'rm -rf "$WORK"' EXIT

fail()
{
	echo "mkcerts.sh: $1 failed; openssl said:" >&2
	cat "$LOG" >&2
	exit 1
}

# Quiet wrapper: run openssl, keep its chatter in $LOG.
ossl()
{
	what=$1
	shift
	"$OPENSSL" "$@" >"$LOG" 2>&1 || fail "$what"
}

cat >"$WORK/openssl.cnf" <<'EOF'
# Minimal configuration for "openssl req" and "openssl ca" (test use only).
[ ca ]
default_ca		= testca

[ testca ]
dir			= $ENV::MKCERTS_CADIR
database		= $dir/index.txt
new_certs_dir		= $dir/new
serial			= $dir/serial
default_md		= sha256
default_days		= 30
policy			= policy_any
unique_subject		= no
copy_extensions		= none
email_in_dn		= no

[ policy_any ]
organizationName	= optional
commonName		= supplied

[ req ]
distinguished_name	= req_dn
prompt			= no
string_mask		= utf8only

[ req_dn ]
CN			= placeholder

[ ext_ca ]
basicConstraints	= critical, CA:TRUE
keyUsage		= critical, keyCertSign, cRLSign
subjectKeyIdentifier	= hash

[ ext_server ]
basicConstraints	= critical, CA:FALSE
keyUsage		= critical, digitalSignature
extendedKeyUsage	= serverAuth
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid
subjectAltName		= $ENV::MKCERTS_SAN
EOF
CNF=$WORK/openssl.cnf
GOOD_SAN="DNS:localhost, IP:127.0.0.1, IP:::1"

# newkey NAME: EC P-256 private key in $WORK/NAME.key
newkey()
{
	ossl "key $1" genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$WORK/$1.key"
}

# newca NAME CN: self-signed root, plus an "openssl ca" database in $WORK/db-NAME
newca()
{
	newkey "$1"
	MKCERTS_CADIR=$WORK/db-$1 MKCERTS_SAN=$GOOD_SAN \
		ossl "CA $1" req -config "$CNF" -new -x509 -key "$WORK/$1.key" \
		-subj "/O=rlm_mud tests/CN=$2" -days 3650 -sha256 -extensions ext_ca \
		-out "$WORK/$1.pem"
	mkdir -p "$WORK/db-$1/new"
	: >"$WORK/db-$1/index.txt"
	echo 01 >"$WORK/db-$1/serial"
}

# leaf NAME CA CN SAN [openssl ca date options...]
leaf()
{
	name=$1
	ca=$2
	cn=$3
	san=$4
	shift 4
	newkey "$name"
	MKCERTS_CADIR=$WORK/db-$ca MKCERTS_SAN=$san \
		ossl "CSR $name" req -config "$CNF" -new -key "$WORK/$name.key" \
		-subj "/O=rlm_mud tests/CN=$cn" -out "$WORK/$name.csr"
	MKCERTS_CADIR=$WORK/db-$ca MKCERTS_SAN=$san \
		ossl "sign $name" ca -config "$CNF" -batch -notext \
		-cert "$WORK/$ca.pem" -keyfile "$WORK/$ca.key" \
		-extensions ext_server -in "$WORK/$name.csr" -out "$WORK/$name.pem" "$@"
}

newca ca "rlm_mud test CA"
newca other-ca "rlm_mud other CA"
leaf server ca localhost "$GOOD_SAN" -days 30
leaf expired ca localhost "$GOOD_SAN" -startdate 20200101000000Z -enddate 20200201000000Z
leaf wronghost ca wrong.example "DNS:wrong.example"
leaf untrusted other-ca localhost "$GOOD_SAN" -days 30

mkdir -p "$WORK/cadir"
cp "$WORK/ca.pem" "$WORK/cadir/ca.pem"
ossl "rehash" rehash "$WORK/cadir"

# Install: keys private, then move into place.
for f in $ALL; do
	case $f in
	*.key) chmod 600 "$WORK/$f" ;;
	esac
	mv -f "$WORK/$f" "$DIR/$f"
done
rm -rf "$DIR/cadir"
mv "$WORK/cadir" "$DIR/cadir"
exit 0
