import ArgumentParser
import Server

extension ListenAddress {
    /// `--listen`-style text as an address; a usage error (exit 64) when it is not one.
    package static func parse(_ text: String, option: String) throws -> ListenAddress {
        do {
            return try ListenAddress(parsing: text, option: option)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
