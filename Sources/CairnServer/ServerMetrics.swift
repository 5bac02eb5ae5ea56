import CairnLedger
import Prometheus

/// The server's Prometheus metrics (docs/operators-guide.md, "Metrics"), in a registry of its
/// own. `cairn serve` also bootstraps swift-metrics with `metricsFactory`, so whatever reports
/// through swift-metrics in the process (Hummingbird, the witness coordinator) is exported on
/// `/metrics` too.
package final class ServerMetrics: Sendable {
    package let registry: PrometheusCollectorRegistry

    private let appended: Counter
    private let duplicates: Counter
    private let batchRecords: ValueHistogram
    private let commitDuration: DurationHistogram
    private let treeSize: Gauge
    private let accessLogTreeSize: Gauge
    private let queuedRecords: Gauge

    package init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let appends = MetricNameDescriptor(
            namespace: "cairn", metricName: "appended_records", unitName: "total",
            helpText: "Records submitted through the API, by outcome (appended: new leaf; duplicate: already logged)")
        appended = registry.makeCounter(descriptor: appends, labels: [("outcome", "appended")])
        duplicates = registry.makeCounter(descriptor: appends, labels: [("outcome", "duplicate")])
        batchRecords = registry.makeValueHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "cairn", subsystem: "ingest", metricName: "batch_records", unitName: "",
                helpText: "Records per group commit of the ingest engine"),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384])
        commitDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "cairn", subsystem: "ingest", metricName: "commit_duration", unitName: "seconds",
                helpText: "Duration of one group commit (LMDB transaction, checkpoint signature, fsync)"),
            buckets: [
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                .seconds(1), .seconds(5),
            ])
        treeSize = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "cairn", metricName: "tree_size", unitName: "",
                helpText: "Leaves in the main log"))
        accessLogTreeSize = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "cairn", subsystem: "access_log", metricName: "tree_size", unitName: "",
                helpText: "Leaves in the access log"))
        queuedRecords = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "cairn", subsystem: "ingest", metricName: "queued_records", unitName: "",
                helpText: "Records waiting for a batch in the ingest engine (at scrape time)"))
    }

    private static var errors: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "cairn", metricName: "errors", unitName: "total",
            helpText: "Requests answered with an error, by kind (the `error` member of the response)")
    }
    private static var requests: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "cairn", subsystem: "http", metricName: "requests", unitName: "total",
            helpText: "HTTP requests by route template, method and status")
    }
    private static var requestDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "cairn", subsystem: "http", metricName: "request_duration", unitName: "seconds",
            helpText: "HTTP request duration by route template and method")
    }
    private static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        .seconds(10), .seconds(30),
    ]

    /// A swift-metrics factory over the same registry.
    package var metricsFactory: PrometheusMetricsFactory { PrometheusMetricsFactory(registry: registry) }

    /// Records the outcome of appended records.
    func recordAppends(_ results: [AppendResult]) {
        let duplicate = results.filter(\.duplicate).count
        if duplicate > 0 { duplicates.increment(by: Int64(duplicate)) }
        if results.count > duplicate { appended.increment(by: Int64(results.count - duplicate)) }
    }

    /// The ingest engine's commit observer for the main log.
    func observeMainCommit(_ observation: IngestEngine.CommitObservation) {
        batchRecords.record(Double(observation.records))
        commitDuration.record(observation.duration)
        treeSize.set(Double(observation.treeSize))
    }

    func setTreeSize(_ size: UInt64) { treeSize.set(Double(size)) }
    func setAccessLogTreeSize(_ size: UInt64) { accessLogTreeSize.set(Double(size)) }
    func setQueuedRecords(_ count: Int) { queuedRecords.set(Double(count)) }

    /// Counts an error response.
    func recordError(_ kind: APIError.Kind) {
        registry.makeCounter(descriptor: Self.errors, labels: [("kind", kind.rawValue)]).increment()
    }

    /// Counts one finished HTTP request.
    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: Self.requests, labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.requestDuration, labels: [("route", route), ("method", method)],
            buckets: Self.durationBuckets
        ).record(duration)
    }

    /// The Prometheus text exposition.
    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
