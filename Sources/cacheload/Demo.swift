import ArgumentParser
import CommandOptions
import Demo
import Foundation
import Server

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the whole story on this machine: before/after, 1000 concurrent, constant rate, slow page, alarm.",
        discussion: """
            `make demo` starts throwaway Redis, PostgreSQL, MariaDB and moto_server and runs this (`make demo DB=mysql`: in front of MariaDB). By hand:
              scripts/services start && set -a && . ./.services.env && set +a
              cacheload demo
              cacheload demo --origin "$MYSQL_URL"   # MySQL behind the cache

            Writes demo-report/index.html, summary.json and one result file per phase.
            """)

    @OptionGroup var connections: ConnectionOptions

    @Flag(help: "Short phases (for tests and a quick look).")
    var quick = false

    @Option(help: ArgumentHelp("Where the report goes.", valueName: "dir"))
    var reportDir: String = "demo-report"

    @Option(help: "Seconds slow_version() sleeps.")
    var slowSeconds: Double = 3

    @Option(help: ArgumentHelp("Prometheus binary for the alert phase (skipped when missing).", valueName: "path"))
    var prometheus: String = "/usr/bin/prometheus"

    @Option(help: ArgumentHelp("Alert rules; the demo shortens their windows and `for` to seconds.", valueName: "file"))
    var rules: String = "dashboards/prometheus/alerts.yml"

    @Flag(help: "Only the fleet phase: three servers on one Redis, origin queries at a cold start and a mass expiry per cache variant.")
    var fleetOnly = false

    @Flag(help: "Leave out the fleet phase (three servers; about 45 s with --quick, 2.5 min without).")
    var noFleet = false

    func validate() throws { if fleetOnly && noFleet { throw ValidationError("--fleet-only and --no-fleet contradict each other: give one") } }

    func run() async throws {
        // Ctrl-C / SIGTERM: stop what the demo started, then exit 130.
        let interrupts = await Interrupts.onFirst {
            DemoScenario.stopChildren()
            FileHandle.standardError.write(Data("\ndemo interrupted; stopped what it started\n".utf8))
            Foundation.exit(130)
        }
        defer { interrupts.cancel() }
        var configuration = DemoScenario.Configuration(redis: try connections.redisConfiguration(),
                                                       origin: try connections.origin(poolSize: 16))
        configuration.quick = quick
        configuration.reportDirectory = reportDir
        configuration.slowSeconds = slowSeconds
        configuration.prometheus = prometheus
        configuration.rules = rules
        configuration.fleet = fleetOnly ? .only : noFleet ? .leftOut : .included
        let contradictions = try await DemoScenario(configuration: configuration, say: { say($0) }).run()
        guard contradictions.isEmpty else {
            throw CommandFailure("\(contradictions.count) phase(s) contradicted the demo's story (listed above); see the reports in \(reportDir)")
        }
    }
}
