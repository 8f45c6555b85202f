// The ceiling of the hit-path benchmark (scripts/bench/hit-path.sh): a bare Hummingbird server
// whose only route answers a constant JSON body — no cache, no metrics, no middleware — so the
// table shows how close the cache server comes to what the HTTP layer alone can do here.
//
//   hummingbird-ceiling PORT
import Foundation
import Hummingbird

guard CommandLine.arguments.count == 2, let port = Int(CommandLine.arguments[1]) else {
    print("usage: hummingbird-ceiling PORT")
    exit(64)
}
let body = ByteBuffer(string: #"{"product":{"id":1,"name":"Product 1","price":19.99},"cache_status":"HIT"}"#)
let router = Router()
router.get("/product/:id") { _, _ in
    Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: body))
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "ceiling"))
try await app.runService()
