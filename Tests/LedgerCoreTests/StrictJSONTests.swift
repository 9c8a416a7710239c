import Foundation
import LedgerCore
import Testing

/// Shapes like the hand-written files', to try the decoder on.
private struct Shelf: Decodable {
    enum Colour: String, Decodable, CaseIterable { case red, green }

    struct Item: Decodable {
        var label: String
        var colour: Colour?
        var sizes: [[Int]]?
    }

    var name: String
    var count: UInt64?
    var items: [Item]
    var notes: [String: JSONValue]?
}

private func decode(_ json: String) throws(StrictJSONError) -> Shelf {
    try StrictJSONDecoder.decode(Shelf.self, from: Data(json.utf8))
}

@Suite struct StrictJSONTests {
    @Test func aDocumentWithOnlyKnownKeys_decodesAsJSONDecoderWould() throws {
        let shelf = try decode(#"{"name": "a", "count": 18446744073709551615, "items": [{"label": "x", "colour": "green", "sizes": [[1, 2], []]}]}"#)
        #expect(shelf.name == "a" && shelf.count == UInt64.max)
        #expect(shelf.items.first?.colour == .green && shelf.items.first?.sizes == [[1, 2], []])
    }

    @Test func anUnknownKey_isNamedWithItsPath_andTheNearestSpelling() {
        let required = #expect(throws: StrictJSONError.self) { try decode(#"{"name": "a", "items": [{"label": "x"}, {"lable": "y"}]}"#) }
        guard case .unknownKeys(let keys) = required else {
            Issue.record("a misspelt required key is told as missing: \(String(describing: required))")
            return
        }
        #expect(keys.map(\.path) == ["items[1].lable"] && keys.first?.suggestion == "label")
        #expect(throws: StrictJSONError.unknownKeys([.init(path: "cuont", suggestion: "count", known: ["count", "items", "name", "notes"])])) {
            try decode(#"{"name": "a", "cuont": 3, "items": []}"#)
        }
        let error = #expect(throws: StrictJSONError.self) { try decode(#"{"name": "a", "items": [{"label": "x", "color": "red"}]}"#) }
        #expect(error?.description.hasPrefix("unknown key 'items[0].color'; did you mean 'colour'?") == true, "\(String(describing: error))")
    }

    @Test func aKeyNothingResembles_getsNoSuggestion() {
        #expect(throws: StrictJSONError.unknownKeys([.init(path: "zzzzzzzz", suggestion: nil, known: ["count", "items", "name", "notes"])])) {
            try decode(#"{"name": "a", "items": [], "zzzzzzzz": 1}"#)
        }
    }

    @Test func aFreeFormSection_acceptsAnyKey() throws {
        let shelf = try decode(#"{"name": "a", "items": [], "notes": {"anything": {"goes": [1, "two"]}}}"#)
        #expect(shelf.notes?["anything"] == .object(["goes": .array([.integer(1), .string("two")])]))
    }

    @Test func aValueOutsideAnEnum_listsTheAllowedValues() {
        let error = #expect(throws: StrictJSONError.self) { try decode(#"{"name": "a", "items": [{"label": "x", "colour": "blue"}]}"#) }
        #expect(error == .notAllowed(path: "items[0].colour", value: "blue", allowed: ["red", "green"]))
        #expect(error?.description == "items[0].colour is 'blue'; allowed: red, green")
    }

    @Test func aMissingOrMistypedValue_namesItsPath() {
        #expect(throws: StrictJSONError.invalid(path: "items[0].label", message: "missing")) { try decode(#"{"name": "a", "items": [{}]}"#) }
        let mistyped = #expect(throws: StrictJSONError.self) { try decode(#"{"name": 5, "items": []}"#) }
        #expect(mistyped?.description == "name: expected a string, found a number")
        let negative = #expect(throws: StrictJSONError.self) { try decode(#"{"name": "a", "count": -1, "items": []}"#) }
        #expect(negative?.description.hasPrefix("count: -1 is not a whole number") == true)
        let broken = #expect(throws: StrictJSONError.self) { try decode(#"{"name": "a", "items": [}"#) }
        #expect(broken?.description.hasPrefix("not JSON: ") == true && broken?.description.contains("character") == true, "\(String(describing: broken))")
    }

    @Test func nearest_prefersAPrefix_thenEditDistance() {
        #expect(StrictJSONDecoder.nearest("dataDirectory", in: ["dataDir", "api"]) == "dataDir")
        #expect(StrictJSONDecoder.nearest("adress", in: ["address", "name"]) == "address")
        #expect(StrictJSONDecoder.nearest("LOGLEVEL", in: ["logLevel", "name"]) == "logLevel")
        #expect(StrictJSONDecoder.nearest("xyz", in: ["address", "organization"]) == nil)
        #expect(StrictJSONDecoder.editDistance("kitten", "sitting") == 3)
        #expect(StrictJSONDecoder.editDistance("", "abc") == 3)
    }
}
