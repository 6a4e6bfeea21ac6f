import Foundation

/// Runs async work (the HTTP server's) from a synchronous command, waiting for its result on the calling thread.
/// The work runs on Swift's cooperative pool, never on the caller's thread, so waiting here cannot deadlock it.
enum Blocking {
    private final class Box<T>: @unchecked Sendable { var result: Result<T, Error>? }

    static func await<T>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }

    static func await(_ body: @escaping @Sendable () async -> Void) {
        let done = DispatchSemaphore(value: 0)
        Task {
            await body()
            done.signal()
        }
        done.wait()
    }
}
