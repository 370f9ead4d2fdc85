extension Sequence {
    /// The elements in their first-seen order, each key once: the ordered union of rows' mechanisms,
    /// of harnesses' options, of runs' claim ids.
    public func orderedUnique<Key: Hashable>(by key: (Element) -> Key) -> [Element] {
        var seen = Set<Key>()
        return filter { seen.insert(key($0)).inserted }
    }
}

extension Sequence where Element: Hashable {
    /// The elements in their first-seen order, each once.
    public func orderedUnique() -> [Element] { orderedUnique { $0 } }
}
