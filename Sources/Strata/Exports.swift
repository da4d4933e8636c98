@_exported import StrataModel
@_exported import StrataPayload
