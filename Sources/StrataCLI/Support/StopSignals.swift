import Foundation

/// SIGINT and SIGTERM, handled by `handler` instead of their default action
/// (which would leave a command's child processes behind). Keep the returned
/// sources alive as long as the handling should last; cancel them to end it.
func handleStopSignals(_ handler: @escaping @Sendable (Int32) -> Void) -> [any DispatchSourceSignal] {
    signal(SIGINT, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
    return [SIGINT, SIGTERM].map { signalNumber in
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler { handler(signalNumber) }
        source.resume()
        return source
    }
}
