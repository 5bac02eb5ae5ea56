import Benchmark
import CairnCrypto

let benchmarks: @Sendable () -> Void = {
    Benchmark("SHA-256 leaf hash, 256 bytes") { benchmark in
        let data = [UInt8](repeating: 7, count: 256)
        for _ in benchmark.scaledIterations {
            blackHole(data.withUnsafeBytes { SHA256.hash(prefix: 0, $0) })
        }
    }
}
