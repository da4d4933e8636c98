@_exported import StrataAPI
@_exported import StrataModel
@_exported import StrataPayload
