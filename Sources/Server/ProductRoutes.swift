import CacheAside
import Foundation
import HTTPTypes
import Hummingbird
import Origins

/// `GET/PUT/DELETE /product/{id}`: the cache-aside read path, write-through and invalidation.
struct ProductRoutes: Sendable {
    let cache: CacheAside
    let catalog: ProductCatalog
    let maxBodyBytes: Int

    /// Product ids are PostgreSQL `integer` primary keys: 1 ... 2147483647, digits only.
    static func parseID(_ text: String?) -> Int? {
        guard let text, (1...10).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              text.first != "0", let id = Int(text), id <= Int(Int32.max) else { return nil }
        return id
    }

    static func invalidID(_ text: String?) -> APIError {
        let shown = String((text ?? "").prefix(40))
        return APIError(.badRequest, "invalid product id \"\(shown)\": expected an integer from 1 to 2147483647")
    }


    func get(_ request: Request, context: some RequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let text = context.parameters.get("id")
        guard let id = Self.parseID(text) else { throw Self.invalidID(text) }
        let result: CacheResult
        do {
            result = try await cache.fetch(CacheKey.product(id)) { [catalog] in try await catalog.product(id: id)?.json }
        } catch {
            throw Self.originFailure(error)
        }
        guard let product = result.value else {
            return JSONResponse.error(.notFound, "product \(id) not found", headers: JSONResponse.cacheHeaders(result))
        }
        // The cached bytes go out as they are: no decode, no re-encode on the hit path.
        let elapsed = ContinuousClock.now - start
        var body = ByteBuffer()
        body.reserveCapacity(product.readableBytes + 80)
        body.writeStaticString("{\"product\":")
        body.writeImmutableBuffer(product)
        body.writeStaticString(",\"cache_status\":\"")
        body.writeString(result.status.rawValue)
        body.writeStaticString("\",\"response_time_ms\":")
        Self.writeMilliseconds(elapsed, into: &body)
        body.writeStaticString("}")
        return Response(status: .ok, headers: JSONResponse.jsonCacheHeaders(result), body: ResponseBody(byteBuffer: body))
    }

    /// `1.234` (milliseconds, three decimals) without Foundation's formatter on the hot path.
    static func writeMilliseconds(_ duration: Duration, into buffer: inout ByteBuffer) {
        let micros = max(0, Int(duration / .microseconds(1)))
        buffer.writeString(String(micros / 1000))
        let fraction = micros % 1000
        buffer.writeStaticString(".")
        if fraction < 100 { buffer.writeStaticString("0") }
        if fraction < 10 { buffer.writeStaticString("0") }
        buffer.writeString(String(fraction))
    }

    func put(_ request: Request, context: some RequestContext) async throws -> Response {
        let text = context.parameters.get("id")
        guard let id = Self.parseID(text) else { throw Self.invalidID(text) }
        let change = try await Self.decodeUpdate(request, limit: maxBodyBytes)
        do {
            guard let product = try await catalog.update(id: id, change) else {
                throw APIError(.notFound, "product \(id) not found")
            }
            let json = product.json
            let key = CacheKey.product(id)
            var status = cache.configuration.enabled ? "WRITE_THROUGH" : "BYPASS"
            if cache.configuration.enabled, await !cache.store(key, json, current: { [catalog] in try await catalog.product(id: id)?.json }) {
                // The row changed but Redis did not take the new value: the old one must not be
                // served for the rest of its TTL. Removed, the next read reloads the row.
                guard await cache.invalidate(key) else {
                    throw APIError(.serviceUnavailable, "product \(id) is saved in the database, but Redis took neither the new value nor "
                        + "the removal of the old one: the old value may be served for up to \(cache.configuration.ttl.seconds) s. "
                        + "Repeat the PUT when Redis answers again")
                }
                status = "INVALIDATED"
            }
            var body = ByteBuffer(string: "{\"product\":")
            body.writeBytes(json)
            body.writeString(",\"cache_status\":\"\(status)\"}")
            return JSONResponse.raw(.ok, body)
        } catch let error as APIError {
            throw error
        } catch let error as ProductValidationError {
            throw APIError(.unprocessableContent, error.message)
        } catch {
            throw Self.originFailure(error)
        }
    }

    func delete(_ request: Request, context: some RequestContext) async throws -> Response {
        let text = context.parameters.get("id")
        guard let id = Self.parseID(text) else { throw Self.invalidID(text) }
        let deleted: Bool
        do {
            deleted = try await catalog.delete(id: id)
        } catch {
            throw Self.originFailure(error)
        }
        guard deleted else { throw APIError(.notFound, "product \(id) not found") }
        let invalidated = await cache.invalidate(CacheKey.product(id))
        return JSONResponse.object(.ok, ["deleted": id, "cache_invalidated": invalidated])
    }

    /// What a failed origin call means for the client: always 503, with the reason and what to do.
    static func originFailure(_ error: any Error) -> APIError {
        if let error = error as? CacheAsideError, error.reason == .singleFlightTimeout {
            return APIError(.serviceUnavailable, "the product is being loaded by another request and it took too long; retry shortly")
        }
        if ProductCatalog.isMissingSchema(error) {
            return APIError(.serviceUnavailable, ProductCatalog.missingSchemaAdvice)
        }
        return APIError(.serviceUnavailable, "the database is unavailable and the item is not cached; retry when the origin database is back")
    }

    /// The body of PUT /product/{id}: `{"name": "...", "price": 12.5, "description": "..."}`.
    private struct UpdateBody: Decodable {
        var name: String
        var price: Double
        var description: String?
    }

    private static let expectedBody = "expected {\"name\": string, \"price\": number, \"description\": string (optional)}"

    /// The validated change, or the 400/413/422 that says what is wrong with the body.
    private static func decodeUpdate(_ request: Request, limit: Int) async throws(APIError) -> ProductUpdate {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "the body is larger than \(limit) bytes")
        }
        let body: UpdateBody
        do {
            body = try JSONDecoder().decode(UpdateBody.self, from: Data(buffer.readableBytesView))
        } catch DecodingError.keyNotFound(let key, _) {
            throw APIError(.badRequest, "missing field \"\(key.stringValue)\"; \(expectedBody)")
        } catch DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context) {
            throw APIError(.badRequest, "field \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type; \(expectedBody)")
        } catch {
            throw APIError(.badRequest, "the body is not valid JSON; \(expectedBody)")
        }
        do {
            // name and price are required; a missing description keeps the stored one.
            return try ProductUpdate(name: body.name, price: body.price, description: body.description)
        } catch {
            throw APIError(.unprocessableContent, error.message)
        }
    }
}
