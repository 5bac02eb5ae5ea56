// Command verify_rotation_with_go checks a Cairn ledger whose key was rotated with Go's independent
// implementations: golang.org/x/mod/sumdb/note (signed notes), golang.org/x/mod/sumdb/tlog (RFC 6962
// inclusion) and crypto/ed25519 (the rotation's endorsement). It shares no code with Cairn.
//
// Usage: go run verify_rotation_with_go.go DIR
//
// DIR holds what the Swift test produced through the `cairn` CLI:
//
//	key-history.json   `cairn key history --json` (specs/key-rotation.md §3)
//	checkpoints/N      `cairn checkpoint --size N`, for sizes before, at and after each rotation
//
// It verifies the key history's chain as specs/key-rotation.md §4 says (each rotation's checkpoint signed by
// the previous and the new key, its entry included at from_size - 1 and naming both keys, the endorsement
// valid), then checks every checkpoint with note.Open under each key of the history separately: exactly the
// keys whose range holds the checkpoint's size (both at a rotation's size) must verify it, and no other; and
// with all keys at once (note.VerifierList), which must find those signatures. Tampered copies (a flipped
// endorsement, entry or checkpoint) must fail. It prints a summary and exits 1 on the first failure.
package main

import (
	"crypto/ed25519"
	"encoding/base64"
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
	fmt.Fprintf(os.Stderr, "go-rotation: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

type rotation struct {
	NewVkey        string   `json:"new_vkey"`
	FromSize       int64    `json:"from_size"`
	EntryIndex     int64    `json:"entry_index"`
	Entry          string   `json:"entry"`
	InclusionProof []string `json:"inclusion_proof"`
	Checkpoint     string   `json:"checkpoint"`
}

type history struct {
	Format       string     `json:"format"`
	OriginalVkey string     `json:"original_vkey"`
	Rotations    []rotation `json:"rotations"`
}

type record struct {
	Type            string `json:"type"`
	Schema          int    `json:"schema"`
	OldVkey         string `json:"old_vkey"`
	NewVkey         string `json:"new_vkey"`
	Endorsement     string `json:"endorsement"`
	RevokedFromSize *int64 `json:"revoked_from_size"`
}

// body parses a verified note's text as a tlog-checkpoint: origin, size, root.
func body(text string) (string, int64, tlog.Hash) {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 {
		fail("checkpoint body %q", text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("size line %q", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != 32 {
		fail("root line %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], raw)
	return lines[0], size, root
}

// publicKey is the Ed25519 key of a type 0x01 vkey name+id+base64(0x01 || key).
func publicKey(vkey string) ed25519.PublicKey {
	parts := strings.SplitN(vkey, "+", 3)
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		fail("vkey %s is not an Ed25519 note key", vkey)
	}
	return ed25519.PublicKey(raw[1:])
}

// checkRotation verifies one rotation from the previous key; returns an error instead of failing, so that
// tampered copies can be checked too.
func checkRotation(previous string, r rotation) error {
	oldVerifier, err := note.NewVerifier(previous)
	if err != nil {
		return fmt.Errorf("previous key: %v", err)
	}
	newVerifier, err := note.NewVerifier(r.NewVkey)
	if err != nil {
		return fmt.Errorf("new key: %v", err)
	}
	if oldVerifier.Name() != newVerifier.Name() {
		return fmt.Errorf("the keys have different names")
	}
	var text string
	for _, v := range []note.Verifier{oldVerifier, newVerifier} {
		n, err := note.Open([]byte(r.Checkpoint), note.VerifierList(v))
		if err != nil {
			return fmt.Errorf("the checkpoint does not verify with %s+%08x: %v", v.Name(), v.KeyHash(), err)
		}
		text = n.Text
	}
	origin, size, root := body(text)
	if origin != oldVerifier.Name() || size != r.FromSize || r.EntryIndex != r.FromSize-1 {
		return fmt.Errorf("origin %q size %d from_size %d entry_index %d", origin, size, r.FromSize, r.EntryIndex)
	}
	entry, err := base64.StdEncoding.DecodeString(r.Entry)
	if err != nil {
		return fmt.Errorf("entry: %v", err)
	}
	var proof tlog.RecordProof
	for _, h := range r.InclusionProof {
		raw, err := base64.StdEncoding.DecodeString(h)
		if err != nil || len(raw) != 32 {
			return fmt.Errorf("proof hash %q", h)
		}
		var hash tlog.Hash
		copy(hash[:], raw)
		proof = append(proof, hash)
	}
	if err := tlog.CheckRecord(proof, size, root, r.EntryIndex, tlog.RecordHash(entry)); err != nil {
		return fmt.Errorf("the entry is not in the checkpoint: %v", err)
	}
	var rec record
	if err := json.Unmarshal(entry, &rec); err != nil {
		return fmt.Errorf("the entry is not JSON: %v", err)
	}
	if rec.Type != "key-rotation" || rec.Schema != 1 || rec.OldVkey != previous || rec.NewVkey != r.NewVkey {
		return fmt.Errorf("the entry does not rotate %s to %s: %+v", previous, r.NewVkey, rec)
	}
	signature, err := base64.StdEncoding.DecodeString(rec.Endorsement)
	message := "cairn-key-rotation/v1\n" + previous + "\n" + r.NewVkey + "\n"
	if err != nil || !ed25519.Verify(publicKey(previous), []byte(message), signature) {
		return fmt.Errorf("the endorsement is not the previous key's signature of the new key")
	}
	return nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run verify_rotation_with_go.go DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	data, err := os.ReadFile(filepath.Join(dir, "key-history.json"))
	if err != nil {
		fail("%v", err)
	}
	var h history
	if err := json.Unmarshal(data, &h); err != nil || h.Format != "cairn-key-history/v1" {
		fail("key-history.json: %v (format %q)", err, h.Format)
	}
	keys := []string{h.OriginalVkey}
	starts := []int64{0}
	for i, r := range h.Rotations {
		if err := checkRotation(keys[len(keys)-1], r); err != nil {
			fail("rotation %d: %v", i+1, err)
		}
		// Tampered copies must fail.
		bad := r
		raw, _ := base64.StdEncoding.DecodeString(r.Entry)
		raw[len(raw)/2] ^= 1
		bad.Entry = base64.StdEncoding.EncodeToString(raw)
		if checkRotation(keys[len(keys)-1], bad) == nil {
			fail("rotation %d: a changed entry verified", i+1)
		}
		bad = r
		bad.Checkpoint = strings.Replace(r.Checkpoint, "\n"+strconv.FormatInt(r.FromSize, 10)+"\n", "\n"+strconv.FormatInt(r.FromSize+1, 10)+"\n", 1)
		if checkRotation(keys[len(keys)-1], bad) == nil {
			fail("rotation %d: a changed checkpoint verified", i+1)
		}
		if checkRotation(r.NewVkey, r) == nil {
			fail("rotation %d: verified from the wrong previous key", i+1)
		}
		keys = append(keys, r.NewVkey)
		starts = append(starts, r.FromSize)
	}
	verifiers := make([]note.Verifier, len(keys))
	for i, k := range keys {
		if verifiers[i], err = note.NewVerifier(k); err != nil {
			fail("%s: %v", k, err)
		}
	}
	// signs reports whether key i signs size s: from its start up to and including the next key's start.
	signs := func(i int, s int64) bool {
		return s >= starts[i] && (i+1 == len(keys) || s <= starts[i+1])
	}

	files, _ := filepath.Glob(filepath.Join(dir, "checkpoints", "*"))
	sort.Strings(files)
	dual := 0
	for _, f := range files {
		msg, _ := os.ReadFile(f)
		size, _ := strconv.ParseInt(filepath.Base(f), 10, 64)
		expected := 0
		for i, v := range verifiers {
			_, err := note.Open(msg, note.VerifierList(v))
			if signs(i, size) {
				expected++
				if err != nil {
					fail("%s: size %d does not verify with key %d (%s): %v", f, size, i, keys[i], err)
				}
			} else if err == nil {
				fail("%s: size %d verifies with key %d (%s), which does not sign it", f, size, i, keys[i])
			}
		}
		n, err := note.Open(msg, note.VerifierList(verifiers...))
		if err != nil || len(n.Sigs) != expected {
			fail("%s: with every key: %v, %d signatures verified, want %d", f, err, len(n.Sigs), expected)
		}
		if expected == 2 {
			dual++
		}
		if _, s, _ := body(n.Text); s != size {
			fail("%s: size %d", f, s)
		}
	}
	if dual != len(h.Rotations) {
		fail("%d checkpoints signed by two keys, %d rotations", dual, len(h.Rotations))
	}
	fmt.Printf("go-rotation: ok: %d keys, %d rotations, %d checkpoints (%d signed by both keys of a rotation)\n",
		len(keys), len(h.Rotations), len(files), dual)
}
