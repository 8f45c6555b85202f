/// A Redis command as the exact-length byte strings sent on the wire, with what a cluster
/// needs to route it: where its key is, and whether it only reads.
///
/// The commands this client sends have typed constructors that say both; any other command can
/// be built from its words — `RedisCommand("CONFIG", "GET", "maxmemory")` — and then its shape
/// is looked up once, by name, in ``Shape/known``.
package struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    /// Where a command's routing key sits and whether it only reads.
    package struct Shape: Sendable, Hashable {
        /// The index in ``RedisCommand/arguments`` of the key that decides the cluster node;
        /// `nil` for keyless commands (`PING`, `INFO`, `SCAN`), which any node answers or which
        /// the client fans out itself.
        package var keyIndex: Int?
        /// Only reads: a replica may answer it (`--redis-read-from replica`).
        package var isReadOnly: Bool

        package static let keyless = Shape(keyIndex: nil, isReadOnly: false)
        static let readsKey = Shape(keyIndex: 1, isReadOnly: true)
        static let writesKey = Shape(keyIndex: 1, isReadOnly: false)

        /// The single-key commands a command built from words may be, by name.
        static let known: [String: Shape] = {
            var known: [String: Shape] = [:]
            for name in ["GET", "MGET", "EXISTS", "TTL", "PTTL", "STRLEN", "TYPE", "HGET", "HGETALL"] { known[name] = .readsKey }
            for name in ["SET", "DEL", "UNLINK", "EXPIRE", "PEXPIRE", "INCR", "INCRBY", "DECR", "GETDEL", "GETEX", "SETNX", "SETEX",
                         "PSETEX", "APPEND", "HSET", "RPUSH", "LPUSH"] { known[name] = .writesKey }
            return known
        }()

        /// A script call's shape: routed by its first key (`EVAL script numkeys key…`).
        static func script(keys: Int) -> Shape { Shape(keyIndex: keys > 0 ? 3 : nil, isReadOnly: false) }
    }

    /// The command name and its arguments, binary-safe.
    package let arguments: [[UInt8]]
    package let shape: Shape

    /// A command from binary-safe arguments and its shape.
    package init(arguments: [[UInt8]], shape: Shape) {
        precondition(!arguments.isEmpty, "a Redis command needs a name")
        self.arguments = arguments
        self.shape = shape
    }

    /// A command from binary-safe arguments, its shape looked up by name.
    package init(arguments: [[UInt8]]) {
        precondition(!arguments.isEmpty, "a Redis command needs a name")
        let name = String(decoding: arguments[0], as: UTF8.self).uppercased()
        self.init(arguments: arguments, shape: Shape.known[name] ?? Self.scriptShape(name, arguments) ?? .keyless)
    }

    /// A command from text words, its shape looked up by name.
    package init(_ words: String...) {
        self.init(arguments: words.map { Array($0.utf8) })
    }

    /// The command name, for logs and metrics. Arguments are left out: they may be secrets.
    package var name: String { String(decoding: arguments[0], as: UTF8.self).uppercased() }

    package var description: String { name }

    /// The key that decides which cluster node the command goes to; `nil` for keyless ones.
    var routingKey: ArraySlice<UInt8>? {
        shape.keyIndex.flatMap { $0 < arguments.count ? arguments[$0][...] : nil }
    }

    /// Whether the command only reads, so a replica may answer it.
    var isRead: Bool { shape.isReadOnly }

    private static func scriptShape(_ name: String, _ arguments: [[UInt8]]) -> Shape? {
        guard ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"].contains(name), arguments.count >= 3,
              let keys = Int(String(decoding: arguments[2], as: UTF8.self)) else { return nil }
        return .script(keys: keys)
    }

    package static func get(_ key: String) -> RedisCommand { .init(arguments: [Array("GET".utf8), Array(key.utf8)], shape: .readsKey) }

    package static func set(_ key: String, _ value: [UInt8], expireSeconds: Int? = nil) -> RedisCommand {
        var arguments: [[UInt8]] = [Array("SET".utf8), Array(key.utf8), value]
        if let expireSeconds {
            arguments += [Array("EX".utf8), Array(String(expireSeconds).utf8)]
        }
        return .init(arguments: arguments, shape: .writesKey)
    }

    package static func del(_ keys: [String]) -> RedisCommand {
        .init(arguments: [Array("DEL".utf8)] + keys.map { Array($0.utf8) }, shape: .writesKey)
    }

    package static func mget(_ keys: [String]) -> RedisCommand {
        .init(arguments: [Array("MGET".utf8)] + keys.map { Array($0.utf8) }, shape: .readsKey)
    }

    /// `EVAL source numkeys key… argument…`, or `EVALSHA sha1 …` when `sha` is given.
    package static func eval(_ source: String, sha: String? = nil, keys: [String], arguments: [[UInt8]]) -> RedisCommand {
        .init(arguments: [Array((sha == nil ? "EVAL" : "EVALSHA").utf8), Array((sha ?? source).utf8), Array(String(keys.count).utf8)]
            + keys.map { Array($0.utf8) } + arguments, shape: .script(keys: keys.count))
    }

    package static func info(_ section: String? = nil) -> RedisCommand {
        section.map { .init("INFO", $0) } ?? .init("INFO")
    }

    package static let ping = RedisCommand("PING")
    package static let flushdb = RedisCommand("FLUSHDB")

    static func auth(user: String?, password: String) -> RedisCommand {
        user.map { .init("AUTH", $0, password) } ?? .init("AUTH", password)
    }

    static let asking = RedisCommand("ASKING")
    static let readOnly = RedisCommand("READONLY")

    static func select(_ database: Int) -> RedisCommand { .init("SELECT", String(database)) }
}
