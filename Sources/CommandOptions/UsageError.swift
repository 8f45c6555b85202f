import ArgumentParser
import Telemetry

/// A value in one of the option grammars (sizes, durations, thresholds) read as a flag's value:
/// its grammar error is the command's usage error (exit 64), with the grammar's message.
package func usage<Value>(_ parse: () throws(OptionValueError) -> Value) throws -> Value {
    do {
        return try parse()
    } catch {
        throw ValidationError(error.message)
    }
}
