import Actors
import Foundation
import OpenAPIRuntime
import PostgresNIO
@_spi(TenantAuth) import Store

/// Voters, lists, assignments, survey questions and interactions.
extension APIService {
    var campaign: CampaignRepository { CampaignRepository(logger: logger) }

    static let jsonDecoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try Self.jsonDecoder.decode(T.self, from: Data(json.utf8))
    }

    static let staffRoles: Set<Role> = [.admin, .organizer]

    func pageCursor(_ text: String?) throws -> UUID? {
        guard let text else { return nil }
        guard let cursor = KeyCursor(encoded: text, count: 1), let id = UUID(uuidString: cursor.values[0]) else {
            throw APIError.validation("cursor: not a cursor from this API", details: [("cursor", "not a cursor from this API")])
        }
        return id
    }

    func mapCampaign<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as CampaignError {
            switch error {
            case .notFound(let message): throw APIError.notFound(message)
            case .conflict(let message): throw APIError.conflict(message)
            case .unprocessable(let message): throw APIError.unprocessable(message)
            }
        }
    }

    // MARK: Voters

    func listVoters(_ input: Operations.ListVoters.Input) async throws -> Operations.ListVoters.Output {
        let caller = try await requireMember(Self.staffRoles)
        let query = input.query
        let limit = try Validate.page(limit: query.limit, cursor: nil).limit
        if let zip = query.zip5, zip.range(of: "^[0-9]{5}$", options: .regularExpression) == nil {
            throw APIError.validation("zip5: five digits", details: [("zip5", "five digits")])
        }
        let filter = CampaignRepository.VoterFilter(
            q: try Validate.text(query.q, 1...100, "q"), parish: try Validate.text(query.parish, 1...100, "parish"),
            precinct: try Validate.text(query.precinct, 1...100, "precinct"), party: try Validate.text(query.party, 1...100, "party"),
            status: query.status?.rawValue, zip5: query.zip5)
        let page = try await campaign.voters(
            in: caller.scope, filter: filter, limit: limit, after: try pageCursor(query.cursor), includeTotal: query.includeTotal ?? false, on: db)
        return .ok(.init(body: .json(.init(items: try page.items.map(Components.Schemas.Voter.init), nextCursor: page.nextCursor, total: page.total))))
    }

    func getVoter(_ input: Operations.GetVoter.Input) async throws -> Operations.GetVoter.Output {
        let caller = try await requireMember()
        let id = try Validate.pathId(input.path.voterId, "voter")
        if caller.role == .canvasser, try await !campaign.canvasserSees(voter: id, canvasser: caller.userId, in: caller.scope, on: db) {
            throw APIError.notFound("no voter with id \(input.path.voterId)")
        }
        guard let voter = try await campaign.voter(id, in: caller.scope, on: db) else { throw APIError.notFound("no voter with id \(input.path.voterId)") }
        return .ok(.init(body: .json(try Components.Schemas.Voter(voter))))
    }

    func createVoter(_ input: Operations.CreateVoter.Input) async throws -> Operations.CreateVoter.Output {
        let caller = try await requireMember(Self.staffRoles)
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        try VoterValidation.check(body)
        let json = String(decoding: try Self.jsonEncoder.encode(body), as: UTF8.self)
        let created: String = try await transaction { connection in
            guard let created = try await campaign.createVoter(json: json, in: caller.scope, on: connection) else {
                throw APIError.conflict("a voter with externalId \(body.externalId) exists in this organization")
            }
            let voter = try decode(Components.Schemas.Voter.self, created)
            try await recordAudit(by: caller, "voter.created", on: "voter", id: voter.id, changes: ["externalId": .string(body.externalId)], in: connection)
            return created
        }
        return .created(.init(body: .json(try decode(Components.Schemas.Voter.self, created))))
    }

    func updateVoter(_ input: Operations.UpdateVoter.Input) async throws -> Operations.UpdateVoter.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.voterId, "voter")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        try VoterValidation.check(body)
        let json = String(decoding: try Self.jsonEncoder.encode(body), as: UTF8.self)
        let updated: String = try await mapCampaign {
            try await transaction { connection in
                guard let updated = try await campaign.updateVoter(id, json: json, in: caller.scope, on: connection) else {
                    throw APIError.notFound("no voter with id \(input.path.voterId)")
                }
                try await recordAudit(by: caller, "voter.updated", on: "voter", id: id.uuidString.lowercased(), changes: ["patch": .string(json)], in: connection)
                return updated
            }
        }
        return .ok(.init(body: .json(try decode(Components.Schemas.Voter.self, updated))))
    }

    // MARK: Lists

    func listLists(_ input: Operations.ListLists.Input) async throws -> Operations.ListLists.Output {
        let caller = try await requireMember(Self.staffRoles)
        let page = try Validate.page(limit: input.query.limit, cursor: input.query.cursor)
        let result = try await campaign.lists(in: caller.scope, limit: page.limit, after: page.cursor, on: db)
        return .ok(.init(body: .json(.init(items: try result.items.map { try decode(Components.Schemas.VoterList.self, $0) }, nextCursor: result.nextCursor))))
    }

    func getList(_ input: Operations.GetList.Input) async throws -> Operations.GetList.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.listId, "list")
        guard let json = try await campaign.list(id, in: caller.scope, on: db) else { throw APIError.notFound("no list with id \(input.path.listId)") }
        return .ok(.init(body: .json(try decode(Components.Schemas.VoterList.self, json))))
    }

    func createList(_ input: Operations.CreateList.Input) async throws -> Operations.CreateList.Output {
        let caller = try await requireMember(Self.staffRoles)
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let name = try Validate.length(body.name.trimmingCharacters(in: .whitespaces), 1...200, "name")
        let description = try Validate.text(body.description, 0...2000, "description")
        if body.criteria != nil {
            throw APIError.unprocessable("criteria: populating a list from criteria runs as a job, which this build does not have yet; create the list and add voters by id")
        }
        let json: String = try await transaction { connection in
            let json = try await campaign.createList(name: name, description: description, createdBy: caller.userId, in: caller.scope, on: connection)
            let list = try decode(Components.Schemas.VoterList.self, json)
            try await recordAudit(by: caller, "list.created", on: "list", id: list.id, changes: ["name": .string(name)], in: connection)
            return json
        }
        return .created(.init(body: .json(try decode(Components.Schemas.VoterList.self, json))))
    }

    func updateList(_ input: Operations.UpdateList.Input) async throws -> Operations.UpdateList.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.listId, "list")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let name = try Validate.text(body.name?.trimmingCharacters(in: .whitespaces), 1...200, "name")
        let description = try Validate.text(body.description, 0...2000, "description")
        guard let json = try await campaign.updateList(id, name: name, description: description, in: caller.scope, on: db) else {
            throw APIError.notFound("no list with id \(input.path.listId)")
        }
        return .ok(.init(body: .json(try decode(Components.Schemas.VoterList.self, json))))
    }

    func deleteList(_ input: Operations.DeleteList.Input) async throws -> Operations.DeleteList.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.listId, "list")
        try await mapCampaign {
            try await transaction { connection in
                try await campaign.deleteList(id, in: caller.scope, on: connection)
                try await recordAudit(by: caller, "list.deleted", on: "list", id: id.uuidString.lowercased(), in: connection)
            }
        }
        return .noContent(.init())
    }

    func listListMembers(_ input: Operations.ListListMembers.Input) async throws -> Operations.ListListMembers.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.listId, "list")
        let limit = try Validate.page(limit: input.query.limit, cursor: nil).limit
        let after = try pageCursor(input.query.cursor)
        guard try await campaign.list(id, in: caller.scope, on: db) != nil else { throw APIError.notFound("no list with id \(input.path.listId)") }
        let page = try await campaign.listMembers(id, in: caller.scope, limit: limit, after: after, on: db)
        return .ok(.init(body: .json(.init(items: try page.items.map(Components.Schemas.Voter.init), nextCursor: page.nextCursor))))
    }

    func voterIds(_ ids: [String]) throws -> [UUID] {
        guard (1...10_000).contains(ids.count) else {
            throw APIError.validation("voterIds: 1 to 10000 ids per call", details: [("voterIds", "1 to 10000 ids per call")])
        }
        return try ids.enumerated().map { try Validate.uuid($1, "voterIds[\($0)]") }
    }

    func addListMembers(_ input: Operations.AddListMembers.Input) async throws -> Operations.AddListMembers.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.listId, "list")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let ids = try voterIds(body.voterIds)
        let result = try await transaction { connection in
            guard try await campaign.lockList(id, in: caller.scope, on: connection) else { throw APIError.notFound("no list with id \(input.path.listId)") }
            let result = try await campaign.addMembers(ids, to: id, in: caller.scope, on: connection)
            try await recordAudit(by: caller, "list.members_added", on: "list", id: id.uuidString.lowercased(), changes: ["added": .int(result.added), "alreadyPresent": .int(result.alreadyPresent), "notFound": .int(result.notFound.count)], in: connection)
            return result
        }
        return .ok(
            .init(body: .json(.init(added: result.added, alreadyPresent: result.alreadyPresent, notFound: result.notFound.map { $0.uuidString.lowercased() }))))
    }

    func removeListMembers(_ input: Operations.RemoveListMembers.Input) async throws -> Operations.RemoveListMembers.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.listId, "list")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let ids = try voterIds(body.voterIds)
        let removed = try await transaction { connection in
            guard try await campaign.lockList(id, in: caller.scope, on: connection) else { throw APIError.notFound("no list with id \(input.path.listId)") }
            let removed = try await campaign.removeMembers(ids, from: id, in: caller.scope, on: connection)
            try await recordAudit(by: caller, "list.members_removed", on: "list", id: id.uuidString.lowercased(), changes: ["removed": .int(removed)], in: connection)
            return removed
        }
        return .ok(.init(body: .json(.init(removed: removed))))
    }

    // MARK: Assignments

    func listAssignments(_ input: Operations.ListAssignments.Input) async throws -> Operations.ListAssignments.Output {
        let caller = try await requireMember(Self.staffRoles)
        let page = try Validate.page(limit: input.query.limit, cursor: input.query.cursor)
        let filter = CampaignRepository.AssignmentFilter(
            listId: try input.query.listId.map { try Validate.uuid($0, "listId") },
            canvasserId: try input.query.canvasserId.map { try Validate.uuid($0, "canvasserId") }, status: input.query.status?.rawValue)
        let result = try await campaign.assignments(in: caller.scope, filter: filter, limit: page.limit, after: page.cursor, on: db)
        return .ok(.init(body: .json(.init(items: try result.items.map { try decode(Components.Schemas.Assignment.self, $0) }, nextCursor: result.nextCursor))))
    }

    func listMyAssignments(_ input: Operations.ListMyAssignments.Input) async throws -> Operations.ListMyAssignments.Output {
        let caller = try await requireMember()
        let page = try Validate.page(limit: input.query.limit, cursor: input.query.cursor)
        let result = try await campaign.assignments(
            in: caller.scope, filter: .init(canvasserId: caller.userId, status: "active"), limit: page.limit, after: page.cursor, on: db)
        return .ok(.init(body: .json(.init(items: try result.items.map { try decode(Components.Schemas.Assignment.self, $0) }, nextCursor: result.nextCursor))))
    }

    func createAssignment(_ input: Operations.CreateAssignment.Input) async throws -> Operations.CreateAssignment.Output {
        let caller = try await requireMember(Self.staffRoles)
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let list = try Validate.uuid(body.listId, "listId")
        let canvasser = try Validate.uuid(body.canvasserId, "canvasserId")
        let json: String = try await mapCampaign {
            try await transaction { connection in
                let id = try await campaign.createAssignment(list: list, canvasser: canvasser, by: caller.userId, in: caller.scope, on: connection)
                try await recordAudit(by: caller, "assignment.created", on: "assignment", id: id.uuidString.lowercased(), changes: ["listId": .string(body.listId), "canvasserId": .string(body.canvasserId)], in: connection)
                guard let info = try await campaign.assignment(id, in: caller.scope, on: connection) else { throw StoreError.unexpected("assignment vanished") }
                return info.json
            }
        }
        return .created(.init(body: .json(try decode(Components.Schemas.Assignment.self, json))))
    }

    func updateAssignment(_ input: Operations.UpdateAssignment.Input) async throws -> Operations.UpdateAssignment.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.assignmentId, "assignment")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let json: String = try await transaction { connection in
            guard try await campaign.updateAssignment(id, status: body.status.rawValue, in: caller.scope, on: connection),
                let info = try await campaign.assignment(id, in: caller.scope, on: connection)
            else { throw APIError.notFound("no assignment with id \(input.path.assignmentId)") }
            try await recordAudit(by: caller, "assignment.\(body.status.rawValue)", on: "assignment", id: id.uuidString.lowercased(), in: connection)
            return info.json
        }
        return .ok(.init(body: .json(try decode(Components.Schemas.Assignment.self, json))))
    }

    func listAssignmentVoters(_ input: Operations.ListAssignmentVoters.Input) async throws -> Operations.ListAssignmentVoters.Output {
        let caller = try await requireMember()
        let id = try Validate.pathId(input.path.assignmentId, "assignment")
        let limit = try Validate.page(limit: input.query.limit, cursor: nil).limit
        var after: KeyCursor?
        if let text = input.query.cursor {
            guard let cursor = KeyCursor(encoded: text, count: 5) else {
                throw APIError.validation("cursor: not a cursor from this API", details: [("cursor", "not a cursor from this API")])
            }
            after = cursor
        }
        guard let info = try await campaign.assignment(id, in: caller.scope, on: db),
            caller.role != .canvasser || (info.canvasserId == caller.userId && info.status == "active")
        else { throw APIError.notFound("no assignment with id \(input.path.assignmentId)") }
        let page = try await campaign.assignmentVoters(id, in: caller.scope, limit: limit, after: after, on: db)
        return .ok(
            .init(body: .json(.init(items: try page.items.map { try decode(Components.Schemas.AssignedVoter.self, $0) }, nextCursor: page.nextCursor))))
    }

    // MARK: Survey questions

    func listSurveyQuestions(_ input: Operations.ListSurveyQuestions.Input) async throws -> Operations.ListSurveyQuestions.Output {
        let caller = try await requireMember()
        let page = try Validate.page(limit: input.query.limit, cursor: input.query.cursor)
        let result = try await campaign.questions(in: caller.scope, limit: page.limit, after: page.cursor, on: db)
        return .ok(.init(body: .json(.init(items: try result.items.map { try decode(Components.Schemas.SurveyQuestion.self, $0) }, nextCursor: result.nextCursor))))
    }

    static func checkChoices(_ choices: [String]?, type: String) throws {
        let needsChoices = type == "single_choice" || type == "multi_choice"
        if needsChoices {
            guard let choices, !choices.isEmpty else {
                throw APIError.validation("choices: a \(type) question needs at least one choice", details: [("choices", "required for \(type)")])
            }
            guard Set(choices).count == choices.count else { throw APIError.validation("choices: each choice once", details: [("choices", "duplicates")]) }
        }
        for (index, choice) in (choices ?? []).enumerated() { _ = try Validate.text(choice, 1...200, "choices[\(index)]") }
        guard (choices?.count ?? 0) <= 50 else { throw APIError.validation("choices: at most 50", details: [("choices", "at most 50")]) }
    }

    func createSurveyQuestion(_ input: Operations.CreateSurveyQuestion.Input) async throws -> Operations.CreateSurveyQuestion.Output {
        let caller = try await requireMember(Self.staffRoles)
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let key = try Validate.length(body.key, 1...64, "key")
        guard key.range(of: "^[a-z0-9_]+$", options: .regularExpression) != nil else {
            throw APIError.validation("key: lower-case letters, digits and _", details: [("key", "lower-case letters, digits and _")])
        }
        let prompt = try Validate.text(body.prompt, 1...500, "prompt")!
        let type = body._type.rawValue
        try Self.checkChoices(body.choices, type: type)
        let json = try await mapCampaign {
            try await campaign.createQuestion(
                key: key, prompt: prompt, type: type, choices: (type.hasSuffix("choice") ? body.choices : nil), active: body.active ?? true,
                in: caller.scope, on: db)
        }
        return .created(.init(body: .json(try decode(Components.Schemas.SurveyQuestion.self, json))))
    }

    func updateSurveyQuestion(_ input: Operations.UpdateSurveyQuestion.Input) async throws -> Operations.UpdateSurveyQuestion.Output {
        let caller = try await requireMember(Self.staffRoles)
        let id = try Validate.pathId(input.path.questionId, "survey question")
        guard case .json(let body) = input.body else { throw APIError.unsupportedMediaType("expected application/json") }
        let prompt = try Validate.text(body.prompt, 1...500, "prompt")
        if let choices = body.choices {
            guard !choices.isEmpty, Set(choices).count == choices.count else {
                throw APIError.validation("choices: one or more distinct choices", details: [("choices", "one or more distinct choices")])
            }
            try Self.checkChoices(choices, type: "text")
        }
        guard let json = try await campaign.updateQuestion(id, prompt: prompt, choices: body.choices, active: body.active, in: caller.scope, on: db) else {
            throw APIError.notFound("no survey question with id \(input.path.questionId)")
        }
        return .ok(.init(body: .json(try decode(Components.Schemas.SurveyQuestion.self, json))))
    }

    // MARK: Interactions

    func listInteractions(_ input: Operations.ListInteractions.Input) async throws -> Operations.ListInteractions.Output {
        let caller = try await requireMember()
        let query = input.query
        let page = try Validate.page(limit: query.limit, cursor: query.cursor)
        var filter = CampaignRepository.InteractionFilter(
            voterId: try query.voterId.map { try Validate.uuid($0, "voterId") },
            canvasserId: try query.canvasserId.map { try Validate.uuid($0, "canvasserId") },
            assignmentId: try query.assignmentId.map { try Validate.uuid($0, "assignmentId") }, from: query.from, to: query.to)
        if caller.role == .canvasser {
            if let asked = filter.canvasserId, asked != caller.userId {
                throw APIError.forbidden("a canvasser sees only their own interactions")
            }
            filter.canvasserId = caller.userId
        }
        let result = try await campaign.interactions(in: caller.scope, filter: filter, limit: page.limit, after: page.cursor, on: db)
        return .ok(.init(body: .json(.init(items: try result.items.map { try decode(Components.Schemas.Interaction.self, $0) }, nextCursor: result.nextCursor))))
    }
}

