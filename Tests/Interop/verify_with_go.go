// Command verify_with_go checks a Cairn ledger's public artifacts with Go's independent
// implementations of C2SP signed notes (golang.org/x/mod/sumdb/note) and RFC 6962 Merkle trees
// (golang.org/x/mod/sumdb/tlog). It shares no code with Cairn.
//
// Usage: go run verify_with_go.go DIR
//
// DIR holds what the Swift interop test produced through the `cairn` CLI:
//
//	vkey                    the ledger's verifier key
//	entries.jsonl           the records appended, one per line, already in canonical form
//	appended.jsonl          `cairn append` output lines: {"index":N,"digest":"sha256:…","duplicate":false}
//	checkpoints/N           `cairn checkpoint --size N` output
//	inclusion/I-S.proof     `cairn prove inclusion I --size S` output (C2SP tlog-proof)
//	consistency/M-N.proof   `cairn prove consistency --old M --size N` output (C2SP tlog-witness body)
//
// It checks that every digest is SHA-256 of its entry, recomputes every tree root from the entries
// with tlog, verifies every checkpoint's signature with note, verifies every proof with
// tlog.CheckRecord / tlog.CheckTree and compares it with tlog's own proof, and checks that a
// one-bit change to any proof hash or checkpoint root is rejected. It prints a summary and exits
// 1 on the first failure.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go-verify: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

