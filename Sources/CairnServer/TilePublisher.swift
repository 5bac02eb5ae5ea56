import CairnHTTP
import CairnLedger
import CairnObjectStore
import CairnTileExport
import Foundation
import Logging
import ServiceLifecycle

extension ServerConfiguration {
    /// `publish_tiles`: continuous publishing of the log's C2SP tlog-tiles to an S3-compatible object store
    /// (specs/server-config.md), as `cairn export tiles --to` does once.
    package struct TilePublishing: Sendable, Hashable {
        /// `s3://BUCKET/PREFIX`.
        package var destination: String
        /// The store's URL (path-style requests); `nil` for AWS.
        package var endpoint: String?
        /// The region; `nil`: `AWS_REGION`, else `us-east-1`.
        package var region: String?
        /// How often the tree size is checked.
        package var interval: Duration = .seconds(10)
        /// The longest wait between attempts after failures (the wait doubles from `interval`).
        package var maxBackoff: Duration = .seconds(300)

        package init(destination: String) {
            self.destination = destination
        }

        /// The S3 client this describes, with credentials from `environment`; throws what is wrong.
        package func client(environment: [String: String]) throws(ConfigurationError) -> S3Client {
            func nonEmpty(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
            do {
                let location = try S3Location(destination)
                var url: HTTPURL?
                if let text = endpoint ?? nonEmpty("AWS_ENDPOINT_URL_S3") ?? nonEmpty("AWS_ENDPOINT_URL") {
                    do {
                        url = try HTTPURL(text)
                    } catch {
                        throw ConfigurationError("publish_tiles.endpoint: \(error.message)")
                    }
                }
                let configuration = S3Client.Configuration(
                    location: location, endpoint: url, region: region ?? nonEmpty("AWS_REGION") ?? "us-east-1",
                    credentials: try S3Credentials.fromEnvironment(environment))
                return try S3Client(configuration)
            } catch let error as S3Error {
                throw ConfigurationError("publish_tiles: \(error.message)")
            } catch let error as ConfigurationError {
                throw error
            } catch {
                throw ConfigurationError("publish_tiles: \(error)")
            }
        }
    }
}

/// Publishes the log's tiles to an object store while the server runs: whenever the tree size differs from the
/// last size published, `TileUploader.upload` (tiles first, checkpoint last, objects already there skipped); after a
/// failure, again after a backoff that doubles up to `maxBackoff`. It reads through the ledger's snapshot door only,
/// so appends never wait for it; a checkpoint published late is the only effect of a slow or failing store.
struct TilePublisherService: Service {
    let ledger: Ledger
    let client: S3Client
    let publishing: ServerConfiguration.TilePublishing
    let logger: Logger

    /// The process's environment, where the credentials are.
    static var processEnvironment: [String: String] { ProcessInfo.processInfo.environment }

    func run() async throws {
        await cancelWhenGracefulShutdown { await publishLoop() }
    }

    func publishLoop() async {
        let target = client.configuration.location.description
        var published: UInt64?
        var backoff = publishing.interval
        while !Task.isCancelled {
            var delay = publishing.interval
            do {
                let size = try await ledger.read { $0.treeSize }
                if size != published {
                    let summary = try await TileUploader.upload(ledger, to: client)
                    published = summary.treeSize
                    backoff = publishing.interval
                    logger.info(
                        "tiles published",
                        metadata: [
                            "to": .string(target), "tree_size": .stringConvertible(summary.treeSize),
                            "uploaded": .stringConvertible(summary.uploaded),
                            "skipped": .stringConvertible(summary.skipped),
                            "bytes": .stringConvertible(summary.bytesUploaded),
                        ])
                    for warning in summary.warnings { logger.warning("\(warning)") }
                    for bundle in summary.unservableBundles {
                        logger.warning("\(bundle.path) not published: \(bundle.reason)")
                    }
                }
            } catch {
                if Task.isCancelled { break }
                let message = (error as? S3Error)?.message ?? (error as? LedgerError)?.message ?? "\(error)"
                logger.error(
                    "tile publishing failed; retrying",
                    metadata: [
                        "to": .string(target), "error": .string(message),
                        "retry_in_seconds": .stringConvertible(backoff.components.seconds),
                    ])
                delay = backoff
                backoff = min(backoff * 2, publishing.maxBackoff)
            }
            try? await Task.sleep(for: delay)
        }
    }
}
