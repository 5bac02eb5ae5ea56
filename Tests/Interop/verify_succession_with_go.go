// Command verify_succession_with_go checks a sealed Cairn log and its successor with Go's independent
// implementations: golang.org/x/mod/sumdb/note (signed notes) and golang.org/x/mod/sumdb/tlog (RFC 6962 inclusion
// and consistency). It shares no code with Cairn.
//
// Usage: go run verify_succession_with_go.go DIR
//
// DIR holds what the Swift test produced through the `cairn` CLI (specs/sealing.md):
//
//	predecessor.vkey, successor.vkey   the two logs' verifier keys
//	entry0.json                        `cairn get 0 --raw` of the successor: its predecessor record
//	entry0.proof                       `cairn prove inclusion 0` of the successor (c2sp.org/tlog-proof@v1)
//	old.checkpoint                     a checkpoint of the predecessor from before its seal
//	old.consistency                    `cairn prove consistency --old OLD --json` of the predecessor at its final size
//
// It verifies that entry 0 is in the successor's checkpoint, that the predecessor's final checkpoint it carries is
// signed by the predecessor's key, that its seal entry is that checkpoint's last leaf and seals the predecessor's
// origin, and that the older checkpoint is consistent with the final one. Tampered copies (a changed seal entry, the
// successor's key for the predecessor's, a shifted proof) must fail. It prints a summary and exits 1 on the first
// failure.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go-succession: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func read(dir, name string) []byte {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		fail("%v", err)
	}
	return data
}

// body parses a verified note's text as a tlog-checkpoint: origin, size, root.
func body(text string) (string, int64, tlog.Hash, error) {
	lines := strings.Split(text, "\n")
	if len(lines) < 4 {
		return "", 0, tlog.Hash{}, fmt.Errorf("checkpoint body %q", text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return "", 0, tlog.Hash{}, fmt.Errorf("size line %q", lines[1])
	}
	root, err := hash(lines[2])
	return lines[0], size, root, err
}

func hash(text string) (tlog.Hash, error) {
	var h tlog.Hash
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil || len(raw) != 32 {
		return h, fmt.Errorf("hash %q", text)
	}
	copy(h[:], raw)
	return h, nil
}

// open verifies a signed checkpoint with one vkey and returns its body.
func open(checkpoint []byte, vkey string) (string, int64, tlog.Hash, error) {
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return "", 0, tlog.Hash{}, err
	}
	n, err := note.Open(checkpoint, note.VerifierList(verifier))
	if err != nil {
		return "", 0, tlog.Hash{}, err
	}
	return body(n.Text)
}

type predecessor struct {
	Type       string   `json:"type"`
	Schema     int      `json:"schema"`
	Origin     string   `json:"origin"`
	Vkey       string   `json:"vkey"`
	Checkpoint string   `json:"checkpoint"`
	SealEntry  string   `json:"seal_entry"`
	SealProof  []string `json:"seal_proof"`
}

type seal struct {
	Type   string `json:"type"`
	Schema int    `json:"schema"`
	Origin string `json:"origin"`
	Reason string `json:"reason"`
}

