import Actors

/// Every job handler this build has, by pipeline name.
public enum PipelineHandlers {
    public static func all() -> HandlerRegistry {
        var registry = HandlerRegistry()
        DiagnosticHandlers.register(into: &registry)
        return registry
    }
}
