import Foundation

/// How long to wait before retry `n`: exponential from `base`, capped, with jitter.
public struct BackoffPolicy: Sendable, Equatable {
    public enum Jitter: String, Sendable { case none, full, equal }
    public var base: Duration
    public var cap: Duration
    public var jitter: Jitter

    public init(base: Duration, cap: Duration, jitter: Jitter) {
        self.base = base
        self.cap = cap
        self.jitter = jitter
    }

    /// The ceiling for the retry after failed attempt `attempt` (1-based): `min(cap, base * 2^(attempt-1))`.
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 40)
        let ms = Double(base.milliseconds) * pow(2, Double(exponent))
        return .milliseconds(Int64(min(ms, Double(cap.milliseconds))))
    }

    /// The delay before the next attempt; `random` returns a value in 0..<1 (injectable for tests).
    public func delay(afterAttempt attempt: Int, random: () -> Double = { Double.random(in: 0..<1) }) -> Duration {
        let ceiling = Double(ceiling(afterAttempt: attempt).milliseconds)
        let ms: Double
        switch jitter {
        case .none: ms = ceiling
        case .full: ms = ceiling * random()
        case .equal: ms = ceiling / 2 + ceiling / 2 * random()
        }
        return .milliseconds(Int64(ms))
    }
}

extension Duration {
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}

/// When a pipeline fires on its own.
public struct ScheduleConfig: Sendable {
    public var cron: CronExpression
    public var cronText: String
    /// The time zone of platform schedules; per-org schedules use each org's own zone.
    public var timeZone: TimeZone
    public var perOrg: Bool
}

/// One `pipelines/<name>.yaml` file.
public struct PipelineConfig: Sendable {
    public var name: String
    public var maxAttempts: Int
    public var backoff: BackoffPolicy
    public var timeout: Duration
    public var lease: Duration
    public var perOrgConcurrency: Int
    public var globalConcurrency: Int
    public var priority: Int
    public var schedule: ScheduleConfig?
    /// The file it came from, for messages.
    public var file: String

    public init(
        name: String,
        maxAttempts: Int = 3,
        backoff: BackoffPolicy = .init(base: .seconds(1), cap: .seconds(300), jitter: .full),
        timeout: Duration = .seconds(60),
        lease: Duration = .seconds(30),
        perOrgConcurrency: Int = 4,
        globalConcurrency: Int = 32,
        priority: Int = 0,
        schedule: ScheduleConfig? = nil,
        file: String = "(built in)"
    ) {
        self.name = name
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.timeout = timeout
        self.lease = lease
        self.perOrgConcurrency = perOrgConcurrency
        self.globalConcurrency = globalConcurrency
        self.priority = priority
        self.schedule = schedule
        self.file = file
    }
}

/// A pipeline file that cannot be used: names the file, the key and what it expects.
public struct PipelineConfigError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let key: String
    public let expected: String
    public var description: String { "\(file): \(key): \(expected)" }
}

/// Every pipeline of a deployment, loaded from one directory and validated at start.
public struct PipelineCatalog: Sendable {
    public let pipelines: [String: PipelineConfig]

    public init(_ pipelines: [PipelineConfig]) {
        self.pipelines = Dictionary(pipelines.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public subscript(name: String) -> PipelineConfig? { pipelines[name] }
    public var names: [String] { pipelines.keys.sorted() }

    /// Loads every `*.yaml` file of `directory`; the first bad file throws.
    public static func load(directory: String) throws -> PipelineCatalog {
        let url = URL(fileURLWithPath: directory)
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: url.path) else {
            throw PipelineConfigError(file: directory, key: "(directory)", expected: "a readable directory of pipeline files")
        }
        var configs: [PipelineConfig] = []
        for entry in entries.sorted() where entry.hasSuffix(".yaml") || entry.hasSuffix(".yml") {
            let path = url.appendingPathComponent(entry).path
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw PipelineConfigError(file: path, key: "(file)", expected: "a readable UTF-8 file")
            }
            let config = try parse(text, file: path)
            if let other = configs.first(where: { $0.name == config.name }) {
                throw PipelineConfigError(file: path, key: "name", expected: "a name no other file uses (\(other.file) is also \"\(config.name)\")")
            }
            configs.append(config)
        }
        guard !configs.isEmpty else {
            throw PipelineConfigError(file: directory, key: "(directory)", expected: "at least one *.yaml pipeline file")
        }
        return PipelineCatalog(configs)
    }

