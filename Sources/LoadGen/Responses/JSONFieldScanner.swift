/// Finds one field of a JSON body as its bytes stream past — across reads, without building a
/// tree: strings (with their escapes), nesting and key/value positions are tracked, and only a
/// key where a wanted path can still lead is kept. A field's name inside a string value, or a
/// field of the same name deeper than asked, is not the field.
///
/// Bounded: keys and values longer than 64 bytes are not kept (no wanted key is that long),
/// and a body nested deeper than 64 levels is given up on.
struct JSONFieldScanner {
    static let maximumKey = 64
    static let maximumValue = 64
    static let maximumDepth = 64

    /// A value found at a wanted path.
    struct Found: Equatable {
        /// Which of the paths, in the order given.
        var path: Int
        var bytes: [UInt8]
        var isString: Bool

        /// The outcome it states: a string in the caches' vocabulary (`"HIT"`), or a boolean
        /// (`cache_used: true` → hit, `false` → miss).
        var outcome: CacheOutcome {
            bytes.withUnsafeBufferPointer { bytes in
                if isString { return CacheVocabulary.list(bytes).0 }
                if CacheVocabulary.equalsIgnoringCase(bytes, "true") { return .hit }
                if CacheVocabulary.equalsIgnoringCase(bytes, "false") { return .miss }
                return .unknown
            }
        }
    }

    private struct Level {
        var isObject: Bool
        /// The paths (bits) the keys leading here match so far.
        var alive: UInt8
        var expectingKey: Bool
    }

    private let paths: [[[UInt8]]]
    private var stack: [Level] = []
    private(set) var found: Found?
    /// Whether the scan has ended: the field found, the body not an object, or given up.
    private(set) var done = false
    private var started = false
    private var inString = false, escape = false, stringIsKey = false
    private var inLiteral = false, capturing = false
    private var key: [UInt8] = []
    private var value: [UInt8] = []
    /// Set by a key: the wanted value follows (a path's index), or the paths a following object continues.
    private var pendingTarget: Int?
    private var pendingAlive: UInt8 = 0

    /// - Parameter paths: up to 8 paths, one name per level, in order of preference.
    init(paths: [[String]]) {
        self.paths = paths.prefix(8).map { $0.map { Array($0.utf8) } }
        stack.reserveCapacity(8)
        key.reserveCapacity(Self.maximumKey)
        value.reserveCapacity(Self.maximumValue)
    }

    /// Forgets the previous body.
    mutating func reset() {
        stack.removeAll(keepingCapacity: true)
        found = nil
        done = false
        started = false
        inString = false; escape = false; stringIsKey = false; inLiteral = false; capturing = false
        pendingTarget = nil
        pendingAlive = 0
    }

    /// Reads the next bytes of the body.
    mutating func consume(_ bytes: UnsafeBufferPointer<UInt8>) {
        for byte in bytes {
            if done { return }
            consume(byte)
        }
    }

    private mutating func consume(_ byte: UInt8) {
        if inString { return stringByte(byte) }
        let isSpace = byte == 32 || byte == 9 || byte == 10 || byte == 13
        if inLiteral {
            guard isSpace || byte == 44 || byte == 125 || byte == 93 else {  // ',' '}' ']'
                if capturing, value.count < Self.maximumValue { value.append(byte) }
                return
            }
            inLiteral = false
            if capturing { return finish(isString: false) }
        }
        if isSpace { return }
        guard started else {
            // A JSON object or nothing: the first byte that is not space decides.
            started = true
            guard byte == 123 else { done = true; return }
            stack.append(Level(isObject: true, alive: paths.isEmpty ? 0 : UInt8(truncatingIfNeeded: (1 << paths.count) - 1), expectingKey: true))
            return
        }
        switch byte {
        case 123, 91:  // '{' '['
            let alive = startValue()
            // The wanted field holds an object or an array: no outcome a vocabulary knows.
            if capturing { value.removeAll(); return finish(isString: false) }
            guard stack.count < Self.maximumDepth else { done = true; return }
            stack.append(Level(isObject: byte == 123, alive: byte == 123 ? alive : 0, expectingKey: byte == 123))
        case 125, 93:  // '}' ']'
            stack.removeLast()
            if stack.isEmpty { done = true }
        case 44:  // ','
            if stack[stack.count - 1].isObject { stack[stack.count - 1].expectingKey = true }
        case 58:  // ':'
            break
        case 34:  // '"'
            inString = true
            if stack[stack.count - 1].isObject && stack[stack.count - 1].expectingKey {
                stringIsKey = true
                key.removeAll(keepingCapacity: true)
            } else {
                stringIsKey = false
                _ = startValue()
            }
        default:  // a literal: true, false, null or a number
            inLiteral = true
            _ = startValue()
            if capturing { value.append(byte) }
        }
    }

    private mutating func stringByte(_ byte: UInt8) {
        if escape {
            escape = false
        } else if byte == 92 {  // '\'
            escape = true
            return
        } else if byte == 34 {  // '"'
            inString = false
            if stringIsKey { return keyEnded() }
            if capturing { finish(isString: true) }
            return
        }
        if stringIsKey {
            if stack[stack.count - 1].alive != 0, key.count <= Self.maximumKey { key.append(byte) }
        } else if capturing, value.count < Self.maximumValue {
            value.append(byte)
        }
    }

    /// A value begins: whether it is the wanted one, and which paths an object here continues.
    private mutating func startValue() -> UInt8 {
        capturing = pendingTarget != nil
        if capturing { value.removeAll(keepingCapacity: true) }
        let alive = pendingAlive
        pendingAlive = 0
        if !capturing { pendingTarget = nil }
        return alive
    }

    private mutating func keyEnded() {
        let level = stack.count - 1
        stack[level].expectingKey = false
        let alive = stack[level].alive
        guard alive != 0, key.count <= Self.maximumKey else { return }
        for (index, path) in paths.enumerated() where alive & (1 << index) != 0 && path.count > level && path[level] == key {
            if path.count == level + 1 {
                if pendingTarget == nil { pendingTarget = index }
            } else {
                pendingAlive |= 1 << index
            }
        }
    }

    private mutating func finish(isString: Bool) {
        found = Found(path: pendingTarget ?? 0, bytes: value, isString: isString)
        capturing = false
        pendingTarget = nil
        done = true
    }
}
