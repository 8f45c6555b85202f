// libFuzzer target: the one INI reader (~/.aws files, --config's database.ini) over any text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    for strict in [true, false] {
        _ = try? INIFile(text: text, strict: strict)
    }
    return 0
}