    static let topKeys: Set<String> = [
        "name", "max_attempts", "backoff", "timeout", "lease", "per_org_concurrency", "global_concurrency", "priority", "schedule",
    ]

    /// Parses and validates one file's text.
    public static func parse(_ text: String, file: String) throws -> PipelineConfig {
        let tree = try MiniYAML.parse(text, file: file)
        func fail(_ key: String, _ expected: String) -> PipelineConfigError { PipelineConfigError(file: file, key: key, expected: expected) }
        for key in tree.keys where !topKeys.contains(key) {
            throw fail(key, "not a known key (known: \(topKeys.sorted().joined(separator: ", ")))")
        }
        func scalar(_ map: [String: MiniYAML.Node], _ key: String, _ path: String) throws -> String? {
            switch map[key] {
            case nil: return nil
            case .scalar(let value)?: return value
            case .map?: throw fail(path, "a single value, not a nested map")
            }
        }
        func integer(_ map: [String: MiniYAML.Node], _ key: String, _ path: String, _ range: ClosedRange<Int>, default value: Int) throws -> Int {
            guard let text = try scalar(map, key, path) else { return value }
            guard let number = Int(text), range.contains(number) else {
                throw fail(path, "a whole number in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
            }
            return number
        }
        func duration(
            _ map: [String: MiniYAML.Node],
            _ key: String,
            _ path: String,
            _ range: ClosedRange<Duration>,
            default value: Duration
        ) throws -> Duration {
            guard let text = try scalar(map, key, path) else { return value }
            guard let parsed = parseDuration(text), range.contains(parsed) else {
                throw fail(path, "a duration like 500ms, 30s, 5m or 1h between \(range.lowerBound) and \(range.upperBound), got \"\(text)\"")
            }
            return parsed
        }

        guard let name = try scalar(tree, "name", "name") else { throw fail("name", "the pipeline's name (required)") }
        guard name.range(of: "^[a-z][a-z0-9_-]{0,62}$", options: .regularExpression) != nil else {
            throw fail("name", "lower-case letters, digits, - and _ (starting with a letter), got \"\(name)\"")
        }
        var config = PipelineConfig(name: name, file: file)
        config.maxAttempts = try integer(tree, "max_attempts", "max_attempts", 1...100, default: 3)
        if let node = tree["backoff"] {
            guard case .map(let backoff) = node else { throw fail("backoff", "a map with base, cap and jitter") }
            for key in backoff.keys where !["base", "cap", "jitter"].contains(key) {
                throw fail("backoff.\(key)", "not a known key (known: base, cap, jitter)")
            }
            config.backoff.base = try duration(backoff, "base", "backoff.base", .milliseconds(1)...(.seconds(86_400)), default: .seconds(1))
            config.backoff.cap = try duration(backoff, "cap", "backoff.cap", .milliseconds(1)...(.seconds(7 * 86_400)), default: .seconds(300))
            if config.backoff.cap < config.backoff.base { throw fail("backoff.cap", "a duration no shorter than backoff.base") }
            if let jitter = try scalar(backoff, "jitter", "backoff.jitter") {
                guard let value = BackoffPolicy.Jitter(rawValue: jitter) else {
                    throw fail("backoff.jitter", "none, full or equal, got \"\(jitter)\"")
                }
                config.backoff.jitter = value
            }
        }
        config.timeout = try duration(tree, "timeout", "timeout", .milliseconds(10)...(.seconds(86_400)), default: .seconds(60))
        config.lease = try duration(tree, "lease", "lease", .milliseconds(300)...(.seconds(3600)), default: .seconds(30))
        config.perOrgConcurrency = try integer(tree, "per_org_concurrency", "per_org_concurrency", 1...10_000, default: 4)
        config.globalConcurrency = try integer(tree, "global_concurrency", "global_concurrency", 1...100_000, default: 32)
        if config.perOrgConcurrency > config.globalConcurrency {
            throw fail("per_org_concurrency", "at most global_concurrency (\(config.globalConcurrency))")
        }
        config.priority = try integer(tree, "priority", "priority", -100...100, default: 0)
        if let node = tree["schedule"] {
            guard case .map(let schedule) = node else { throw fail("schedule", "a map with cron, timezone and per_org") }
            for key in schedule.keys where !["cron", "timezone", "per_org"].contains(key) {
                throw fail("schedule.\(key)", "not a known key (known: cron, timezone, per_org)")
            }
            guard let cronText = try scalar(schedule, "cron", "schedule.cron") else {
                throw fail("schedule.cron", "a cron expression like \"0 2 * * *\" (required in a schedule)")
            }
            let cron: CronExpression
            do { cron = try CronExpression(cronText) } catch let error as CronError {
                throw fail("schedule.cron", "a cron expression: \(error.message)")
            }
            let zoneName = try scalar(schedule, "timezone", "schedule.timezone") ?? "UTC"
            guard let zone = TimeZone(identifier: zoneName) else { throw fail("schedule.timezone", "an IANA time zone name, got \"\(zoneName)\"") }
            var perOrg = false
            if let text = try scalar(schedule, "per_org", "schedule.per_org") {
                guard let value = Bool(text) else { throw fail("schedule.per_org", "true or false, got \"\(text)\"") }
                perOrg = value
            }
            config.schedule = ScheduleConfig(cron: cron, cronText: cronText, timeZone: zone, perOrg: perOrg)
        }
        return config
    }

    /// `500ms`, `30s`, `5m`, `1h`, or a bare number of seconds.
    public static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            if suffix == "s", number.hasSuffix("m") { continue }
            guard let value = Int64(number), value >= 0 else { return nil }
            return .milliseconds(value * scale)
        }
        guard let seconds = Int64(text), seconds >= 0 else { return nil }
        return .seconds(seconds)
    }
}

