import Foundation
import HTTPCurl

/// Reads secrets from AWS Secrets Manager (`GetSecretValue`, JSON protocol, SigV4 through libcurl).
///
/// Used for what a deployment rotates under a running process: RDS rotates its managed master
/// password every seven days, and the server fetches it again when PostgreSQL refuses the old one.
package final class SecretsManagerClient: Sendable {
    package let endpoint: String
    package let region: String
    private let credentials: @Sendable () async throws -> AWSCredentials
    private let http: CurlClient

    /// - Parameter endpoint: `https://secretsmanager.REGION.amazonaws.com` unless overridden
    ///   (``endpoint(region:environment:)``).
    package init(endpoint: String, region: String, credentials: @escaping @Sendable () async throws -> AWSCredentials) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.region = region
        self.credentials = credentials
        self.http = CurlClient(concurrency: 1)
    }

    /// The endpoint the AWS SDKs would use: `AWS_ENDPOINT_URL_SECRETS_MANAGER`, then
    /// `AWS_ENDPOINT_URL`, then the regional endpoint.
    package static func endpoint(region: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        environment["AWS_ENDPOINT_URL_SECRETS_MANAGER"] ?? environment["AWS_ENDPOINT_URL"] ?? "https://secretsmanager.\(region).amazonaws.com"
    }

    /// The secret's current `SecretString`.
    /// - Throws: ``SecretsManagerError`` naming the secret and what Secrets Manager said.
    package func secretString(_ secretID: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["SecretId": secretID])
        let response: CurlResponse
        do {
            response = try await http.execute(CurlRequest(
                method: .POST, url: endpoint + "/",
                headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "secretsmanager.GetSecretValue")],
                body: Array(body), timeout: .seconds(10), connectTimeout: .seconds(3),
                signing: AWSSigning(region: region, service: "secretsmanager", credentials: try await credentials())))
        } catch {
            throw SecretsManagerError("Secrets Manager at \(endpoint) unreachable: \(error)")
        }
        let document = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        guard response.status == 200, let secret = document?["SecretString"] as? String else {
            let reason = document?["message"] as? String ?? document?["Message"] as? String ?? "status \(response.status)"
            throw SecretsManagerError("cannot read secret \(secretID): \(reason)")
        }
        return secret
    }

    /// The `username` and `password` of a database secret (the shape RDS writes).
    package func databaseCredentials(_ secretID: String) async throws -> (user: String, password: String) {
        let text = try await secretString(secretID)
        guard let fields = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              let user = fields["username"] as? String, let password = fields["password"] as? String else {
            throw SecretsManagerError("secret \(secretID) is not a JSON object with username and password")
        }
        return (user, password)
    }

    /// Stops the HTTP client.
    package func shutdown() async {
        await http.shutdown()
    }
}

/// A secret could not be read; the message says which and why (never the secret's value).
package struct SecretsManagerError: Error, Sendable, CustomStringConvertible {
    package let message: String
    init(_ message: String) { self.message = message }
    package var description: String { message }
}
