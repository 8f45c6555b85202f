/// A subcommand that did not do its job. ArgumentParser prints it as `Error: <message>` on
/// standard error and exits with status 1, so `cacheload seed && cacheload serve` stops here.
///
/// Exit statuses of every subcommand (README, "Exit codes"): 0 done; 1 not done (this, or a
/// runtime error); 64 a usage error (bad flag or value, an output path that cannot be written);
/// 99 `load` finished but a `--threshold` failed.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
