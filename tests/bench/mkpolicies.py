#!/usr/bin/env python3
"""mkpolicies.py - many distinct signed MUD files for the memory benchmark.

Writes DIR/<prefix><i>.json and DIR/<prefix><i>.p7s for i in 0..COUNT-1 from one
template (tests/integration/mud/device.json.in): @URL@ becomes the file's own URL,
BASE/<prefix><i>.json, and each file gets content of its own (model name "Luminaire <i>",
service port 1024 + i % 60000), so every file compiles to a policy of its own (own
lines, own dACL names). Each file is signed with the given signer as a detached DER CMS
SignedData over the exact bytes (what "openssl cms -sign -binary -md sha256 -outform DER"
makes, tests/tools/mksig.sh): with the python3 cryptography package when it is there
(one process, thousands of files per second), else one openssl process per file.
Prints the number of files and the signing method; asserts nothing.

  mkpolicies.py --template T --dir D --base https://localhost:PORT/it --count 10000 \\
                --cert signer.pem --key signer.key [--prefix p]
"""
import argparse
import os
import subprocess
import sys


def signer_cryptography(cert_path, key_path):
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.serialization import pkcs7
    except ImportError:
        return None
    with open(cert_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    with open(key_path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    opts = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]

    def sign(data, out):
        der = (pkcs7.PKCS7SignatureBuilder().set_data(data)
               .add_signer(cert, key, hashes.SHA256())
               .sign(serialization.Encoding.DER, opts))
        with open(out, "wb") as f:
            f.write(der)
    return sign


def signer_openssl(cert_path, key_path):
    def sign(data, out):
        subprocess.run(["openssl", "cms", "-sign", "-binary", "-md", "sha256",
                        "-outform", "DER", "-signer", cert_path, "-inkey", key_path,
                        "-out", out], input=data, check=True, stdout=subprocess.DEVNULL)
    return sign


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--template", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--base", required=True, help="URL of DIR, without a trailing /")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--prefix", default="p")
    args = ap.parse_args()
    with open(args.template) as f:
        template = f.read()
    if "@URL@" not in template or "Luminaire 150" not in template or '"port": 443' not in template:
        print("mkpolicies.py: the template lacks @URL@, \"Luminaire 150\" or port 443",
              file=sys.stderr)
        return 1
    sign = signer_cryptography(args.cert, args.key)
    method = "python3-cryptography"
    if sign is None:
        sign = signer_openssl(args.cert, args.key)
        method = "openssl cms (one process per file)"
    os.makedirs(args.dir, exist_ok=True)
    for i in range(args.count):
        name = "%s%d" % (args.prefix, i)
        text = (template.replace("@URL@", "%s/%s.json" % (args.base, name))
                .replace("Luminaire 150", "Luminaire %d" % i)
                .replace('"port": 443', '"port": %d' % (1024 + i % 60000)))
        data = text.encode()
        with open(os.path.join(args.dir, name + ".json"), "wb") as f:
            f.write(data)
        sign(data, os.path.join(args.dir, name + ".p7s"))
    print("%d signed MUD files (%s)" % (args.count, method))
    return 0


if __name__ == "__main__":
    sys.exit(main())
