import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The flat shape of an S3 XML answer: repeated records (`Contents`, `Upload`) as dictionaries of their child
/// elements' text, and every other leaf element's text by name (`IsTruncated`, `UploadId`, `Code`, `Message`).
struct S3XML {
    var records: [[String: String]] = []
    var fields: [String: String] = [:]

    /// Parses `data`, collecting elements named `record` as records. Throws when the XML is malformed.
    init(_ data: Data, record: String? = nil) throws {
        let collector = Collector(record: record)
        let parser = XMLParser(data: data)
        parser.delegate = collector
        guard parser.parse() else {
            throw ObjectStoreError.service(status: 0, message: "unreadable XML: \(parser.parserError.map { "\($0)" } ?? "?")")
        }
        records = collector.records
        fields = collector.fields
    }

    /// Escapes text for an XML element's content.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}

/// The parser's delegate: one parse, on the calling thread.
private final class Collector: NSObject, XMLParserDelegate {
    let record: String?
    var records: [[String: String]] = []
    var fields: [String: String] = [:]
    private var current: [String: String]?
    private var text = ""

    init(record: String?) { self.record = record }

    func parser(
        _ parser: XMLParser,
        didStartElement name: String,
        namespaceURI: String?,
        qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if name == record { current = [:] }
        text = ""
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        text += string
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == record, let done = current {
            records.append(done)
            current = nil
        } else if current != nil {
            current?[name] = text
        } else {
            fields[name] = text
        }
        text = ""
    }
}
