import Foundation
import Logging
import PostgresNIO

/// The voters of one organization.
public struct VoterRepository: Sendable {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    /// `text` for a LIKE pattern, its wildcards escaped.
    static func likeEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    /// `q` matches a prefix of the last name, of "first last" (which covers a first-name prefix) or of the
    /// registration number.
    static func condition(_ scope: OrgScope, _ filter: VoterFilter) -> PostgresQuery {
        let prefix = filter.q.map { likeEscaped($0.lowercased()) + "%" }
        let exact = filter.q.map { likeEscaped($0) + "%" }
        let status = filter.status?.rawValue
        return """
            v.org_id = \(scope.orgId)
              AND (\(prefix)::text IS NULL OR lower(v.last_name) LIKE \(prefix)
                   OR lower(v.first_name || ' ' || v.last_name) LIKE \(prefix) OR v.external_id LIKE \(exact))
              AND (\(filter.parish)::text IS NULL OR v.parish = \(filter.parish))
              AND (\(filter.precinct)::text IS NULL OR v.precinct = \(filter.precinct))
              AND (\(filter.party)::text IS NULL OR v.party = \(filter.party))
              AND (\(status)::text IS NULL OR v.status = \(status))
              AND (\(filter.zip5)::text IS NULL OR v.res_zip5 = \(filter.zip5))
            """
    }