// checkLink verifies a predecessor record with the predecessor's vkey; returns the final size and root.
func checkLink(rec predecessor, vkey string) (int64, tlog.Hash, error) {
	if rec.Type != "predecessor" || rec.Schema != 1 {
		return 0, tlog.Hash{}, fmt.Errorf("not a predecessor record: %+v", rec)
	}
	origin, size, root, err := open([]byte(rec.Checkpoint), vkey)
	if err != nil {
		return 0, tlog.Hash{}, fmt.Errorf("the final checkpoint: %v", err)
	}
	if origin != rec.Origin || size < 1 {
		return 0, tlog.Hash{}, fmt.Errorf("the final checkpoint is of %q at size %d", origin, size)
	}
	var proof tlog.RecordProof
	for _, text := range rec.SealProof {
		h, err := hash(text)
		if err != nil {
			return 0, tlog.Hash{}, err
		}
		proof = append(proof, h)
	}
	entry := []byte(rec.SealEntry)
	if err := tlog.CheckRecord(proof, size, root, size-1, tlog.RecordHash(entry)); err != nil {
		return 0, tlog.Hash{}, fmt.Errorf("the seal entry is not the last leaf: %v", err)
	}
	var s seal
	if err := json.Unmarshal(entry, &s); err != nil || s.Type != "seal" || s.Schema != 1 || s.Origin != origin {
		return 0, tlog.Hash{}, fmt.Errorf("the last entry does not seal %s: %s", origin, entry)
	}
	return size, root, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run verify_succession_with_go.go DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	predVkey := strings.TrimSpace(string(read(dir, "predecessor.vkey")))
	succVkey := strings.TrimSpace(string(read(dir, "successor.vkey")))

	// Entry 0 is in the successor's checkpoint (the c2sp.org/tlog-proof@v1 of `cairn prove inclusion 0`).
	entry := bytes.TrimSuffix(read(dir, "entry0.json"), []byte("\n"))
	proofText := string(read(dir, "entry0.proof"))
	parts := strings.SplitN(proofText, "\n\n", 2)
	lines := strings.Split(parts[0], "\n")
	if len(parts) != 2 || lines[0] != "c2sp.org/tlog-proof@v1" || lines[1] != "index 0" {
		fail("entry0.proof is not a tlog-proof of index 0")
	}
	var inclusion tlog.RecordProof
	for _, line := range lines[2:] {
		h, err := hash(line)
		if err != nil {
			fail("entry0.proof: %v", err)
		}
		inclusion = append(inclusion, h)
	}
	succOrigin, succSize, succRoot, err := open([]byte(parts[1]), succVkey)
	if err != nil {
		fail("the successor's checkpoint: %v", err)
	}
	if err := tlog.CheckRecord(inclusion, succSize, succRoot, 0, tlog.RecordHash(entry)); err != nil {
		fail("entry 0 is not in the successor's checkpoint: %v", err)
	}

	var rec predecessor
	if err := json.Unmarshal(entry, &rec); err != nil {
		fail("entry 0 is not JSON: %v", err)
	}
	if rec.Vkey != predVkey {
		fail("entry 0 names the predecessor key %s, not %s", rec.Vkey, predVkey)
	}
	finalSize, finalRoot, err := checkLink(rec, predVkey)
	if err != nil {
		fail("the link: %v", err)
	}
	if rec.Origin == succOrigin {
		fail("the successor has its predecessor's origin %s", succOrigin)
	}

	// Tampered copies must fail.
	bad := rec
	bad.SealEntry = strings.Replace(rec.SealEntry, `"type":"seal"`, `"type":"seal" `, 1)
	if _, _, err := checkLink(bad, predVkey); err == nil {
		fail("a changed seal entry verified")
	}
	if _, _, err := checkLink(rec, succVkey); err == nil {
		fail("the link verified with the successor's key")
	}
	if len(rec.SealProof) > 1 {
		bad = rec
		bad.SealProof = append([]string{}, rec.SealProof[1:]...)
		bad.SealProof = append(bad.SealProof, rec.SealProof[0])
		if _, _, err := checkLink(bad, predVkey); err == nil {
			fail("a shuffled seal proof verified")
		}
	}

	// An older checkpoint of the predecessor is consistent with its final one.
	_, oldSize, oldRoot, err := open(read(dir, "old.checkpoint"), predVkey)
	if err != nil {
		fail("old.checkpoint: %v", err)
	}
	var consistency struct {
		Old   int64    `json:"old"`
		Size  int64    `json:"size"`
		Proof []string `json:"proof"`
	}
	if err := json.Unmarshal(read(dir, "old.consistency"), &consistency); err != nil {
		fail("old.consistency: %v", err)
	}
	if consistency.Old != oldSize || consistency.Size != finalSize {
		fail("old.consistency is from %d to %d, not %d to %d", consistency.Old, consistency.Size, oldSize, finalSize)
	}
	var treeProof tlog.TreeProof
	for _, text := range consistency.Proof {
		h, err := hash(text)
		if err != nil {
			fail("old.consistency: %v", err)
		}
		treeProof = append(treeProof, h)
	}
	if err := tlog.CheckTree(treeProof, finalSize, finalRoot, oldSize, oldRoot); err != nil {
		fail("the older checkpoint is not consistent with the final one: %v", err)
	}
	fmt.Printf("go-succession: ok: %s sealed at size %d (seal is entry %d), successor %s links to it at entry 0; "+
		"size %d is consistent with the final checkpoint\n", rec.Origin, finalSize, finalSize-1, succOrigin, oldSize)
}
