import Foundation
import Testing
import TestSupport

/// deploy/k8s: the Indexed Job that runs one segment per pod, and the merge Job — validated
/// against Kubernetes' schemas offline, and their shell run here as a pod would run it.
@Suite("deploy/k8s: the Indexed Job and the merge Job")
struct KubernetesManifestTests {
    private let root = TestServices.repositoryRoot
    private var validator: String { root.appendingPathComponent(".tools/k8s/bin/kubernetes-validate").path }
    private var manifests: [String] { ["load-job.yaml", "merge-job.yaml"].map { root.appendingPathComponent("deploy/k8s/\($0)").path } }

    @Test("both manifests pass strict schema validation; a misspelt field would not")
    func validate() throws {
        let output = try run(validator, ["--strict"] + manifests)
        #expect(output.components(separatedBy: "passed for resource").count == 3, "\(output)")
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID()).yaml")
        defer { try? FileManager.default.removeItem(at: broken) }
        try String(contentsOfFile: manifests[0], encoding: .utf8).replacingOccurrences(of: "  parallelism: 3", with: "  paralelism: 3")
            .write(to: broken, atomically: true, encoding: .utf8)
        #expect(throws: ProcessFailure.self) { try run(validator, ["--strict", broken.path]) }
    }

    @Test("pod i runs segment i+1 of SEGMENTS with the common start and its own result; SEGMENTS matches completions")
    func podsTakeTheirSegments() throws {
        let described = try run("/usr/bin/env", ["python3", "-c", """
            import json, sys, yaml
            job = yaml.safe_load(open(sys.argv[1]))
            container = job["spec"]["template"]["spec"]["containers"][0]
            print(json.dumps({"completions": job["spec"]["completions"], "parallelism": job["spec"]["parallelism"],
                              "mode": job["spec"]["completionMode"], "script": container["args"][0],
                              "env": {e["name"]: e["value"] for e in container["env"]}}))
            """, manifests[0]])
        let job = try #require(try JSONSerialization.jsonObject(with: Data(described.utf8)) as? [String: Any])
        let env = try #require(job["env"] as? [String: String])
        #expect(job["mode"] as? String == "Indexed")
        #expect(job["completions"] as? Int == Int(env["SEGMENTS"] ?? ""))
        #expect(job["parallelism"] as? Int == job["completions"] as? Int, "every segment runs at once")

        let bin = FileManager.default.temporaryDirectory.appendingPathComponent("k8s-bin-\(UUID())")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: bin) }
        try "#!/bin/sh\necho \"$@\"\n".write(to: bin.appendingPathComponent("cacheload"), atomically: true, encoding: .utf8)
        _ = try run("/bin/chmod", ["+x", bin.appendingPathComponent("cacheload").path])
        let script = try #require(job["script"] as? String)
        let variables = env.map { "\($0.key)=\($0.value)" }
        let pod = try run("/usr/bin/env", variables + ["JOB_COMPLETION_INDEX=1", "PATH=\(bin.path):/usr/bin:/bin", "/bin/sh", "-c", script])
        #expect(pod.contains("--segment 2/3 --start-at \(env["START_AT"]!)"), "\(pod)")
        #expect(pod.contains("--json \(env["RESULTS"]!)/segment-2.json"), "\(pod)")
    }
}
