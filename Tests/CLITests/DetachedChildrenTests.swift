import Foundation
import XCTest

/// A command whose worker detaches (`setsid`, then `&`): its CPU time is the command's, by a cgroup v2 made for the
/// run where the kernel allows one, else by wattprint adopting the orphans as a child subreaper. Before: 0.00 CPU-s.
final class DetachedChildrenTests: XCTestCase {
    private let detaching = ["sh", "-c", "setsid sh -c 'end=$(($(date +%s) + 3)); while [ $(date +%s) -lt $end ]; do :; done &'; sleep 2"]

    private func attribution(_ extra: [String]) throws -> [String: Any] {
        let ledger = try scratchDirectory().appendingPathComponent("l.sqlite").path
        let r = try CLI.run(["run", "--ledger", ledger, "--region", "FR", "--json"] + extra + ["--"] + detaching)
        XCTAssertEqual(r.status, 0, r.stderr)
        let energy = try XCTUnwrap((try json(r.stdout) as? [String: Any])?["energy"] as? [String: Any])
        XCTAssertTrue(r.stderr.contains("attributed by"), r.stderr)
        return try XCTUnwrap(energy["attribution"] as? [String: Any])
    }

    func testADetachedWorkerIsAttributedThroughTheRunsCgroup() throws {
        let a = try attribution([])
        guard a["method"] as? String == "cgroup" else {
            throw XCTSkip("this kernel gave no cgroup v2 for the command (not root, or no delegated subtree): \(a["methodDetail"] ?? "")")
        }
        XCTAssertGreaterThan(try XCTUnwrap(a["treeCPUSeconds"] as? Double), 0.8, "the detached worker's busy loop")
    }

    func testADetachedWorkerIsAttributedByAdoptingOrphans() throws {
        let a = try attribution(["--no-cgroup"])
        XCTAssertEqual(a["method"] as? String, "subreaper")
        XCTAssertGreaterThan(try XCTUnwrap(a["treeCPUSeconds"] as? Double), 0.8, "the detached worker's busy loop")
    }
}
