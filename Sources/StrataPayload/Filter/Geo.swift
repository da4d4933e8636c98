import Foundation

/// Geometry of the geo conditions, on a sphere of the Earth's mean radius.
extension GeoPoint {
    static let earthRadiusMeters = 6_371_008.8

    /// Great-circle (haversine) distance in meters.
    public func distance(to other: GeoPoint) -> Double {
        let lat1 = lat * .pi / 180, lat2 = other.lat * .pi / 180
        let dLat = lat2 - lat1, dLon = (other.lon - lon) * .pi / 180
        let a = sin(dLat / 2) * sin(dLat / 2) + cos(lat1) * cos(lat2) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * Self.earthRadiusMeters * asin(min(1, a.squareRoot()))
    }
}

extension GeoBoundingBox {
    /// Latitude between the corners; longitude from top_left eastwards to
    /// bottom_right (a box whose left edge is east of its right edge crosses
    /// the antimeridian).
    public func contains(_ p: GeoPoint) -> Bool {
        guard p.lat <= topLeft.lat, p.lat >= bottomRight.lat else { return false }
        if topLeft.lon <= bottomRight.lon { return p.lon >= topLeft.lon && p.lon <= bottomRight.lon }
        return p.lon >= topLeft.lon || p.lon <= bottomRight.lon
    }
}

extension GeoRadius {
    public func contains(_ p: GeoPoint) -> Bool { center.distance(to: p) <= radius }
}

extension GeoPolygon {
    /// Inside the exterior ring and outside every interior ring (even-odd rule
    /// in the lon/lat plane).
    public func contains(_ p: GeoPoint) -> Bool {
        guard Self.ring(exterior, contains: p) else { return false }
        return !interiors.contains { Self.ring($0, contains: p) }
    }

    static func ring(_ ring: [GeoPoint], contains p: GeoPoint) -> Bool {
        var inside = false
        var j = ring.count - 1
        for i in ring.indices {
            let a = ring[i], b = ring[j]
            if (a.lat > p.lat) != (b.lat > p.lat) {
                let crossLon = (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon
                if p.lon < crossLon { inside.toggle() }
            }
            j = i
        }
        return inside
    }
}
