// Command tiles_verify reads a Cairn log through the C2SP tlog-tiles read API (https://c2sp.org/tlog-tiles) — over
// HTTP or from a static export directory — with Go's golang.org/x/mod/sumdb/tlog and sumdb/note, an implementation
// that shares no code with Cairn, and checks it against what Cairn says.
//
// Usage:
//
//	go run tiles_verify.go -vkey VKEY [-expect FILE] [-entries FILE] [-http-checks] [-old-trees] SOURCE...
//
// Each SOURCE is a URL prefix (http://host:port/) or a directory holding `cairn export tiles` output. For each:
//
//  1. fetch `checkpoint`, verify its signature with VKEY (note.Open) and parse origin, size and root;
//  2. read hashes through tlog.TileHashReader — which fetches `tile/<L>/<N>[.p/<W>]` tiles (tlog.Tile{H: 8} mapped
//     to C2SP paths: Go's own tile path without its height element) and authenticates every tile against the
//     checkpoint's root — and recompute the root with tlog.TreeHash;
//  3. fetch every entry bundle `tile/entries/<N>[.p/<W>]`, decode it (uint16 big-endian length ‖ entry), check that
//     each entry's RFC 6962 record hash equals the authenticated level-0 hash, and compare the entries with the
//     lines of -entries FILE;
//  4. fetch every hash tile of the tree and check it against the record hashes of the entries (level 0) or the
//     tiles below it, and the root recomputed from every entry against the checkpoint — independently of
//     TileHashReader, which does not authenticate every child tile it fetches;
//  5. for each line of -expect FILE — `root SIZE B64`, `inclusion INDEX SIZE B64,B64,…`,
//     `consistency OLD NEW B64,B64,…` (Cairn's roots and proofs) — compute the same with tlog.TreeHash,
//     tlog.ProveRecord and tlog.ProveTree from the tiles, require them equal, and check them with tlog.CheckRecord and
//     tlog.CheckTree;
//  6. with -old-trees, recompute each `root` line's tree hash through a TileHashReader for that older tree, which
//     fetches the partial tiles of that size (a server must keep serving them);
//  7. with -http-checks (URL sources): every tile and bundle is application/octet-stream with
//     `Cache-Control: public, max-age=31536000, immutable`, the checkpoint is text/plain; charset=utf-8 and not
//     cacheable for long, tiles beyond the tree are 404 and malformed tile paths 400 (or 404 from a static server).
//
// Prints one summary line per source and exits 1 on the first failure.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const immutable = "public, max-age=31536000, immutable"

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tiles-verify: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// source fetches resources relative to the log prefix.
type source struct {
	base       string // URL prefix ending in "/", or a directory
	isHTTP     bool
	httpChecks bool
	client     *http.Client
	fetches    int
}

