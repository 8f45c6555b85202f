import AWS
import Foundation
import HTTPCurl
import Origins

/// Buckets in the local S3 (moto_server), made with the services' IAM user.
package enum TestBuckets {
    /// Creates a bucket with a unique name that starts with `prefix`; returns the name.
    package static func create(_ prefix: String) async throws -> String {
        let name = "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        let credentials = AWSCredentials(accessKeyID: TestServices.awsAccessKeyID, secretAccessKey: TestServices.awsSecretAccessKey)
        let store = S3ObjectStore(configuration: S3Configuration(bucket: name, region: TestServices.awsRegion, endpoint: TestServices.awsEndpoint),
                                  credentials: { credentials })
        do {
            try await store.createBucket()
        } catch {
            await store.shutdown()
            throw error
        }
        await store.shutdown()
        return name
    }
}

/// Secrets in the local Secrets Manager (moto_server), written the way a deployment's rotation
/// writes them, for tests of code that reads them back.
package enum TestSecrets {
    /// Creates a secret and returns its ARN.
    package static func create(_ name: String, value: String) async throws -> String {
        let reply = try await call("CreateSecret", ["Name": name, "SecretString": value])
        guard let arn = reply["ARN"] as? String else { throw ProcessFailure(command: "CreateSecret", output: "\(reply)") }
        return arn
    }

    /// Stores a new current value (what a rotation does).
    package static func put(_ secretID: String, value: String) async throws {
        _ = try await call("PutSecretValue", ["SecretId": secretID, "SecretString": value])
    }

    private static func call(_ action: String, _ body: [String: String]) async throws -> [String: Any] {
        let http = CurlClient(concurrency: 1)
        defer { Task { await http.shutdown() } }
        let credentials = AWSCredentials(accessKeyID: TestServices.awsAccessKeyID, secretAccessKey: TestServices.awsSecretAccessKey)
        let response = try await http.execute(CurlRequest(
            method: .POST, url: TestServices.awsEndpoint + "/",
            headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "secretsmanager.\(action)")],
            body: Array(try JSONSerialization.data(withJSONObject: body)),
            signing: AWSSigning(region: TestServices.awsRegion, service: "secretsmanager", credentials: credentials)))
        guard response.status == 200 else { throw ProcessFailure(command: action, output: "\(response.status) \(response.text)") }
        return (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }
}
