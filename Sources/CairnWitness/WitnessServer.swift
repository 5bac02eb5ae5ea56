import CairnCrypto
import Hummingbird
import Logging

/// The HTTP interface of a ``Witness`` (c2sp.org/tlog-witness), on Hummingbird:
///
/// - `POST <prefix>/add-checkpoint`: 200 with the cosignature line(s); 400, 403, 404, 409
///   (body `<size>\n`, `Content-Type: text/x.tlog.size`) or 422 with a one-line reason;
/// - `GET <prefix>/<hex SHA-256 of the origin>/checkpoint`: the latest cosigned checkpoint of
///   that log (the monitoring endpoint), or 404.
public enum WitnessServer {
    /// The media type of a 409 response body.
    public static let sizeContentType = "text/x.tlog.size"

    /// The routes of `witness` under `prefix` (empty, or a path such as `/witness`).
    public static func router(for witness: Witness, prefix: String = "") -> Router<BasicRequestContext> {
        let router = Router()
        addRoutes(for: witness, to: router, prefix: prefix)
        return router
    }

    /// Adds the witness's routes under `prefix` to an existing router.
    public static func addRoutes<Context: RequestContext>(
        for witness: Witness, to router: Router<Context>, prefix: String = ""
    ) {
        let trimmed = prefix.split(separator: "/").joined(separator: "/")
        let group = router.group(RouterPath(trimmed))
        group.post("add-checkpoint") { request, _ -> Response in
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: Witness.maxBodyBytes)
            } catch let error as HTTPResponseError where error.status == .contentTooLarge {
                return text(.badRequest, "the request body is larger than \(Witness.maxBodyBytes) bytes")
            }
            do throws(AddCheckpointError) {
                let lines = try await witness.addCheckpoint(Array(buffer: body))
                return text(.ok, lines.map(\.line).joined(), newline: false)
            } catch {
                if error.code == .conflict, let size = error.latestSize {
                    return Response(
                        status: .conflict, headers: [.contentType: sizeContentType],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: "\(size)\n")))
                }
                if error.code == .internalError {
                    witness.logger.error("add-checkpoint failed", metadata: ["error": .string(error.message)])
                }
                return text(HTTPResponse.Status(code: error.status), error.message)
            }
        }
        group.get("{originHash}/checkpoint") { _, context -> Response in
            guard let hex = context.parameters.get("originHash"), hex.utf8.count == 64,
                hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }),
                let hash = SHA256Digest(hex: hex)
            else {
                return text(.notFound, "expected /<lowercase hex SHA-256 of the log origin>/checkpoint")
            }
            do throws(WitnessError) {
                guard let latest = try witness.latestCheckpoint(originHash: hash) else {
                    return text(.notFound, "this witness has not cosigned a checkpoint for that origin")
                }
                return text(.ok, latest.serialized, newline: false)
            } catch {
                witness.logger.error("reading the witness state failed", metadata: ["error": .string(error.message)])
                return text(.internalServerError, "cannot read the witness state")
            }
        }
    }

    /// A Hummingbird application serving `witness` on `host:port`. `onServerRunning` receives
    /// the bound port (useful with port 0).
    public static func application(
        for witness: Witness, host: String, port: Int, prefix: String = "", logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(for: witness, prefix: prefix),
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "cairn-witness"),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    static func text(_ status: HTTPResponse.Status, _ body: String, newline: Bool = true) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: newline ? body + "\n" : body)))
    }
}