// parseCheckpoint opens a signed note with the verifier and parses the C2SP tlog-checkpoint body.
func parseCheckpoint(msg []byte, verifier note.Verifier) checkpoint {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("note.Open: %v\n%s", err, msg)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		fail("checkpoint body is not origin/size/root: %q", n.Text)
	}
	if lines[0] != verifier.Name() {
		fail("checkpoint origin %q is not the key name %q", lines[0], verifier.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || strconv.FormatInt(size, 10) != lines[1] {
		fail("bad tree size line %q", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != 32 {
		fail("bad root hash line %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], raw)
	return checkpoint{origin: lines[0], size: size, root: root}
}

// splitProof parses "<header lines>\n<hash lines>\n\n<checkpoint>" into its parts.
func splitProof(data []byte, header func(lines []string) int) ([]string, []tlog.Hash, []byte) {
	blank := bytes.Index(data, []byte("\n\n"))
	if blank < 0 {
		fail("proof has no blank line:\n%s", data)
	}
	lines := strings.Split(string(data[:blank]), "\n")
	skip := header(lines)
	var hashes []tlog.Hash
	for _, l := range lines[skip:] {
		raw, err := base64.StdEncoding.DecodeString(l)
		if err != nil || len(raw) != 32 {
			fail("bad proof hash line %q", l)
		}
		var h tlog.Hash
		copy(h[:], raw)
		hashes = append(hashes, h)
	}
	return lines[:skip], hashes, data[blank+2:]
}

type memoryHashes []tlog.Hash

func (m memoryHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x >= int64(len(m)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

func flip(h tlog.Hash, bit int) tlog.Hash {
	h[bit/8] ^= 1 << (bit % 8)
	return h
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run verify_with_go.go DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			fail("%v", err)
		}
		return b
	}

	verifier, err := note.NewVerifier(strings.TrimSpace(string(read("vkey"))))
	if err != nil {
		fail("note.NewVerifier: %v", err)
	}

	// Entries and the digests cairn reported for them.
	var entries [][]byte
	sc := bufio.NewScanner(bytes.NewReader(read("entries.jsonl")))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		entries = append(entries, append([]byte(nil), sc.Bytes()...))
	}
	var appended []struct {
		Index     int64  `json:"index"`
		Digest    string `json:"digest"`
		Duplicate bool   `json:"duplicate"`
	}
	dec := json.NewDecoder(bytes.NewReader(read("appended.jsonl")))
	for dec.More() {
		var a struct {
			Index     int64  `json:"index"`
			Digest    string `json:"digest"`
			Duplicate bool   `json:"duplicate"`
		}
		if err := dec.Decode(&a); err != nil {
			fail("appended.jsonl: %v", err)
		}
		appended = append(appended, a)
	}
	if len(appended) != len(entries) {
		fail("%d entries but %d append results", len(entries), len(appended))
	}
	for i, e := range entries {
		sum := sha256.Sum256(e)
		if want := "sha256:" + hex.EncodeToString(sum[:]); appended[i].Digest != want || appended[i].Index != int64(i) || appended[i].Duplicate {
			fail("entry %d: cairn reported %+v, expected index %d digest %s", i, appended[i], i, want)
		}
	}

	// Build the tree independently with tlog.
	var stored memoryHashes
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e, stored)
		if err != nil {
			fail("tlog.StoredHashes: %v", err)
		}
		stored = append(stored, hs...)
	}
	rootAt := func(n int64) tlog.Hash {
		h, err := tlog.TreeHash(n, stored)
		if err != nil {
			fail("tlog.TreeHash(%d): %v", n, err)
		}
		return h
	}

	// Checkpoints.
	cpFiles, _ := filepath.Glob(filepath.Join(dir, "checkpoints", "*"))
	sort.Strings(cpFiles)
	for _, f := range cpFiles {
		data, _ := os.ReadFile(f)
		cp := parseCheckpoint(data, verifier)
		if cp.root != rootAt(cp.size) {
			fail("%s: root %v, tlog computes %v", f, cp.root, rootAt(cp.size))
		}
		// A checkpoint with a modified root or size must not verify.
		text := string(data)
		lines := strings.SplitN(text, "\n", 4)
		badRoot := flip(cp.root, 7)
		forged := lines[0] + "\n" + lines[1] + "\n" + base64.StdEncoding.EncodeToString(badRoot[:]) + "\n" + lines[3]
		if _, err := note.Open([]byte(forged), note.VerifierList(verifier)); err == nil {
			fail("%s: a checkpoint with a flipped root bit verified", f)
		}
		forged = lines[0] + "\n" + strconv.FormatInt(cp.size+1, 10) + "\n" + lines[2] + "\n" + lines[3]
		if _, err := note.Open([]byte(forged), note.VerifierList(verifier)); err == nil {
			fail("%s: a checkpoint with a changed size verified", f)
		}
	}

	// Inclusion proofs (C2SP tlog-proof).
	incFiles, _ := filepath.Glob(filepath.Join(dir, "inclusion", "*.proof"))
	sort.Strings(incFiles)
	for _, f := range incFiles {
		data, _ := os.ReadFile(f)
		var index int64 = -1
		_, hashes, cpText := splitProof(data, func(lines []string) int {
			if lines[0] != "c2sp.org/tlog-proof@v1" {
				fail("%s: first line %q", f, lines[0])
			}
			if !strings.HasPrefix(lines[1], "index ") {
				fail("%s: second line %q", f, lines[1])
			}
			index, _ = strconv.ParseInt(strings.TrimPrefix(lines[1], "index "), 10, 64)
			return 2
		})
		cp := parseCheckpoint(cpText, verifier)
		leaf := tlog.RecordHash(entries[index])
		if err := tlog.CheckRecord(tlog.RecordProof(hashes), cp.size, cp.root, index, leaf); err != nil {
			fail("%s: tlog.CheckRecord: %v", f, err)
		}
		want, err := tlog.ProveRecord(cp.size, index, stored)
		if err != nil {
			fail("tlog.ProveRecord: %v", err)
		}
		if fmt.Sprint(want) != fmt.Sprint(tlog.RecordProof(hashes)) {
			fail("%s: proof differs from tlog.ProveRecord", f)
		}
		for i := range hashes {
			bad := append(tlog.RecordProof(nil), hashes...)
			bad[i] = flip(bad[i], (i*37)%256)
			if tlog.CheckRecord(bad, cp.size, cp.root, index, leaf) == nil {
				fail("%s: proof with hash %d flipped verified", f, i)
			}
		}
		if tlog.CheckRecord(tlog.RecordProof(hashes), cp.size, flip(cp.root, 0), index, leaf) == nil {
			fail("%s: proof verified against a flipped root", f)
		}
	}

	// Consistency proofs (C2SP tlog-witness add-checkpoint body).
	conFiles, _ := filepath.Glob(filepath.Join(dir, "consistency", "*.proof"))
	sort.Strings(conFiles)
	for _, f := range conFiles {
		data, _ := os.ReadFile(f)
		var old int64 = -1
		_, hashes, cpText := splitProof(data, func(lines []string) int {
			if !strings.HasPrefix(lines[0], "old ") {
				fail("%s: first line %q", f, lines[0])
			}
			old, _ = strconv.ParseInt(strings.TrimPrefix(lines[0], "old "), 10, 64)
			return 1
		})
		cp := parseCheckpoint(cpText, verifier)
		oldRoot := rootAt(old)
		if err := tlog.CheckTree(tlog.TreeProof(hashes), cp.size, cp.root, old, oldRoot); err != nil {
			fail("%s: tlog.CheckTree: %v", f, err)
		}
		want, err := tlog.ProveTree(cp.size, old, stored)
		if err != nil {
			fail("tlog.ProveTree: %v", err)
		}
		if fmt.Sprint(want) != fmt.Sprint(tlog.TreeProof(hashes)) {
			fail("%s: proof differs from tlog.ProveTree", f)
		}
		for i := range hashes {
			bad := append(tlog.TreeProof(nil), hashes...)
			bad[i] = flip(bad[i], (i*53)%256)
			if tlog.CheckTree(bad, cp.size, cp.root, old, oldRoot) == nil {
				fail("%s: proof with hash %d flipped verified", f, i)
			}
		}
	}

	fmt.Printf("go-verify: ok: %d entries, %d checkpoints, %d inclusion proofs, %d consistency proofs\n",
		len(entries), len(cpFiles), len(incFiles), len(conFiles))
}
