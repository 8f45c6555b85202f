/// The names of cached entries in Redis: one scheme, shared by the server, `warm`, the S3
/// commands and the demo, so a key written by one is found and invalidated by the others.
package enum CacheKey {
    /// A product row as JSON: `product:{id}`.
    package static func product(_ id: Int) -> String { productPrefix + String(id) }
    /// An S3 object (content type and bytes): `object:{key}`.
    package static func object(_ key: String) -> String { objectPrefix + key }
    /// The result of `slow_version()`.
    package static let slowPage = "page:slow_version"

    package static let productPrefix = "product:"
    package static let objectPrefix = "object:"
}
