// libFuzzer target: a cache entry's layout read from whatever bytes Redis holds for a key.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    guard let frame = CacheEntryFrame(bytes) else { return 0 }
    switch frame.kind {
    case .notFound:
        precondition(size == CacheEntryFrame.frameSize)
    case .value(let offset, let freshUntil, let load):
        precondition(offset >= 0 && offset <= size, "value offset \(offset) past \(size) bytes")
        precondition((freshUntil == nil) == (load == nil))
    }
    return 0
}
