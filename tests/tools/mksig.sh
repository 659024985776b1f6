#!/bin/sh
#
# mksig.sh - make throw-away MUD signing keys/certificates and detached CMS
# signatures with the openssl CLI. Nothing it makes may be committed: the
# certificates expire. Callers create DIR (e.g. with mktemp -d) and remove it.
#
# Usage:
#   mksig.sh init DIR
#	Creates, all EC P-256 / SHA-256, PEM:
#	  DIR/signer-ca.pem  DIR/signer-ca.key	  root "CN=rlm_mud test MUD signer CA"
#	  DIR/signer.pem     DIR/signer.key	  leaf by signer-ca, valid now for 2 years
#	  DIR/expired-signer.pem .key		  leaf by signer-ca, valid only in 2020
#	  DIR/rogue-ca.pem   DIR/rogue-ca.key	  an unrelated root
#	  DIR/rogue-signer.pem .key		  leaf by rogue-ca, valid now
#	  DIR/int-ca.pem     DIR/int-ca.key	  intermediate CA by signer-ca
#	  DIR/int-signer.pem .key		  leaf by int-ca, valid now for 2 years
#	The leaves carry keyUsage=digitalSignature and no extendedKeyUsage (like
#	real MUD signers, which often lack emailProtection). Also leaves
#	DIR/ca-db/ (openssl ca state) and DIR/openssl.cnf behind.
#
#   mksig.sh sign [--pem] [--embed] [--nocerts] [--certfile PEM] DIR SIGNER FILE [OUT]
#	Signs FILE with DIR/SIGNER.pem + DIR/SIGNER.key (SIGNER is signer,
#	expired-signer or rogue-signer, or any other name made in DIR) as a
#	detached DER CMS SignedData (RFC 8520 section 13.2, the ".p7s"), with
#	-binary (no MIME canonicalisation) and the signer certificate included.
#	OUT defaults to FILE with a trailing ".json" replaced by ".p7s"
#	(FILE.p7s when FILE does not end in .json).
#	  --pem	    write PEM ("-----BEGIN CMS-----") instead of DER
#	  --embed   embed the content (not detached; for negative tests)
#	  --nocerts do not include the signer certificate
#	  --certfile PEM  also include the certificates of PEM (intermediates)
#
# Exit status: 0 on success, 1 on failure (message on stderr), 2 on usage error.
set -eu

die() {
	echo "mksig.sh: $*" >&2
	exit 1
}

usage() {
	sed -n '2,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

command -v openssl >/dev/null 2>&1 || die "openssl CLI not found in PATH"

# A self-contained config, so the system openssl.cnf plays no part.
write_cnf() {
	cat >"$1/openssl.cnf" <<EOF
[ req ]
distinguished_name	= req_dn
prompt			= no

[ req_dn ]
CN			= unused

[ ca ]
default_ca		= ca_default

[ ca_default ]
database		= $1/ca-db/index.txt
new_certs_dir		= $1/ca-db
serial			= $1/ca-db/serial
default_md		= sha256
policy			= policy_any
unique_subject		= no
copy_extensions		= none
email_in_dn		= no
x509_extensions		= signer_ext

[ policy_any ]
organizationName	= optional
commonName		= supplied

[ root_ext ]
basicConstraints	= critical, CA:TRUE
keyUsage		= critical, keyCertSign, cRLSign
subjectKeyIdentifier	= hash

[ int_ext ]
basicConstraints	= critical, CA:TRUE, pathlen:0
keyUsage		= critical, keyCertSign, cRLSign
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid

[ signer_ext ]
basicConstraints	= critical, CA:FALSE
keyUsage		= critical, digitalSignature
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid
EOF
}

newkey() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null \
		|| die "cannot generate key $1"
	chmod 600 "$1"
}

# root DIR NAME SUBJECT
root() {
	newkey "$1/$2.key"
	openssl req -config "$1/openssl.cnf" -new -x509 -sha256 -days 3650 \
		-key "$1/$2.key" -subj "$3" -extensions root_ext -set_serial "0x$(rand_serial)" \
		-out "$1/$2.pem" || die "cannot make root $2"
}

# leaf DIR NAME CA SUBJECT [openssl ca validity options...]
leaf() {
	d=$1
	n=$2
	ca=$3
	subj=$4
	shift 4
	newkey "$d/$n.key"
	openssl req -config "$d/openssl.cnf" -new -sha256 -key "$d/$n.key" -subj "$subj" \
		-out "$d/ca-db/$n.csr" || die "cannot make request for $n"
	openssl ca -batch -notext -config "$d/openssl.cnf" \
		-cert "$d/$ca.pem" -keyfile "$d/$ca.key" -in "$d/ca-db/$n.csr" \
		-out "$d/$n.pem" "$@" 2>"$d/ca-db/$n.log" \
		|| { cat "$d/ca-db/$n.log" >&2; die "cannot issue $n"; }
}

rand_serial() {
	openssl rand -hex 8
}

cmd_init() {
	[ $# -eq 1 ] || usage
	d=$1
	mkdir -p "$d/ca-db" || die "cannot create $d"
	: >"$d/ca-db/index.txt"
	rand_serial >"$d/ca-db/serial"
	write_cnf "$d"

	root "$d" signer-ca "/O=rlm_mud test/CN=rlm_mud test MUD signer CA"
	leaf "$d" signer signer-ca "/O=rlm_mud test/CN=mud-signer.example.com" -days 730
	leaf "$d" expired-signer signer-ca "/O=rlm_mud test/CN=expired-signer.example.com" \
		-startdate 20200101000000Z -enddate 20210101000000Z
	root "$d" rogue-ca "/O=rlm_mud rogue/CN=rlm_mud rogue CA"
	leaf "$d" rogue-signer rogue-ca "/O=rlm_mud rogue/CN=mud-signer.example.com" -days 730
	leaf "$d" int-ca signer-ca "/O=rlm_mud test/CN=rlm_mud test intermediate CA" \
		-days 1825 -extensions int_ext
	leaf "$d" int-signer int-ca "/O=rlm_mud test/CN=int-signer.example.com" -days 730
}

cmd_sign() {
	form=DER
	detach=
	certs=
	certfile=
	while [ $# -gt 0 ]; do
		case $1 in
		--pem) form=PEM ;;
		--embed) detach=-nodetach ;;
		--nocerts) certs=-nocerts ;;
		--certfile) [ $# -ge 2 ] || usage; certfile=$2; shift ;;
		--) shift; break ;;
		-*) usage ;;
		*) break ;;
		esac
		shift
	done
	[ $# -eq 3 ] || [ $# -eq 4 ] || usage
	d=$1
	s=$2
	f=$3
	case $f in
	*.json) out=${f%.json}.p7s ;;
	*) out=$f.p7s ;;
	esac
	[ $# -eq 4 ] && out=$4
	if [ ! -r "$d/$s.pem" ] || [ ! -r "$d/$s.key" ]; then
		die "no signer $s in $d (run init first)"
	fi
	[ -r "$f" ] || die "cannot read $f"
	# $detach and $certs are deliberately unquoted: empty or one word.
	# shellcheck disable=SC2086
	if [ -n "$certfile" ]; then
		set -- -certfile "$certfile"
	else
		set --
	fi
	openssl cms -sign -binary -md sha256 -outform "$form" -in "$f" \
		-signer "$d/$s.pem" -inkey "$d/$s.key" $detach $certs "$@" -out "$out" \
		|| die "cannot sign $f"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
init) cmd_init "$@" ;;
sign) cmd_sign "$@" ;;
-h|--help|help) usage ;;
*) usage ;;
esac
