import LoadGen
import TestSupport

/// What the fleet suites (over PostgreSQL in ``FleetTests``, over MySQL in ``MySQLFleetTests``)
/// ask of a fleet of `serve` processes.
extension Array where Element == ServeProcess {
    /// `stats[field]` summed over the instances.
    func total(_ field: String) async throws -> Int {
        var sum = 0
        for instance in self { sum += try await instance.stats()[field] as? Int ?? 0 }
        return sum
    }
}

/// Polls until `condition` holds, at most `seconds` (the assertions after it say what did not).
func poll(seconds: Double = 20, until condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline, !(try await condition()) { try await Task.sleep(for: .milliseconds(20)) }
}

/// `requests` concurrent GETs of one product on one instance (one request per connection).
func burst(_ instance: ServeProcess, product: Int, requests: Int) async throws -> LoadResult {
    let plan = LoadPlan(template: try RequestTemplate(url: instance.baseURL + "/product/{key}"), keys: product...product,
                        connections: requests, duration: .seconds(30), requests: requests, timeout: .seconds(20), threads: 1)
    return try await LoadEngine(plan: plan).run()
}
