/// Joins an option and a negative number after it (`--energy -5kWh` → `--energy=-5kWh`) so the command's own checks
/// say what is wrong with the value: ArgumentParser reads a word starting with `-` as another option, and reported the
/// option's value as missing. A negative number standing alone after a command whose positional arguments are run ids
/// (`show -1`, `verify 3 -2`) is moved after a `--` at the end (`show -- -1`), so it reaches the command's check
/// ("ids count from 1") instead of reading as an unknown option; other commands keep their words in place (`run -5`
/// must not become a command to execute). Only words before a wrapped command's `--` change; a `--name=value` stays
/// as it is, and so does a flag that takes no value (`show --json -1` is the flag and a run id).
enum NegativeValues {
    /// Commands whose positional arguments are run ids only.
    static let runIDCommands: Set<String> = ["show", "verify"]
    /// Options that take no value, so a negative number after them is not theirs (`--json`, the output flag of every
    /// command that has one, and `--help`).
    static let flags: Set<String> = ["--json", "--help"]

    static func joined(_ arguments: [String]) -> [String] {
        let words = optionValuesJoined(arguments)
        guard let command = words.first, runIDCommands.contains(command), !words.contains("--") else { return words }
        let standing = words.filter(looksNegative)
        return standing.isEmpty ? words : words.filter { !looksNegative($0) } + ["--"] + standing
    }

    private static func optionValuesJoined(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let word = arguments[index]
            if word == "--" {
                out += arguments[index...]
                break
            }
            let next = index + 1 < arguments.endIndex ? arguments[index + 1] : nil
            if word.hasPrefix("--"), word.count > 2, !word.contains("="), !flags.contains(word), let next, looksNegative(next) {
                out.append("\(word)=\(next)")
                index += 2
            } else {
                out.append(word)
                index += 1
            }
        }
        return out
    }

    /// `-5`, `-0.1`, `-.5`, `-5kWh`: a minus sign and then a digit, or a point and a digit.
    static func looksNegative(_ word: String) -> Bool {
        let rest = word.dropFirst()
        guard word.first == "-", let first = rest.first else { return false }
        if first.isASCII && first.isNumber { return true }
        return first == "." && rest.dropFirst().first.map { $0.isASCII && $0.isNumber } == true
    }
}
