/// One column of a voter file as its header row defines it.
public struct VoterFileColumn: Sendable, Equatable {
    /// The cleaned header name (a Louisiana cell's text before its first comma, plus its qualifier when names collide);
    /// also the key of the column's values in `VoterRecord.extra`.
    public var name: String
    /// The record field the column fills, or nil for a column kept in `extra`.
    public var field: VoterField?
    /// The dBASE type a Louisiana header declared, which every value must fit.
    public var declaredType: DeclaredType?
}

/// The header row of a voter file, resolved to record fields.
public struct VoterFileHeader: Sendable, Equatable {
    /// The columns in file order.
    public var columns: [VoterFileColumn]
    /// Names of the columns the contract does not have (kept in each voter's `extra`), in file order.
    public var unknownColumns: [String]
    /// The header's row number (1 unless blank lines lead the file).
    public var row: Int

    /// Resolves the header cells (already unquoted and decoded), or says why this is not a voter file.
    init(cells: [String], format: VoterFileFormat, row: Int) throws(NotAVoterFile) {
        var parsed = cells.map { Self.split($0, format: format) }
        Self.qualifyCollisions(&parsed)
        var taken = Set<VoterField>()
        var seenKeys: [String: Int] = [:]
        columns = []
        unknownColumns = []
        for cell in parsed {
            var name = cell.name.isEmpty ? "column \(columns.count + 1)" : cell.name
            // Names still equal after qualifying stay apart by number: no column is ever dropped silently.
            let key = VoterField.matchKey(name)
            if let seen = seenKeys[key] {
                seenKeys[key] = seen + 1
                name += " (\(seen + 1))"
            } else {
                seenKeys[key] = 1
            }
            var field = VoterField.named(name)
            if let known = field, !taken.insert(known).inserted { field = nil }
            if field == nil { unknownColumns.append(name) }
            columns.append(VoterFileColumn(name: name, field: field, declaredType: cell.type))
        }
        self.row = row
        let found = columns.prefix(12).map(\.name).joined(separator: ", ")
        guard taken.contains(.externalId) else {
            throw NotAVoterFile("no registration number column (REG_NUMBER, REGISTRATION NUMBER, LA LIST ID or externalId) in the header: \(found)")
        }
        guard taken.contains(.lastName) else {
            throw NotAVoterFile("no last name column (LAST_NAME or lastName) in the header: \(found)")
        }
    }

    private struct Cell {
        var name: String
        var qualifier: String?
        var type: DeclaredType?
    }

    /// A Louisiana cell splits on its first comma into name and declaration; the other format keeps the cell whole.
    private static func split(_ text: String, format: VoterFileFormat) -> Cell {
        let whole = collapseSpaces(Substring(text))
        guard format == .louisiana, let comma = text.firstIndex(of: ",") else { return Cell(name: whole) }
        let name = collapseSpaces(text[..<comma])
        let rest = text[text.index(after: comma)...]
        if let type = DeclaredType(declaration: rest) { return Cell(name: name, type: type) }
        let qualifier = collapseSpaces(Substring(rest.replacingOccurrences(",", with: " ")))
        return Cell(name: name, qualifier: qualifier.isEmpty ? nil : qualifier)
    }

    /// Cells whose names clean to the same name take their qualifier (`RESIDENTIAL ADDRESS LINE 1`).
    private static func qualifyCollisions(_ cells: inout [Cell]) {
        var counts: [String: Int] = [:]
        for cell in cells { counts[VoterField.matchKey(cell.name), default: 0] += 1 }
        for index in cells.indices where counts[VoterField.matchKey(cells[index].name), default: 0] > 1 {
            if let qualifier = cells[index].qualifier { cells[index].name += " " + qualifier }
        }
    }

    private static func collapseSpaces(_ text: Substring) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}

extension Substring {
    fileprivate func replacingOccurrences(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self { if character == target { result += replacement } else { result.append(character) } }
        return result
    }
}
