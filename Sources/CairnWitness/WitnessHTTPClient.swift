import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The log side's HTTP client for add-checkpoint requests (URLSession; one session per
/// coordinator, so connections are kept alive between requests to the same witness).
package final class WitnessHTTPClient: Sendable {
    package struct Response: Sendable {
        package let status: Int
        package let contentType: String?
        package let body: [UInt8]
    }

    /// The largest response accepted: a few cosignature lines, or an error message.
    static let maxResponseBytes = 64 * 1024

    private let session: URLSession

    package init(timeout: Duration) {
        let configuration = URLSessionConfiguration.ephemeral
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        configuration.timeoutIntervalForRequest = seconds
        configuration.timeoutIntervalForResource = seconds
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    deinit {
        session.invalidateAndCancel()
    }

    /// `<prefix>/add-checkpoint` for a witness's submission prefix.
    package static func addCheckpointURL(prefix: String) -> URL? {
        var base = prefix
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base + "/add-checkpoint"), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", url.host != nil
        else { return nil }
        return url
    }

    /// POSTs `body` to `url`. Throws on transport failure, timeout or cancellation.
    package func post(_ url: URL, body: [UInt8]) async throws -> Response {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("text/plain; charset=utf-8", forHTTPHeaderField: "Content-Type")
        request.setValue("cairn", forHTTPHeaderField: "User-Agent")
        let holder = TaskHolder()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Response, any Error>) in
                let task = session.dataTask(with: request) { data, response, error in
                    if let error {
                        continuation.resume(throwing: error)
                        return
                    }
                    guard let http = response as? HTTPURLResponse else {
                        continuation.resume(throwing: URLError(.badServerResponse))
                        return
                    }
                    let bytes = Array(data ?? Data())
                    guard bytes.count <= Self.maxResponseBytes else {
                        continuation.resume(throwing: URLError(.dataLengthExceedsMaximum))
                        return
                    }
                    continuation.resume(
                        returning: Response(
                            status: http.statusCode, contentType: http.value(forHTTPHeaderField: "Content-Type"),
                            body: bytes))
                }
                holder.set(task)
                task.resume()
            }
        } onCancel: {
            holder.cancel()
        }
    }

    /// The data task of one request, cancellable from the task's cancellation handler.
    private final class TaskHolder: @unchecked Sendable {
        private let lock = NSLock()
        private var task: URLSessionDataTask?
        private var cancelled = false

        func set(_ task: URLSessionDataTask) {
            lock.lock()
            defer { lock.unlock() }
            self.task = task
            if cancelled { task.cancel() }
        }

        func cancel() {
            lock.lock()
            defer { lock.unlock() }
            cancelled = true
            task?.cancel()
        }
    }
}
