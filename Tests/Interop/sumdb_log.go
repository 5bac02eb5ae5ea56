// Command sumdb_log writes the public artifacts of a small log in the style of the Go checksum
// database (sum.golang.org), made entirely with Go's golang.org/x/mod/sumdb/{note,tlog}: a log key
// named "sumdb.example" whose checkpoints have the origin "go.sum database tree" (tlog.FormatTree),
// so the origin is not the key's name. It shares no code with Cairn.
//
// Usage: go run sumdb_log.go DIR
//
// It writes DIR/vkey, DIR/checkpoint-3 and DIR/checkpoint-5 (signed tree heads of sizes 3 and 5),
// DIR/entry-1 (the bytes of record 1), DIR/inclusion-1.proof (C2SP tlog-proof of record 1 in the
// size-5 tree) and DIR/consistency-3-5.proof (C2SP tlog-witness body: old 3, the proof, the new
// checkpoint).
package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "sumdb_log: "+format+"\n", args...)
	os.Exit(1)
}

func write(dir, name string, data []byte) {
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		fail("%v", err)
	}
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: go run sumdb_log.go DIR")
	}
	dir := os.Args[1]
	skey, vkey, err := note.GenerateKey(rand.Reader, "sumdb.example")
	if err != nil {
		fail("GenerateKey: %v", err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		fail("NewSigner: %v", err)
	}
	write(dir, "vkey", []byte(vkey+"\n"))

	records := [][]byte{}
	var stored []tlog.Hash
	hashes := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, index := range indexes {
			out[i] = stored[index]
		}
		return out, nil
	})
	for n := 0; n < 5; n++ {
		record := []byte(fmt.Sprintf("golang.org/x/example v0.%d.0 h1:record-%d=\n", n, n))
		records = append(records, record)
		more, err := tlog.StoredHashes(int64(n), record, hashes)
		if err != nil {
			fail("StoredHashes: %v", err)
		}
		stored = append(stored, more...)
	}
	sign := func(size int64) (tlog.Tree, []byte) {
		root, err := tlog.TreeHash(size, hashes)
		if err != nil {
			fail("TreeHash: %v", err)
		}
		tree := tlog.Tree{N: size, Hash: root}
		signed, err := note.Sign(&note.Note{Text: string(tlog.FormatTree(tree))}, signer)
		if err != nil {
			fail("Sign: %v", err)
		}
		return tree, signed
	}
	_, old := sign(3)
	newTree, latest := sign(5)
	write(dir, "checkpoint-3", old)
	write(dir, "checkpoint-5", latest)
	write(dir, "entry-1", records[1])

	recordProof, err := tlog.ProveRecord(newTree.N, 1, hashes)
	if err != nil {
		fail("ProveRecord: %v", err)
	}
	inclusion := "c2sp.org/tlog-proof@v1\nindex 1\n"
	for _, h := range recordProof {
		inclusion += h.String() + "\n"
	}
	write(dir, "inclusion-1.proof", []byte(inclusion+"\n"+string(latest)))

	treeProof, err := tlog.ProveTree(newTree.N, 3, hashes)
	if err != nil {
		fail("ProveTree: %v", err)
	}
	consistency := "old 3\n"
	for _, h := range treeProof {
		consistency += h.String() + "\n"
	}
	write(dir, "consistency-3-5.proof", []byte(consistency+"\n"+string(latest)))
	fmt.Println("sumdb_log: ok")
}
