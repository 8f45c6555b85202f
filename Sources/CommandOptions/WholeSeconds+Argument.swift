import ArgumentParser
import Telemetry

extension WholeSeconds: ExpressibleByArgument {
    package init?(argument: String) { self.init(parsing: argument) }
    package var defaultValueDescription: String { "\(seconds)" }
}
