import CairnJSON
import CairnRecords

extension StatsDocument {
    /// The document as `GET /v1/stats/{view}` and `cairn stats VIEW --json` give it (specs/http-api.md, "Stats").
    public var json: JSONValue {
        var window = JSONObject()
        window["since"] = self.window.since.map { .string(Timestamp.format($0)) } ?? .null
        window["until"] = self.window.until.map { .string(Timestamp.format($0)) } ?? .null
        window["repo"] = self.window.repo.map(JSONValue.string) ?? .null
        var object = JSONObject()
        object["view"] = .string(view.rawValue)
        object["title"] = .string(title)
        object["question"] = .string(question)
        object["window"] = .object(window)
        object["tree_size"] = .uint(treeSize)
        object["sections"] = .array(sections.map(\.json))
        return .object(object)
    }
}

extension StatsSection {
    public var json: JSONValue {
        var object = JSONObject()
        object["id"] = .string(id)
        object["title"] = .string(title)
        object["note"] = note.map(JSONValue.string) ?? .null
        object["columns"] = .array(
            columns.map { column in
                var object = JSONObject()
                object["id"] = .string(column.id)
                object["title"] = .string(column.title)
                object["unit"] = .string(column.unit.rawValue)
                return .object(object)
            })
        object["rows"] = .array(rows.map(\.json))
        object["chart"] = chart?.json ?? .null
        return .object(object)
    }
}

extension StatsRow {
    public var json: JSONValue {
        var object = JSONObject()
        object["id"] = .string(id)
        object["label"] = .string(label)
        object["cells"] = .array(cells.map(\.json))
        return .object(object)
    }
}

extension StatsCell {
    public var json: JSONValue {
        var object = JSONObject()
        object["value"] = value.map(JSONValue.number) ?? .null
        if let text { object["text"] = .string(text) }
        if let drill { object["drill"] = .string(drill.queryString) }
        return .object(object)
    }
}

extension StatsChart {
    public var json: JSONValue {
        var object = JSONObject()
        object["kind"] = .string(kind.rawValue)
        object["unit"] = .string(unit.rawValue)
        object["labels"] = .array(labels.map(JSONValue.string))
        object["series"] = .array(
            series.map { series in
                var object = JSONObject()
                object["name"] = .string(series.name)
                object["values"] = .array(series.values.map { $0.map(JSONValue.number) ?? .null })
                return .object(object)
            })
        return .object(object)
    }
}