extension Components.Schemas.Voter {
    /// The contract's voter from a row (the mailing address is stored as the contract's JSON).
    init(_ r: VoterRecord) throws {
        guard let status = StatusPayload(rawValue: r.status) else { throw StoreError.unexpected("voter status \(r.status)") }
        let a = r.residence
        self.init(
            id: r.id.uuidString.lowercased(), externalId: r.externalId, firstName: r.firstName, middleName: r.middleName, lastName: r.lastName,
            suffix: r.suffix, birthYear: r.birthYear, sex: r.sex, race: r.race, party: r.party,
            residence: .init(
                houseNumber: a.houseNumber, houseFraction: a.houseFraction, streetDirection: a.streetDirection, streetName: a.streetName,
                unit: a.unit, city: a.city, state: a.state, zip5: a.zip5, zip4: a.zip4),
            mailing: try r.mailingJSON.map { try APIService.jsonDecoder.decode(Components.Schemas.Address.self, from: Data($0.utf8)) },
            parish: r.parish, ward: r.ward, precinct: r.precinct, congressionalDistrict: r.congressionalDistrict,
            senateDistrict: r.senateDistrict, houseDistrict: r.houseDistrict, registrationDate: r.registrationDate, status: status,
            phone: r.phone, latitude: r.latitude, longitude: r.longitude, createdAt: r.createdAt, updatedAt: r.updatedAt)
    }
}

