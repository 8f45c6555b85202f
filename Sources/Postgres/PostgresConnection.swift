import ConnectionPool
import CLibPQ

/// One libpq connection. Every method blocks the calling thread, so only the pool calls it,
/// and only from its thread pool — never from an event loop.
///
/// `@unchecked Sendable`: a `PGconn` must not be used by two threads at once; the pool hands
/// each connection to one caller at a time, which gives that guarantee.
final class PostgresConnection: BlockingConnection, @unchecked Sendable {
    private var handle: OpaquePointer?
    private var preparedNames: Set<String> = []

    /// Opens a connection; blocks for up to the configured connect timeout.
    init(configuration: PostgresConfiguration) throws {
        let parameters = configuration.connectParameters
        let keywords = parameters.map { strdup($0.0) }
        let values = parameters.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        var keywordArray = keywords.map { UnsafePointer($0) } + [nil]
        var valueArray = values.map { UnsafePointer($0) } + [nil]
        let connection = PQconnectdbParams(&keywordArray, &valueArray, 1)
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            PQfinish(connection)
            // libpq keeps no SQLSTATE for a refused connection, only the server's message.
            let refusedPassword = message.contains("password authentication failed")
            throw PostgresError(.connectionFailed, message, sqlState: refusedPassword ? "28P01" : nil)
        }
        // NOTICEs ("relation already exists, skipping") would go to stderr; they are not errors.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
    }

    deinit {
        PQfinish(handle)
    }

    /// Whether libpq still considers the connection usable.
    var isHealthy: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// Runs a parameterised statement (extended protocol, unnamed statement).
    func query(_ query: PostgresQuery) throws -> PostgresRows {
        let handle = try open()
        let result = withParameters(query.binds) { count, values in
            PQexecParams(handle, query.sql, count, nil, values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Runs a named prepared statement, preparing it on this connection the first time.
    func execute(_ statement: PostgresPreparedStatement, binds: [String?]) throws -> PostgresRows {
        let handle = try open()
        if !preparedNames.contains(statement.name) {
            _ = try consume(PQprepare(handle, statement.name, statement.sql, 0, nil))
            preparedNames.insert(statement.name)
        }
        let result = withParameters(binds) { count, values in
            PQexecPrepared(handle, statement.name, count, values, nil, nil, 0)
        }
        return try consume(result)
    }

    /// Closes the connection; later calls fail with `connectionLost`.
    func close() {
        PQfinish(handle)
        handle = nil
    }

    // MARK: - libpq plumbing

    private func open() throws -> OpaquePointer {
        guard let handle else { throw PostgresError(.connectionLost, "connection is closed") }
        return handle
    }

    private func withParameters<R>(
        _ binds: [String?],
        _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> R
    ) -> R {
        // NUL-terminated copies that live until libpq has sent them.
        let copies: [UnsafeMutablePointer<CChar>?] = binds.map { $0.map { strdup($0) } }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { $0.map { UnsafePointer($0) } }
        return pointers.withUnsafeBufferPointer { buffer in
            body(Int32(binds.count), buffer.baseAddress)
        }
    }

    /// Turns a `PGresult` into rows or a typed error, and frees it.
    private func consume(_ result: OpaquePointer?) throws -> PostgresRows {
        guard let result else {
            throw connectionError(String(cString: PQerrorMessage(handle)))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return rows(of: result)
        default:
            let message = String(cString: PQresultErrorMessage(result))
            let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            if !isHealthy {
                throw PostgresError(.connectionLost, message, sqlState: sqlState)
            }
            throw PostgresError(.server, message, sqlState: sqlState)
        }
    }

    private func connectionError(_ message: String) -> PostgresError {
        PostgresError(isHealthy ? .server : .connectionLost, message)
    }

    private func rows(of result: OpaquePointer) -> PostgresRows {
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)
        var columns: [String] = []
        var index: [String: Int] = [:]
        for column in 0..<columnCount {
            let name = String(cString: PQfname(result, column))
            columns.append(name)
            if index[name] == nil { index[name] = Int(column) }
        }
        var rows: [PostgresRow] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, row, column)))
                }
            }
            rows.append(PostgresRow(columnIndex: index, values: values))
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, rows: rows, affectedRows: affected)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
