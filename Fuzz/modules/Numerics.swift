import Glibc

// The two functions hdrhistogram-swift takes from swift-numerics, so the fuzz build compiles
// the histogram from its source into a module of its own (scripts/fuzz), without swift-numerics.
// Glibc, not Foundation: the histogram declares its own String(format:), which Foundation's
// would make ambiguous.
extension Double {
    @usableFromInline static func pow(_ base: Double, _ exponent: Int) -> Double { Glibc.pow(base, Double(exponent)) }
    @usableFromInline static func log2(_ value: Double) -> Double { Glibc.log2(value) }
}
