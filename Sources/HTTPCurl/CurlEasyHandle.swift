import Foundation
import CCurl

/// One libcurl easy handle. `perform` blocks, so only ``CurlClient``'s thread pool calls it.
///
/// `@unchecked Sendable`: a handle is used by one thread at a time — the client takes it out of
/// its free list for the duration of one request. Reusing handles keeps connections alive.
final class CurlEasyHandle: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    /// Where libcurl writes its error text: allocated with the handle, so the pointer given to
    /// CURLOPT_ERRORBUFFER stays valid for as long as libcurl may write through it.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// The first option libcurl refused while a request was set up, and its code.
    private var refused: (option: String, code: CURLcode)?

    init() {
        precondition(ccurl_global_init() == CURLE_OK, "libcurl could not initialise")
        guard let handle = curl_easy_init() else { preconditionFailure("libcurl: out of memory") }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Notes a `curl_easy_setopt` result: an older libcurl that lacks an option (CURLOPT_AWS_SIGV4
    /// before 7.75) must fail the request, not send it unsigned.
    private func set(_ name: String, _ code: CURLcode) {
        if code != CURLE_OK, refused == nil { refused = (name, code) }
    }

    /// Sends `request` and collects the response.
    func perform(_ request: CurlRequest) throws(CurlError) -> CurlResponse {
        try perform(request, collector: ResponseCollector())
    }

    /// The request's headers, and SigV4 signing when it asks for it; the caller frees the list
    /// after the transfer.
    private func setHeadersAndSigning(_ request: CurlRequest) -> UnsafeMutablePointer<curl_slist>? {
        var headerList: UnsafeMutablePointer<curl_slist>?
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        if let signing = request.signing {
            set("CURLOPT_AWS_SIGV4", ccurl_setopt_string(handle, CURLOPT_AWS_SIGV4, "aws:amz:\(signing.region):\(signing.service)"))
            set("CURLOPT_USERNAME", ccurl_setopt_string(handle, CURLOPT_USERNAME, signing.credentials.accessKeyID))
            set("CURLOPT_PASSWORD", ccurl_setopt_string(handle, CURLOPT_PASSWORD, signing.credentials.secretAccessKey))
            if let token = signing.credentials.sessionToken {
                headerList = curl_slist_append(headerList, "X-Amz-Security-Token: \(token)")
            }
        } else {
            // curl would otherwise send `Expect: 100-continue` for large bodies and wait for it.
            // Not when signing: curl 7.88 signs the suppressed header and the signature breaks.
            headerList = curl_slist_append(headerList, "Expect:")
        }
        set("CURLOPT_HTTPHEADER", ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
        return headerList
    }

    /// Sends `request`, handing the head to `collector.onHead` as soon as it is complete and
    /// every body chunk to `collector.onBody` as it arrives (nothing is accumulated).
    func perform(_ request: CurlRequest, collector: ResponseCollector) throws(CurlError) -> CurlResponse {
        curl_easy_reset(handle)
        let unmanaged = Unmanaged.passRetained(collector)
        defer { unmanaged.release() }
        refused = nil
        errorBuffer[0] = 0
        set("CURLOPT_ERRORBUFFER", ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        set("CURLOPT_URL", ccurl_setopt_string(handle, CURLOPT_URL, request.url))
        set("CURLOPT_NOSIGNAL", ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set("CURLOPT_TIMEOUT_MS", ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout)))
        set("CURLOPT_CONNECTTIMEOUT_MS", ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout)))
        set("CURLOPT_PROTOCOLS_STR", ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        setMethodAndBody(request)
        let headerList = setHeadersAndSigning(request)
        defer { curl_slist_free_all(headerList) }

        set("CURLOPT_WRITEFUNCTION", ccurl_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, userdata in
            let collector = Unmanaged<ResponseCollector>.fromOpaque(userdata!).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
            if let onBody = collector.onBody {
                // 0 tells curl to abort: the reader of a streamed body went away.
                return onBody(Array(bytes)) ? size * count : 0
            }
            collector.body.append(contentsOf: bytes)
            return size * count
        })
        set("CURLOPT_WRITEDATA", ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, unmanaged.toOpaque()))
        set("CURLOPT_HEADERFUNCTION", ccurl_setopt_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, userdata in
            let collector = Unmanaged<ResponseCollector>.fromOpaque(userdata!).takeUnretainedValue()
            collector.addHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        set("CURLOPT_HEADERDATA", ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, unmanaged.toOpaque()))

        if let (option, code) = refused {
            throw CurlError(.invalidRequest, "this libcurl (\(String(cString: curl_version()))) refused \(option): \(String(cString: curl_easy_strerror(code)))"
                + (option == "CURLOPT_AWS_SIGV4" ? " — AWS signing needs libcurl 7.75 or later" : ""))
        }
        let result = curl_easy_perform(handle)
        guard result == CURLE_OK else { throw error(for: result) }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return CurlResponse(status: status, headers: collector.headers, body: collector.body)
    }

    private func setMethodAndBody(_ request: CurlRequest) {
        switch request.method {
        case .GET: set("CURLOPT_HTTPGET", ccurl_setopt_long(handle, CURLOPT_HTTPGET, 1))
        case .HEAD: set("CURLOPT_NOBODY", ccurl_setopt_long(handle, CURLOPT_NOBODY, 1))
        case .POST, .PUT, .DELETE:
            if request.method != .POST {
                set("CURLOPT_CUSTOMREQUEST", ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method.rawValue))
            }
            // POSTFIELDS (copied) rather than a read callback: curl 7.88's SigV4 hashes the
            // payload only when it is given this way.
            if let body = request.body ?? (request.method == .DELETE ? nil : []) {
                set("CURLOPT_POSTFIELDSIZE_LARGE", ccurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
                let code = body.withUnsafeBytes { bytes in
                    ccurl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
                }
                set("CURLOPT_COPYPOSTFIELDS", code)
            }
        }
    }

    private func error(for code: CURLcode) -> CurlError {
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return CurlError(.timeout, message)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return CurlError(.connectionFailed, message)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT:
            return CurlError(.invalidRequest, message)
        default:
            return CurlError(.transport, message)
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        max(1, Int(duration / .milliseconds(1)))
    }
}

/// Gathers the status line's headers and the body as libcurl delivers them — or, for
/// streaming, hands them on as they come.
///
/// `@unchecked Sendable`: only the thread running the transfer touches it.
final class ResponseCollector: @unchecked Sendable {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    private var status = 0
    /// Streaming: called once, when the final response's headers are complete.
    var onHead: ((Int, [(name: String, value: String)]) -> Void)?
    /// Streaming: called with each body chunk instead of accumulating it; `false` aborts.
    var onBody: (([UInt8]) -> Bool)?

    func addHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.isEmpty {
            if !(100..<200).contains(status), let onHead {
                self.onHead = nil
                onHead(status, headers)
            }
        } else if line.hasPrefix("HTTP/") {
            // A new response (after 100 Continue or a redirect): keep only the final headers.
            headers.removeAll()
            status = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append((name, value))
        }
    }
}
