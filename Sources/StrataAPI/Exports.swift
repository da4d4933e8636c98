// What the API's types are made of: point ids, JSON payloads and sparse
// vectors (StrataModel), the filter language and field schemas
// (StrataPayload), and the distance and datatype enums of vector configs.
@_exported import StrataModel
@_exported import StrataPayload
@_exported import enum StrataVectorMath.DistanceMetric
@_exported import enum StrataVectorMath.VectorDatatype
