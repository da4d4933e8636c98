@_exported import StrataModel
