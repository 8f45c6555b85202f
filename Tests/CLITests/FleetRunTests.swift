import Foundation
import Testing
import TestSupport

/// scripts/fleet-run against the local AWS: moto records Run Command's SendCommand and resolves
/// its tag target (it runs nothing), so the command is checked as sent, its shell is run here
/// as one instance would run it, and the merge sees no segment arrive.
@Suite("scripts/fleet-run: one Run Command to the tagged load generators, merged once")
struct FleetRunTests {
    private var aws: [String] {
        TestServices.awsEnvironment + ["AWS_DEFAULT_REGION=\(TestServices.awsRegion)"]
    }

    private func python(_ script: String, _ arguments: [String] = []) throws -> String {
        try run("/usr/bin/env", aws + ["python3", "-c", script] + arguments)
    }

    @Test("AWS-RunShellScript by tag; each instance derives its own segment; one start; dead segments reported, never waited for")
    func sendsSegmentsAndJudgesOnce() async throws {
        let fleet = "fleet-\(UUID().uuidString.prefix(8).lowercased())"
        let bucket = try await TestBuckets.create("cacheload-fleet")
        let ids = try python("""
            import boto3, sys
            reply = boto3.client("ec2").run_instances(ImageId="ami-12c6146b", MinCount=3, MaxCount=3, InstanceType="t3.micro",
                TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "CacheloadFleet", "Value": sys.argv[1]}]}])
            print(" ".join(sorted(i["InstanceId"] for i in reply["Instances"])))
            """, [fleet]).split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(ids.count == 3)

        let script = TestServices.repositoryRoot.appendingPathComponent("scripts/fleet-run").path
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-run-\(UUID()).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let started = Date()
        let pid = try spawn("/usr/bin/env", aws + [script, "--tag", "CacheloadFleet=\(fleet)", "--results", "s3://\(bucket)/runs/",
                                                   "--run-id", fleet, "--lead", "1", "--grace", "3", "--cacheload", TestServices.cacheloadBinary,
                                                   "--threshold", "p99<50ms", "--",
                                                   "http://10.42.1.10:8080/product/{key}", "--rate", "3000", "-c", "300", "-d", "2s"],
                            outputPath: log)
        defer { stopIfRunning(pid) }
        let status = await exitStatus(of: pid, within: 60)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status == 1, "\(output)")
        #expect(output.contains("no result for segment 1, 2, 3 of 3"), "\(output)")
        #expect(Date().timeIntervalSince(started) < 30, "the merge did not wait past the run's end and the grace")
        for (index, id) in ids.enumerated() { #expect(output.contains("segment \(index + 1)/3 → \(id)"), "\(output)") }

        let sent = try python("""
            import boto3, json, sys
            commands = [c for c in boto3.client("ssm").list_commands()["Commands"] if c.get("Comment", "").startswith("cacheload " + sys.argv[1])]
            print(json.dumps([{"document": c["DocumentName"], "targets": c["Targets"], "instances": c["InstanceIds"],
                               "concurrency": c["MaxConcurrency"], "commands": c["Parameters"]["commands"]} for c in commands]))
            """, [fleet])
        let commands = try #require(try JSONSerialization.jsonObject(with: Data(sent.utf8)) as? [[String: Any]])
        let command = try #require(commands.first, "\(sent)")
        #expect(commands.count == 1)
        #expect(command["document"] as? String == "AWS-RunShellScript")
        #expect((command["targets"] as? [[String: Any]])?.first?["Key"] as? String == "tag:CacheloadFleet")
        #expect(Set(command["instances"] as? [String] ?? []) == Set(ids), "the tag reaches exactly the fleet")
        #expect(command["concurrency"] as? String == "100%")

        // What instance 2 runs: its segment comes from its own id, asked of the instance metadata.
        let shell = try #require(command["commands"] as? [String]).joined(separator: "\n")
        let metadata = try await MetadataServer(instanceID: ids[1])
        let bin = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-bin-\(UUID())")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: bin) }
        try "#!/bin/sh\necho \"$@\"\n".write(to: bin.appendingPathComponent("cacheload"), atomically: true, encoding: .utf8)
        _ = try run("/bin/chmod", ["+x", bin.appendingPathComponent("cacheload").path])
        let ran = try run("/usr/bin/env", ["AWS_EC2_METADATA_SERVICE_ENDPOINT=\(metadata.baseURL)", "PATH=\(bin.path):/usr/bin:/bin",
                                           "/bin/bash", "-c", shell])
        #expect(ran.hasPrefix("load http://10.42.1.10:8080/product/{key} --rate 3000 -c 300 -d 2s --start-at "), "\(ran)")
        #expect(ran.contains("--segment 2/3 --json s3://\(bucket)/runs/\(fleet)/segment-2.json"), "\(ran)")
        try await metadata.close()
    }
}
