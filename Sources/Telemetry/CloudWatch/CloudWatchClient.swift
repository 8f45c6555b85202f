import AWS
import Foundation
import HTTPCurl
import Logging
import Synchronization

/// Talks to CloudWatch (or a local endpoint such as moto_server) over the Query protocol,
/// signing every request with SigV4 through libcurl.
package final class CloudWatchClient: Sendable {
    /// Retry policy for throttling, 5xx and unreachable endpoints: exponential backoff with
    /// full jitter (a random wait between 0 and `base × 2^attempt`, capped).
    package struct RetryPolicy: Sendable {
        package var attempts: Int
        package var base: Duration
        package var cap: Duration
        package init(attempts: Int = 4, base: Duration = .milliseconds(200), cap: Duration = .seconds(5)) {
            self.attempts = max(1, attempts)
            self.base = base
            self.cap = cap
        }
    }

    package let endpoint: String
    package let region: String
    private let credentials: AWSCredentialChain
    private let http: CurlClient
    private let retry: RetryPolicy
    private let onRetry: @Sendable () -> Void
    /// PutMetricData bodies of at least this many bytes go gzip-compressed (the AWS SDKs' default
    /// `request_min_compression_size_bytes`); `nil` never compresses.
    private let compressionThreshold: Int?
    /// Cleared when the endpoint refuses a compressed body and accepts it plain.
    private let endpointTakesGzip = Atomic(true)
    private let logger: Logger

    /// - Parameters:
    ///   - endpoint: `https://monitoring.REGION.amazonaws.com` unless overridden.
    ///   - onRetry: called for every retried request (for the exporter's own metrics).
    ///   - compressionThreshold: gzip PutMetricData bodies from this size on; `nil` never.
    package init(endpoint: String, region: String, credentials: AWSCredentialChain, http: CurlClient = CurlClient(concurrency: 2),
                retry: RetryPolicy = RetryPolicy(), compressionThreshold: Int? = 10_240,
                logger: Logger = Logger(label: "cacheload.cloudwatch"), onRetry: @escaping @Sendable () -> Void = {}) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.region = region
        self.credentials = credentials
        self.http = http
        self.retry = retry
        self.compressionThreshold = compressionThreshold
        self.logger = logger
        self.onRetry = onRetry
    }

    /// Whether large PutMetricData bodies are still sent gzip-compressed.
    package var compressesRequests: Bool { compressionThreshold != nil && endpointTakesGzip.load(ordering: .relaxed) }

    /// A client the way the AWS SDKs would make one: region, endpoint and credentials from the
    /// environment (`AWS_REGION`, `AWS_ENDPOINT_URL_CLOUDWATCH`/`AWS_ENDPOINT_URL`, the credential chain).
    /// - Parameters:
    ///   - credentials: the process's credential chain, when it has one already (one per process).
    ///   - onRetry: called for every retried request (for the exporter's own metrics).
    package static func fromEnvironment(endpoint explicit: String? = nil, credentials: AWSCredentialChain = AWSCredentialChain(),
                                        onRetry: @escaping @Sendable () -> Void = {}) -> CloudWatchClient {
        let region = AWSCredentialChain.region()
        return CloudWatchClient(endpoint: endpoint(explicit: explicit, region: region), region: region,
                                credentials: credentials, onRetry: onRetry)
    }

    /// The endpoint the AWS SDKs would use: `explicit`, then `AWS_ENDPOINT_URL_CLOUDWATCH`,
    /// then `AWS_ENDPOINT_URL`, then the regional CloudWatch endpoint.
    package static func endpoint(explicit: String?, region: String,
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        explicit ?? environment["AWS_ENDPOINT_URL_CLOUDWATCH"] ?? environment["AWS_ENDPOINT_URL"] ?? "https://monitoring.\(region).amazonaws.com"
    }

    /// Sends one Query-protocol action (`Action=…&Version=2010-08-01&…`), retrying what can be
    /// retried, and returns the response body.
    /// - Throws: ``CloudWatchError`` — `retryable` when every attempt failed for a transient reason.
    ///
    /// A large PutMetricData body goes gzip-compressed (`Content-Encoding: gzip`, as the AWS SDKs
    /// send it); an endpoint that rejects it and takes the plain body gets plain bodies from then on.
    @discardableResult
    package func call(_ form: String) async throws -> String {
        guard let threshold = compressionThreshold, form.utf8.count >= threshold, form.hasPrefix("Action=PutMetricData&"),
              endpointTakesGzip.load(ordering: .relaxed) else {
            return try await attempts(form, gzip: false)
        }
        do {
            return try await attempts(form, gzip: true)
        } catch let error as CloudWatchError where error.reason == .rejected {
            let answer = try await attempts(form, gzip: false)
            if endpointTakesGzip.exchange(false, ordering: .relaxed) {
                logger.notice("the CloudWatch endpoint refused a gzip-compressed body and took it plain: sending plain bodies from now on",
                              metadata: ["endpoint": "\(endpoint)", "refusal": "\(error)"])
            }
            return answer
        }
    }

    private func attempts(_ form: String, gzip: Bool) async throws -> String {
        var lastError = CloudWatchError(.unreachable, "no attempt made")
        for attempt in 0..<retry.attempts {
            if attempt > 0 {
                onRetry()
                let ceiling = min(retry.cap, retry.base * (1 << min(attempt - 1, 20)))
                let nanos = max(1, Int64(ceiling / .nanoseconds(1)))
                try await Task.sleep(for: .nanoseconds(Int64.random(in: 0...nanos)))
            }
            do {
                return try await once(form, gzip: gzip)
            } catch let error as CloudWatchError where error.isRetryable {
                lastError = error
            }
        }
        throw lastError
    }

    private func once(_ form: String, gzip: Bool) async throws -> String {
        let (credentials, _) = try await resolveCredentials()
        let response: CurlResponse
        var headers = [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")]
        if gzip { headers.append(("Content-Encoding", "gzip")) }
        do {
            response = try await http.execute(CurlRequest(
                method: .POST, url: endpoint + "/", headers: headers,
                body: gzip ? Zlib.compress(Array(form.utf8), format: .gzip) : Array(form.utf8), timeout: .seconds(10), connectTimeout: .seconds(3),
                signing: AWSSigning(region: region, service: "monitoring", credentials: credentials)))
        } catch {
            throw CloudWatchError(.unreachable, "CloudWatch at \(endpoint) unreachable: \(error)")
        }
        let body = response.text
        switch response.status {
        case 200..<300:
            return body
        case 500...:
            throw CloudWatchError(.serverError, "CloudWatch answered \(response.status): \(Self.errorMessage(body))")
        default:
            let code = Self.errorCode(body)
            if code == "Throttling" || code == "ThrottlingException" || response.status == 429 {
                throw CloudWatchError(.throttled, "CloudWatch is throttling requests: \(Self.errorMessage(body))")
            }
            throw CloudWatchError(.rejected, "CloudWatch rejected the request (\(response.status) \(code ?? "")): \(Self.errorMessage(body))")
        }
    }

    private func resolveCredentials() async throws -> (AWSCredentials, AWSCredentialChain.Source) {
        do {
            return try await credentials.resolve()
        } catch {
            // A credentials look-up that fails (the instance metadata endpoint busy, a container
            // endpoint restarting) is an outage like a network one: retried, then spooled.
            throw CloudWatchError(.credentialsUnavailable, "AWS credentials could not be resolved: \(error)")
        }
    }

    /// GetMetricStatistics: one value of `statistic` (`Sum`, `Minimum`, `Average`, …) per period.
    package func statistics(namespace: String, metric: String, dimensions: [Dimension], statistic: String,
                           from start: Date, to end: Date, periodSeconds: Int = 60) async throws -> [Double] {
        var form = "Action=GetMetricStatistics&Version=2010-08-01&Namespace=\(PutMetricData.escape(namespace))"
        form += "&MetricName=\(PutMetricData.escape(metric))&Period=\(periodSeconds)&Statistics.member.1=\(statistic)"
        form += "&StartTime=\(PutMetricData.escape(PutMetricData.timestamp(start)))&EndTime=\(PutMetricData.escape(PutMetricData.timestamp(end)))"
        for (index, dimension) in dimensions.enumerated() {
            form += "&Dimensions.member.\(index + 1).Name=\(PutMetricData.escape(dimension.name))"
            form += "&Dimensions.member.\(index + 1).Value=\(PutMetricData.escape(dimension.value))"
        }
        return XMLText.elements(statistic, in: try await call(form)).compactMap(Double.init)
    }

    static func errorCode(_ body: String) -> String? { XMLText.element("Code", in: body) }

    static func errorMessage(_ body: String) -> String { XMLText.element("Message", in: body) ?? String(body.prefix(200)) }
}

/// A CloudWatch call that failed; `isRetryable` says whether waiting could help.
package struct CloudWatchError: Error, Sendable, CustomStringConvertible {
    package enum Reason: Sendable { case unreachable, throttled, serverError, rejected, credentialsUnavailable }
    package let reason: Reason
    package let message: String

    init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    /// Throttling, 5xx, network failures and credentials that could not be looked up are
    /// retried and spooled; rejections (credentials refused, invalid parameters) are not —
    /// retrying cannot fix them.
    package var isRetryable: Bool { reason != .rejected }

    package var description: String { message }
}
