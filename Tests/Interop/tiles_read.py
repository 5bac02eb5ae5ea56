#!/usr/bin/env python3
"""Independent C2SP tlog-tiles reader (https://c2sp.org/tlog-tiles), written from the spec with the Python standard
library only (hashlib, urllib). It shares no code with Cairn.

Usage: tiles_read.py SOURCE [--vkey VKEY] [--checkpoint FILE] [--entries FILE]

SOURCE is a URL prefix (http://host:port/) or a directory written by `cairn export tiles`. The reader

1. takes the checkpoint (SOURCE/checkpoint, or --checkpoint FILE: an older one the log published) and parses origin,
   size and root; with --vkey, verifies its Ed25519 signature when pyca/cryptography is installed (the signed-note
   format is simple enough to check here; without the library it says the signature was not checked);
2. fetches every entry bundle of that tree size and decodes it (uint16 big-endian length || entry);
3. fetches every hash tile of that tree size at every level and checks it: level 0 against SHA-256(0x00 || entry),
   level L against the RFC 6962 hashes of the full tiles below it;
4. recomputes the root from the entries (RFC 6962 MTH) and compares it with the checkpoint's;
5. with --entries, compares the entries with the file's lines.

A partial tile or bundle that is gone (a log MAY delete it once the full one exists) is read as the prefix of the
full one, as the spec suggests clients do. Prints one summary line and exits 1 on the first failure.
"""

import base64
import hashlib
import os
import sys
import urllib.error
import urllib.request


def fail(reason):
    print("tiles-read: FAIL: " + reason, file=sys.stderr)
    sys.exit(1)


def index_path(n):
    """N in zero-padded 3-digit groups, all but the last prefixed with x: 1234067 -> x001/x234/067."""
    groups = ["%03d" % (n % 1000)]
    n //= 1000
    while n > 0:
        groups.insert(0, "x%03d" % (n % 1000))
        n //= 1000
    return "/".join(groups)


def tile_path(level, n, width):
    name = "entries" if level is None else str(level)
    suffix = "" if width == 256 else ".p/%d" % width
    return "tile/%s/%s%s" % (name, index_path(n), suffix)


class Source:
    def __init__(self, base):
        self.base = base
        self.is_http = base.startswith("http://") or base.startswith("https://")
        if self.is_http and not self.base.endswith("/"):
            self.base += "/"
        self.fetches = 0
        self.fallbacks = 0

    def get(self, path):
        """The resource's bytes, or None when it does not exist."""
        self.fetches += 1
        if self.is_http:
            try:
                with urllib.request.urlopen(self.base + path) as response:
                    return response.read()
            except urllib.error.HTTPError as error:
                if error.code == 404:
                    return None
                fail("GET %s: status %d" % (path, error.code))
        full = os.path.join(self.base, *path.split("/"))
        if not os.path.isfile(full):
            return None
        with open(full, "rb") as f:
            return f.read()

    def get_tile(self, level, n, width, unit):
        """A tile (unit = 32) or bundle (unit = None) of `width`; falls back to the prefix of the full one."""
        data = self.get(tile_path(level, n, width))
        prefix = False
        if data is None and width < 256:
            full = self.get(tile_path(level, n, 256))
            if full is not None:
                self.fallbacks += 1
                data, prefix = (full[: 32 * width] if unit else full), True
        if data is None:
            fail("%s: not found" % tile_path(level, n, width))
        return data, prefix


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(hashes):
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node(mth(hashes[:k]), mth(hashes[k:]))


