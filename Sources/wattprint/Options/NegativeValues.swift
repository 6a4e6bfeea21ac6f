/// Joins an option and a negative number after it (`--energy -5kWh` → `--energy=-5kWh`) so the command's own checks
/// say what is wrong with the value: ArgumentParser reads a word starting with `-` as another option, and reported the
/// option's value as missing. A negative number standing alone (`show -1`) is a positional argument, moved after a `--`
/// at the end (`show -- -1`) so it reaches the command's check instead of reading as an unknown option; where the
/// arguments already hold a `--` (a wrapped command), it stays. Only words before a wrapped command's `--` change; a
/// `--name=value` stays as it is.
enum NegativeValues {
    static func joined(_ arguments: [String]) -> [String] {
        let words = optionValuesJoined(arguments)
        guard !words.contains("--") else { return words }
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
            if word.hasPrefix("--"), word.count > 2, !word.contains("="), let next, looksNegative(next) {
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
