import CairnCrypto
import CairnJSON
import CairnMerkle
import CairnNote
import Foundation
import Synchronization
import Testing

@testable import CairnMirror

/// `Monitor` rounds against an in-memory log: each event kind, from its cause.
@Suite("Monitor")
struct MonitorTests {
    /// A clock the test moves.
    final class Clock: Sendable {
        private let value = Atomic<Int64>(1_800_000_000)
        var now: Int64 { value.load(ordering: .relaxed) }
        func advance(_ seconds: Int64) { value.add(seconds, ordering: .relaxed) }
    }

    static func monitor(
        _ source: any TileSource, clock: Clock, witnesses: [NoteVerifierKey] = [], maxAge: Int64? = nil,
        state: MonitorState? = nil
    ) -> Monitor {
        var configuration = MonitorConfiguration(key: Keys.logVKey)
        configuration.witnesses = witnesses
        configuration.maxAge = maxAge
        let initial =
            state
            ?? MonitorState(
                url: source.description, vkey: Keys.logVKey.description, origin: Keys.origin, startedAt: clock.now)
        return Monitor(source: source, configuration: configuration, state: initial, clock: { clock.now })
    }

    static func kinds(_ events: [MonitorEvent]) -> [MonitorEventKind] { events.map(\.kind) }

    @Test("ok while the log grows, consistency from the tiles or from Cairn's proof API")
    func growing() async throws {
        let clock = Clock()
        let log = FakeLog(size: 600)
        let monitor = Self.monitor(log, clock: clock)
        let first = await monitor.round()
        #expect(Self.kinds(first) == [.ok])
        #expect(first[0].size == 600 && first[0].detail.hasPrefix("size 600, root "))
        log.append(70_000 - 600)
        let second = await monitor.round()
        #expect(Self.kinds(second) == [.ok], "\(second)")
        #expect(second[0].detail.contains("consistent with size 600 (proof computed from the log's tiles)"))
        #expect(second[0].json["previous_size"] == .number(600))
        log.proofAPI = true
        log.append(10)
        let third = await monitor.round()
        #expect(third[0].detail.contains("consistent with size 70000 (proof from /v1/proof/consistency)"), "\(third)")
        // Unchanged: still ok.
        #expect(Self.kinds(await monitor.round()) == [.ok])
        #expect(monitor.state.counters["ok"] == 4 && monitor.state.counters["rounds"] == 4)

        // The state survives a round trip through its file format.
        let parsed = try MonitorState(parsing: monitor.state.serialized, path: "state.json")
        #expect(parsed == monitor.state)
    }

    @Test("rollback, inconsistent (a fork at a larger or the same size), and a lying proof API")
    func alerts() async throws {
        let clock = Clock()
        let log = FakeLog(size: 1000)
        let monitor = Self.monitor(log, clock: clock)
        _ = await monitor.round()

        log.servedSize = 400
        let rollback = await monitor.round()
        #expect(Self.kinds(rollback) == [.rollback])
        #expect(rollback[0].detail.contains("size 400, smaller than size 1000"))
        #expect(rollback[0].json["previous"] == .string(log.checkpoint(size: 1000).serialized))
        log.servedSize = nil

        let fork = ForkedLog(prefix: log, prefixSize: 900, size: 1500)
        let forked = await Self.monitor(fork, clock: clock, state: monitor.state).round()
        #expect(Self.kinds(forked) == [.inconsistent], "\(forked)")
        #expect(forked[0].detail.contains("not the earlier checkpoint's"), "\(forked[0].detail)")

        fork.log.proofAPI = true
        let viaAPI = await Self.monitor(fork, clock: clock, state: monitor.state).round()
        #expect(Self.kinds(viaAPI) == [.inconsistent])
        #expect(viaAPI[0].detail.contains("consistency proof from size 1000 to 1500 does not verify"), "\(viaAPI)")

        let sameSize = ForkedLog(prefix: log, prefixSize: 10, size: 1000)
        let same = await Self.monitor(sameSize, clock: clock, state: monitor.state).round()
        #expect(Self.kinds(same) == [.inconsistent])
        #expect(same[0].detail.contains("two checkpoints of size 1000 signed by the log have different roots"))

        // The last good checkpoint stays the reference: the log coming back is ok.
        #expect(Self.kinds(await monitor.round()) == [.ok])
    }

