import CairnHTTP
import CairnObjectStore
import Testing

@Suite("S3 locations and error documents")
struct S3ClientTests {
    @Test("s3://BUCKET/PREFIX: bucket rules enforced, slashes at the prefix's ends dropped")
    func locations() throws {
        let location = try S3Location("s3://my-bucket.example/cairn/log/")
        #expect(location.bucket == "my-bucket.example" && location.prefix == "cairn/log")
        #expect(location.key("checkpoint") == "cairn/log/checkpoint")
        #expect(location.url("tile/0/000") == "s3://my-bucket.example/cairn/log/tile/0/000")
        let bare = try S3Location("s3://bkt")
        #expect(bare.prefix == "" && bare.key("checkpoint") == "checkpoint" && bare.description == "s3://bkt")
        for bad in ["bkt/log", "s3://", "s3://ab", "s3://Upper/x", "s3://-bkt/x", "s3://bkt./x", "s3://bkt/a\u{1B}b"] {
            #expect(throws: S3Error.self, "\(bad)") { try S3Location(bad) }
        }
    }

    @Test("A combining mark after the bucket's slash does not hide it (the location is read by bytes)")
    func combiningMark() throws {
        let location = try S3Location("s3://bkt/\u{301}log")
        #expect(location.bucket == "bkt" && location.prefix == "\u{301}log")
        #expect(try S3Location(location.description) == location)
    }

    @Test("Addressing: path style with an endpoint, virtual-hosted on AWS, path style on AWS for dotted buckets")
    func addressing() throws {
        let credentials = S3Credentials(accessKeyID: "a", secretAccessKey: "b")
        func url(_ location: String, endpoint: String?, key: String?) throws -> String {
            let configuration = S3Client.Configuration(
                location: try S3Location(location), endpoint: try endpoint.map { try HTTPURL($0) }, region: "eu-west-1",
                credentials: credentials)
            return try S3Client(configuration).url(key: key).description
        }
        #expect(
            try url("s3://bkt/log", endpoint: "http://127.0.0.1:9000", key: "log/tile/0/000")
                == "http://127.0.0.1:9000/bkt/log/tile/0/000")
        #expect(
            try url("s3://bkt/log", endpoint: "https://minio.example/s3/", key: "log/a b+c")
                == "https://minio.example/s3/bkt/log/a%20b%2Bc")
        #expect(
            try url("s3://bkt/log", endpoint: nil, key: "log/checkpoint")
                == "https://bkt.s3.eu-west-1.amazonaws.com/log/checkpoint")
        #expect(
            try url("s3://my.bkt/log", endpoint: nil, key: "log/checkpoint")
                == "https://s3.eu-west-1.amazonaws.com/my.bkt/log/checkpoint")
        #expect(try url("s3://bkt/log", endpoint: "http://127.0.0.1:9000", key: nil) == "http://127.0.0.1:9000/bkt")
        #expect(try HTTPURL("http://h:80/x").host == "h" && HTTPURL("https://h:8443").host == "h:8443")
    }

    @Test("S3 error documents: Code and Message read, entities decoded, anything odd ignored")
    func errorBodies() {
        let body = S3ErrorBody(
            parsing: Array(
                "<?xml version=\"1.0\"?><Error><Code>NoSuchBucket</Code><Message>The bucket &quot;x&quot; &amp; "
                    .utf8) + Array("more &bogus; here</Message><BucketName>x</BucketName></Error>".utf8))
        #expect(body.code == "NoSuchBucket" && body.message == "The bucket \"x\" & more &bogus; here")
        // A combining mark after an entity's `;` does not hide the entity (found by FuzzS3Error).
        #expect(S3ErrorBody(parsing: Array("<Code>f&lt;\u{324}i</Code>".utf8)).code == "f<\u{324}i")
        #expect(S3ErrorBody(parsing: []).code == nil)
        #expect(S3ErrorBody(parsing: Array("<Code>unterminated".utf8)).code == nil)
        #expect(S3ErrorBody(parsing: Array("<Code><b>x</b></Code>".utf8)).code == nil)
        #expect(
            S3ErrorBody(parsing: Array(("<Code>" + String(repeating: "a", count: 300) + "</Code>").utf8)).code == nil)
        #expect(S3ErrorBody(parsing: [0xFF, 0xFE] + Array("<Code>\u{1B}x</Code>".utf8)).code == "\u{1B}x")
    }

    @Test("Which failures are worth retrying")
    func transient() {
        #expect(S3Error(.status, "", status: 503, code: "SlowDown").isTransient)
        #expect(S3Error(.status, "", status: 400, code: "RequestTimeout").isTransient)
        #expect(S3Error(.transport, "").isTransient)
        #expect(!S3Error(.status, "", status: 403, code: "AccessDenied").isTransient)
        #expect(!S3Error(.status, "", status: 404, code: "NoSuchBucket").isTransient)
        #expect(!S3Error(.credentials, "").isTransient)
    }
}
