import ArgumentParser

@main
struct CacheLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cacheload",
        abstract: "Prove what a cache-aside layer does for an application, under real load."
    )
}
