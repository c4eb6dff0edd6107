import Foundation
import Logging
import PostgresNIO

/// The survey questions of one organization.
public struct SurveyQuestionRepository: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    static let columns = "q.id, q.key, q.prompt, q.type, q.choices, q.active, q.created_at"

    static func read(_ c: inout Columns) throws -> SurveyQuestion {
        SurveyQuestion(
            id: try c.next(),
            key: try c.next(),
            prompt: try c.next(),
            type: try c.raw(QuestionType.self),
            choices: try c.next(),
            active: try c.next(),
            createdAt: try c.next()
        )
    }

    static func first(_ rows: QueryRows) async throws -> SurveyQuestion? {
        for try await row in rows {
            var columns = Columns(row)
            return try read(&columns)
        }
        return nil
    }

    /// Newest first.
    public func questions(in scope: OrgScope, limit: Int, after cursor: PageCursor?, on db: some QueryRunner) async throws -> Page<SurveyQuestion> {
        let rows = try await db.run(
            """
            SELECT \(unescaped: Self.columns), (extract(epoch FROM q.created_at) * 1000000)::int8 FROM survey_questions q
            WHERE q.org_id = \(scope.orgId)
              AND \(page: cursor, time: "q.created_at", id: "q.id")
            ORDER BY q.created_at DESC, q.id DESC LIMIT \(limit + 1)
            """,
            logger: logger
        )
        return try await Page.newestFirst(rows, limit: limit) { c in
            let question = try Self.read(&c)
            return (question, PageCursor(micros: try c.next(), id: question.id))
        }
    }

    /// Adds a question (validated by the caller); `conflict` when its key is taken.
    public func create(
        key: String,
        prompt: String,
        type: QuestionType,
        choices: [String]?,
        active: Bool,
        in scope: OrgScope,
        on db: some QueryRunner
    ) async throws -> SurveyQuestion {
        do {
            let rows = try await db.run(
                """
                INSERT INTO survey_questions AS q (org_id, key, prompt, type, choices, active)
                VALUES (\(scope.orgId), \(key), \(prompt), \(type.rawValue), \(choices), \(active)) RETURNING \(unescaped: Self.columns)
                """,
                logger: logger
            )
            guard let question = try await Self.first(rows) else { throw StoreError.unexpected("no question row") }
            return question
        } catch  where error.isUniqueViolation {
            throw CampaignError.conflict("a survey question with key \(key) exists")
        }
    }

    /// Changes a question; nil leaves a field as it is.
    public func update(
        _ id: UUID,
        prompt: String?,
        choices: [String]?,
        active: Bool?,
        in scope: OrgScope,
        on db: some QueryRunner
    ) async throws -> SurveyQuestion? {
        try await Self.first(
            try await db.run(
                """
                UPDATE survey_questions AS q SET prompt = COALESCE(\(prompt), q.prompt), choices = COALESCE(\(choices), q.choices),
                       active = COALESCE(\(active), q.active), updated_at = now()
                WHERE q.org_id = \(scope.orgId) AND q.id = \(id) RETURNING \(unescaped: Self.columns)
                """,
                logger: logger
            )
        )
    }

    /// The rules of the named questions this org has.
    public func rules(_ ids: [UUID], in scope: OrgScope, on db: some QueryRunner) async throws -> [UUID: QuestionRule] {
        guard !ids.isEmpty else { return [:] }
        var rules: [UUID: QuestionRule] = [:]
        let rows = try await db.run(
            "SELECT id, type, COALESCE(choices, '{}'::text[]), active FROM survey_questions WHERE org_id = \(scope.orgId) AND id = ANY(\(ids))",
            logger: logger
        )
        for try await (id, type, choices, active) in rows.decode((UUID, String, [String], Bool).self) {
            guard let type = QuestionType(rawValue: type) else { throw StoreError.unexpected("question type \(type)") }
            rules[id] = QuestionRule(type: type, choices: choices, active: active)
        }
        return rules
    }
}
