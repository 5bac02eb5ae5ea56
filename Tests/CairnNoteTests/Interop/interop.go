// Interop check between Cairn's CairnNote (Swift) and Go's golang.org/x/mod/sumdb/note.
//
// Run by GoInteropTests.swift, not by SwiftPM:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=<tmp> \
//	    go run interop.go <vkey> <go key name> <text file> <note file>...
//
// 1. Opens each note file with note.Open and the single verifier <vkey> (made by Swift).
// 2. Generates a fresh Go key named <go key name> and signs the text file with note.Sign.
//
// Prints one JSON object: {"opened": [{"text": ..., "signers": [...]} or {"error": ...}],
// "go_vkey": ..., "go_skey": ..., "go_note": ...}.
package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
)

type opened struct {
	Text    string   `json:"text,omitempty"`
	Signers []string `json:"signers,omitempty"`
	Error   string   `json:"error,omitempty"`
}

type result struct {
	Opened []opened `json:"opened"`
	GoVkey string   `json:"go_vkey"`
	GoSkey string   `json:"go_skey"`
	GoNote string   `json:"go_note"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "interop: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 4 {
		fail("usage: go run interop.go <vkey> <go key name> <text file> <note file>...")
	}
	verifier, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fail("NewVerifier(%q): %v", os.Args[1], err)
	}
	var res result
	for _, path := range os.Args[4:] {
		msg, err := os.ReadFile(path)
		if err != nil {
			fail("%v", err)
		}
		n, err := note.Open(msg, note.VerifierList(verifier))
		if err != nil {
			res.Opened = append(res.Opened, opened{Error: err.Error()})
			continue
		}
		o := opened{Text: n.Text}
		for _, s := range n.Sigs {
			o.Signers = append(o.Signers, fmt.Sprintf("%s+%08x", s.Name, s.Hash))
		}
		res.Opened = append(res.Opened, o)
	}

	skey, vkey, err := note.GenerateKey(rand.Reader, os.Args[2])
	if err != nil {
		fail("GenerateKey: %v", err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		fail("NewSigner: %v", err)
	}
	text, err := os.ReadFile(os.Args[3])
	if err != nil {
		fail("%v", err)
	}
	signed, err := note.Sign(&note.Note{Text: string(text)}, signer)
	if err != nil {
		fail("Sign: %v", err)
	}
	res.GoVkey, res.GoSkey, res.GoNote = vkey, skey, string(signed)
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fail("%v", err)
	}
}
