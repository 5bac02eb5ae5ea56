import ArgumentParser
import CairnHTTP

@main
struct Cairn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract:
            "A tamper-evident provenance ledger: append records, prove inclusion and consistency, verify offline.",
        discussion: prose(
            """
            Cairn stores each JSON record as the RFC 8785 canonical form of the object, addressed by
            sha256:<hex> of those bytes, as a leaf of an RFC 6962 Merkle log kept in LMDB. After every
            append the log signs a C2SP tlog-checkpoint with its Ed25519 key. Proofs use the C2SP
            tlog-proof and tlog-witness formats, so any C2SP-compatible tool can check them.

            The ledger directory comes from --ledger, else $CAIRN_LEDGER, else ./cairn-ledger.

            QUICK START
              cairn init --origin example.com/cairn-demo
              echo '{"type":"note","text":"hello"}' | cairn append
              cairn prove inclusion 0 > proof.tlog-proof
              cairn get 0 --raw > entry.json
              cairn verify inclusion --vkey cairn-ledger/ledger.vkey --proof proof.tlog-proof --entry entry.json

            EXIT STATUS
              0   success (for verify: the proof or signature is valid)
              1   verification failed: invalid signature or proof, or fsck found an inconsistency
              64  usage error: bad arguments or options
              65  bad input data: a record or file is malformed (nothing was written)
              66  not found: no such ledger, file, entry or tree size
              73  cannot create: the ledger directory already exists and is not empty
              74  storage or I/O error
              75  temporarily unavailable: the ingest queue is full, or (append --server) the server is
                  unreachable and the records were spooled; retry later or `cairn spool flush`
              76  (append --server) the URL does not answer like a Cairn server
              77  the signing key is missing, unreadable or does not match the ledger
            """),
        // One version string: the User-Agent of every request Cairn sends carries it too.
        version: CairnHTTPClient.version,
        subcommands: [
            InitCommand.self, AppendCommand.self, ImportCommand.self, GetCommand.self, ShowCommand.self,
            QueryCommand.self,
            BlobCommand.self, CheckpointCommand.self, ProveCommand.self, VerifyCommand.self, FsckCommand.self,
            AuditCommand.self, ReportCommand.self, ServeCommand.self, TokenCommand.self, ExportCommand.self,
            WitnessCommand.self, SpoolCommand.self, BenchCommand.self, StressAppendCommand.self,
        ]
    )
}
