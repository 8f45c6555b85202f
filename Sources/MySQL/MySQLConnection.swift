import CMariaDB
import ConnectionPool
import Foundation

/// One libmariadb connection. Every call blocks: the client runs them on its thread pool, one
/// caller at a time per connection (the pool hands a connection to one lease holder).
///
/// Statements with values are server-side prepared statements, prepared once per connection and
/// kept; values travel as bound parameters.
final class MySQLConnection: BlockingConnection, @unchecked Sendable {
    private let handle: UnsafeMutablePointer<MYSQL>
    private var statements: [String: UnsafeMutablePointer<MYSQL_STMT>] = [:]
    private var broken = false
    private var closed = false

    /// Connects (blocking), with the configuration's timeouts and TLS mode.
    init(configuration: MySQLConfiguration) throws {
        guard let handle = mysql_init(nil) else { throw MySQLError(.connect, "mysql_init failed: out of memory") }
        self.handle = handle
        // A throw from here on runs deinit, which closes the handle.
        try Self.setOptions(handle, configuration)
        let connected = mysql_real_connect(handle, configuration.host, configuration.user, configuration.password,
                                           configuration.database, UInt32(configuration.port), nil, 0)
        guard connected != nil else { throw Self.error(handle, .connect) }
    }

    private static func setOptions(_ handle: UnsafeMutablePointer<MYSQL>, _ configuration: MySQLConfiguration) throws {
        func seconds(_ duration: Duration) -> UInt32 { UInt32(max(1, duration.components.seconds)) }
        var connect = seconds(configuration.connectTimeout), read = seconds(configuration.readTimeout)
        var write = seconds(configuration.writeTimeout)
        mysql_options(handle, MYSQL_OPT_CONNECT_TIMEOUT, &connect)
        mysql_options(handle, MYSQL_OPT_READ_TIMEOUT, &read)
        mysql_options(handle, MYSQL_OPT_WRITE_TIMEOUT, &write)
        mysql_options(handle, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        var yes: my_bool = 1, no: my_bool = 0
        switch configuration.sslMode {
        case .disabled:
            mysql_options(handle, MYSQL_OPT_SSL_ENFORCE, &no)
            mysql_options(handle, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no)
        case .preferred:
            // Asking for TLS without enforcing it: used when the server offers it.
            mysql_ssl_set(handle, nil, nil, configuration.sslCA, nil, nil)
            mysql_options(handle, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no)
        case .required:
            mysql_options(handle, MYSQL_OPT_SSL_ENFORCE, &yes)
            mysql_options(handle, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &no)
        case .verifyCA, .verifyIdentity:
            if let ca = configuration.sslCA {
                guard FileManager.default.isReadableFile(atPath: ca) else {
                    throw MySQLError(.configuration, "ssl-ca \(ca): no readable file there")
                }
                mysql_options(handle, MYSQL_OPT_SSL_CA, ca)
            }
            mysql_options(handle, MYSQL_OPT_SSL_ENFORCE, &yes)
            mysql_options(handle, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &yes)
        }
    }

    /// Whether the connection may go back to the pool.
    var isHealthy: Bool { !broken && !closed }

    /// Runs SQL without parameters through the text protocol (DDL, which MySQL cannot prepare).
    func run(_ sql: String) throws -> MySQLResult {
        guard mysql_real_query(handle, sql, UInt(sql.utf8.count)) == 0 else { throw failure(Self.error(handle, .statement)) }
        var rows: [MySQLRow] = []
        if let result = mysql_store_result(handle) {
            defer { mysql_free_result(result) }
            let count = Int(mysql_num_fields(result))
            let fields = mysql_fetch_fields(result)
            let names = (0..<count).map { String(cString: fields![$0].name) }
            while let row = mysql_fetch_row(result) {
                let lengths = mysql_fetch_lengths(result)
                rows.append(MySQLRow(columns: names, values: (0..<count).map { index in
                    row[index].map { String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(lengths![index])), as: UTF8.self) }
                }))
            }
        }
        let affected = mysql_affected_rows(handle)
        return MySQLResult(rows: rows, affectedRows: affected == UInt64.max ? 0 : Int(affected))
    }

    /// Runs a prepared statement (prepared on first use) with `values` bound to its `?`s.
    func execute(_ sql: String, _ values: [MySQLValue]) throws -> MySQLResult {
        let statement = try prepared(sql)
        let parameters = ParameterBuffers(values)
        defer { parameters.deallocate() }
        if !values.isEmpty, mysql_stmt_bind_param(statement, parameters.binds) != 0 {
            throw failure(Self.error(statement))
        }
        guard mysql_stmt_execute(statement) == 0 else { throw failure(Self.error(statement)) }
        defer { mysql_stmt_free_result(statement) }
        let affected = mysql_stmt_affected_rows(statement)
        guard let metadata = mysql_stmt_result_metadata(statement) else {
            return MySQLResult(rows: [], affectedRows: affected == UInt64.max ? 0 : Int(affected))
        }
        defer { mysql_free_result(metadata) }
        return MySQLResult(rows: try fetchRows(statement, metadata), affectedRows: 0)
    }

    private func prepared(_ sql: String) throws -> UnsafeMutablePointer<MYSQL_STMT> {
        if let statement = statements[sql] { return statement }
        guard let statement = mysql_stmt_init(handle) else { throw failure(Self.error(handle, .statement)) }
        guard mysql_stmt_prepare(statement, sql, UInt(sql.utf8.count)) == 0 else {
            let error = Self.error(statement)
            mysql_stmt_close(statement)
            throw failure(error)
        }
        var update: my_bool = 1
        mysql_stmt_attr_set(statement, STMT_ATTR_UPDATE_MAX_LENGTH, &update)
        statements[sql] = statement
        return statement
    }

    /// Every row, each column fetched as text into buffers sized from the stored result.
    private func fetchRows(_ statement: UnsafeMutablePointer<MYSQL_STMT>, _ metadata: UnsafeMutablePointer<MYSQL_RES>) throws -> [MySQLRow] {
        guard mysql_stmt_store_result(statement) == 0 else { throw failure(Self.error(statement)) }
        let count = Int(mysql_num_fields(metadata))
        let fields = mysql_fetch_fields(metadata)!
        let names = (0..<count).map { String(cString: fields[$0].name) }
        let results = ResultBuffers(sizes: (0..<count).map { max(Int(fields[$0].max_length), 64) + 1 })
        defer { results.deallocate() }
        guard mysql_stmt_bind_result(statement, results.binds) == 0 else { throw failure(Self.error(statement)) }
        var rows: [MySQLRow] = []
        while true {
            let status = mysql_stmt_fetch(statement)
            if status == MYSQL_NO_DATA { break }
            guard status == 0 || status == MYSQL_DATA_TRUNCATED else { throw failure(Self.error(statement)) }
            rows.append(MySQLRow(columns: names, values: try (0..<count).map { try results.value(at: $0, statement: statement) }))
        }
        return rows
    }

    /// Remembers that the connection is unusable after `error`, and returns it.
    private func failure(_ error: MySQLError) -> MySQLError {
        if error.breaksConnection { broken = true }
        return error
    }

    func close() {
        guard !closed else { return }
        closed = true
        for statement in statements.values { mysql_stmt_close(statement) }
        statements.removeAll()
        mysql_close(handle)
    }

    deinit { close() }

    static func error(_ handle: UnsafeMutablePointer<MYSQL>, _ kind: MySQLError.Kind) -> MySQLError {
        MySQLError(kind, number: Int(mysql_errno(handle)), sqlState: String(cString: mysql_sqlstate(handle)),
                   String(cString: mysql_error(handle)))
    }

    static func error(_ statement: UnsafeMutablePointer<MYSQL_STMT>) -> MySQLError {
        MySQLError(.statement, number: Int(mysql_stmt_errno(statement)), sqlState: String(cString: mysql_stmt_sqlstate(statement)),
                   String(cString: mysql_stmt_error(statement)))
    }
}

