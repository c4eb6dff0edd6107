import Foundation
import PostgresNIO
import Store

/// What an export holds: every voter of the org, one list's members in walk order, or the interactions of a period.
public enum ExportKind: String, Codable, Sendable, CaseIterable {
    case voters
    case listMembers = "list_members"
    case interactions
}

/// The header and the query of each kind. Every column is text (timestamps as ISO-8601 UTC with `Z`), and a row comes
/// back as one `text[]` of its cells, which the writer reads in place (`TextArrayCells`) and copies without decoding.
enum ExportQuery {
    static let voterColumns: [(header: String, sql: String)] = [
        ("voterId", "v.id::text"), ("externalId", "v.external_id"), ("firstName", "v.first_name"), ("middleName", "v.middle_name"),
        ("lastName", "v.last_name"), ("suffix", "v.suffix"), ("birthYear", "v.birth_year::text"), ("sex", "v.sex"), ("race", "v.race"),
        ("party", "v.party"), ("houseNumber", "v.res_house_number"), ("houseFraction", "v.res_house_fraction"),
        ("streetDirection", "v.res_street_direction"), ("streetName", "v.res_street_name"), ("unit", "v.res_unit"), ("city", "v.res_city"),
        ("state", "v.res_state"), ("zip5", "v.res_zip5"), ("zip4", "v.res_zip4"), ("parish", "v.parish"), ("ward", "v.ward"),
        ("precinct", "v.precinct"), ("congressionalDistrict", "v.congressional_district"), ("senateDistrict", "v.senate_district"),
        ("houseDistrict", "v.house_district"), ("registrationDate", "v.registration_date::text"), ("status", "v.status"),
        ("phone", "v.phone"), ("latitude", "v.latitude::text"), ("longitude", "v.longitude::text"),
    ]

    static let interactionColumns: [(header: String, sql: String)] = [
        ("interactionId", "i.id::text"), ("clientInteractionUuid", "i.client_interaction_uuid::text"), ("occurredAt", utc("i.occurred_at")),
        ("receivedAt", utc("i.received_at")), ("voterId", "i.voter_id::text"), ("externalId", "v.external_id"),
        ("firstName", "v.first_name"), ("lastName", "v.last_name"), ("precinct", "v.precinct"), ("canvasserId", "i.canvasser_id::text"),
        ("canvasserName", "u.name"), ("assignmentId", "i.assignment_id::text"), ("listId", "i.list_id::text"), ("channel", "i.channel"),
        ("result", "i.result"), ("notes", "i.notes"), ("latitude", "i.latitude::text"), ("longitude", "i.longitude::text"),
        (
            "surveyResponses",
            "(SELECT jsonb_object_agg(q.key, r.answer ORDER BY q.key)::text FROM survey_responses r "
                + "JOIN survey_questions q ON q.org_id = r.org_id AND q.id = r.question_id WHERE r.org_id = i.org_id AND r.interaction_id = i.id)"
        ),
    ]

    static func utc(_ column: String) -> String {
        "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    }

    /// One `text[]` column of the row's cells.
    static func cells(_ columns: [String]) -> String {
        "ARRAY[\(columns.joined(separator: ", "))]::text[]"
    }

    /// The header row of `kind`.
    static func header(_ kind: ExportKind) -> [String] {
        switch kind {
        case .voters: voterColumns.map(\.header)
        case .listMembers: voterColumns.map(\.header) + ["addedAt"]
        case .interactions: interactionColumns.map(\.header)
        }
    }

    /// The rows of `kind` in `scope`'s org, in a stable order (walk order for a list, time order for interactions).
    static func query(_ kind: ExportKind, scope: OrgScope, listId: UUID?, from: Date?, to: Date?) -> PostgresQuery {
        let org = scope.orgId
        switch kind {
        case .voters:
            let columns = cells(voterColumns.map(\.sql))
            // Byte order (`~<~`), which `voters_external_id_key` (text_pattern_ops) hands out without a sort.
            return "SELECT \(unescaped: columns) FROM voters v WHERE v.org_id = \(org) ORDER BY v.external_id USING ~<~"
        case .listMembers:
            let columns = cells(voterColumns.map(\.sql) + [utc("m.added_at")])
            return """
                SELECT \(unescaped: columns) FROM list_members m JOIN voters v ON v.org_id = m.org_id AND v.id = m.voter_id
                WHERE m.org_id = \(org) AND m.list_id = \(listId)
                ORDER BY v.precinct, v.res_street_name, v.res_house_sort, v.res_unit, v.id
                """
        case .interactions:
            let columns = cells(interactionColumns.map(\.sql))
            return """
                SELECT \(unescaped: columns) FROM interactions i
                JOIN voters v ON v.org_id = i.org_id AND v.id = i.voter_id
                JOIN users u ON u.id = i.canvasser_id
                WHERE i.org_id = \(org) AND (\(from)::timestamptz IS NULL OR i.occurred_at >= \(from))
                AND (\(to)::timestamptz IS NULL OR i.occurred_at < \(to))
                ORDER BY i.occurred_at, i.id
                """
        }
    }
}