// get returns the resource's bytes, or ok == false for a 404 / missing file.
func (s *source) get(path string) (data []byte, ok bool) {
	s.fetches++
	if !s.isHTTP {
		data, err := os.ReadFile(filepath.Join(s.base, filepath.FromSlash(path)))
		if os.IsNotExist(err) {
			return nil, false
		}
		if err != nil {
			fail("%s: %v", path, err)
		}
		return data, true
	}
	resp, err := s.client.Get(s.base + path)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, err = io.ReadAll(resp.Body)
	if err != nil {
		fail("GET %s: reading body: %v", path, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, false
	}
	if resp.StatusCode != http.StatusOK {
		fail("GET %s: status %d: %s", path, resp.StatusCode, data)
	}
	if s.httpChecks {
		ctype, cache := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control")
		if path == "checkpoint" {
			if ctype != "text/plain; charset=utf-8" {
				fail("GET checkpoint: Content-Type %q", ctype)
			}
			if strings.Contains(cache, "immutable") || cache == "" {
				fail("GET checkpoint: Cache-Control %q lets caches keep a mutable resource", cache)
			}
		} else {
			if ctype != "application/octet-stream" {
				fail("GET %s: Content-Type %q", path, ctype)
			}
			if cache != immutable {
				fail("GET %s: Cache-Control %q, want %q", path, cache, immutable)
			}
		}
	}
	return data, true
}

// status returns the HTTP status of GET path.
func (s *source) status(path string) int {
	resp, err := s.client.Get(s.base + path)
	if err != nil {
		fail("GET %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && strings.Contains(resp.Header.Get("Cache-Control"), "max-age=31536000") {
		fail("GET %s: status %d must not be cached for a year", path, resp.StatusCode)
	}
	return resp.StatusCode
}

// c2spPath maps a tlog tile of height 8 to its C2SP tlog-tiles path, two ways that must agree: Go's own sumdb path
// (tile/8/L/N[.p/W], tile/8/data/N for records) without the height element, and a direct formatting of the spec.
func c2spPath(t tlog.Tile) string {
	if t.H != 8 {
		fail("tile %v has height %d, not 8", t, t.H)
	}
	fromGo := "tile/" + strings.TrimPrefix(t.Path(), "tile/8/")
	fromGo = strings.Replace(fromGo, "tile/data/", "tile/entries/", 1)
	n := t.N
	group := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		group = fmt.Sprintf("x%03d/%s", n%1000, group)
	}
	level := strconv.Itoa(t.L)
	if t.L == -1 {
		level = "entries"
	}
	direct := "tile/" + level + "/" + group
	if t.W != 256 {
		direct += ".p/" + strconv.Itoa(t.W)
	}
	if direct != fromGo {
		fail("path mismatch for %+v: %s vs %s", t, direct, fromGo)
	}
	return direct
}

// tileReader is a tlog.TileReader over a source, caching by path (the TileHashReader re-authenticates every tile it
// is given on every call, so the cache holds nothing unverified for long).
type tileReader struct {
	src   *source
	cache map[string][]byte
}

func (r *tileReader) Height() int { return 8 }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := c2spPath(t)
		data, ok := r.cache[p]
		if !ok {
			data, ok = r.src.get(p)
			if !ok {
				return nil, fmt.Errorf("%s: not found", p)
			}
			r.cache[p] = data
		}
		out[i] = data
	}
	return out, nil
}

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

type checkpoint struct {
	size int64
	root tlog.Hash
	text []byte
}

