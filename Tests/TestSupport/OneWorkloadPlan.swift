import Benchmarks
import Foundation

/// A one-workload plan (`architecture`, 1 layer × 32, two training steps, 2 repeats, 20 ms idle baselines) on a small
/// corpus written to `dir`: a benchmark run in a second.
public func oneWorkloadPlan(_ architecture: String, in dir: String) throws -> BenchPlan {
    let corpus = dir + "/corpus.txt"
    try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 80).write(
        toFile: corpus, atomically: false, encoding: .utf8)
    try """
    {"schema": 1, "name": "t", "model": {"architecture": "\(architecture)", "layers": 1, "width": 32, "heads": 2},
     "data": {"corpus": "\(corpus)", "tokenizer": "byte"},
     "phases": {"train": {"batch": 2, "sequence": 16, "steps": 2, "evaluationBatches": 1}}}
    """.write(toFile: dir + "/t.json", atomically: false, encoding: .utf8)
    return try BenchPlan.make(arguments: [dir + "/t.json"], workloadsDirectory: dir, repeats: 2, idleSeconds: 0.02)
}