    @Test("split_view: a witness-cosigned checkpoint of a size already seen, with another root")
    func splitView() async throws {
        let clock = Clock()
        let log = FakeLog(size: 50)
        let monitor = Self.monitor(log, clock: clock, witnesses: [Keys.witnessVKey])
        #expect(Self.kinds(await monitor.round()) == [.ok])
        // The witnesses are shown a fork of the same size, and cosign it; the log serves that one.
        let fork = ForkedLog(prefix: log, prefixSize: 20, size: 50)
        fork.log.cosigners = [(Keys.witness, Keys.witnessVKey.name, UInt64(clock.now))]
        let split = await Self.monitor(fork, clock: clock, witnesses: [Keys.witnessVKey], state: monitor.state).round()
        #expect(Self.kinds(split) == [.splitView], "\(split)")
        #expect(split[0].detail.contains("cosigned this one by witness.example/w1"), "\(split[0].detail)")
        #expect(split[0].json["witnesses"] == .array([.string(Keys.witnessVKey.name)]))

        // The history catches it too when the cosigned checkpoint came first and the monitor has moved on.
        let log2 = FakeLog(size: 30)
        log2.cosigners = [(Keys.witness, Keys.witnessVKey.name, UInt64(clock.now))]
        let second = Self.monitor(log2, clock: clock, witnesses: [Keys.witnessVKey])
        _ = await second.round()
        log2.append(10)
        _ = await second.round()
        let fork2 = ForkedLog(prefix: log2, prefixSize: 5, size: 30)
        let late = await Self.monitor(fork2, clock: clock, witnesses: [Keys.witnessVKey], state: second.state).round()
        #expect(Self.kinds(late).contains(.splitView) && Self.kinds(late).contains(.rollback), "\(late)")
    }

    @Test("bad_signature: another key, a malformed note, a witness line that does not verify")
    func badSignatures() async throws {
        let clock = Clock()
        let impostor = FakeLog(key: Keys.impostor, size: 10)
        let events = await Self.monitor(impostor, clock: clock).round()
        #expect(Self.kinds(events) == [.badSignature])
        #expect(events[0].detail.contains("not signed by \(Keys.logVKey.nameAndID)"), "\(events[0].detail)")

        let log = FakeLog(size: 10)
        log.overrides = ["checkpoint": TileAnswer(status: 200, body: Array("garbage".utf8))]
        #expect(Self.kinds(await Self.monitor(log, clock: clock).round()) == [.badSignature])

        // A cosignature line with the witness's name and key ID whose signature is another's.
        log.overrides = [:]
        let good = log.checkpoint()
        let forged = try CosignatureV1.sign(
            checkpoint: good.checkpoint, timestamp: 5, signer: Keys.impostor, name: Keys.witnessVKey.name)
        let line = try NoteSignature(
            name: Keys.witnessVKey.name, keyID: Keys.witnessVKey.keyID, signature: forged.signature)
        log.overrides = [
            "checkpoint": TileAnswer(status: 200, body: Array(try good.adding(line).serialized.utf8))
        ]
        let witnessed = await Self.monitor(log, clock: clock, witnesses: [Keys.witnessVKey]).round()
        #expect(Self.kinds(witnessed) == [.badSignature], "\(witnessed)")
        #expect(witnessed[0].detail.contains("cosignature does not verify"))
    }

    @Test("stale: an old or missing witness cosignature, or no good checkpoint for longer than --max-age")
    func stale() async throws {
        let clock = Clock()
        let log = FakeLog(size: 10)
        log.cosigners = [(Keys.witness, Keys.witnessVKey.name, UInt64(clock.now - 30))]
        let monitor = Self.monitor(log, clock: clock, witnesses: [Keys.witnessVKey], maxAge: 600)
        #expect(Self.kinds(await monitor.round()) == [.ok])
        clock.advance(3600)
        let old = await monitor.round()
        #expect(Self.kinds(old) == [.stale])
        #expect(old[0].detail.contains("is 3630 s old, more than --max-age 600 s"), "\(old[0].detail)")
        log.cosigners = []
        let none = await monitor.round()
        #expect(Self.kinds(none) == [.stale] && none[0].detail.contains("no cosignature from witness.example/w1+"))

        // Without witnesses, a log that does not grow is fine; one that cannot be reached for too long is stale.
        let plain = Self.monitor(log, clock: clock, maxAge: 600)
        #expect(Self.kinds(await plain.round()) == [.ok])
        clock.advance(10_000)
        #expect(Self.kinds(await plain.round()) == [.ok])
        log.failAfter = 0
        clock.advance(300)
        #expect(Self.kinds(await plain.round()) == [.unreachable])
        clock.advance(400)
        let gone = await plain.round()
        #expect(Self.kinds(gone) == [.unreachable, .stale], "\(gone)")
        #expect(gone[1].detail.contains("(700 s, more than --max-age 600 s)"), "\(gone[1].detail)")
    }

    @Test("A state file that is not one is refused with its path")
    func invalidState() throws {
        for text in ["", "[]", #"{"format":"x"}"#, #"{"format":"cairn-monitor-state/v1","url":"u"}"#] {
            let error = try #require(throws: MirrorError.self) {
                try MonitorState(parsing: Array(text.utf8), path: "s.json")
            }
            #expect(error.code == .invalidState && error.message.hasPrefix("s.json is not a monitor state file"))
        }
        for text in ["", "{}", #"{"format":"cairn-mirror-state/v1","url":1,"origin":"o"}"#] {
            #expect(throws: MirrorError.self) { try MirrorState(parsing: Array(text.utf8), path: "s.json") }
        }
        var state = MirrorState(url: "http://x", origin: "o")
        state.checkpoint = "a\nb\n"
        state.unservableBundles = [.init(path: "tile/entries/000", reason: "big")]
        #expect(try MirrorState(parsing: state.serialized, path: "s") == state)
    }
}
