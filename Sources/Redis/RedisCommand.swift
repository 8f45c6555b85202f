/// A Redis command as the exact-length byte strings sent on the wire.
///
/// The common commands have typed constructors; any other command can be built from its words:
/// `RedisCommand("CONFIG", "GET", "maxmemory")`.
package struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    /// The command name and its arguments, binary-safe.
    package let arguments: [[UInt8]]

    /// A command from binary-safe arguments.
    package init(arguments: [[UInt8]]) {
        precondition(!arguments.isEmpty, "a Redis command needs a name")
        self.arguments = arguments
    }

    /// A command from text words.
    package init(_ words: String...) {
        self.init(arguments: words.map { Array($0.utf8) })
    }

    /// The command name, for logs and metrics. Arguments are left out: they may be secrets.
    package var name: String { String(decoding: arguments[0], as: UTF8.self).uppercased() }

    package var description: String { name }

    package static func get(_ key: String) -> RedisCommand { .init("GET", key) }

    package static func set(_ key: String, _ value: [UInt8], expireSeconds: Int? = nil) -> RedisCommand {
        var arguments: [[UInt8]] = [Array("SET".utf8), Array(key.utf8), value]
        if let expireSeconds {
            arguments += [Array("EX".utf8), Array(String(expireSeconds).utf8)]
        }
        return .init(arguments: arguments)
    }

    package static func del(_ keys: [String]) -> RedisCommand {
        .init(arguments: [Array("DEL".utf8)] + keys.map { Array($0.utf8) })
    }

    package static func mget(_ keys: [String]) -> RedisCommand {
        .init(arguments: [Array("MGET".utf8)] + keys.map { Array($0.utf8) })
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

extension RedisCommand {
    /// The key that decides which cluster node the command goes to, for the single-key
    /// commands this client sends; `nil` for keyless ones (`PING`, `INFO`, `SCAN`), which any
    /// node answers or which the client fans out itself.
    var routingKey: ArraySlice<UInt8>? {
        guard arguments.count >= 2 else { return nil }
        switch name {
        case "GET", "SET", "DEL", "UNLINK", "EXISTS", "EXPIRE", "PEXPIRE", "TTL", "PTTL", "INCR", "INCRBY", "DECR",
             "GETDEL", "GETEX", "SETNX", "SETEX", "PSETEX", "MGET", "STRLEN", "TYPE", "APPEND", "HGET", "HSET", "HGETALL":
            return arguments[1][...]
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard arguments.count >= 4, let keys = Int(String(decoding: arguments[2], as: UTF8.self)), keys > 0 else { return nil }
            return arguments[3][...]
        default:
            return nil
        }
    }

    /// Whether the command only reads, so a replica may answer it (`--redis-read-from replica`).
    var isRead: Bool {
        switch name {
        case "GET", "MGET", "EXISTS", "TTL", "PTTL", "STRLEN", "TYPE", "HGET", "HGETALL": true
        default: false
        }
    }
}
