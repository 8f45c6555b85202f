import AWS
import Foundation
import HTTPCurl
import Testing
import TestSupport

@Suite("libcurl HTTP client against real local servers")
struct CurlClientTests {
    @Test("GET, POST, PUT, DELETE with headers and bodies; status, headers and body come back")
    func methods() async throws {
        let server = try await EchoServer()
        let client = CurlClient()
        let base = "http://127.0.0.1:\(server.port)"

        let get = try await client.execute(CurlRequest(url: "\(base)/status/418", headers: [("X-Test", "hello")]))
        #expect(get.status == 418)
        #expect(get.header("x-echo") == "yes")
        #expect(get.header("Content-Type") == "text/plain")
        #expect(get.text.hasPrefix("GET /status/418\n"))
        #expect(get.text.contains("x-test: hello"))

        for method in [CurlRequest.Method.POST, .PUT, .DELETE] {
            let body = Array("payload \(method.rawValue) \u{0}end".utf8)
            let response = try await client.execute(CurlRequest(method: method, url: "\(base)/thing", body: body))
            #expect(response.status == 200)
            #expect(response.text.hasPrefix("\(method.rawValue) /thing\n"))
            #expect(response.body.suffix(body.count) == body[...])
            #expect(response.text.contains("content-length: \(body.count)"))
        }

        let head = try await client.execute(CurlRequest(method: .HEAD, url: "\(base)/status/204"))
        #expect(head.status == 204 && head.body.isEmpty)
        await client.shutdown()
        try await server.close()
    }

    @Test("a server that never answers ends in a timeout error, on time")
    func timeout() async throws {
        let server = try await SilentServer()
        let client = CurlClient()
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await client.execute(CurlRequest(url: "http://127.0.0.1:\(server.port)/", timeout: .milliseconds(300)))
            Issue.record("a silent server produced a response")
        } catch let error as CurlError {
            #expect(error.code == .timeout)
        }
        #expect(clock.now - start < .seconds(2))
        await client.shutdown()
        try await server.close()
    }

    @Test("refused connections and malformed URLs are typed errors")
    func refusedAndInvalid() async throws {
        let client = CurlClient()
        let port = freeLoopbackPort()
        do {
            _ = try await client.execute(CurlRequest(url: "http://127.0.0.1:\(port)/"))
            Issue.record("connected to a closed port")
        } catch let error as CurlError {
            #expect(error.code == .connectionFailed)
        }
        do {
            _ = try await client.execute(CurlRequest(url: "ftp://127.0.0.1/file"))
            Issue.record("accepted a non-HTTP URL")
        } catch let error as CurlError {
            #expect(error.code == .invalidRequest)
        }
        await client.shutdown()
    }

    @Test("SigV4 headers: Authorization with the credential scope, X-Amz-Date, session token")
    func signingHeaders() async throws {
        let server = try await EchoServer()
        let client = CurlClient()
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "token-123")
        let response = try await client.execute(CurlRequest(
            method: .POST, url: "http://127.0.0.1:\(server.port)/", body: Array("Action=ListMetrics".utf8),
            signing: AWSSigning(region: "eu-west-1", service: "monitoring", credentials: credentials)))
        let text = response.text
        #expect(text.contains("authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"))
        #expect(text.contains("/eu-west-1/monitoring/aws4_request"))
        #expect(text.contains("x-amz-date: "))
        #expect(text.contains("x-amz-security-token: token-123"))
        #expect(!text.contains("secret"))
        await client.shutdown()
        try await server.close()
    }

    private func listMetrics(secret: String) async throws -> CurlResponse {
        let client = CurlClient()
        defer { Task { await client.shutdown() } }
        let credentials = AWSCredentials(accessKeyID: TestServices.awsAccessKeyID, secretAccessKey: secret)
        return try await client.execute(CurlRequest(
            method: .POST, url: TestServices.awsEndpoint + "/",
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array("Action=ListMetrics&Version=2010-08-01".utf8),
            signing: AWSSigning(region: TestServices.awsRegion, service: "monitoring", credentials: credentials)))
    }

    @Test("moto_server, checking signatures, accepts a correctly signed CloudWatch request")
    func sigV4Accepted() async throws {
        let response = try await listMetrics(secret: TestServices.awsSecretAccessKey)
        #expect(response.status == 200)
        #expect(response.text.contains("<ListMetricsResponse"))
    }

    @Test("moto_server rejects the same request signed with a wrong secret")
    func sigV4Rejected() async throws {
        let response = try await listMetrics(secret: "not-the-secret")
        #expect(response.status == 403)
        #expect(response.text.contains("SignatureDoesNotMatch"))
    }
}

@Suite("SHA-256")
struct SHA256Tests {
    @Test("FIPS 180-4 test vectors")
    func vectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(Array(repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
