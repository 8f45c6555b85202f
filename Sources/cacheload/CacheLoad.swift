import ArgumentParser
import CommandOptions
import Foundation

@main
struct CacheLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cacheload",
        abstract: "Prove what a cache-aside layer does for an application, under real load.",
        discussion: """
            A typical session:
              cacheload seed
              cacheload serve --redis redis://127.0.0.1:6379/0 \\
                  --postgres postgresql://postgres@127.0.0.1:5432/postgres
              curl -i http://127.0.0.1:8080/product/42   # X-Cache: MISS, then HIT
              cacheload load 'http://127.0.0.1:8080/product/{key}' -d 10s

            Connection settings come from flags, then --config (INI), then REDIS_URL, DATABASE_URL and PG* variables.

            Exit status: 0 done, 1 not done (the error says why), 64 a usage error, 99 a load threshold failed.
            """,
        version: "0.1.0",
        subcommands: [Serve.self, Seed.self, Warm.self, Load.self, Report.self, Export.self, Alarm.self, S3.self, Demo.self]
    )
}

/// Prints a line and flushes at once: stdout is block-buffered when piped, and progress that
/// arrives at the end is no progress.
func say(_ line: String) {
    print(line)
    fflush(nil)
}
