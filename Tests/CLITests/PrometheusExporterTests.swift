import Accounting
import Foundation
import Ledger
import Measures
import TestSupport
import XCTest

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `wattprint serve` scraped by a real Prometheus (Debian's package, which `.ci/run` installs): the energy Prometheus
/// saw between two scrapes is the ledger's for the same readings, the shipped dashboard's queries run, and bad
/// requests get their status codes while sampling goes on.
final class PrometheusExporterTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testPrometheusSeesWhatTheLedgerRecords() throws {
        let prometheus = "/usr/bin/prometheus"
        try XCTSkipUnless(
            FileManager.default.isExecutableFile(atPath: prometheus), "Debian's prometheus package is not installed (.ci/run installs it)")
        let dir = try scratchDirectory()
        let tree = try FakeSystemTree()
        try tree.proc()
        try tree.zone("intel-rapl:0", name: "package-0")
        // A 50 W package: 0.5 J every 10 ms.
        let counter = tree.advance("intel-rapl:0")
        defer { counter.stop() }

        let ledgerPath = dir.appendingPathComponent("node.sqlite").path
        let runtime = shortRuntimeDirectory()
        defer { try? FileManager.default.removeItem(atPath: runtime) }
        var serveEnv = tree.environment
        serveEnv["XDG_RUNTIME_DIR"] = runtime
        let (serve, _, serveErr) = try CLI.start(
            ["serve", "--listen", "127.0.0.1:0", "--interval", "0.1", "--ledger", ledgerPath, "--region", "FR"], env: serveEnv)
        defer { if serve.isRunning { serve.terminate() } }
        let address = try Self.servingAddress(serveErr)

        // Bad requests are answered and leave sampling alone.
        XCTAssertEqual(try Self.get("http://\(address)/nothing-here").status, 404)
        XCTAssertEqual(try Self.get("http://\(address)/metrics", method: "POST").status, 405)
        XCTAssertEqual(try Self.get("http://\(address)/metrics", headers: ["X-Padding": String(repeating: "a", count: 9_000)]).status, 431)
        let scrape = try Self.get("http://\(address)/metrics")
        XCTAssertEqual(scrape.status, 200)
        XCTAssertTrue(scrape.body.contains("wattprint_energy_joules_total{host="), scrape.body)
        XCTAssertTrue(scrape.body.contains(#"channel="rapl:intel-rapl:0""#), scrape.body)

        // A run in progress on this node attaches to serve as its collector and appears in the per-run series.
        var runEnv = tree.environment
        runEnv["XDG_RUNTIME_DIR"] = runtime
        runEnv["SLURM_JOB_ID"] = "4242"
        runEnv["RANK"] = "0"
        let (rank, _, rankErr) = try CLI.start(
            ["run", "--region", "FR", "--no-cgroup", "--ledger", dir.appendingPathComponent("rank.sqlite").path, "--", "sleep", "60"],
            env: runEnv)
        defer { if rank.isRunning { rank.terminate() } }

        let port = try Self.freePort()
        let config = dir.appendingPathComponent("prometheus.yml")
        try """
        global:
          scrape_interval: 1s
        scrape_configs:
          - job_name: wattprint
            static_configs:
              - targets: ["\(address)"]
        """.write(to: config, atomically: true, encoding: .utf8)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: prometheus)
        server.arguments = [
            "--config.file=\(config.path)", "--storage.tsdb.path=\(dir.appendingPathComponent("tsdb").path)",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        let api = "http://127.0.0.1:\(port)"

        // At least six scrapes of both series.
        let deadline = Date().addingTimeInterval(60)
        var scrapes = 0
        while Date() < deadline {
            if let result = try? Self.query(api, "count_over_time(wattprint_sampler_last_reading_seconds[5m])").first,
                let count = Double(result.value)
            {
                scrapes = Int(count)
                if scrapes >= 6 { break }
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertGreaterThanOrEqual(scrapes, 6, "Prometheus did not scrape wattprint serve")

        // Raw samples of both series: scraped together, so they share their timestamps.
        let energy = try Self.rangeSamples(api, #"wattprint_counted_energy_joules_total{mode="measured"}[5m]"#)
        let readings = try Self.rangeSamples(api, "wattprint_sampler_last_reading_seconds[5m]")
        let paired = energy.compactMap { (t, joules) in readings.first { $0.0 == t }.map { (joules: joules, readingSeconds: $0.1) } }
        XCTAssertGreaterThanOrEqual(paired.count, 6, "\(energy) \(readings)")

        // Every query of the shipped dashboard runs against this Prometheus.
        let dashboard =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: Self.repository.appendingPathComponent("deploy/grafana/wattprint-dashboard.json"))) as! [String: Any]
        let expressions = (dashboard["panels"] as! [[String: Any]]).flatMap { panel in
            (panel["targets"] as! [[String: Any]]).map { $0["expr"] as! String }
        }
        XCTAssertGreaterThanOrEqual(expressions.count, 8)
        for expression in expressions {
            let concrete = expression.replacingOccurrences(of: "$__rate_interval", with: "5s")
                .replacingOccurrences(of: "$__range", with: "1m").replacingOccurrences(of: "$host", with: ".*")
            let results = try Self.query(api, concrete)
            XCTAssertFalse(results.isEmpty, "the dashboard's query returned nothing: \(concrete)")
        }

        let perJob = try Self.query(api, #"wattprint_run_attributed_energy_joules{job_id="4242",rank="0"}"#)
        XCTAssertEqual(perJob.count, 1, "the attached run's series")
        rank.terminate()
        let rankStderr = String(decoding: rankErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        rank.waitUntilExit()
        XCTAssertTrue(rankStderr.contains("wattprint: run 1"), rankStderr)
        serve.interrupt()
        serve.waitUntilExit()
        XCTAssertEqual(serve.terminationStatus, 0)
        server.terminate()
        server.waitUntilExit()

        let first = paired.first!, last = paired.last!
        let prometheusJoules = last.joules - first.joules
        // The gauge carries the monotonic clock in seconds: reading times are ≥ 0.1 s apart, so a microsecond of
        // rounding cannot take in a neighbouring reading.
        let ledger = try Ledger(path: ledgerPath, create: false)
        let run = try XCTUnwrap(try ledger.runs().first?.id)
        let recorded = try IntervalEnergy.counted(
            ledger: ledger, run: run, afterNs: Int64((first.readingSeconds * 1e9).rounded()) + 1_000,
            throughNs: Int64((last.readingSeconds * 1e9).rounded()) + 1_000)
        let ledgerJoules = try XCTUnwrap(recorded[.measured])
        print("Prometheus saw \(prometheusJoules) J over \(paired.count) scrapes; the ledger recomputes \(ledgerJoules) J")
        XCTAssertGreaterThan(ledgerJoules, 100, "50 W for several seconds")
        XCTAssertEqual(
            prometheusJoules, ledgerJoules, accuracy: 0.01 * ledgerJoules, "Prometheus \(prometheusJoules) J, ledger \(ledgerJoules) J")
        let verify = try CLI.run(["verify", "--ledger", ledgerPath])
        XCTAssertEqual(verify.status, 0, verify.stdout + verify.stderr)
    }

    /// The scrape configuration shipped in deploy/ is one Prometheus accepts.
    func testShippedScrapeConfigurationIsValid() throws {
        let promtool = "/usr/bin/promtool"
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: promtool), "Debian's prometheus package is not installed")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: promtool)
        p.arguments = ["check", "config", Self.repository.appendingPathComponent("deploy/prometheus/prometheus.yml").path]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
    }

    /// The load benchmark answers every scrape at the asked rate and reports the sampler's share of a core.
    func testLoadTestAnswersEveryScrape() throws {
        let dir = try scratchDirectory()
        let r = try CLI.run([
            "serve", "--load-test", "--scrapes-per-second", "50", "--duration", "2", "--ledger",
            dir.appendingPathComponent("l.sqlite").path,
            "--region", "FR",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(
            r.stdout.contains("100 sent at 50/s") && r.stdout.contains("100 answered 200") && r.stdout.contains("0 failed"), r.stdout)
        // The sampler's share of a core: the target is 0.2 % (met in release builds, README); a debug build on a loaded
        // 2-core CI machine gets twice that.
        let share = try XCTUnwrap(
            r.stdout.range(of: #"= ([0-9.]+) % of one core \(target"#, options: .regularExpression).map {
                Double(r.stdout[$0].dropFirst(2).split(separator: " ")[0])
            } ?? nil, r.stdout)
        XCTAssertLessThan(share, 0.4, r.stdout)
        let refused = try CLI.run(["serve", "--load-test", "--duration", "301"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("at most 300 s"), refused.stderr)
    }

    /// A taken port is refused at once with the system's reason, recording nothing; a served run is in the ledger
    /// file itself when serve stops (a copy of the file alone holds it).
    func testATakenPortRecordsNothingAndAStoppedServeLeavesAWholeFile() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let (first, _, firstErr) = try CLI.start([
            "serve", "--listen", "127.0.0.1:0", "--ledger", ledger, "--region", "FR", "--duration", "3",
        ])
        let address = try Self.servingAddress(firstErr)
        let other = dir.appendingPathComponent("other.sqlite").path
        let started = Date()
        let taken = try CLI.run(["serve", "--listen", address, "--ledger", other, "--region", "FR"])
        XCTAssertEqual(taken.status, 1)
        XCTAssertTrue(taken.stderr.contains("cannot listen on \(address) (bind: Address already in use)"), taken.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3, "refused at once")
        XCTAssertEqual(try Ledger(path: other, create: true).runs().count, 0, "nothing recorded for a refused address")
        first.waitUntilExit()
        XCTAssertEqual(first.terminationStatus, 0)
        let copy = dir.appendingPathComponent("copy.sqlite").path
        try FileManager.default.copyItem(atPath: ledger, toPath: copy)
        XCTAssertEqual(try Ledger(path: copy, create: false).runs().count, 1, "the run is in the file, not only its write-ahead log")
    }

    /// A remote address is refused unless asked for, and a malformed one is named.
    func testListenAddressesAreCheckedBeforeSampling() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        let remote = try CLI.run(["serve", "--listen", "0.0.0.0:9464", "--ledger", ledger, "--region", "FR"])
        XCTAssertEqual(remote.status, 1)
        XCTAssertTrue(remote.stderr.contains("--allow-remote"), remote.stderr)
        let malformed = try CLI.run(["serve", "--listen", "localhost", "--ledger", ledger, "--region", "FR"])
        XCTAssertEqual(malformed.status, 1)
        XCTAssertTrue(malformed.stderr.contains("has no port") && malformed.stderr.contains("127.0.0.1:9464"), malformed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: ledger), "nothing is recorded for a refused address")
    }

    // MARK: helpers

    /// Reads serve's standard error until it says where it listens.
    static func servingAddress(_ pipe: Pipe) throws -> String {
        var text = ""
        let handle = pipe.fileHandleForReading
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let range = text.range(of: #"serving http://([0-9.]+:[0-9]+)/metrics"#, options: .regularExpression) {
                return String(text[range].dropFirst("serving http://".count).dropLast("/metrics".count))
            }
        }
        throw CLIError("wattprint serve did not say where it listens: \(text)")
    }

    struct CLIError: Error { let message: String; init(_ m: String) { message = m } }

    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &size) } }
        return UInt16(bigEndian: addr.sin_port)
    }

    static func get(_ url: String, method: String = "GET", headers: [String: String] = [:]) throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 10
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var answer: (Int, String)?
        nonisolated(unsafe) var failure: Error?
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { failure = error }
            answer = ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
            done.signal()
        }.resume()
        done.wait()
        if let failure { throw failure }
        return answer!
    }

    struct Sample { var value: String }

    /// An instant query's vector results (one value each).
    static func query(_ api: String, _ expression: String) throws -> [Sample] {
        let data = try result(api, expression)
        return (data["result"] as? [[String: Any]] ?? []).compactMap { r in (r["value"] as? [Any])?.last.map { Sample(value: "\($0)") } }
    }

    /// A range selector's raw samples: (scrape time, value), of the first series.
    static func rangeSamples(_ api: String, _ expression: String) throws -> [(Double, Double)] {
        let data = try result(api, expression)
        let series = (data["result"] as? [[String: Any]])?.first?["values"] as? [[Any]] ?? []
        return series.compactMap { pair in
            guard let t = pair.first as? Double ?? (pair.first as? NSNumber)?.doubleValue, let v = Double("\(pair.last!)") else {
                return nil
            }
            return (t, v)
        }
    }

    static func result(_ api: String, _ expression: String) throws -> [String: Any] {
        var components = URLComponents(string: api + "/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: expression)]
        // A '+' left as it is reads as a space in a query string.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        let (status, body) = try get(components.url!.absoluteString)
        guard status == 200, let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            json["status"] as? String == "success", let data = json["data"] as? [String: Any]
        else { throw CLIError("query \(expression) failed (\(status)): \(body)") }
        return data
    }
}