func readCheckpoint(src *source, verifier note.Verifier) checkpoint {
	msg, ok := src.get("checkpoint")
	if !ok {
		fail("%s: no checkpoint", src.base)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint: note.Open: %v\n%s", err, msg)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[0] != verifier.Name() {
		fail("checkpoint body is not origin/size/root for %s: %q", verifier.Name(), n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || strconv.FormatInt(size, 10) != lines[1] {
		fail("bad tree size line %q", lines[1])
	}
	root := decodeHash(lines[2])
	return checkpoint{size: size, root: root, text: msg}
}

func decodeHash(s string) tlog.Hash {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != tlog.HashSize {
		fail("bad hash %q", s)
	}
	var h tlog.Hash
	copy(h[:], raw)
	return h
}

func decodeHashes(s string) []tlog.Hash {
	var out []tlog.Hash
	for _, f := range strings.Split(s, ",") {
		if f != "" {
			out = append(out, decodeHash(f))
		}
	}
	return out
}

func equalHashes(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func readLines(path string) []string {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		fail("%s: %v", path, err)
	}
	return lines
}

// mth is RFC 6962's Merkle Tree Hash of leaf hashes, straight from its recursive definition.
func mth(hashes []tlog.Hash) tlog.Hash {
	switch len(hashes) {
	case 0:
		return tlog.Hash(sha256.Sum256(nil))
	case 1:
		return hashes[0]
	}
	k := 1
	for k*2 < len(hashes) {
		k *= 2
	}
	return tlog.NodeHash(mth(hashes[:k]), mth(hashes[k:]))
}

func bundlePath(n int64, w int) string {
	return c2spPath(tlog.Tile{H: 8, L: -1, N: n, W: w})
}

func verifySource(src *source, verifier note.Verifier, expect, entries []string, oldTrees bool) {
	cp := readCheckpoint(src, verifier)
	tree := tlog.Tree{N: cp.size, Hash: cp.root}
	tr := &tileReader{src: src, cache: map[string][]byte{}}
	hr := tlog.TileHashReader(tree, tr)

	th, err := tlog.TreeHash(cp.size, hr)
	if err != nil {
		fail("TreeHash(%d) from tiles: %v", cp.size, err)
	}
	if th != cp.root {
		fail("root from tiles %v != checkpoint root %v", th, cp.root)
	}

	// Every entry, from the bundles, against the authenticated level-0 hashes.
	if entries != nil && int64(len(entries)) != cp.size {
		fail("expected %d entries, the checkpoint has size %d", len(entries), cp.size)
	}
	bundles := 0
	var leaves []tlog.Hash // record hashes of the bundles' entries
	for start := int64(0); start < cp.size; start += 256 {
		w := 256
		if cp.size-start < 256 {
			w = int(cp.size - start)
		}
		p := bundlePath(start/256, w)
		data, ok := src.get(p)
		if !ok {
			fail("%s: not found", p)
		}
		bundles++
		indexes := make([]int64, w)
		for i := range indexes {
			indexes[i] = tlog.StoredHashIndex(0, start+int64(i))
		}
		leafHashes, err := hr.ReadHashes(indexes)
		if err != nil {
			fail("leaf hashes %d..%d from tiles: %v", start, start+int64(w), err)
		}
		for i := 0; i < w; i++ {
			if len(data) < 2 {
				fail("%s: truncated at entry %d", p, i)
			}
			n := int(data[0])<<8 | int(data[1])
			if len(data) < 2+n {
				fail("%s: entry %d runs past the end", p, i)
			}
			entry := data[2 : 2+n]
			data = data[2+n:]
			leaves = append(leaves, tlog.RecordHash(entry))
			if tlog.RecordHash(entry) != leafHashes[i] {
				fail("%s: entry %d (leaf %d) does not hash to the level-0 tile hash", p, i, start+int64(i))
			}
			if entries != nil && !bytes.Equal(entry, []byte(entries[start+int64(i)])) {
				fail("%s: entry %d is %q, expected %q", p, start+int64(i), entry, entries[start+int64(i)])
			}
		}
		if len(data) != 0 {
			fail("%s: %d bytes after entry %d", p, len(data), w)
		}
	}

	// Every tile of the tree, checked without TileHashReader: level 0 against the entries' record hashes, each
	// higher level against the full tiles below it, and the root against the checkpoint. (TileHashReader alone is
	// not enough: when several of the tree's subtree hashes share a tile, it leaves some of the child tiles it
	// fetches unauthenticated — its loop starts at the number of subtree hashes, not of distinct tiles.)
	if mth(leaves) != cp.root {
		fail("the root recomputed from every entry of every bundle is not the checkpoint's root")
	}
	tiles := 0
	level := leaves
	for l := 0; len(level) > 0; l++ {
		var next []tlog.Hash
		for n := 0; n*256 < len(level); n++ {
			w := len(level) - n*256
			if w > 256 {
				w = 256
			}
			p := c2spPath(tlog.Tile{H: 8, L: l, N: int64(n), W: w})
			data, ok := src.get(p)
			if !ok {
				fail("%s: not found", p)
			}
			tiles++
			if len(data) != 32*w {
				fail("%s: %d bytes, want %d", p, len(data), 32*w)
			}
			for i := 0; i < w; i++ {
				if !bytes.Equal(data[32*i:32*i+32], level[n*256+i][:]) {
					fail("%s: hash %d is not the hash of the subtree below it (or of the entry)", p, i)
				}
			}
			if w == 256 {
				next = append(next, mth(level[n*256:n*256+256]))
			}
		}
		level = next
	}

	roots, inclusions, consistencies := 0, 0, 0
	rootAt := func(size int64) tlog.Hash {
		h, err := tlog.TreeHash(size, hr)
		if err != nil {
			fail("TreeHash(%d): %v", size, err)
		}
		return h
	}
	for _, line := range expect {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch {
		case f[0] == "root" && len(f) == 3:
			size, _ := strconv.ParseInt(f[1], 10, 64)
			want := decodeHash(f[2])
			if got := rootAt(size); got != want {
				fail("root of size %d from tiles %v, Cairn says %v", size, got, want)
			}
			if oldTrees && size > 0 {
				old := tlog.TileHashReader(tlog.Tree{N: size, Hash: want}, &tileReader{src: src, cache: map[string][]byte{}})
				if got, err := tlog.TreeHash(size, old); err != nil || got != want {
					fail("root of size %d through the tiles of that tree: %v %v", size, got, err)
				}
			}
			roots++
		case f[0] == "inclusion" && (len(f) == 3 || len(f) == 4):
			index, _ := strconv.ParseInt(f[1], 10, 64)
			size, _ := strconv.ParseInt(f[2], 10, 64)
			cairn := []tlog.Hash{}
			if len(f) == 4 {
				cairn = decodeHashes(f[3])
			}
			proof, err := tlog.ProveRecord(size, index, hr)
			if err != nil {
				fail("ProveRecord(%d, %d): %v", size, index, err)
			}
			if !equalHashes(proof, cairn) {
				fail("inclusion proof for %d in %d: Go computed %v from the tiles, Cairn issued %v", index, size, proof, cairn)
			}
			leaf, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
			if err != nil {
				fail("leaf %d: %v", index, err)
			}
			if err := tlog.CheckRecord(cairn, size, rootAt(size), index, leaf[0]); err != nil {
				fail("CheckRecord(%d in %d): %v", index, size, err)
			}
			inclusions++
		case f[0] == "consistency" && (len(f) == 3 || len(f) == 4):
			old, _ := strconv.ParseInt(f[1], 10, 64)
			size, _ := strconv.ParseInt(f[2], 10, 64)
			cairn := []tlog.Hash{}
			if len(f) == 4 {
				cairn = decodeHashes(f[3])
			}
			proof, err := tlog.ProveTree(size, old, hr)
			if err != nil {
				fail("ProveTree(%d, %d): %v", size, old, err)
			}
			if !equalHashes(proof, cairn) {
				fail("consistency proof %d -> %d: Go computed %v from the tiles, Cairn issued %v", old, size, proof, cairn)
			}
			if err := tlog.CheckTree(cairn, size, rootAt(size), old, rootAt(old)); err != nil {
				fail("CheckTree(%d -> %d): %v", old, size, err)
			}
			consistencies++
		default:
			fail("bad expect line %q", line)
		}
	}

	if src.isHTTP && src.httpChecks {
		// Beyond the tree: the next full level-0 tile and bundle, and a partial one entry wider.
		next := cp.size / 256
		for _, p := range []string{
			c2spPath(tlog.Tile{H: 8, L: 0, N: next, W: 256}),
			bundlePath(next, 256),
			c2spPath(tlog.Tile{H: 8, L: 0, N: next + 1, W: 1}),
			c2spPath(tlog.Tile{H: 8, L: 5, N: 0, W: 1}),
		} {
			if st := src.status(p); st != http.StatusNotFound {
				fail("GET %s beyond the tree: status %d, want 404", p, st)
			}
		}
		if w := int(cp.size % 256); w > 0 && w < 255 {
			if st := src.status(c2spPath(tlog.Tile{H: 8, L: 0, N: next, W: w + 1})); st != http.StatusNotFound {
				fail("GET a partial tile wider than the tree: status %d, want 404", st)
			}
		}
		for _, p := range []string{"tile/0/0", "tile/0/000.p/0", "tile/0/000.p/256", "tile/00/000", "tile/0/x000/000", "tile/entries/001.p/01"} {
			// cairn serve answers 400; a static file server, 404.
			if st := src.status(p); st != http.StatusBadRequest && st != http.StatusNotFound {
				fail("GET malformed %s: status %d, want 400 or 404", p, st)
			}
		}
	}

	fmt.Printf("tiles-verify: ok: %s: size %d, root verified against the signed checkpoint; %d entries in %d bundles; "+
		"%d tiles checked; %d roots, %d inclusion and %d consistency proofs equal to Cairn's; %d fetches\n",
		src.base, cp.size, cp.size, bundles, tiles, roots, inclusions, consistencies, src.fetches)
}

func main() {
	vkeyFile := flag.String("vkey", "", "verifier key file")
	expectFile := flag.String("expect", "", "Cairn's roots and proofs")
	entriesFile := flag.String("entries", "", "the expected entries, one per line")
	httpChecks := flag.Bool("http-checks", false, "check HTTP statuses and headers")
	oldTrees := flag.Bool("old-trees", false, "read each `root` line's tree through its own partial tiles")
	flag.Parse()
	if *vkeyFile == "" || flag.NArg() == 0 {
		fail("usage: tiles_verify -vkey VKEY [-expect FILE] [-entries FILE] [-http-checks] [-old-trees] SOURCE...")
	}
	vkey, err := os.ReadFile(*vkeyFile)
	if err != nil {
		fail("%v", err)
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		fail("vkey: %v", err)
	}
	expect := readLines(*expectFile)
	var entries []string
	if *entriesFile != "" {
		entries = readLines(*entriesFile)
	}
	for _, base := range flag.Args() {
		src := &source{base: base, client: &http.Client{}}
		if strings.HasPrefix(base, "http://") || strings.HasPrefix(base, "https://") {
			src.isHTTP = true
			src.httpChecks = *httpChecks
			if !strings.HasSuffix(src.base, "/") {
				src.base += "/"
			}
		}
		verifySource(src, verifier, expect, entries, *oldTrees && src.isHTTP)
	}
}
