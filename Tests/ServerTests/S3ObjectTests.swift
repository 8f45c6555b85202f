import AWS
import Foundation
import HTTPCurl
import Origins
import Testing
import TestSupport

@Suite("GET /object/{key}: cache-aside over S3 (moto_server, signatures checked)")
struct S3ObjectTests {
    private func store(_ bucket: String) -> S3ObjectStore {
        let credentials = AWSCredentials(accessKeyID: TestServices.awsAccessKeyID, secretAccessKey: TestServices.awsSecretAccessKey)
        return S3ObjectStore(configuration: S3Configuration(bucket: bucket, region: TestServices.awsRegion, endpoint: TestServices.awsEndpoint),
                             credentials: { credentials })
    }

    private func bucket() async throws -> (String, S3ObjectStore) {
        let name = "cacheload-test-\(UUID().uuidString.prefix(8).lowercased())"
        let store = store(name)
        try await store.createBucket()
        return (name, store)
    }

    @Test("lazy loading: MISS from S3, then HIT from Redis, content type preserved; unknown key 404, negatively cached")
    func lazyLoad() async throws {
        let (bucket, store) = try await bucket()
        try await store.put("greeting", S3Object(body: Array("hello from S3".utf8), contentType: "text/plain"))
        try await TestServer.withRoutes(s3Bucket: bucket) { server in
            let first = try await server.request(.GET, "/object/greeting")
            #expect(first.status == 200)
            #expect(first.header("X-Cache") == "MISS")
            #expect(first.header("Content-Type") == "text/plain")
            #expect(first.text == "hello from S3")
            let second = try await server.request(.GET, "/object/greeting")
            #expect(second.header("X-Cache") == "HIT")
            #expect(second.text == "hello from S3")
            #expect(second.header("Content-Type") == "text/plain")

            let missing = try await server.request(.GET, "/object/nothing-here")
            #expect(missing.status == 404)
            #expect(try await server.request(.GET, "/object/nothing-here").header("X-Cache") == "HIT")
        }
    }

    @Test("an object whose content type is one byte long (first byte of the entry 0x01) comes back from the cache intact",
          arguments: ["x", "text/plain"])
    func oddContentType(_ contentType: String) async throws {
        let (bucket, store) = try await bucket()
        let body = "thirty-six bytes of object, exactly!"
        try await store.put("k-x", S3Object(body: Array(body.utf8), contentType: contentType))
        try await TestServer.withRoutes(s3Bucket: bucket) { server in
            #expect(try await server.request(.GET, "/object/k-x").text == body)
            let cached = try await server.request(.GET, "/object/k-x")
            #expect(cached.header("X-Cache") == "HIT")
            #expect(cached.status == 200 && cached.text == body, "\(cached.status) \(cached.text)")
        }
    }

    @Test("PUT /object/{key} (admin) overwrites in S3 and invalidates: the next GET is a MISS with the new bytes")
    func overwriteInvalidates() async throws {
        let (bucket, store) = try await bucket()
        try await store.put("doc", S3Object(body: Array("v1".utf8), contentType: "text/plain"))
        try await TestServer.withRoutes(s3Bucket: bucket) { server in
            #expect(try await server.request(.GET, "/object/doc").text == "v1")
            #expect(try await server.request(.GET, "/object/doc").header("X-Cache") == "HIT")
            #expect(try await server.request(.PUT, "/object/doc", body: "v2").status == 401)
            let put = try await server.request(.PUT, "/object/doc", body: "v2", token: server.adminToken)
            #expect(put.status == 200)
            let after = try await server.request(.GET, "/object/doc")
            #expect(after.header("X-Cache") == "MISS")
            #expect(after.text == "v2")
            #expect(try await store.object("doc")?.body == Array("v2".utf8))
        }
    }

    @Test("objects above the size limit are streamed from S3 and never cached (counted)")
    func largeNotCached() async throws {
        let (bucket, store) = try await bucket()
        let big = (0..<(5 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 13) }
        try await store.put("big", S3Object(body: big, contentType: "application/octet-stream"))
        try await TestServer.withRoutes(s3Bucket: bucket) { server in
            for _ in 0..<3 {
                let response = try await server.request(.GET, "/object/big")
                #expect(response.status == 200)
                #expect(response.body == big)
                #expect(response.header("X-Cache") == "BYPASS")
                #expect(response.header("Content-Type") == "application/octet-stream")
            }
            #expect(try await server.request(.GET, "/metrics").text.contains("cacheload_objects_not_cached_total 3"))
            let redis = try await server.request(.GET, "/stats")
            #expect((jsonObject(redis)["server"] as? [String: Any])?["fills"] as? Int == 0)
        }
    }

    @Test("signatures are checked: a server with the wrong secret gets no object, and says so")
    func wrongSecret() async throws {
        let (bucket, store) = try await bucket()
        try await store.put("secret", S3Object(body: Array("x".utf8), contentType: "text/plain"))
        try await TestServer.withRoutes(s3Bucket: bucket, awsSecret: "not-the-secret") { server in
            let response = try await server.request(.GET, "/object/secret")
            #expect(response.status == 502)
            #expect(response.text.contains("S3 403"))
            // The store reports S3's own error code where S3 sends one (GET has a body, HEAD has not).
            let credentials = AWSCredentials(accessKeyID: TestServices.awsAccessKeyID, secretAccessKey: "not-the-secret")
            let wrong = S3ObjectStore(configuration: S3Configuration(bucket: bucket, region: TestServices.awsRegion, endpoint: TestServices.awsEndpoint),
                                      credentials: { credentials })
            await #expect(throws: S3Error.self) { try await wrong.object("secret") }
            do { _ = try await wrong.object("secret") } catch let error as S3Error { #expect(error.message == "SignatureDoesNotMatch") }
        }
    }
}