/// The `MYSQL_BIND`s of a statement's parameters and the memory they point to, freed together.
private struct ParameterBuffers {
    let binds: UnsafeMutablePointer<MYSQL_BIND>
    private let count: Int
    private var owned: [UnsafeMutableRawPointer] = []

    init(_ values: [MySQLValue]) {
        count = values.count
        binds = .allocate(capacity: max(1, count))
        binds.initialize(repeating: MYSQL_BIND(), count: max(1, count))
        for (index, value) in values.enumerated() {
            switch value {
            case .int(let number):
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
                buffer.storeBytes(of: Int64(number), as: Int64.self)
                owned.append(buffer)
                binds[index].buffer_type = MYSQL_TYPE_LONGLONG
                binds[index].buffer = buffer
            case .double(let number):
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
                buffer.storeBytes(of: number, as: Double.self)
                owned.append(buffer)
                binds[index].buffer_type = MYSQL_TYPE_DOUBLE
                binds[index].buffer = buffer
            case .string(let text):
                let bytes = Array(text.utf8)
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
                bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
                owned.append(buffer)
                binds[index].buffer_type = MYSQL_TYPE_STRING
                binds[index].buffer = buffer
                binds[index].buffer_length = UInt(bytes.count)
            case .null:
                binds[index].buffer_type = MYSQL_TYPE_NULL
            }
        }
    }

