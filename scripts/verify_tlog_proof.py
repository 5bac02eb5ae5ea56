#!/usr/bin/env python3
"""Verify a Cairn inclusion proof without Cairn: only Python's hashlib and pyca/cryptography.

Usage: verify_tlog_proof.py VKEY PROOF_FILE ENTRY_FILE

VKEY is the log's verifier key text (name+keyid+base64) or a file holding it; PROOF_FILE is a
C2SP tlog-proof (c2sp.org/tlog-proof@v1); ENTRY_FILE holds the exact leaf bytes
(`cairn get N --raw`). Exit status 0 when the proof is valid, 1 otherwise, with the reason.

This is the procedure of docs/auditors-guide.md, written out so it can be read in one sitting:
  1. parse the vkey: key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4];
  2. split the proof into header, index, proof hashes and the signed checkpoint;
  3. check the checkpoint's signature line from that key (Ed25519 over the note text);
  4. recompute the root from the leaf hash SHA-256(0x00 || entry) and the proof
     (RFC 9162 section 2.1.3.2), and compare it with the checkpoint's root.
"""
import base64
import hashlib
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def fail(reason):
    print("invalid: " + reason, file=sys.stderr)
    sys.exit(1)


def b64(text, what):
    try:
        return base64.b64decode(text, validate=True)
    except Exception:
        fail(f"{what} is not base64: {text!r}")


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    vkey, proof_path, entry_path = sys.argv[1:]
    if os.path.exists(vkey):
        vkey = open(vkey).read().strip()
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    key = b64(key_b64, "vkey key")
    if len(key) != 33 or key[0] != 0x01:
        fail("vkey is not an Ed25519 note key")
    key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    if key_id.hex() != key_id_hex:
        fail("vkey key ID does not match its key")
    public_key = Ed25519PublicKey.from_public_bytes(key[1:])

    text = open(proof_path, "rb").read().decode("utf-8")
    head, _, note = text.partition("\n\n")
    lines = head.split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        fail("line 1 is not c2sp.org/tlog-proof@v1")
    if lines[1].startswith("extra "):
        lines.pop(1)
    if not lines[1].startswith("index "):
        fail("line 2 is not 'index N'")
    index = int(lines[1][len("index "):])
    proof = [b64(line, "proof hash") for line in lines[2:]]

    # The signed note: text, blank line, signature lines ("— name base64(keyid || sig)").
    body, _, signatures = note.rpartition("\n\n")
    body += "\n"
    verified = False
    for line in signatures.strip("\n").split("\n"):
        prefix = "\u2014 " + name + " "
        if not line.startswith(prefix):
            continue
        sig = b64(line[len(prefix):], "signature")
        if sig[:4] != key_id:
            continue
        try:
            public_key.verify(sig[4:], body.encode())
        except InvalidSignature:
            fail("bad signature by " + name)
        verified = True
    if not verified:
        fail("wrong key: the checkpoint has no signature by " + vkey)
    origin, size_text, root_b64 = body.split("\n")[:3]
    if origin != name:
        fail(f"checkpoint origin {origin!r} is not the key name {name!r}")
    size, root = int(size_text), b64(root_b64, "root hash")

    # RFC 9162 section 2.1.3.2.
    if index >= size:
        fail(f"index {index} is out of range for tree size {size}")
    entry = open(entry_path, "rb").read()
    r = hashlib.sha256(b"\x00" + entry).digest()
    fn, sn = index, size - 1
    for p in proof:
        if sn == 0:
            fail("proof is too long")
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        fail("proof is too short")
    if r != root:
        fail("root mismatch: the proof leads to " + base64.b64encode(r).decode())
    print(f"valid: entry {index} is in {origin} at size {size}")


main()
