/// The names of cached entries in Redis: one scheme, shared by the server, `warm`, the S3
/// commands and the demo, so a key written by one is found and invalidated by the others.
public enum CacheKey {
    /// A product row as JSON: `product:{id}`.
    public static func product(_ id: Int) -> String { productPrefix + String(id) }
    /// An S3 object (content type and bytes): `object:{key}`.
    public static func object(_ key: String) -> String { objectPrefix + key }
    /// The result of `slow_version()`.
    public static let slowPage = "page:slow_version"

    public static let productPrefix = "product:"
    public static let objectPrefix = "object:"
}