def parse_checkpoint(data, vkey):
    text = data.decode("utf-8")
    body, sep, signatures = text.partition("\n\n")
    if not sep:
        fail("checkpoint has no signature block")
    lines = body.split("\n")
    if len(lines) < 3:
        fail("checkpoint body is not origin/size/root")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or str(int(size_text)) != size_text:
        fail("bad tree size line %r" % size_text)
    root = base64.b64decode(root_text, validate=True)
    if len(root) != 32:
        fail("bad root line %r" % root_text)
    verified = "signature not checked"
    if vkey:
        name, key_id, key = vkey.strip().split("+", 2)
        raw = base64.b64decode(key)
        if name != origin or raw[0] != 1:
            fail("vkey %s is not an Ed25519 key named %s" % (vkey.strip(), origin))
        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        except ImportError:
            Ed25519PublicKey = None
        if Ed25519PublicKey is not None:
            message = (body + "\n").encode("utf-8")
            ok = False
            for line in signatures.rstrip("\n").split("\n"):
                if not line.startswith("\u2014 " + name + " "):
                    continue
                sig = base64.b64decode(line.rsplit(" ", 1)[1])
                if sig[:4].hex() != key_id:
                    continue
                try:
                    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(sig[4:], message)
                except Exception:
                    fail("the checkpoint's signature by %s does not verify" % vkey.strip())
                ok = True
            if not ok:
                fail("checkpoint has no signature by %s" % vkey.strip())
            verified = "signature verified"
    return int(size_text), root, verified


def main(argv):
    args = {"--vkey": None, "--checkpoint": None, "--entries": None}
    positional = []
    i = 0
    while i < len(argv):
        if argv[i] in args and i + 1 < len(argv):
            args[argv[i]] = argv[i + 1]
            i += 2
        else:
            positional.append(argv[i])
            i += 1
    if len(positional) != 1:
        fail(__doc__.split("\n\n")[1])
    src = Source(positional[0])
    vkey = open(args["--vkey"]).read() if args["--vkey"] else None
    if args["--checkpoint"]:
        data = open(args["--checkpoint"], "rb").read()
    else:
        data = src.get("checkpoint")
        if data is None:
            fail("%s: no checkpoint" % src.base)
    size, root, verified = parse_checkpoint(data, vkey)

    entries = []
    for n in range((size + 255) // 256):
        width = min(256, size - 256 * n)
        bundle, prefix = src.get_tile(None, n, width, None)
        offset = 0
        count = 0
        while offset < len(bundle) and count < width:
            if offset + 2 > len(bundle):
                fail("%s: truncated" % tile_path(None, n, width))
            length = bundle[offset] << 8 | bundle[offset + 1]
            if offset + 2 + length > len(bundle):
                fail("%s: entry %d runs past the end" % (tile_path(None, n, width), count))
            entries.append(bundle[offset + 2 : offset + 2 + length])
            offset += 2 + length
            count += 1
        if count != width or (offset != len(bundle) and not prefix):
            fail("%s: %d entries, want %d" % (tile_path(None, n, width), count, width))

    level_hashes = [hashlib.sha256(b"\x00" + e).digest() for e in entries]
    tiles = 0
    level = 0
    while level_hashes:
        above = []
        for n in range((len(level_hashes) + 255) // 256):
            width = min(256, len(level_hashes) - 256 * n)
            data, _ = src.get_tile(level, n, width, 32)
            tiles += 1
            if data != b"".join(level_hashes[256 * n : 256 * n + width]):
                fail("%s: not the hashes of the level below" % tile_path(level, n, width))
            if width == 256:
                above.append(mth(level_hashes[256 * n : 256 * n + 256]))
        level_hashes = above
        level += 1

    if mth([hashlib.sha256(b"\x00" + e).digest() for e in entries]) != root:
        fail("the root recomputed from the entries is not the checkpoint's root")
    if args["--entries"]:
        with open(args["--entries"], "rb") as f:
            expected = f.read().split(b"\n")
        if expected and expected[-1] == b"":
            expected.pop()
        if expected[: len(entries)] != entries:
            fail("the entries differ from %s" % args["--entries"])
    print(
        "tiles-read: ok: size %d, root matches (%s); %d entries, %d tiles checked; %d fetches, %d full-tile fallbacks"
        % (size, verified, len(entries), tiles, src.fetches, src.fallbacks)
    )


if __name__ == "__main__":
    main(sys.argv[1:])