    func deallocate() {
        owned.forEach { $0.deallocate() }
        binds.deallocate()
    }
}

/// The `MYSQL_BIND`s a fetch writes every column into, as text, with their lengths and NULL flags.
private struct ResultBuffers {
    let binds: UnsafeMutablePointer<MYSQL_BIND>
    private let sizes: [Int]
    private let buffers: [UnsafeMutableRawPointer]
    private let lengths: UnsafeMutablePointer<UInt>
    private let nulls: UnsafeMutablePointer<my_bool>

    init(sizes: [Int]) {
        self.sizes = sizes
        let count = max(1, sizes.count)
        binds = .allocate(capacity: count)
        binds.initialize(repeating: MYSQL_BIND(), count: count)
        lengths = .allocate(capacity: count)
        lengths.initialize(repeating: 0, count: count)
        nulls = .allocate(capacity: count)
        nulls.initialize(repeating: 0, count: count)
        buffers = sizes.map { UnsafeMutableRawPointer.allocate(byteCount: $0, alignment: 1) }
        for index in sizes.indices {
            binds[index].buffer_type = MYSQL_TYPE_STRING
            binds[index].buffer = buffers[index]
            binds[index].buffer_length = UInt(sizes[index])
            binds[index].length = lengths + index
            binds[index].is_null = nulls + index
        }
    }

    /// Column `index` of the row just fetched; a value longer than its buffer is fetched again whole.
    func value(at index: Int, statement: UnsafeMutablePointer<MYSQL_STMT>) throws -> String? {
        guard nulls[index] == 0 else { return nil }
        let length = Int(lengths[index])
        if length <= sizes[index] {
            return String(decoding: UnsafeRawBufferPointer(start: buffers[index], count: length), as: UTF8.self)
        }
        let whole = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 1)
        defer { whole.deallocate() }
        var bind = MYSQL_BIND()
        var fetched: UInt = 0
        bind.buffer_type = MYSQL_TYPE_STRING
        bind.buffer = whole
        bind.buffer_length = UInt(length)
        return try withUnsafeMutablePointer(to: &fetched) { fetchedLength in
            bind.length = fetchedLength
            guard mysql_stmt_fetch_column(statement, &bind, UInt32(index), 0) == 0 else { throw MySQLConnection.error(statement) }
            return String(decoding: UnsafeRawBufferPointer(start: whole, count: length), as: UTF8.self)
        }
    }

    func deallocate() {
        buffers.forEach { $0.deallocate() }
        binds.deallocate()
        lengths.deallocate()
        nulls.deallocate()
    }
}