/// The voter input checks the generated decoders do not make (the spec's lengths, patterns, ranges).
enum VoterValidation {
    static func address(_ address: Components.Schemas.AddressInput?, _ path: String) throws {
        guard let a = address else { return }
        for (name, value, max) in [
            ("houseNumber", a.houseNumber, 20), ("houseFraction", a.houseFraction, 10), ("streetDirection", a.streetDirection, 10),
            ("streetName", a.streetName, 100), ("unit", a.unit, 30), ("city", a.city, 100), ("state", a.state, 2),
        ] {
            _ = try Validate.text(value, 1...max, "\(path).\(name)")
        }
        if let zip = a.zip5, zip.range(of: "^[0-9]{5}$", options: .regularExpression) == nil {
            throw APIError.validation("\(path).zip5: five digits", details: [("\(path).zip5", "five digits")])
        }
        if let zip = a.zip4, zip.range(of: "^[0-9]{4}$", options: .regularExpression) == nil {
            throw APIError.validation("\(path).zip4: four digits", details: [("\(path).zip4", "four digits")])
        }
    }

    static func check(_ v: some VoterFields) throws {
        try externalId(v.externalIdText)
        _ = try Validate.text(v.firstNameText, 1...100, "firstName")
        _ = try Validate.text(v.lastNameText, 1...100, "lastName")
        try address(v.residence, "residence")
        try address(v.mailing, "mailing")
        // The spec's `enum: [active, inactive, null]` makes the generator add an empty-string case.
        if v.statusText == "" { throw APIError.validation("status: active or inactive", details: [("status", "active or inactive")]) }
        for (name, value, max) in [
            ("middleName", v.middleName, 100), ("suffix", v.suffix, 20), ("sex", v.sex, 20), ("race", v.race, 50), ("party", v.party, 50),
            ("parish", v.parish, 100), ("ward", v.ward, 50), ("precinct", v.precinct, 100), ("congressionalDistrict", v.congressionalDistrict, 20),
            ("senateDistrict", v.senateDistrict, 20), ("houseDistrict", v.houseDistrict, 20),
        ] {
            _ = try Validate.text(value, 1...max, name)
        }
        if let year = v.birthYear, !(1850...2100).contains(year) {
            throw APIError.validation("birthYear: 1850..2100", details: [("birthYear", "1850..2100")])
        }
        if let date = v.registrationDate {
            let parts = date.split(separator: "-")
            let valid = date.range(of: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", options: .regularExpression) != nil && parts.count == 3
                && DateComponents(calendar: Calendar(identifier: .gregorian), year: Int(parts[0]), month: Int(parts[1]), day: Int(parts[2])).isValidDate
            guard valid else { throw APIError.validation("registrationDate: a date like 2024-03-31", details: [("registrationDate", "YYYY-MM-DD")]) }
        }
        if let phone = v.phone, phone.unicodeScalars.count < 7 || phone.unicodeScalars.count > 20
            || phone.range(of: "^[0-9+() .-]+$", options: .regularExpression) == nil
        {
            throw APIError.validation("phone: 7 to 20 digits, spaces and + ( ) . -", details: [("phone", "7 to 20 digits, spaces and + ( ) . -")])
        }
        if let latitude = v.latitude, !(-90...90).contains(latitude) { throw APIError.validation("latitude: -90..90", details: [("latitude", "-90..90")]) }
        if let longitude = v.longitude, !(-180...180).contains(longitude) {
            throw APIError.validation("longitude: -180..180", details: [("longitude", "-180..180")])
        }
    }

    static func externalId(_ value: String?) throws {
        guard let value else { return }
        _ = try Validate.text(value, 1...64, "externalId")
        guard !value.unicodeScalars.contains(where: { CharacterSet.whitespacesAndNewlines.contains($0) }) else {
            throw APIError.validation("externalId: no spaces", details: [("externalId", "no spaces")])
        }
    }
}

/// The fields a new voter and a voter patch share, so one check serves both.
protocol VoterFields {
    var externalIdText: String? { get }
    var firstNameText: String? { get }
    var lastNameText: String? { get }
    var statusText: String? { get }
    var residence: Components.Schemas.AddressInput? { get }
    var mailing: Components.Schemas.AddressInput? { get }
    var middleName: String? { get }
    var suffix: String? { get }
    var birthYear: Int? { get }
    var sex: String? { get }
    var race: String? { get }
    var party: String? { get }
    var parish: String? { get }
    var ward: String? { get }
    var precinct: String? { get }
    var congressionalDistrict: String? { get }
    var senateDistrict: String? { get }
    var houseDistrict: String? { get }
    var registrationDate: String? { get }
    var phone: String? { get }
    var latitude: Double? { get }
    var longitude: Double? { get }
}

extension Components.Schemas.VoterInput: VoterFields {
    var externalIdText: String? { externalId }
    var firstNameText: String? { firstName }
    var lastNameText: String? { lastName }
    var statusText: String? { status?.rawValue }
}

extension Components.Schemas.VoterPatch: VoterFields {
    var externalIdText: String? { externalId }
    var firstNameText: String? { firstName }
    var lastNameText: String? { lastName }
    var statusText: String? { status?.rawValue }
}
