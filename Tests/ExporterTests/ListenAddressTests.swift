import Exporter
import XCTest

final class ListenAddressTests: XCTestCase {
    func testAddressesParseAndLoopbackIsKnown() throws {
        let v4 = try ListenAddress(parsing: "127.0.0.1:9464")
        XCTAssertEqual(v4, ListenAddress(host: "127.0.0.1", port: 9464, family: .ipv4))
        XCTAssertTrue(v4.isLoopback)
        XCTAssertTrue(try ListenAddress(parsing: "127.1.2.3:0").isLoopback)
        XCTAssertEqual(try ListenAddress(parsing: "localhost:80").host, "127.0.0.1")
        let v6 = try ListenAddress(parsing: "[::1]:9464")
        XCTAssertEqual(v6.family, .ipv6)
        XCTAssertTrue(v6.isLoopback)
        XCTAssertEqual(v6.description, "[::1]:9464")
        XCTAssertFalse(try ListenAddress(parsing: "0.0.0.0:9464").isLoopback)
        XCTAssertFalse(try ListenAddress(parsing: "[::]:9464").isLoopback)
        XCTAssertFalse(try ListenAddress(parsing: "10.0.0.5:9464").isLoopback)
    }

    func testMalformedAddressesNameTheProblem() {
        for (text, problem) in [
            ("9464", "has no port"), ("127.0.0.1:http", "not a number"), ("127.0.0.1:70000", "not a number"),
            ("::1:9464", "without brackets"), ("[::1]9464", "without ']:PORT'"), ("example.com:9464", "not a numeric"),
        ] {
            XCTAssertThrowsError(try ListenAddress(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(problem) && "\(error)".contains("--listen 127.0.0.1:9464"), "\(text): \(error)")
            }
        }
    }
}
