import Foundation
import XCTest

/// `wattprint offsets` through the CLI: reductions and the plan printed, JSON through the shared --format, and each bad
/// request named.
final class OffsetsCLITests: XCTestCase {
    func testOffsetsForARunAndItsBadRequests() throws {
        let dir = try scratchDirectory()
        let ledger = dir.appendingPathComponent("l.sqlite").path
        XCTAssertEqual(try CLI.run(["run", "--ledger", ledger, "--region", "US-CAL-CISO", "--", "sleep", "0.2"]).status, 0)
        let text = try CLI.run(["offsets", "last", "--ledger", ledger, "--deadline", "12h", "--regions", "FR,SE", "--plan-years", "3"])
        XCTAssertEqual(text.status, 0, text.stderr)
        for words in [
            "Time shift (average intensity", "Region FR", "Offset plan (a contribution, shown apart)", "Oxford Offsetting Principles",
            "the reported emissions as if the work ran once a year, for each of the plan's 3 years",
        ] {
            XCTAssertTrue(text.stdout.contains(words), words)
        }
        // Only durable removals allowed: each year's line gives the shares its tonnes bought, and the trajectory's apart.
        let durable = try CLI.run(["offsets", "last", "--ledger", ledger, "--plan-years", "3", "--credit-type", "durable-removal"])
        XCTAssertEqual(durable.status, 0, durable.stderr)
        let weekly = try CLI.run(["offsets", "last", "--ledger", ledger, "--runs-per-year", "52"])
        XCTAssertTrue(weekly.stdout.contains("as if the work ran 52 times a year"), weekly.stdout)
        let firstYear = try XCTUnwrap(durable.stdout.split(separator: "\n").first { $0.contains("removals") && $0.contains("of them") })
        XCTAssertTrue(firstYear.contains("removals 100.0 % (durable 100.0 % of them) (the trajectory's"), String(firstYear))
        let json = try XCTUnwrap(try json(try CLI.run(["offsets", "1", "--ledger", ledger, "--json"]).stdout) as? [String: Any])
        XCTAssertNotNil(json["timeShift"])
        XCTAssertEqual((json["plan"] as? [String: Any])?["years"].map { ($0 as? [Any])?.count }, 5)
        for (arguments, words) in [
            (["last", "--deadline", "1m"], "shorter than the run"),
            (["last", "--credit-type", "unicorns"], "unknown credit type 'unicorns'"),
            (["last", "--regions", "Atlantis"], "Atlantis"),
            (["last", "--deadline", "soon"], "--deadline takes a duration"),
            (["last", "--cleanest", "2", "--provider", "azur"], "unknown provider 'azur' for --provider: use aws, gcp or azure"),
            (["9"], "run '9' is not in the ledger"),
            (["last", "--plan-years", "0"], "--plan-years must be at least 1"),
            (["last", "--since", "2000-01-01"], "give a run (or last) or a period (--since/--until), not both"),
        ] {
            let r = try CLI.run(["offsets"] + arguments + ["--ledger", ledger])
            XCTAssertNotEqual(r.status, 0, arguments.joined(separator: " "))
            if arguments.contains("--plan-years") || arguments.contains("--since") {
                XCTAssertEqual(r.status, 64, "a usage error: \(arguments)")
            }
            XCTAssertTrue(r.stderr.contains(words), "\(arguments): \(r.stderr)")
        }
    }
}
