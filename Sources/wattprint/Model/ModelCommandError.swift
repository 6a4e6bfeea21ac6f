/// Errors raised by the `model` commands themselves (engine errors pass through unchanged).
///
/// One line per problem: what failed; how to fix it.
struct ModelCommandError: Error, CustomStringConvertible {
    let description: String

    init(_ problem: String, fix: String) {
        description = "\(problem); \(fix)"
    }

    /// A message that already names the problem and its fix.
    init(problem: String) { description = problem }
}