/// The small YAML subset pipeline files use: `key: value` lines, one level of nested maps by
/// indentation, `#` comments, single- or double-quoted scalars. Anything else is an error that
/// names the line.
enum MiniYAML {
    indirect enum Node: Equatable {
        case scalar(String)
        case map([String: Node])
    }

    static func parse(_ text: String, file: String) throws -> [String: Node] {
        var root: [String: Node] = [:]
        var openKey: String?
        var nested: [String: Node] = [:]
        var nestedIndent: Int?
        func close() {
            if let key = openKey { root[key] = .map(nested) }
            openKey = nil
            nested = [:]
            nestedIndent = nil
        }
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            func fail(_ expected: String) -> PipelineConfigError {
                PipelineConfigError(file: file, key: "line \(lineNumber)", expected: expected)
            }
            var line = String(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.contains("\t") { throw fail("spaces for indentation, not tabs") }
            line = stripComment(line)
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let indent = line.prefix { $0 == " " }.count
            let content = line.trimmingCharacters(in: .whitespaces)
            guard let colon = content.firstIndex(of: ":") else { throw fail("a `key: value` line, got \"\(content)\"") }
            let key = String(content[..<colon]).trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil else {
                throw fail("a key of letters, digits and _, got \"\(key)\"")
            }
            let rest = String(content[content.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            let value = rest.isEmpty ? nil : try unquote(rest, fail: fail)
            if indent == 0 {
                close()
                guard root[key] == nil else { throw fail("each key once (\"\(key)\" repeats)") }
                if let value { root[key] = .scalar(value) } else { openKey = key }
            } else {
                guard let open = openKey else { throw fail("no indentation here (nothing to nest under)") }
                if nestedIndent == nil { nestedIndent = indent }
                guard indent == nestedIndent else { throw fail("the same indentation as the other keys under \(open)") }
                guard let value else { throw fail("a value (only one level of nesting is supported)") }
                guard nested[key] == nil else { throw fail("each key once (\"\(open).\(key)\" repeats)") }
                nested[key] = .scalar(value)
            }
        }
        close()
        return root
    }

    static func stripComment(_ line: String) -> String {
        var quote: Character?
        var previous: Character = " "
        for (offset, char) in line.enumerated() {
            if let open = quote {
                if char == open { quote = nil }
            } else if char == "\"" || char == "'" {
                quote = char
            } else if char == "#", previous == " " || offset == 0 {
                return String(line.prefix(offset))
            }
            previous = char
        }
        return line
    }

    static func unquote(_ text: String, fail: (String) -> PipelineConfigError) throws -> String {
        guard let first = text.first, first == "\"" || first == "'" else {
            if text.hasPrefix("[") || text.hasPrefix("{") || text.hasPrefix("&") || text.hasPrefix("*") || text.hasPrefix("|") || text.hasPrefix(">")
            {
                throw fail("a plain or quoted scalar (lists, flow maps, anchors and block scalars are not supported)")
            }
            return text
        }
        guard text.count >= 2, text.last == first else { throw fail("a closing \(first) quote") }
        return String(text.dropFirst().dropLast())
    }
}
