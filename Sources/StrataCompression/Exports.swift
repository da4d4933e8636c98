// The codec enum lives with the model types (configuration names it); this module compresses with it.
@_exported import enum StrataModel.CompressionCodec
