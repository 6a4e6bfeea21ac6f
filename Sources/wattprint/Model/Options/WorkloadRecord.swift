import Accounting
import Engine

extension WorkloadDescription {
    /// The ledger's description of a model the engine runs: architecture tag, total and (for a mixture) active
    /// parameters, and the tagged configuration.
    init(_ config: AnyModelConfiguration) throws {
        let shape = config.configuration
        self.init(
            architecture: shape.architecture.rawValue, parameters: shape.parameterCount,
            activeParameters: shape.activeParameterCount == shape.parameterCount ? nil : shape.activeParameterCount,
            configuration: try JSONValue(encoding: config))
    }
}
