import Foundation
import Logging
import PostgresNIO

/// Refusals of campaign-domain changes, mapped to the contract's codes by the API.
public enum CampaignError: ContractError, Equatable {
    case notFound(String)
    case conflict(String)
    case unprocessable(String)

    public var httpStatus: Int {
        switch self {
        case .notFound: 404
        case .conflict: 409
        case .unprocessable: 422
        }
    }

    public var code: String {
        switch self {
        case .notFound: "NOT_FOUND"
        case .conflict: "CONFLICT"
        case .unprocessable: "UNPROCESSABLE"
        }
    }

    public var message: String {
        switch self {
        case .notFound(let message), .conflict(let message), .unprocessable(let message): message
        }
    }
}

/// Voters, lists, assignments, survey questions and interactions of one organization. Reads
/// return the contract's JSON built in Postgres (the API decodes it into its generated types),
/// except the voter pages, whose rows are decoded straight into `VoterRecord`s.
public struct CampaignRepository: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// A page from rows of (contract JSON, id, created_at in microseconds), newest first.
    static func newestFirstPage(_ rows: PostgresRowSequence, limit: Int) async throws -> Page<String> {
        var out: [(String, PageCursor)] = []
        for try await (json, id, micros) in rows.decode((String, UUID, Int64).self) { out.append((json, PageCursor(micros: micros, id: id))) }
        return Page.from(rows: out, limit: limit)
    }

    static func first(_ rows: PostgresRowSequence) async throws -> String? {
        for try await text in rows.decode(String.self) { return text }
        return nil
    }

    // MARK: Voters

    public struct VoterFilter: Sendable {
        public var q: String?
        public var parish: String?
        public var precinct: String?
        public var party: String?
        public var status: String?
        public var zip5: String?
        public init(q: String? = nil, parish: String? = nil, precinct: String? = nil, party: String? = nil, status: String? = nil, zip5: String? = nil) {
            self.q = q
            self.parish = parish
            self.precinct = precinct
            self.party = party
            self.status = status
            self.zip5 = zip5
        }
    }

    static func likePrefix(_ text: String) -> String {
        text.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
    }

    func voterWhere(_ scope: OrgScope, _ filter: VoterFilter) -> PostgresQuery {
        let prefix = filter.q.map(Self.likePrefix)
        let exact = filter.q.map { $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%" }
        return """
            v.org_id = \(scope.orgId)
              AND (\(prefix)::text IS NULL OR lower(v.last_name) LIKE \(prefix) OR lower(v.first_name) LIKE \(prefix)
                   OR lower(v.first_name || ' ' || v.last_name) LIKE \(prefix) OR v.external_id LIKE \(exact))
              AND (\(filter.parish)::text IS NULL OR v.parish = \(filter.parish))
              AND (\(filter.precinct)::text IS NULL OR v.precinct = \(filter.precinct))
              AND (\(filter.party)::text IS NULL OR v.party = \(filter.party))
              AND (\(filter.status)::text IS NULL OR v.status = \(filter.status))
              AND (\(filter.zip5)::text IS NULL OR v.res_zip5 = \(filter.zip5))
            """
    }

    /// A page of voters by id; `total` when asked for.
    public func voters(
        in scope: OrgScope, filter: VoterFilter, limit: Int, after: UUID?, includeTotal: Bool, on db: some QueryRunner
    ) async throws -> (items: [VoterRecord], nextCursor: String?, total: Int?) {
        let condition = voterWhere(scope, filter)
        let query = PostgresQuery(unsafeSQL: "SELECT \(VoterRecord.columns) FROM voters v WHERE " + condition.sql, binds: condition.binds)
        var binds = query.binds
        try binds.append(after ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), context: .default)
        try binds.append(after == nil, context: .default)
        try binds.append(limit + 1, context: .default)
        let n = binds.count
        let sql = query.sql + " AND ($\(n - 1) OR v.id > $\(n - 2)) ORDER BY v.id LIMIT $\(n)"
        var items: [VoterRecord] = []
        for try await row in try await db.run(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) {
            items.append(try VoterRecord.decode(row))
        }
        let more = items.count > limit
        let kept = Array(items.prefix(limit))
        var total: Int?
        if includeTotal {
            let count = PostgresQuery(unsafeSQL: "SELECT count(*)::int8 FROM voters v WHERE " + condition.sql, binds: condition.binds)
            for try await value in try await db.run(count, logger: logger).decode(Int.self) { total = value }
        }
        return (kept, more ? kept.last.map { KeyCursor([$0.id.uuidString]).encoded } : nil, total)
    }

    public func voter(_ id: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> VoterRecord? {
        let rows = try await db.run(
            "SELECT \(unescaped: VoterRecord.columns) FROM voters v WHERE v.org_id = \(scope.orgId) AND v.id = \(id)", logger: logger)
        for try await row in rows { return try VoterRecord.decode(row) }
        return nil
    }

    /// True when `voter` is on one of `canvasser`'s active assignments.
    public func canvasserSees(voter: UUID, canvasser: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> Bool {
        let rows = try await db.run(
            """
            SELECT 1 FROM list_members lm JOIN assignments a ON a.org_id = lm.org_id AND a.list_id = lm.list_id
            WHERE lm.org_id = \(scope.orgId) AND lm.voter_id = \(voter) AND a.canvasser_id = \(canvasser) AND a.status = 'active' LIMIT 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    static let voterFields: [(json: String, column: String, kind: String)] = [
        ("externalId", "external_id", "text"), ("firstName", "first_name", "text"), ("middleName", "middle_name", "text"),
        ("lastName", "last_name", "text"), ("suffix", "suffix", "text"), ("birthYear", "birth_year", "int"), ("sex", "sex", "text"),
        ("race", "race", "text"), ("party", "party", "text"), ("parish", "parish", "text"), ("ward", "ward", "text"),
        ("precinct", "precinct", "text"), ("congressionalDistrict", "congressional_district", "text"),
        ("senateDistrict", "senate_district", "text"), ("houseDistrict", "house_district", "text"),
        ("registrationDate", "registration_date", "date"), ("status", "status", "text"), ("phone", "phone", "text"),
        ("latitude", "latitude", "float"), ("longitude", "longitude", "float"), ("mailing", "mailing", "jsonb"),
    ]
    static let addressFields: [(json: String, column: String)] = [
        ("houseNumber", "res_house_number"), ("houseFraction", "res_house_fraction"), ("streetDirection", "res_street_direction"),
        ("streetName", "res_street_name"), ("unit", "res_unit"), ("city", "res_city"), ("state", "res_state"), ("zip5", "res_zip5"),
        ("zip4", "res_zip4"),
    ]

    static func extract(_ kind: String, _ path: String) -> String {
        switch kind {
        case "int": "(\(path))::int"
        case "float": "(\(path))::float8"
        case "date": "(\(path))::date"
        case "jsonb": "NULLIF(p->'\(path.split(separator: "'")[1])', 'null'::jsonb)"
        default: path
        }
    }

    /// Inserts a voter from the contract's JSON (validated by the caller); nil on a duplicate externalId.
    public func createVoter(json: String, in scope: OrgScope, on db: some QueryRunner) async throws -> String? {
        var columns = ["org_id"], values = ["$1"]
        for field in Self.voterFields {
            columns.append(field.column)
            let value = Self.extract(field.kind, "p->>'\(field.json)'")
            values.append(field.column == "status" ? "COALESCE(\(value), 'active')" : value)
        }
        for field in Self.addressFields {
            columns.append(field.column)
            values.append("p->'residence'->>'\(field.json)'")
        }
        let sql = """
            INSERT INTO voters AS v (\(columns.joined(separator: ", "))) SELECT \(values.joined(separator: ", "))
            FROM (SELECT $2::jsonb AS p) input
            ON CONFLICT (org_id, external_id) DO NOTHING
            RETURNING voter_json(v)::text
            """
        var binds = PostgresBindings()
        try binds.append(scope.orgId, context: .default)
        try binds.append(json, context: .default)
        return try await Self.first(try await db.run(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger))
    }

    /// Applies the keys present in `json` (absent or null keys leave the field as it is).
    public func updateVoter(_ id: UUID, json: String, in scope: OrgScope, on db: some QueryRunner) async throws -> String? {
        var sets: [String] = []
        for field in Self.voterFields {
            let value = Self.extract(field.kind, "p->>'\(field.json)'")
            sets.append("\(field.column) = CASE WHEN jsonb_typeof(p->'\(field.json)') IS NOT NULL AND jsonb_typeof(p->'\(field.json)') <> 'null' THEN \(value) ELSE v.\(field.column) END")
        }
        for field in Self.addressFields {
            sets.append("\(field.column) = CASE WHEN p->'residence' ? '\(field.json)' AND jsonb_typeof(p->'residence'->'\(field.json)') <> 'null' THEN p->'residence'->>'\(field.json)' ELSE v.\(field.column) END")
        }
        let sql = """
            UPDATE voters AS v SET \(sets.joined(separator: ", ")), updated_at = now()
            FROM (SELECT $3::jsonb AS p) input
            WHERE v.org_id = $1 AND v.id = $2
            RETURNING voter_json(v)::text
            """
        var binds = PostgresBindings()
        try binds.append(scope.orgId, context: .default)
        try binds.append(id, context: .default)
        try binds.append(json, context: .default)
        do {
            return try await Self.first(try await db.run(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger))
        } catch where error.isUniqueViolation {
            throw CampaignError.conflict("another voter of this organization has that externalId")
        }
    }

    // MARK: Lists

    static let listJSON = """
        jsonb_strip_nulls(jsonb_build_object('id', l.id, 'name', l.name, 'description', l.description, 'memberCount', l.member_count,
            'source', l.source, 'criteria', l.criteria, 'createdBy', l.created_by, 'createdAt', iso_utc(l.created_at),
            'updatedAt', iso_utc(l.updated_at)))::text
        """

    public func lists(in scope: OrgScope, limit: Int, after cursor: PageCursor?, on db: some QueryRunner) async throws -> Page<String> {
        let rows = try await db.run(
            """
            SELECT \(unescaped: Self.listJSON), l.id, (extract(epoch FROM l.created_at) * 1000000)::int8 FROM lists l
            WHERE l.org_id = \(scope.orgId)
              AND \(page: cursor, time: "l.created_at", id: "l.id")
            ORDER BY l.created_at DESC, l.id DESC LIMIT \(limit + 1)
            """, logger: logger)
        return try await Self.newestFirstPage(rows, limit: limit)
    }

    public func list(_ id: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> String? {
        try await Self.first(try await db.run("SELECT \(unescaped: Self.listJSON) FROM lists l WHERE l.org_id = \(scope.orgId) AND l.id = \(id)", logger: logger))
    }

    public func createList(name: String, description: String?, createdBy: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> String {
        let rows = try await db.run(
            """
            INSERT INTO lists AS l (org_id, name, description, created_by) VALUES (\(scope.orgId), \(name), \(description), \(createdBy))
            RETURNING \(unescaped: Self.listJSON)
            """, logger: logger)
        guard let json = try await Self.first(rows) else { throw StoreError.unexpected("no list row") }
        return json
    }

    public func updateList(_ id: UUID, name: String?, description: String?, in scope: OrgScope, on db: some QueryRunner) async throws -> String? {
        try await Self.first(
            try await db.run(
                """
                UPDATE lists AS l SET name = COALESCE(\(name), l.name), description = COALESCE(\(description), l.description), updated_at = now()
                WHERE l.org_id = \(scope.orgId) AND l.id = \(id) RETURNING \(unescaped: Self.listJSON)
                """, logger: logger))
    }

    /// Deletes a list without active assignments (their history goes with it).
    public func deleteList(_ id: UUID, in scope: OrgScope, on connection: PostgresConnection) async throws {
        let rows = try await connection.query(
            "SELECT 1 FROM lists WHERE org_id = \(scope.orgId) AND id = \(id) FOR UPDATE", logger: logger)
        var found = false
        for try await _ in rows { found = true }
        guard found else { throw CampaignError.notFound("no list with id \(id.uuidString.lowercased())") }
        let active = try await connection.query(
            "SELECT count(*)::int8 FROM assignments WHERE org_id = \(scope.orgId) AND list_id = \(id) AND status = 'active'", logger: logger)
        for try await n in active.decode(Int.self) where n > 0 {
            throw CampaignError.conflict("the list has \(n) active assignment\(n == 1 ? "" : "s"); complete or revoke them first")
        }
        try await connection.query(
            "UPDATE interactions SET list_id = NULL WHERE org_id = \(scope.orgId) AND list_id = \(id)", logger: logger).consume()
        try await connection.query("DELETE FROM assignments WHERE org_id = \(scope.orgId) AND list_id = \(id)", logger: logger).consume()
        try await connection.query("DELETE FROM lists WHERE org_id = \(scope.orgId) AND id = \(id)", logger: logger).consume()
    }

    /// Locks the list row (member counts change under it); false if there is no such list.
    public func lockList(_ id: UUID, in scope: OrgScope, on connection: PostgresConnection) async throws -> Bool {
        for try await _ in try await connection.query("SELECT 1 FROM lists WHERE org_id = \(scope.orgId) AND id = \(id) FOR UPDATE", logger: logger) {
            return true
        }
        return false
    }

    /// Adds voters in one statement; `notFound` lists ids that are not voters of this org.
    public func addMembers(_ voterIds: [UUID], to list: UUID, in scope: OrgScope, on connection: PostgresConnection) async throws
        -> (added: Int, alreadyPresent: Int, notFound: [UUID])
    {
        let unique = Array(Set(voterIds))
        let rows = try await connection.query(
            """
            WITH wanted AS (SELECT DISTINCT unnest(\(unique)::uuid[]) AS id),
            known AS (SELECT w.id FROM wanted w JOIN voters v ON v.org_id = \(scope.orgId) AND v.id = w.id),
            inserted AS (
                INSERT INTO list_members (org_id, list_id, voter_id) SELECT \(scope.orgId), \(list), id FROM known
                ON CONFLICT (list_id, voter_id) DO NOTHING RETURNING voter_id
            ),
            counted AS (
                UPDATE lists SET member_count = member_count + (SELECT count(*) FROM inserted), updated_at = now()
                WHERE org_id = \(scope.orgId) AND id = \(list) RETURNING member_count
            )
            SELECT (SELECT count(*) FROM inserted)::int8, (SELECT count(*) FROM known)::int8,
                   COALESCE((SELECT array_agg(w.id) FROM wanted w WHERE w.id NOT IN (SELECT id FROM known)), '{}'::uuid[]),
                   (SELECT member_count FROM counted)
            """, logger: logger)
        for try await (added, known, missing, _) in rows.decode((Int, Int, [UUID], Int?).self) {
            return (added, known - added, missing)
        }
        throw StoreError.unexpected("no add-members row")
    }

    public func removeMembers(_ voterIds: [UUID], from list: UUID, in scope: OrgScope, on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.query(
            """
            WITH removed AS (
                DELETE FROM list_members WHERE org_id = \(scope.orgId) AND list_id = \(list) AND voter_id = ANY(\(voterIds)) RETURNING voter_id
            ),
            counted AS (
                UPDATE lists SET member_count = member_count - (SELECT count(*) FROM removed), updated_at = now()
                WHERE org_id = \(scope.orgId) AND id = \(list) RETURNING member_count
            )
            SELECT (SELECT count(*) FROM removed)::int8, (SELECT member_count FROM counted)
            """, logger: logger)
        for try await (removed, _) in rows.decode((Int, Int?).self) { return removed }
        return 0
    }

    public func listMembers(_ list: UUID, in scope: OrgScope, limit: Int, after: UUID?, on db: some QueryRunner) async throws -> (items: [VoterRecord], nextCursor: String?) {
        let rows = try await db.run(
            """
            SELECT \(unescaped: VoterRecord.columns) FROM list_members lm JOIN voters v ON v.org_id = lm.org_id AND v.id = lm.voter_id
            WHERE lm.org_id = \(scope.orgId) AND lm.list_id = \(list) AND (\(after == nil) OR lm.voter_id > \(after ?? UUID()))
            ORDER BY lm.voter_id LIMIT \(limit + 1)
            """, logger: logger)
        var items: [VoterRecord] = []
        for try await row in rows { items.append(try VoterRecord.decode(row)) }
        let kept = Array(items.prefix(limit))
        return (kept, items.count > limit ? kept.last.map { KeyCursor([$0.id.uuidString]).encoded } : nil)
    }

    // MARK: Assignments

    static let contactResults = "('canvassed', 'refused', 'hostile')"

    static let assignmentJSON = """
        jsonb_build_object('id', a.id, 'listId', a.list_id, 'listName', l.name, 'canvasserId', a.canvasser_id, 'canvasserName', u.name,
            'status', a.status, 'assignedBy', a.assigned_by, 'createdAt', iso_utc(a.created_at),
            'progress', jsonb_build_object('total', l.member_count,
                'attempted', (SELECT count(DISTINCT i.voter_id) FROM interactions i WHERE i.org_id = a.org_id AND i.assignment_id = a.id),
                'contacted', (SELECT count(DISTINCT i.voter_id) FROM interactions i WHERE i.org_id = a.org_id AND i.assignment_id = a.id
                              AND i.result IN ('canvassed', 'refused', 'hostile'))))::text
        """
    static let assignmentFrom = "assignments a JOIN lists l ON l.org_id = a.org_id AND l.id = a.list_id JOIN users u ON u.id = a.canvasser_id"

    public struct AssignmentFilter: Sendable {
        public var listId: UUID?
        public var canvasserId: UUID?
        public var status: String?
        public init(listId: UUID? = nil, canvasserId: UUID? = nil, status: String? = nil) {
            self.listId = listId
            self.canvasserId = canvasserId
            self.status = status
        }
    }

    public func assignments(in scope: OrgScope, filter: AssignmentFilter, limit: Int, after cursor: PageCursor?, on db: some QueryRunner) async throws -> Page<String> {
        let rows = try await db.run(
            """
            SELECT \(unescaped: Self.assignmentJSON), a.id, (extract(epoch FROM a.created_at) * 1000000)::int8
            FROM \(unescaped: Self.assignmentFrom)
            WHERE a.org_id = \(scope.orgId)
              AND (\(filter.listId)::uuid IS NULL OR a.list_id = \(filter.listId))
              AND (\(filter.canvasserId)::uuid IS NULL OR a.canvasser_id = \(filter.canvasserId))
              AND (\(filter.status)::text IS NULL OR a.status = \(filter.status))
              AND \(page: cursor, time: "a.created_at", id: "a.id")
            ORDER BY a.created_at DESC, a.id DESC LIMIT \(limit + 1)
            """, logger: logger)
        return try await Self.newestFirstPage(rows, limit: limit)
    }

    public struct AssignmentInfo: Sendable {
        public let json: String
        public let canvasserId: UUID
        public let status: String
    }

    public func assignment(_ id: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> AssignmentInfo? {
        let rows = try await db.run(
            "SELECT \(unescaped: Self.assignmentJSON), a.canvasser_id, a.status FROM \(unescaped: Self.assignmentFrom) WHERE a.org_id = \(scope.orgId) AND a.id = \(id)",
            logger: logger)
        for try await (json, canvasser, status) in rows.decode((String, UUID, String).self) {
            return AssignmentInfo(json: json, canvasserId: canvasser, status: status)
        }
        return nil
    }

    /// Assigns a list to a member of this org (the composite foreign key refuses anyone else).
    public func createAssignment(list: UUID, canvasser: UUID, by: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> UUID {
        do {
            let rows = try await db.run(
                """
                INSERT INTO assignments (org_id, list_id, canvasser_id, assigned_by)
                SELECT \(scope.orgId), \(list), \(canvasser), \(by)
                WHERE EXISTS (SELECT 1 FROM lists WHERE org_id = \(scope.orgId) AND id = \(list))
                RETURNING id
                """, logger: logger)
            for try await id in rows.decode(UUID.self) { return id }
            throw CampaignError.notFound("no list with id \(list.uuidString.lowercased())")
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23503" {
            throw CampaignError.unprocessable("canvasserId: \(canvasser.uuidString.lowercased()) is not a member of this organization")
        }
    }

    public func updateAssignment(_ id: UUID, status: String, in scope: OrgScope, on db: some QueryRunner) async throws -> Bool {
        let rows = try await db.run(
            "UPDATE assignments SET status = \(status), updated_at = now() WHERE org_id = \(scope.orgId) AND id = \(id) RETURNING id", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// The assignment's voters in walk order (precinct, street, house number, unit), each with
    /// the result and time of its latest interaction.
    public func assignmentVoters(_ id: UUID, in scope: OrgScope, limit: Int, after: KeyCursor?, on db: some QueryRunner) async throws -> (items: [String], nextCursor: String?) {
        let key = after?.values ?? ["", "", "-1", "", "00000000-0000-0000-0000-000000000000"]
        let rows = try await db.run(
            """
            SELECT (voter_json(v) || jsonb_strip_nulls(jsonb_build_object('lastResult', last.result, 'lastContactAt', iso_utc(last.occurred_at))))::text,
                   COALESCE(v.precinct, ''), COALESCE(v.res_street_name, ''), COALESCE(v.res_house_sort, 0)::int8, COALESCE(v.res_unit, ''), v.id
            FROM assignments a
            JOIN list_members lm ON lm.org_id = a.org_id AND lm.list_id = a.list_id
            JOIN voters v ON v.org_id = lm.org_id AND v.id = lm.voter_id
            LEFT JOIN LATERAL (
                SELECT i.result, i.occurred_at FROM interactions i WHERE i.org_id = v.org_id AND i.voter_id = v.id
                ORDER BY i.occurred_at DESC, i.id DESC LIMIT 1
            ) last ON true
            WHERE a.org_id = \(scope.orgId) AND a.id = \(id)
              AND (COALESCE(v.precinct, ''), COALESCE(v.res_street_name, ''), COALESCE(v.res_house_sort, 0)::int8, COALESCE(v.res_unit, ''), v.id)
                  > (\(key[0]), \(key[1]), \(Int(key[2]) ?? -1)::int8, \(key[3]), \(UUID(uuidString: key[4]) ?? UUID()))
            ORDER BY 2, 3, 4, 5, 6 LIMIT \(limit + 1)
            """, logger: logger)
        var items: [(String, [String])] = []
        for try await (json, precinct, street, house, unit, voter) in rows.decode((String, String, String, Int, String, UUID).self) {
            items.append((json, [precinct, street, String(house), unit, voter.uuidString]))
        }
        let kept = Array(items.prefix(limit))
        return (kept.map(\.0), items.count > limit ? kept.last.map { KeyCursor($0.1).encoded } : nil)
    }

    // MARK: Survey questions

    static let questionJSON = """
        jsonb_strip_nulls(jsonb_build_object('id', q.id, 'key', q.key, 'prompt', q.prompt, 'type', q.type, 'choices', to_jsonb(q.choices),
            'active', q.active, 'createdAt', iso_utc(q.created_at)))::text
        """

    public func questions(in scope: OrgScope, limit: Int, after cursor: PageCursor?, on db: some QueryRunner) async throws -> Page<String> {
        let rows = try await db.run(
            """
            SELECT \(unescaped: Self.questionJSON), q.id, (extract(epoch FROM q.created_at) * 1000000)::int8 FROM survey_questions q
            WHERE q.org_id = \(scope.orgId)
              AND \(page: cursor, time: "q.created_at", id: "q.id")
            ORDER BY q.created_at DESC, q.id DESC LIMIT \(limit + 1)
            """, logger: logger)
        return try await Self.newestFirstPage(rows, limit: limit)
    }

    public func createQuestion(key: String, prompt: String, type: String, choices: [String]?, active: Bool, in scope: OrgScope, on db: some QueryRunner) async throws -> String {
        do {
            let rows = try await db.run(
                """
                INSERT INTO survey_questions AS q (org_id, key, prompt, type, choices, active)
                VALUES (\(scope.orgId), \(key), \(prompt), \(type), \(choices), \(active)) RETURNING \(unescaped: Self.questionJSON)
                """, logger: logger)
            guard let json = try await Self.first(rows) else { throw StoreError.unexpected("no question row") }
            return json
        } catch where error.isUniqueViolation {
            throw CampaignError.conflict("a survey question with key \(key) exists")
        }
    }

    public func updateQuestion(_ id: UUID, prompt: String?, choices: [String]?, active: Bool?, in scope: OrgScope, on db: some QueryRunner) async throws -> String? {
        try await Self.first(
            try await db.run(
                """
                UPDATE survey_questions AS q SET prompt = COALESCE(\(prompt), q.prompt), choices = COALESCE(\(choices), q.choices),
                       active = COALESCE(\(active), q.active), updated_at = now()
                WHERE q.org_id = \(scope.orgId) AND q.id = \(id) RETURNING \(unescaped: Self.questionJSON)
                """, logger: logger))
    }

    public struct QuestionRule: Sendable {
        public let type: String
        public let choices: [String]
        public let active: Bool
    }

    public func questionRules(_ ids: [UUID], in scope: OrgScope, on db: some QueryRunner) async throws -> [UUID: QuestionRule] {
        guard !ids.isEmpty else { return [:] }
        var rules: [UUID: QuestionRule] = [:]
        let rows = try await db.run(
            "SELECT id, type, COALESCE(choices, '{}'::text[]), active FROM survey_questions WHERE org_id = \(scope.orgId) AND id = ANY(\(ids))",
            logger: logger)
        for try await (id, type, choices, active) in rows.decode((UUID, String, [String], Bool).self) {
            rules[id] = QuestionRule(type: type, choices: choices, active: active)
        }
        return rules
    }

    // MARK: Interactions

    /// Which of `voterIds` the caller may record for: any voter of the org, or (for a canvasser)
    /// only voters on their active assignments.
    public func visibleVoters(_ voterIds: [UUID], canvasser: UUID?, in scope: OrgScope, on db: some QueryRunner) async throws -> Set<UUID> {
        guard !voterIds.isEmpty else { return [] }
        let rows: PostgresRowSequence
        if let canvasser {
            rows = try await db.run(
                """
                SELECT DISTINCT lm.voter_id FROM list_members lm
                JOIN assignments a ON a.org_id = lm.org_id AND a.list_id = lm.list_id
                WHERE lm.org_id = \(scope.orgId) AND a.canvasser_id = \(canvasser) AND a.status = 'active' AND lm.voter_id = ANY(\(voterIds))
                """, logger: logger)
        } else {
            rows = try await db.run("SELECT id FROM voters WHERE org_id = \(scope.orgId) AND id = ANY(\(voterIds))", logger: logger)
        }
        var visible: Set<UUID> = []
        for try await id in rows.decode(UUID.self) { visible.insert(id) }
        return visible
    }

    public struct AssignmentRef: Sendable {
        public let listId: UUID
        public let canvasserId: UUID
        public let active: Bool
        public let voters: Set<UUID>
    }

    /// The named assignments with which of `voterIds` are on their lists.
    public func assignmentRefs(_ ids: [UUID], voters voterIds: [UUID], in scope: OrgScope, on db: some QueryRunner) async throws -> [UUID: AssignmentRef] {
        guard !ids.isEmpty else { return [:] }
        var refs: [UUID: (UUID, UUID, Bool)] = [:]
        for try await (id, list, canvasser, status) in try await db.run(
            "SELECT id, list_id, canvasser_id, status FROM assignments WHERE org_id = \(scope.orgId) AND id = ANY(\(ids))", logger: logger
        ).decode((UUID, UUID, UUID, String).self) {
            refs[id] = (list, canvasser, status == "active")
        }
        var onList: [UUID: Set<UUID>] = [:]
        let lists = Array(Set(refs.values.map(\.0)))
        if !lists.isEmpty {
            for try await (list, voter) in try await db.run(
                "SELECT list_id, voter_id FROM list_members WHERE org_id = \(scope.orgId) AND list_id = ANY(\(lists)) AND voter_id = ANY(\(voterIds))",
                logger: logger
            ).decode((UUID, UUID).self) {
                onList[list, default: []].insert(voter)
            }
        }
        return refs.mapValues { AssignmentRef(listId: $0.0, canvasserId: $0.1, active: $0.2, voters: onList[$0.0] ?? []) }
    }

    /// Interaction ids of client uuids this org already holds.
    public func existingInteractions(_ uuids: [UUID], in scope: OrgScope, on db: some QueryRunner) async throws -> [UUID: UUID] {
        guard !uuids.isEmpty else { return [:] }
        var found: [UUID: UUID] = [:]
        let rows = try await db.run(
            "SELECT client_interaction_uuid, id FROM interactions WHERE org_id = \(scope.orgId) AND client_interaction_uuid = ANY(\(uuids))",
            logger: logger)
        for try await (uuid, id) in rows.decode((UUID, UUID).self) { found[uuid] = id }
        return found
    }

    public struct NewInteraction: Sendable {
        public let clientUuid: UUID
        public let voterId: UUID
        public let assignmentId: UUID?
        public let listId: UUID?
        public let channel: String
        public let result: String
        public let occurredAt: Date
        public let notes: String?
        public let latitude: Double?
        public let longitude: Double?
        /// (question id, answer JSON)
        public let answers: [(UUID, String)]

        public init(
            clientUuid: UUID, voterId: UUID, assignmentId: UUID?, listId: UUID?, channel: String, result: String, occurredAt: Date,
            notes: String?, latitude: Double?, longitude: Double?, answers: [(UUID, String)]
        ) {
            self.clientUuid = clientUuid
            self.voterId = voterId
            self.assignmentId = assignmentId
            self.listId = listId
            self.channel = channel
            self.result = result
            self.occurredAt = occurredAt
            self.notes = notes
            self.latitude = latitude
            self.longitude = longitude
            self.answers = answers
        }
    }

    /// Inserts interactions idempotently by `(org_id, client_interaction_uuid)`: returns, per
    /// client uuid, the interaction id and whether this call created it. Concurrent requests with
    /// the same uuids resolve in the unique constraint, never by a read-then-write.
    public func insertInteractions(_ items: [NewInteraction], canvasser: UUID, in scope: OrgScope, on connection: PostgresConnection) async throws
        -> [UUID: (id: UUID, created: Bool)]
    {
        guard !items.isEmpty else { return [:] }
        var result: [UUID: (id: UUID, created: Bool)] = [:]
        let rows = try await connection.query(
            """
            INSERT INTO interactions (org_id, client_interaction_uuid, voter_id, assignment_id, list_id, canvasser_id, channel, result,
                                      occurred_at, notes, latitude, longitude)
            SELECT \(scope.orgId), t.uuid, t.voter, NULLIF(t.assignment, '')::uuid, NULLIF(t.list, '')::uuid, \(canvasser), t.channel, t.result,
                   to_timestamp(t.occurred), NULLIF(t.notes, ''), CASE WHEN t.has_geo THEN t.lat END, CASE WHEN t.has_geo THEN t.lon END
            FROM unnest(\(items.map(\.clientUuid))::uuid[], \(items.map(\.voterId))::uuid[], \(items.map { $0.assignmentId?.uuidString ?? "" })::text[],
                        \(items.map { $0.listId?.uuidString ?? "" })::text[], \(items.map(\.channel))::text[], \(items.map(\.result))::text[],
                        \(items.map { $0.occurredAt.timeIntervalSince1970 })::float8[], \(items.map { $0.notes ?? "" })::text[],
                        \(items.map { $0.latitude != nil && $0.longitude != nil })::bool[], \(items.map { $0.latitude ?? 0 })::float8[],
                        \(items.map { $0.longitude ?? 0 })::float8[])
                 WITH ORDINALITY AS t(uuid, voter, assignment, list, channel, result, occurred, notes, has_geo, lat, lon, ord)
            ORDER BY t.ord
            ON CONFLICT (org_id, client_interaction_uuid) DO NOTHING
            RETURNING client_interaction_uuid, id
            """, logger: logger)
        for try await (uuid, id) in rows.decode((UUID, UUID).self) { result[uuid] = (id, true) }
        let missing = Array(Set(items.map(\.clientUuid)).subtracting(result.keys))
        if !missing.isEmpty {
            let existing = try await connection.query(
                "SELECT client_interaction_uuid, id FROM interactions WHERE org_id = \(scope.orgId) AND client_interaction_uuid = ANY(\(missing))",
                logger: logger)
            for try await (uuid, id) in existing.decode((UUID, UUID).self) { result[uuid] = (id, false) }
        }
        var answerRows: [(UUID, UUID, String)] = []
        var seen: Set<UUID> = []
        for item in items where result[item.clientUuid]?.created == true && seen.insert(item.clientUuid).inserted {
            for (question, answer) in item.answers { answerRows.append((result[item.clientUuid]!.id, question, answer)) }
        }
        if !answerRows.isEmpty {
            try await connection.query(
                """
                INSERT INTO survey_responses (org_id, interaction_id, question_id, answer)
                SELECT \(scope.orgId), t.i, t.q, t.a::jsonb FROM unnest(\(answerRows.map(\.0))::uuid[], \(answerRows.map(\.1))::uuid[], \(answerRows.map(\.2))::text[]) AS t(i, q, a)
                ON CONFLICT DO NOTHING
                """, logger: logger
            ).consume()
        }
        return result
    }

    public struct InteractionFilter: Sendable {
        public var voterId: UUID?
        public var canvasserId: UUID?
        public var assignmentId: UUID?
        public var from: Date?
        public var to: Date?
        public init(voterId: UUID? = nil, canvasserId: UUID? = nil, assignmentId: UUID? = nil, from: Date? = nil, to: Date? = nil) {
            self.voterId = voterId
            self.canvasserId = canvasserId
            self.assignmentId = assignmentId
            self.from = from
            self.to = to
        }
    }

    public func interactions(in scope: OrgScope, filter: InteractionFilter, limit: Int, after cursor: PageCursor?, on db: some QueryRunner) async throws -> Page<String> {
        let rows = try await db.run(
            """
            SELECT jsonb_strip_nulls(jsonb_build_object('id', i.id, 'clientInteractionUuid', i.client_interaction_uuid, 'voterId', i.voter_id,
                       'assignmentId', i.assignment_id, 'listId', i.list_id, 'canvasserId', i.canvasser_id, 'channel', i.channel,
                       'result', i.result, 'occurredAt', iso_utc(i.occurred_at), 'receivedAt', iso_utc(i.received_at), 'notes', i.notes,
                       'latitude', i.latitude, 'longitude', i.longitude,
                       'surveyResponses', (SELECT jsonb_agg(jsonb_build_object('questionId', r.question_id, 'answer', r.answer) ORDER BY r.question_id)
                                           FROM survey_responses r WHERE r.org_id = i.org_id AND r.interaction_id = i.id)))::text,
                   i.id, (extract(epoch FROM i.occurred_at) * 1000000)::int8
            FROM interactions i
            WHERE i.org_id = \(scope.orgId)
              AND (\(filter.voterId)::uuid IS NULL OR i.voter_id = \(filter.voterId))
              AND (\(filter.canvasserId)::uuid IS NULL OR i.canvasser_id = \(filter.canvasserId))
              AND (\(filter.assignmentId)::uuid IS NULL OR i.assignment_id = \(filter.assignmentId))
              AND (\(filter.from)::timestamptz IS NULL OR i.occurred_at >= \(filter.from))
              AND (\(filter.to)::timestamptz IS NULL OR i.occurred_at < \(filter.to))
              AND \(page: cursor, time: "i.occurred_at", id: "i.id")
            ORDER BY i.occurred_at DESC, i.id DESC LIMIT \(limit + 1)
            """, logger: logger)
        return try await Self.newestFirstPage(rows, limit: limit)
    }

    /// Appends a platform event (the outbox) in the caller's transaction.
    public func event(type: String, payload: String, in scope: OrgScope, on connection: PostgresConnection) async throws {
        try await connection.query(
            "INSERT INTO events (org_id, type, payload) VALUES (\(scope.orgId), \(type), \(payload)::jsonb)", logger: logger
        ).consume()
    }
}
