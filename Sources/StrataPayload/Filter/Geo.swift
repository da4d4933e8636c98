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
    /// Strictly between the corners' latitudes, and strictly from top_left
    /// eastwards to bottom_right in longitude (a box whose left edge is east
    /// of its right edge crosses the antimeridian); a point on an edge is
    /// outside, as in Qdrant.
    public func contains(_ p: GeoPoint) -> Bool {
        guard p.lat < topLeft.lat, p.lat > bottomRight.lat else { return false }
        if topLeft.lon <= bottomRight.lon { return p.lon > topLeft.lon && p.lon < bottomRight.lon }
        return p.lon > topLeft.lon || p.lon < bottomRight.lon
    }
}

extension GeoRadius {
    /// Strictly closer than `radius` meters.
    public func contains(_ p: GeoPoint) -> Bool { center.distance(to: p) < radius }
}

extension GeoPolygon {
    /// Inside the exterior ring and outside every interior ring (even-odd rule
    /// in the lat/lon plane). A point on the exterior ring is outside, one on
    /// an interior ring is in the hole: boundaries never match, as in Qdrant.
    public func contains(_ p: GeoPoint) -> Bool {
        guard Self.ring(exterior, contains: p) == .inside else { return false }
        return !interiors.contains { Self.ring($0, contains: p) != .outside }
    }

    enum Placement { case inside, outside, boundary }

    static func ring(_ ring: [GeoPoint], contains p: GeoPoint) -> Placement {
        // x = latitude, y = longitude; the closing point is not an edge of its own.
        let points = ring.count > 1 && ring.first == ring.last ? Array(ring.dropLast()) : ring
        var inside = false
        var j = points.count - 1
        for i in points.indices {
            let (xi, yi, xj, yj) = (points[i].lat, points[i].lon, points[j].lat, points[j].lon)
            let collinear = p.lon * (xi - xj) + yi * (xj - p.lat) + yj * (p.lat - xi) == 0
            if collinear && (xi - p.lat) * (xj - p.lat) <= 0 && (yi - p.lon) * (yj - p.lon) <= 0 {
                return .boundary
            }
            if (yi > p.lon) != (yj > p.lon) && p.lat < (xj - xi) * (p.lon - yi) / (yj - yi) + xi {
                inside.toggle()
            }
            j = i
        }
        return inside ? .inside : .outside
    }
}