    /// A page of voters by id (a stable key); `total` when asked for.
    public func voters(
        in scope: OrgScope,
        filter: VoterFilter,
        limit: Int,
        after: UUID?,
        includeTotal: Bool,
        on db: some QueryRunner
    ) async throws -> (items: [Voter], nextCursor: String?, total: Int?) {
        let condition = Self.condition(scope, filter)
        var binds = condition.binds
        binds.append(after ?? UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), context: .default)
        binds.append(after == nil, context: .default)
        binds.append(limit + 1, context: .default)
        let n = binds.count
        let sql = "SELECT \(Voter.columns) FROM voters v WHERE \(condition.sql) AND ($\(n - 1) OR v.id > $\(n - 2)) ORDER BY v.id LIMIT $\(n)"
        var items: [Voter] = []
        for try await row in try await db.run(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) { items.append(try Voter.read(row)) }
        let kept = Array(items.prefix(limit))
        var total: Int?
        if includeTotal {
            let count = PostgresQuery(unsafeSQL: "SELECT count(*)::int8 FROM voters v WHERE " + condition.sql, binds: condition.binds)
            for try await value in try await db.run(count, logger: logger).decode(Int.self) { total = value }
        }
        return (kept, items.count > limit ? kept.last.map { KeyCursor([$0.id.uuidString]).encoded } : nil, total)
    }

    /// One voter; nil if this org has none with that id.
    public func voter(_ id: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> Voter? {
        let rows = try await db.run(
            "SELECT \(unescaped: Voter.columns) FROM voters v WHERE v.org_id = \(scope.orgId) AND v.id = \(id)",
            logger: logger
        )
        for try await row in rows { return try Voter.read(row) }
        return nil
    }

    /// True when `voter` is on one of `canvasser`'s active assignments (a key probe per assignment's list).
    public func canvasserSees(voter: UUID, canvasser: UUID, in scope: OrgScope, on db: some QueryRunner) async throws -> Bool {
        let rows = try await db.run(
            """
            SELECT 1 FROM assignments a JOIN list_members lm ON lm.list_id = a.list_id AND lm.org_id = a.org_id AND lm.voter_id = \(voter)
            WHERE a.org_id = \(scope.orgId) AND a.canvasser_id = \(canvasser) AND a.status = 'active' LIMIT 1
            """,
            logger: logger
        )
        for try await _ in rows { return true }
        return false
    }

    /// Inserts a voter; nil when the organization has a voter with that externalId.
    public func create(_ draft: VoterDraft, in scope: OrgScope, on db: some QueryRunner) async throws -> Voter? {
        let r = draft.residence ?? Address()
        let d = draft.details
        let mailing = try d.mailing?.json
        let rows = try await db.run(
            """
            INSERT INTO voters AS v (
                org_id, external_id, first_name, last_name, status, res_house_number, res_house_fraction, res_street_direction,
                res_street_name, res_unit, res_city, res_state, res_zip5, res_zip4, middle_name, suffix, birth_year, sex, race, party,
                mailing, parish, ward, precinct, congressional_district, senate_district, house_district, registration_date, phone,
                latitude, longitude)
            VALUES (
                \(scope.orgId), \(draft.externalId), \(draft.firstName), \(draft.lastName), \(draft.status?.rawValue ?? "active"),
                \(r.houseNumber), \(r.houseFraction), \(r.streetDirection), \(r.streetName), \(r.unit), \(r.city), \(r.state), \(r.zip5),
                \(r.zip4), \(d.middleName), \(d.suffix), \(d.birthYear)::int, \(d.sex), \(d.race), \(d.party), \(mailing)::jsonb,
                \(d.parish), \(d.ward), \(d.precinct), \(d.congressionalDistrict), \(d.senateDistrict), \(d.houseDistrict),
                \(d.registrationDate)::date, \(d.phone), \(d.latitude), \(d.longitude))
            ON CONFLICT (org_id, external_id) DO NOTHING
            RETURNING \(unescaped: Voter.columns)
            """,
            logger: logger
        )
        for try await row in rows { return try Voter.read(row) }
        return nil
    }

    /// Applies a patch: nil fields (and nil parts of the residence) leave the stored value as it is.
    public func update(_ id: UUID, _ patch: VoterPatch, in scope: OrgScope, on db: some QueryRunner) async throws -> Voter? {
        let r = patch.residence ?? Address()
        let d = patch.details
        let mailing = try d.mailing?.json
        do {
            let rows = try await db.run(
                """
                UPDATE voters AS v SET
                    external_id = COALESCE(\(patch.externalId), v.external_id), first_name = COALESCE(\(patch.firstName), v.first_name),
                    last_name = COALESCE(\(patch.lastName), v.last_name), status = COALESCE(\(patch.status?.rawValue), v.status),
                    res_house_number = COALESCE(\(r.houseNumber), v.res_house_number),
                    res_house_fraction = COALESCE(\(r.houseFraction), v.res_house_fraction),
                    res_street_direction = COALESCE(\(r.streetDirection), v.res_street_direction),
                    res_street_name = COALESCE(\(r.streetName), v.res_street_name), res_unit = COALESCE(\(r.unit), v.res_unit),
                    res_city = COALESCE(\(r.city), v.res_city), res_state = COALESCE(\(r.state), v.res_state),
                    res_zip5 = COALESCE(\(r.zip5), v.res_zip5), res_zip4 = COALESCE(\(r.zip4), v.res_zip4),
                    middle_name = COALESCE(\(d.middleName), v.middle_name), suffix = COALESCE(\(d.suffix), v.suffix),
                    birth_year = COALESCE(\(d.birthYear)::int, v.birth_year), sex = COALESCE(\(d.sex), v.sex),
                    race = COALESCE(\(d.race), v.race), party = COALESCE(\(d.party), v.party),
                    mailing = COALESCE(\(mailing)::jsonb, v.mailing), parish = COALESCE(\(d.parish), v.parish),
                    ward = COALESCE(\(d.ward), v.ward), precinct = COALESCE(\(d.precinct), v.precinct),
                    congressional_district = COALESCE(\(d.congressionalDistrict), v.congressional_district),
                    senate_district = COALESCE(\(d.senateDistrict), v.senate_district),
                    house_district = COALESCE(\(d.houseDistrict), v.house_district),
                    registration_date = COALESCE(\(d.registrationDate)::date, v.registration_date),
                    phone = COALESCE(\(d.phone), v.phone), latitude = COALESCE(\(d.latitude), v.latitude),
                    longitude = COALESCE(\(d.longitude), v.longitude), updated_at = now()
                WHERE v.org_id = \(scope.orgId) AND v.id = \(id)
                RETURNING \(unescaped: Voter.columns)
                """,
                logger: logger
            )
            for try await row in rows { return try Voter.read(row) }
            return nil
        } catch  where error.isUniqueViolation {
            throw CampaignError.conflict("another voter of this organization has that externalId")
        }
    }
}
